//! The whole file, as written: [`BotConfig`], decoded strictly and rendered
//! back with unset keys left out.

use serde::{Deserialize, Serialize};

use crate::destination::DestinationConfig;
use crate::error::{ConfigError, Source};
use crate::onboarding::OnboardingConfig;
use crate::outputs::OutputConfig;
use crate::values::GoDuration;

/// The only configuration version this crate reads and writes.
pub const VERSION: &str = "v2";

/// tbot's v2 configuration file, key for key. Every key is optional here
/// (a command line can fill gaps); [`BotConfig::validate`] applies the
/// defaults and rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotConfig {
    /// `version`: checked by [`BotConfig::parse`] before strict decoding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `proxy_server`: `host:port` of the proxy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_server: Option<String>,
    /// `auth_server`: `host:port` of the Auth server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_server: Option<String>,
    /// `onboarding`: how to join.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onboarding: Option<OnboardingConfig>,
    /// `storage`: where the bot keeps its own identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<DestinationConfig>,
    /// `outputs`: credentials for other programs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<OutputConfig>>,
    /// `services`: read as more outputs (newer tbot versions list outputs there too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<OutputConfig>>,
    /// `oneshot`: join, write the outputs once and exit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oneshot: Option<bool>,
    /// `certificate_ttl`: tbot's older name for `credential_ttl`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_ttl: Option<GoDuration>,
    /// `credential_ttl`: the lifetime of issued credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_ttl: Option<GoDuration>,
    /// `renewal_interval`: how often to renew.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renewal_interval: Option<GoDuration>,
    /// `debug`: verbose logging.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug: Option<bool>,
    /// `diag_addr`: `host:port` of the diagnostics HTTP server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diag_addr: Option<String>,
    /// `insecure`: skip TLS verification of the server (test clusters only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// `fips`: not supported; read so that it fails clearly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fips: Option<bool>,
}

impl BotConfig {
    /// Decodes YAML text strictly: the version first, then every key (an
    /// unknown key is an error naming its path and line).
    pub fn parse(src: &Source) -> Result<Self, ConfigError> {
        let text = src.text();
        crate::limits::check(text).map_err(|m| src.decode(m))?;
        let decode = |e: serde_yaml_ng::Error| src.decode(e.to_string());
        // The version decides the schema, so read it before strict decoding
        // (a v1 file would otherwise fail on its first v1-only key).
        let loose: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(decode)?;
        let version = match &loose {
            serde_yaml_ng::Value::Null => None,
            serde_yaml_ng::Value::Mapping(m) => match m.get("version") {
                None | Some(serde_yaml_ng::Value::Null) => None,
                Some(serde_yaml_ng::Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(src.invalid("version", "must be a string such as v2")),
            },
            _ => return Err(src.decode("the top level must be a mapping of keys to values")),
        };
        match version.as_deref() {
            Some(VERSION) => {}
            None | Some("") | Some("v1") => {
                return Err(src.invalid(
                    "version",
                    format!(
                        "{} only version v2 is supported; add `version: v2` (run `tbot migrate` for v1 files)",
                        if version.as_deref().unwrap_or("").is_empty() { "is missing:" } else { "is v1:" }
                    ),
                ));
            }
            Some(other) => return Err(src.invalid("version", format!("unsupported version {other:?}: use v2"))),
        }
        serde_yaml_ng::from_str(text).map_err(decode)
    }

    /// Renders the configuration as YAML; unset keys are left out.
    pub fn to_yaml(&self) -> Result<String, serde_yaml_ng::Error> {
        serde_yaml_ng::to_string(self)
    }

    /// Things that are valid but probably not meant.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.certificate_ttl.is_some() && self.credential_ttl.is_some() {
            warnings.push("both certificate_ttl and credential_ttl are set: credential_ttl wins".into());
        }
        warnings
    }
}
