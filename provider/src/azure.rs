//! The provider's Azure side: the `azure { … }` settings (with azurerm-style `ARM_*`
//! environment fallbacks) and a lazily built ARM client.
//!
//! Nothing here talks to Azure at configure time: a configuration that only manages Teleport
//! objects needs no Azure credentials. The first Azure resource or data source to need ARM
//! gets a token (service principal secret, managed identity or Azure CLI, in that order) and
//! the client is cached, renewed shortly before the token expires.

use std::sync::Arc;
use std::time::Duration;

use joinery_azure::arm::{ArmClient, ArmError, ArmOptions};
use joinery_azure::credential::{self, AccessToken, Cloud};

use joinery_tfplugin::cty::Value;
use joinery_tfplugin::framework::{Attribute, AttributePath, Diagnostics};

/// One setting of the `azure` block.
struct Setting {
    name: &'static str,
    env: &'static str,
    sensitive: bool,
    description: &'static str,
}

const SETTINGS: &[Setting] = &[
    Setting {
        name: "subscription_id",
        env: "ARM_SUBSCRIPTION_ID",
        sensitive: false,
        description: "Default subscription, used by `teleport_azure_vm` lookups by resource group and name.",
    },
    Setting {
        name: "tenant_id",
        env: "ARM_TENANT_ID",
        sensitive: false,
        description: "Entra ID tenant (directory) ID.",
    },
    Setting {
        name: "client_id",
        env: "ARM_CLIENT_ID",
        sensitive: false,
        description: "Client ID of the service principal, or of the user-assigned managed identity with `use_msi`.",
    },
    Setting {
        name: "client_secret",
        env: "ARM_CLIENT_SECRET",
        sensitive: true,
        description: "Client secret of the service principal. When set (with `client_id` and `tenant_id`) it is used first.",
    },
    Setting {
        name: "environment",
        env: "ARM_ENVIRONMENT",
        sensitive: false,
        description: "Cloud: `public` (default), `usgovernment` or `china`.",
    },
    Setting {
        name: "msi_endpoint",
        env: "ARM_MSI_ENDPOINT",
        sensitive: false,
        description: "Base URL of the Instance Metadata Service for `use_msi` (default the link-local IMDS).",
    },
    Setting {
        name: "arm_endpoint",
        env: "JOINERY_ARM_ENDPOINT",
        sensitive: false,
        description: "ARM base URL overriding the cloud's (Azure Stack, the devstack).",
    },
    Setting {
        name: "authority_host",
        env: "JOINERY_AZURE_AUTHORITY_HOST",
        sensitive: false,
        description: "Entra ID authority URL overriding the cloud's (Azure Stack, the devstack).",
    },
    Setting {
        name: "ca_file",
        env: "JOINERY_AZURE_CA_FILE",
        sensitive: false,
        description: "PEM file of extra CA certificates to trust for ARM and Entra ID (Azure Stack, the devstack).",
    },
];

/// The `azure` attribute of the provider schema.
pub fn schema_attribute() -> Attribute {
    let mut attrs: Vec<Attribute> = SETTINGS
        .iter()
        .map(|s| {
            let a = Attribute::string(s.name)
                .optional()
                .description(format!("{} Environment variable: `{}`.", s.description, s.env));
            if s.sensitive { a.sensitive() } else { a }
        })
        .collect();
    attrs.push(Attribute::bool("use_msi").optional().description(
        "Authenticate with a managed identity (IMDS) when no client secret is configured. Environment variable: `ARM_USE_MSI`.",
    ));
    attrs.push(Attribute::bool("use_cli").optional().description(
        "Authenticate with the Azure CLI (`az account get-access-token`) when neither a client secret nor `use_msi` \
         applies. Default `true`. Environment variable: `ARM_USE_CLI`.",
    ));
    Attribute::single_nested("azure", attrs).optional().description(
        "Azure settings, used only by the Azure resources and data sources (`teleport_azure_*`); Azure is contacted \
         only when one of them is used. Every setting is optional and falls back to an azurerm-style environment \
         variable (`ARM_*`, not `TF_TELEPORT_*`).",
    )
}

/// Resolved Azure settings.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AzureSettings {
    /// Default subscription.
    pub subscription_id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Client id.
    pub client_id: Option<String>,
    /// Client secret (secret).
    pub client_secret: Option<String>,
    /// `environment`.
    pub environment: Option<String>,
    /// IMDS base URL.
    pub msi_endpoint: Option<String>,
    /// ARM base URL override.
    pub arm_endpoint: Option<String>,
    /// Authority override.
    pub authority_host: Option<String>,
    /// Extra CA file.
    pub ca_file: Option<String>,
    /// `use_msi`.
    pub use_msi: bool,
    /// `use_cli`.
    pub use_cli: bool,
}

impl std::fmt::Debug for AzureSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureSettings")
            .field("subscription_id", &self.subscription_id)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("environment", &self.environment)
            .field("arm_endpoint", &self.arm_endpoint)
            .field("use_msi", &self.use_msi)
            .field("use_cli", &self.use_cli)
            .finish_non_exhaustive()
    }
}

fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "t" | "yes")
}

impl AzureSettings {
    /// Configuration (the `azure` object, possibly null) beats the environment.
    pub fn resolve(azure: &Value, env: impl Fn(&str) -> Option<String>) -> AzureSettings {
        let get = |name: &str| -> Option<String> {
            let s = SETTINGS.iter().find(|s| s.name == name)?;
            let v = match azure.attr(name) {
                Value::String(v) => v.trim().to_string(),
                _ => env(s.env).unwrap_or_default().trim().to_string(),
            };
            (!v.is_empty()).then_some(v)
        };
        let flag = |name: &str, env_name: &str, default: bool| match azure.attr(name) {
            Value::Bool(b) => *b,
            _ => env(env_name).filter(|v| !v.trim().is_empty()).map(|v| truthy(&v)).unwrap_or(default),
        };
        AzureSettings {
            subscription_id: get("subscription_id"),
            tenant_id: get("tenant_id"),
            client_id: get("client_id"),
            client_secret: get("client_secret"),
            environment: get("environment"),
            msi_endpoint: get("msi_endpoint"),
            arm_endpoint: get("arm_endpoint"),
            authority_host: get("authority_host"),
            ca_file: get("ca_file"),
            use_msi: flag("use_msi", "ARM_USE_MSI", false),
            use_cli: flag("use_cli", "ARM_USE_CLI", true),
        }
    }

    fn cloud(&self) -> Result<Cloud, Diagnostics> {
        let name = self.environment.as_deref().unwrap_or("public");
        Cloud::parse(name).ok_or_else(|| {
            Diagnostics::attribute_error(
                AttributePath::root("azure").attr("environment"),
                "Unknown Azure environment",
                format!("{name:?} is not one of public, usgovernment, china."),
            )
        })
    }
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
        let cloud = s.cloud()?;
        let ca = match &s.ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                Diagnostics::attribute_error(
                    AttributePath::root("azure").attr("ca_file"),
                    "Cannot read the Azure CA file",
                    format!("{path}: {e}"),
                )
            })?),
            None => None,
        };
        let audience = cloud.arm_audience();
        let authority = s.authority_host.clone().unwrap_or_else(|| cloud.authority_host().to_string());
        let token = if let Some(secret) = &s.client_secret {
            let (Some(tenant), Some(client_id)) = (&s.tenant_id, &s.client_id) else {
                return Err(Diagnostics::attribute_error(
                    AttributePath::root("azure").attr(if s.tenant_id.is_none() { "tenant_id" } else { "client_id" }),
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
        let base = s.arm_endpoint.clone().unwrap_or_else(|| cloud.arm_endpoint().to_string());
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

    #[test]
    fn config_beats_env_and_flags_default() {
        let env = |k: &str| match k {
            "ARM_TENANT_ID" => Some("t-env".to_string()),
            "ARM_CLIENT_SECRET" => Some("s".to_string()),
            "JOINERY_ARM_ENDPOINT" => Some("https://127.0.0.1:1".to_string()),
            "ARM_USE_MSI" => Some("true".to_string()),
            _ => None,
        };
        let s = AzureSettings::resolve(
            &Value::object([("tenant_id", Value::from("t-cfg")), ("use_msi", Value::from(false))]),
            env,
        );
        assert_eq!(s.tenant_id.as_deref(), Some("t-cfg"));
        assert_eq!(s.arm_endpoint.as_deref(), Some("https://127.0.0.1:1"));
        assert!(!s.use_msi && s.use_cli);
        assert!(!format!("{s:?}").contains("\"s\""), "secret redacted");
        let s = AzureSettings::resolve(&Value::Null, env);
        assert!(s.use_msi);
        assert_eq!(s.tenant_id.as_deref(), Some("t-env"));
    }

    #[test]
    fn schema_has_descriptions() {
        let a = schema_attribute();
        let (_, nested) = a.nested_attributes().unwrap();
        assert!(nested.iter().all(|n| !n.description.is_empty() && n.optional));
        assert!(nested.iter().any(|n| n.name == "client_secret" && n.sensitive));
    }
}
