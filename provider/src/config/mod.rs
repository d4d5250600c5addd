//! The provider configuration: its schema and how configuration and
//! `TF_TELEPORT_*` environment variables combine into a [`ProviderConfig`].
//!
//! The attributes, their env vars and defaults match the official Teleport
//! provider. Each is one [`Setting`] (attribute, else variable, else
//! default); the configuration is resolved setting by setting and then read
//! into the typed [`ProviderConfig`]. Connecting happens in
//! [`crate::connect`].

pub mod azure;
pub mod settings;

use serde::Deserialize;

use self::azure::AzureSettings;
use self::settings::{Setting, resolve_all};
use joinery_tfplugin::cty::Value;
use joinery_tfplugin::framework::{Diagnostics, Schema, model};

/// `addr`.
pub const ADDR: Setting = Setting::string(
    "addr",
    "TF_TELEPORT_ADDR",
    "Teleport address as `host:port`: a Proxy (usually port 443 or 3080) or the Auth Service (port 3025).",
);
/// `cert_path`.
pub const CERT_PATH: Setting = Setting::string(
    "cert_path",
    "TF_TELEPORT_CERT",
    "Path to the Teleport TLS client certificate file (direct Auth Service connections).",
);
/// `cert_base64`.
pub const CERT_BASE64: Setting =
    Setting::string("cert_base64", "TF_TELEPORT_CERT_BASE64", "Base64-encoded Teleport TLS client certificate.");
/// `key_path`.
pub const KEY_PATH: Setting =
    Setting::string("key_path", "TF_TELEPORT_KEY", "Path to the Teleport TLS client private key file.");
/// `key_base64`.
pub const KEY_BASE64: Setting =
    Setting::string("key_base64", "TF_TELEPORT_KEY_BASE64", "Base64-encoded Teleport TLS client private key.")
        .sensitive();
/// `root_ca_path`.
pub const ROOT_CA_PATH: Setting =
    Setting::string("root_ca_path", "TF_TELEPORT_ROOT_CA", "Path to the Teleport cluster's root CA certificate file.");
/// `root_ca_base64`.
pub const ROOT_CA_BASE64: Setting =
    Setting::string("root_ca_base64", "TF_TELEPORT_CA_BASE64", "Base64-encoded Teleport root CA certificate.");
/// `profile_name`.
pub const PROFILE_NAME: Setting =
    Setting::string("profile_name", "TF_TELEPORT_PROFILE_NAME", "`tsh` profile name to take credentials from.");
/// `profile_dir`.
pub const PROFILE_DIR: Setting =
    Setting::string("profile_dir", "TF_TELEPORT_PROFILE_PATH", "`tsh` profile directory (default `~/.tsh`).");
/// `identity_file_path`.
pub const IDENTITY_FILE_PATH: Setting = Setting::string(
    "identity_file_path",
    "TF_TELEPORT_IDENTITY_FILE_PATH",
    "Path to a Teleport identity file (for example one written by `tbot` or `tctl auth sign`).",
);
/// `identity_file`.
pub const IDENTITY_FILE: Setting =
    Setting::string("identity_file", "TF_TELEPORT_IDENTITY_FILE", "Teleport identity file contents.").sensitive();
/// `identity_file_base64`.
pub const IDENTITY_FILE_BASE64: Setting = Setting::string(
    "identity_file_base64",
    "TF_TELEPORT_IDENTITY_FILE_BASE64",
    "Base64-encoded Teleport identity file contents.",
)
.sensitive();
/// `retry_base_duration`.
pub const RETRY_BASE_DURATION: Setting = Setting::string(
    "retry_base_duration",
    "TF_TELEPORT_RETRY_BASE_DURATION",
    "Base duration between retries of reads after writes, as a Go duration. Default `1s`.",
)
.default("1s");
/// `retry_cap_duration`.
pub const RETRY_CAP_DURATION: Setting = Setting::string(
    "retry_cap_duration",
    "TF_TELEPORT_RETRY_CAP_DURATION",
    "Maximum duration between retries, as a Go duration. Default `5s`.",
)
.default("5s");
/// `retry_max_tries`.
pub const RETRY_MAX_TRIES: Setting =
    Setting::string("retry_max_tries", "TF_TELEPORT_RETRY_MAX_TRIES", "Maximum number of retries. Default `10`.")
        .default("10");
/// `dial_timeout_duration`.
pub const DIAL_TIMEOUT_DURATION: Setting = Setting::string(
    "dial_timeout_duration",
    "TF_TELEPORT_DIAL_TIMEOUT_DURATION",
    "Timeout for connecting to Teleport, as a Go duration. Default `30s`.",
)
.default("30s");
/// `join_method`.
pub const JOIN_METHOD: Setting = Setting::string(
    "join_method",
    "TF_TELEPORT_JOIN_METHOD",
    "Join the cluster as a bot at configure time instead of using an identity file: `github` (a GitHub Actions job's \
     ID token), `azure` (the runner VM's managed identity) or `token` (a single-use secret). The certificates stay \
     in memory and are renewed by joining again when an apply outlives them. Needs `join_token`; the join \
     connection trusts `root_ca_path` / `root_ca_base64`, else the system roots.",
);
/// `join_token`.
pub const JOIN_TOKEN: Setting = Setting::string(
    "join_token",
    "TF_TELEPORT_JOIN_TOKEN",
    "Name of the join token for `join_method` (for `token`, the secret itself).",
);
/// `audience_tag`.
pub const AUDIENCE_TAG: Setting = Setting::string(
    "audience_tag",
    "TF_TELEPORT_JOIN_AUDIENCE_TAG",
    "Audience tag for the `terraform_cloud` join method (not supported by this provider).",
);
/// `gitlab_id_token_env_var`.
pub const GITLAB_ID_TOKEN_ENV_VAR: Setting = Setting::string(
    "gitlab_id_token_env_var",
    "TF_TELEPORT_GITLAB_ID_TOKEN_ENV_VAR",
    "Environment variable holding the GitLab ID token for the `gitlab` join method (not supported by this provider).",
);
/// `insecure`.
pub const INSECURE: Setting = Setting::flag(
    "insecure",
    "TF_TELEPORT_INSECURE",
    false,
    "Skip proxy certificate verification when joining the Teleport cluster.",
);

/// Every top-level setting, in schema order (the `azure` block follows).
const SETTINGS: &[Setting] = &[
    ADDR,
    CERT_PATH,
    CERT_BASE64,
    KEY_PATH,
    KEY_BASE64,
    ROOT_CA_PATH,
    ROOT_CA_BASE64,
    PROFILE_NAME,
    PROFILE_DIR,
    IDENTITY_FILE_PATH,
    IDENTITY_FILE,
    IDENTITY_FILE_BASE64,
    RETRY_BASE_DURATION,
    RETRY_CAP_DURATION,
    RETRY_MAX_TRIES,
    DIAL_TIMEOUT_DURATION,
    JOIN_METHOD,
    JOIN_TOKEN,
    AUDIENCE_TAG,
    GITLAB_ID_TOKEN_ENV_VAR,
    INSECURE,
];

/// The provider configuration schema: every attribute optional, each naming its env var.
pub fn provider_schema() -> Schema {
    Schema::new()
        .description(
            "Manages Teleport resources. Every setting can also come from a `TF_TELEPORT_*` environment \
             variable; a value in the configuration wins.",
        )
        .attributes(SETTINGS.iter().map(Setting::attribute))
        .attribute(azure::schema_attribute())
}

/// The resolved provider settings, the model of the provider block once
/// every [`Setting`] is resolved: configuration beats environment, and an
/// explicitly empty string falls back to the default (not to the env var),
/// as in the official provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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
    pub fn resolve(config: &Value, env: impl Fn(&str) -> Option<String>) -> Result<ProviderConfig, Diagnostics> {
        let resolved = resolve_all(SETTINGS, config, &env)
            .with_attr(azure::BLOCK, azure::resolve(config.attr(azure::BLOCK), &env));
        Ok(model::from_value(&resolved)?)
    }
}

#[cfg(test)]
mod tests {
    use joinery_tfplugin::framework::model::{Role, check};

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
        )
        .unwrap();
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
            ProviderConfig::resolve(&Value::object([("insecure", Value::from(false))]), env(&[(INSECURE.env, "1")]))
                .unwrap();
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

    #[test]
    fn model_matches_schema() {
        check::<ProviderConfig>(&provider_schema(), Role::Provider).unwrap();
    }
}
