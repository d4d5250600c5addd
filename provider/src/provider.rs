//! The Teleport provider: its configuration schema and how configuration
//! and `TF_TELEPORT_*` environment variables combine into a [`ProviderConfig`].
//!
//! The attributes, their env vars and defaults match the official Teleport
//! provider. Connecting to Teleport happens elsewhere; `configure` only
//! resolves the settings.

use std::sync::Arc;

use async_trait::async_trait;

use crate::azure::AzureSettings;
use crate::connect::{TeleportClient, connect};
use crate::resources::agent_config::AgentConfigDataSource;
use crate::resources::azure_identity_binding::AzureIdentityBindingResource;
use crate::resources::azure_vm::AzureVmDataSource;
use crate::resources::bot::{BotDataSource, BotResource};
use crate::resources::provision_token::{ProvisionTokenDataSource, ProvisionTokenResource};
use joinery_tfplugin::cty::Value;
use joinery_tfplugin::framework::{Attribute, ConfigureRequest, DataSource, Diagnostics, Provider, Resource, Schema};

/// The provider's Terraform source address.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/joinery/teleport";

/// One string setting: attribute name, env var, default, sensitive, description.
struct Setting {
    name: &'static str,
    env: &'static str,
    default: Option<&'static str>,
    sensitive: bool,
    description: &'static str,
}

const SETTINGS: &[Setting] = &[
    Setting {
        name: "addr",
        env: "TF_TELEPORT_ADDR",
        default: None,
        sensitive: false,
        description: "Teleport address as `host:port`: a Proxy (usually port 443 or 3080) or the Auth Service (port 3025).",
    },
    Setting {
        name: "cert_path",
        env: "TF_TELEPORT_CERT",
        default: None,
        sensitive: false,
        description: "Path to the Teleport TLS client certificate file (direct Auth Service connections).",
    },
    Setting {
        name: "cert_base64",
        env: "TF_TELEPORT_CERT_BASE64",
        default: None,
        sensitive: false,
        description: "Base64-encoded Teleport TLS client certificate.",
    },
    Setting {
        name: "key_path",
        env: "TF_TELEPORT_KEY",
        default: None,
        sensitive: false,
        description: "Path to the Teleport TLS client private key file.",
    },
    Setting {
        name: "key_base64",
        env: "TF_TELEPORT_KEY_BASE64",
        default: None,
        sensitive: true,
        description: "Base64-encoded Teleport TLS client private key.",
    },
    Setting {
        name: "root_ca_path",
        env: "TF_TELEPORT_ROOT_CA",
        default: None,
        sensitive: false,
        description: "Path to the Teleport cluster's root CA certificate file.",
    },
    Setting {
        name: "root_ca_base64",
        env: "TF_TELEPORT_CA_BASE64",
        default: None,
        sensitive: false,
        description: "Base64-encoded Teleport root CA certificate.",
    },
    Setting {
        name: "profile_name",
        env: "TF_TELEPORT_PROFILE_NAME",
        default: None,
        sensitive: false,
        description: "`tsh` profile name to take credentials from.",
    },
    Setting {
        name: "profile_dir",
        env: "TF_TELEPORT_PROFILE_PATH",
        default: None,
        sensitive: false,
        description: "`tsh` profile directory (default `~/.tsh`).",
    },
    Setting {
        name: "identity_file_path",
        env: "TF_TELEPORT_IDENTITY_FILE_PATH",
        default: None,
        sensitive: false,
        description: "Path to a Teleport identity file (for example one written by `tbot` or `tctl auth sign`).",
    },
    Setting {
        name: "identity_file",
        env: "TF_TELEPORT_IDENTITY_FILE",
        default: None,
        sensitive: true,
        description: "Teleport identity file contents.",
    },
    Setting {
        name: "identity_file_base64",
        env: "TF_TELEPORT_IDENTITY_FILE_BASE64",
        default: None,
        sensitive: true,
        description: "Base64-encoded Teleport identity file contents.",
    },
    Setting {
        name: "retry_base_duration",
        env: "TF_TELEPORT_RETRY_BASE_DURATION",
        default: Some("1s"),
        sensitive: false,
        description: "Base duration between retries of reads after writes, as a Go duration. Default `1s`.",
    },
    Setting {
        name: "retry_cap_duration",
        env: "TF_TELEPORT_RETRY_CAP_DURATION",
        default: Some("5s"),
        sensitive: false,
        description: "Maximum duration between retries, as a Go duration. Default `5s`.",
    },
    Setting {
        name: "retry_max_tries",
        env: "TF_TELEPORT_RETRY_MAX_TRIES",
        default: Some("10"),
        sensitive: false,
        description: "Maximum number of retries. Default `10`.",
    },
    Setting {
        name: "dial_timeout_duration",
        env: "TF_TELEPORT_DIAL_TIMEOUT_DURATION",
        default: Some("30s"),
        sensitive: false,
        description: "Timeout for connecting to Teleport, as a Go duration. Default `30s`.",
    },
    Setting {
        name: "join_method",
        env: "TF_TELEPORT_JOIN_METHOD",
        default: None,
        sensitive: false,
        description: "Join method for native Machine ID joining (for example `azure`, `github`, `kubernetes`). `token` is not supported.",
    },
    Setting {
        name: "join_token",
        env: "TF_TELEPORT_JOIN_TOKEN",
        default: None,
        sensitive: false,
        description: "Name of the join token used for native Machine ID joining.",
    },
    Setting {
        name: "audience_tag",
        env: "TF_TELEPORT_JOIN_AUDIENCE_TAG",
        default: None,
        sensitive: false,
        description: "Audience tag for the `terraform_cloud` join method.",
    },
    Setting {
        name: "gitlab_id_token_env_var",
        env: "TF_TELEPORT_GITLAB_ID_TOKEN_ENV_VAR",
        default: None,
        sensitive: false,
        description: "Environment variable holding the GitLab ID token for the `gitlab` join method.",
    },
];

const INSECURE_ENV: &str = "TF_TELEPORT_INSECURE";

/// The resolved provider settings: configuration beats environment, and an
/// explicitly empty string falls back to the default (not to the env var),
/// as in the official provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderConfig {
    /// `addr`: Teleport `host:port`.
    pub addr: Option<String>,
    /// `cert_path`.
    pub cert_path: Option<String>,
    /// `cert_base64`.
    pub cert_base64: Option<String>,
    /// `key_path`.
    pub key_path: Option<String>,
    /// `key_base64` (secret).
    pub key_base64: Option<String>,
    /// `root_ca_path`.
    pub root_ca_path: Option<String>,
    /// `root_ca_base64`.
    pub root_ca_base64: Option<String>,
    /// `profile_name`.
    pub profile_name: Option<String>,
    /// `profile_dir`.
    pub profile_dir: Option<String>,
    /// `identity_file_path`.
    pub identity_file_path: Option<String>,
    /// `identity_file` (secret).
    pub identity_file: Option<String>,
    /// `identity_file_base64` (secret).
    pub identity_file_base64: Option<String>,
    /// `retry_base_duration`, default `1s`.
    pub retry_base_duration: String,
    /// `retry_cap_duration`, default `5s`.
    pub retry_cap_duration: String,
    /// `retry_max_tries`, default `10`.
    pub retry_max_tries: String,
    /// `dial_timeout_duration`, default `30s`.
    pub dial_timeout_duration: String,
    /// `join_method`.
    pub join_method: Option<String>,
    /// `join_token`.
    pub join_token: Option<String>,
    /// `audience_tag`.
    pub audience_tag: Option<String>,
    /// `gitlab_id_token_env_var`.
    pub gitlab_id_token_env_var: Option<String>,
    /// `insecure`: skip proxy certificate verification when joining.
    pub insecure: bool,
    /// The `azure` block (used only by Azure resources and data sources).
    pub azure: AzureSettings,
}

impl ProviderConfig {
    /// Resolves settings from the provider configuration and an environment
    /// lookup (`std::env::var` in production).
    pub fn resolve(config: &Value, env: impl Fn(&str) -> Option<String>) -> ProviderConfig {
        let get = |name: &str| -> Option<String> {
            let setting = SETTINGS.iter().find(|s| s.name == name)?;
            let configured = config.attr(name);
            let value = match configured {
                // Null or unknown: the env var, when non-empty.
                Value::Null | Value::Unknown => env(setting.env).unwrap_or_default(),
                other => other.as_str().unwrap_or_default().trim().to_string(),
            };
            if value.is_empty() { setting.default.map(str::to_string) } else { Some(value) }
        };
        let required = |name: &str| get(name).unwrap_or_default();
        let insecure = match config.attr("insecure") {
            Value::Bool(b) => *b,
            _ => env(INSECURE_ENV)
                .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "t" | "yes")),
        };
        ProviderConfig {
            addr: get("addr"),
            cert_path: get("cert_path"),
            cert_base64: get("cert_base64"),
            key_path: get("key_path"),
            key_base64: get("key_base64"),
            root_ca_path: get("root_ca_path"),
            root_ca_base64: get("root_ca_base64"),
            profile_name: get("profile_name"),
            profile_dir: get("profile_dir"),
            identity_file_path: get("identity_file_path"),
            identity_file: get("identity_file"),
            identity_file_base64: get("identity_file_base64"),
            retry_base_duration: required("retry_base_duration"),
            retry_cap_duration: required("retry_cap_duration"),
            retry_max_tries: required("retry_max_tries"),
            dial_timeout_duration: required("dial_timeout_duration"),
            join_method: get("join_method"),
            join_token: get("join_token"),
            audience_tag: get("audience_tag"),
            gitlab_id_token_env_var: get("gitlab_id_token_env_var"),
            insecure,
            azure: AzureSettings::resolve(config.attr("azure"), &env),
        }
    }
}

/// The `teleport` provider.
#[derive(Debug, Default)]
pub struct TeleportProvider;

/// The provider configuration schema: every attribute optional, each naming its env var.
pub fn provider_schema() -> Schema {
    let mut schema = Schema::new().description(
        "Manages Teleport resources. Every setting can also come from a `TF_TELEPORT_*` environment \
         variable; a value in the configuration wins.",
    );
    for s in SETTINGS {
        let mut a = Attribute::string(s.name)
            .optional()
            .description(format!("{} Environment variable: `{}`.", s.description, s.env));
        if s.sensitive {
            a = a.sensitive();
        }
        schema = schema.attribute(a);
    }
    schema
        .attribute(Attribute::bool("insecure").optional().description(format!(
            "Skip proxy certificate verification when joining the Teleport cluster. Environment variable: `{INSECURE_ENV}`."
        )))
        .attribute(crate::azure::schema_attribute())
}

#[async_trait]
impl Provider for TeleportProvider {
    type Client = TeleportClient;

    fn schema(&self) -> Schema {
        provider_schema()
    }

    async fn configure(&self, req: ConfigureRequest) -> Result<TeleportClient, Diagnostics> {
        let config = ProviderConfig::resolve(&req.config, |k| std::env::var(k).ok());
        connect(&config).await
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<TeleportClient>>> {
        vec![Arc::new(ProvisionTokenResource), Arc::new(BotResource), Arc::new(AzureIdentityBindingResource)]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<TeleportClient>>> {
        vec![
            Arc::new(ProvisionTokenDataSource),
            Arc::new(BotDataSource),
            Arc::new(AgentConfigDataSource),
            Arc::new(AzureVmDataSource),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn config_beats_env_and_empty_falls_to_default() {
        let config = Value::object([
            ("addr", Value::from(" proxy.example.com:443 ")),
            ("retry_base_duration", Value::from("")),
            ("profile_name", Value::Unknown),
        ]);
        let c = ProviderConfig::resolve(
            &config,
            env(&[
                ("TF_TELEPORT_ADDR", "env:443"),
                ("TF_TELEPORT_RETRY_BASE_DURATION", "9s"),
                ("TF_TELEPORT_PROFILE_NAME", "prof"),
                ("TF_TELEPORT_CA_BASE64", "Q0E="),
                ("TF_TELEPORT_INSECURE", "true"),
            ]),
        );
        assert_eq!(c.addr.as_deref(), Some("proxy.example.com:443"));
        assert_eq!(c.retry_base_duration, "1s", "explicit empty string falls to the default");
        assert_eq!(c.profile_name.as_deref(), Some("prof"), "unknown uses env");
        assert_eq!(c.root_ca_base64.as_deref(), Some("Q0E="));
        assert_eq!(c.retry_max_tries, "10");
        assert_eq!(c.dial_timeout_duration, "30s");
        assert!(c.insecure);
        assert!(c.key_path.is_none());
    }

    #[test]
    fn insecure_config_beats_env() {
        let c =
            ProviderConfig::resolve(&Value::object([("insecure", Value::from(false))]), env(&[(INSECURE_ENV, "1")]));
        assert!(!c.insecure);
    }

    #[test]
    fn schema_is_all_optional_with_env_names() {
        let s = provider_schema();
        assert_eq!(s.attributes.len(), 22);
        assert!(s.problems().is_empty());
        for a in s.attributes.iter().filter(|a| a.name != "azure") {
            assert!(a.optional && !a.required && !a.computed, "{}", a.name);
            assert!(a.description.contains("TF_TELEPORT_"), "{}", a.name);
        }
        let sensitive: Vec<_> = s.attributes.iter().filter(|a| a.sensitive).map(|a| a.name.as_str()).collect();
        assert_eq!(sensitive, ["key_base64", "identity_file", "identity_file_base64"]);
    }
}
