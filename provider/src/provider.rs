//! The `teleport` provider: its configuration ([`crate::config`]), how it
//! connects ([`crate::connect`]), and the resources and data sources it
//! serves ([`crate::resources`]).

use async_trait::async_trait;

use crate::config::{ProviderConfig, provider_schema};
use crate::connect::{TeleportClient, connect};
use crate::resources::agent_config::AgentConfigDataSource;
use crate::resources::azure_identity_binding::AzureIdentityBindingResource;
use crate::resources::azure_vm::AzureVmDataSource;
use crate::resources::bot::{BotDataSource, BotResource};
use crate::resources::provision_token::{ProvisionTokenDataSource, ProvisionTokenResource};
use joinery_tfplugin::framework::{AnyDataSource, AnyResource, ConfigureRequest, Diagnostics, Provider, Schema};

/// The provider's Terraform source address.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/joinery/teleport";

/// The `teleport` provider.
#[derive(Debug, Default)]
pub struct TeleportProvider;

#[async_trait]
impl Provider for TeleportProvider {
    type Client = TeleportClient;

    fn schema(&self) -> Schema {
        provider_schema()
    }

    async fn configure(&self, req: ConfigureRequest) -> Result<TeleportClient, Diagnostics> {
        let config = ProviderConfig::resolve(&req.config, |k| std::env::var(k).ok())?;
        connect(&config).await
    }

    fn resources(&self) -> Vec<AnyResource<TeleportClient>> {
        vec![
            AnyResource::new(ProvisionTokenResource),
            AnyResource::new(BotResource),
            AnyResource::new(AzureIdentityBindingResource),
        ]
    }

    fn data_sources(&self) -> Vec<AnyDataSource<TeleportClient>> {
        vec![
            AnyDataSource::new(ProvisionTokenDataSource),
            AnyDataSource::new(BotDataSource),
            AnyDataSource::new(AgentConfigDataSource),
            AnyDataSource::new(AzureVmDataSource),
        ]
    }
}
