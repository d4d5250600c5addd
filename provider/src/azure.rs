//! The provider's Azure side: a lazily built ARM client, from the settings of the
//! `azure { … }` block ([`crate::config::azure`]).
//!
//! Nothing here talks to Azure at configure time: a configuration that only manages Teleport
//! objects needs no Azure credentials. The first Azure resource or data source to need ARM
//! gets a token (service principal secret, managed identity or Azure CLI, in that order) and
//! the client is cached, renewed shortly before the token expires.

use std::sync::Arc;
use std::time::Duration;

use joinery_azure::arm::{ArmClient, ArmError, ArmOptions};
use joinery_azure::credential::{self, AccessToken, Cloud};

use crate::config::azure::{self as settings, AzureSettings};
use joinery_tfplugin::framework::Diagnostics;

fn cloud(s: &AzureSettings) -> Result<Cloud, Diagnostics> {
    let name = s.environment.as_deref().unwrap_or("public");
    Cloud::parse(name).ok_or_else(|| {
        Diagnostics::attribute_error(
            settings::path(&settings::ENVIRONMENT),
            "Unknown Azure environment",
            format!("{name:?} is not one of public, usgovernment, china."),
        )
    })
}

/// The Azure half of a configured provider.
pub struct AzureContext {
    /// Resolved settings.
    pub settings: AzureSettings,
    client: tokio::sync::Mutex<Option<(Arc<ArmClient>, AccessToken)>>,
}

impl AzureContext {
    /// A context that has not contacted Azure.
    pub fn new(settings: AzureSettings) -> AzureContext {
        AzureContext { settings, client: tokio::sync::Mutex::new(None) }
    }

    /// The ARM client, getting a token on first use (or when the token is about to expire).
    pub async fn arm(&self) -> Result<Arc<ArmClient>, Diagnostics> {
        let mut guard = self.client.lock().await;
        if let Some((c, t)) = guard.as_ref()
            && !t.expires_within(Duration::from_secs(300))
        {
            return Ok(Arc::clone(c));
        }
        let s = &self.settings;
        let cloud = cloud(s)?;
        let ca = match &s.ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                Diagnostics::attribute_error(
                    settings::path(&settings::CA_FILE),
                    "Cannot read the Azure CA file",
                    format!("{path}: {e}"),
                )
            })?),
            None => None,
        };
        let audience = cloud.arm_audience();
        let authority = s.authority_host.clone().unwrap_or_else(|| cloud.authority_host().to_string());
        let base = s.arm_endpoint.clone().unwrap_or_else(|| cloud.arm_endpoint().to_string());
        // Secrets and bearer tokens go to these two: never over plain http.
        for (setting, url) in [(&settings::AUTHORITY_HOST, &authority), (&settings::ARM_ENDPOINT, &base)] {
            if !url.starts_with("https://") {
                return Err(Diagnostics::attribute_error(
                    settings::path(setting),
                    "Insecure Azure endpoint",
                    format!("{url} is not an https:// URL: Azure credentials and tokens are only sent over https."),
                ));
            }
        }
        let token = if let Some(secret) = &s.client_secret {
            let (Some(tenant), Some(client_id)) = (&s.tenant_id, &s.client_id) else {
                return Err(Diagnostics::attribute_error(
                    settings::path(if s.tenant_id.is_none() { &settings::TENANT_ID } else { &settings::CLIENT_ID }),
                    "Incomplete Azure service principal",
                    "client_secret needs tenant_id and client_id (or ARM_TENANT_ID and ARM_CLIENT_ID).",
                ));
            };
            credential::client_secret_token(&authority, tenant, client_id, secret, audience, ca.as_deref()).await
        } else if s.use_msi {
            credential::managed_identity_token(s.msi_endpoint.as_deref(), s.client_id.as_deref(), audience).await
        } else if s.use_cli {
            credential::cli_token(audience, s.tenant_id.as_deref()).await
        } else {
            return Err(Diagnostics::error(
                "No Azure credentials",
                "Set azure.client_id/client_secret/tenant_id (ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID), \
                 use_msi = true (ARM_USE_MSI), or use_cli = true (ARM_USE_CLI) after `az login`.",
            ));
        }
        .map_err(|e| Diagnostics::error("Cannot authenticate to Azure", e.to_string()))?;
        let client = ArmClient::new(token.token.clone(), ArmOptions { base_url: Some(base), extra_ca_pem: ca })
            .map_err(|e| Diagnostics::error("Cannot build the ARM client", e.to_string()))?;
        let client = Arc::new(client);
        *guard = Some((Arc::clone(&client), token));
        Ok(client)
    }
}

/// An ARM failure as a diagnostic.
pub fn arm_error(action: &str, e: ArmError) -> Diagnostics {
    Diagnostics::error(format!("Azure: error {action}"), e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn secrets_never_go_to_a_plain_http_endpoint() {
        let secret = AzureSettings {
            tenant_id: Some("11111111-1111-1111-1111-111111111111".into()),
            client_id: Some("22222222-2222-2222-2222-222222222222".into()),
            client_secret: Some("s3cret".into()),
            ..AzureSettings::default()
        };
        for (settings, attribute) in [
            (
                AzureSettings { authority_host: Some("http://127.0.0.1:9".into()), ..secret.clone() },
                "azure.authority_host",
            ),
            (AzureSettings { arm_endpoint: Some("http://127.0.0.1:9".into()), ..secret.clone() }, "azure.arm_endpoint"),
        ] {
            let Err(diags) = AzureContext::new(settings).arm().await else { panic!("an http endpoint was accepted") };
            let d = &diags.0[0];
            assert_eq!(d.path.as_ref().map(|p| p.to_string()).as_deref(), Some(attribute));
            assert!(d.detail.contains("only sent over https"), "{}", d.detail);
        }
    }
}
