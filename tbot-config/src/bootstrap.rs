//! A VM's bootstrap from a few inputs: what the Terraform data source
//! `teleport_agent_config` renders.
//!
//! [`Bootstrap`] holds the data source's inputs (its fields are named after
//! the attributes). It builds the [`BotConfig`] the VM's agent reads
//! (`storage: memory`, identity outputs in directories, the defaults filled
//! in), checks it with the agent's own rules ([`Bootstrap::validate`], every
//! problem with its key, which [`Bootstrap::input_for_key`] turns back into
//! an input name), and renders the unit that runs the agent as root.

use crate::bot_config::{BotConfig, VERSION};
use crate::config::{Config, DEFAULT_CREDENTIAL_TTL, DEFAULT_RENEWAL_INTERVAL};
use crate::destination::DestinationConfig;
use crate::error::{ConfigError, Source};
use crate::onboarding::azure::AzureOnboarding;
use crate::onboarding::{JoinMethodName, OnboardingConfig};
use crate::outputs::OutputConfig;
use crate::outputs::identity::{IdentityOutputConfig, IdentityType};
use crate::systemd::AgentUnit;
use crate::values::GoDuration;

/// The join method of a VM when the inputs name none: the VM's managed identity.
pub const DEFAULT_VM_JOIN_METHOD: JoinMethodName = JoinMethodName::Azure;

/// The name errors carry for a rendered configuration (it is not a file).
const SOURCE_NAME: &str = "teleport_agent_config";

/// The inputs of a VM's bootstrap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bootstrap {
    /// Teleport Proxy address (`host:port`); this or `auth_server`.
    pub proxy_server: Option<String>,
    /// Teleport Auth address (`host:port`); this or `proxy_server`.
    pub auth_server: Option<String>,
    /// The join token's name (its value, for the `token` method).
    pub token: String,
    /// The join method; [`DEFAULT_VM_JOIN_METHOD`] when unset.
    pub join_method: Option<JoinMethodName>,
    /// Pins of the cluster's CA (`sha256:<hex>`).
    pub ca_pins: Vec<String>,
    /// Path on the VM of a PEM file with the cluster's CA.
    pub ca_path: Option<String>,
    /// The user-assigned managed identity to join with (used by `azure` only).
    pub azure_client_id: Option<String>,
    /// Identity outputs, one directory each.
    pub outputs: Vec<IdentityDirectory>,
    /// Credential lifetime (Go duration); [`DEFAULT_CREDENTIAL_TTL`] when unset.
    pub certificate_ttl: Option<String>,
    /// Renewal interval (Go duration); [`DEFAULT_RENEWAL_INTERVAL`] when unset.
    pub renewal_interval: Option<String>,
    /// Join once and exit instead of running as a daemon.
    pub oneshot: bool,
}

/// An identity output written to a directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityDirectory {
    /// The directory.
    pub path: String,
    /// Roles to impersonate; empty: every role the bot may impersonate.
    pub roles: Vec<String>,
}

impl Bootstrap {
    /// The agent's configuration. Fails only on durations that do not
    /// parse (keyed `certificate_ttl`, `renewal_interval`).
    pub fn bot_config(&self) -> Result<BotConfig, Vec<ConfigError>> {
        let src = Source::new(SOURCE_NAME, "");
        let duration = |key: &str, value: &Option<String>, default: GoDuration| match value {
            None => Ok(default),
            Some(text) => GoDuration::parse(text).map_err(|e| src.invalid(key, e.to_string())),
        };
        let (certificate_ttl, renewal_interval) = match (
            duration("certificate_ttl", &self.certificate_ttl, DEFAULT_CREDENTIAL_TTL),
            duration("renewal_interval", &self.renewal_interval, DEFAULT_RENEWAL_INTERVAL),
        ) {
            (Ok(ttl), Ok(interval)) => (ttl, interval),
            (ttl, interval) => return Err(ttl.err().into_iter().chain(interval.err()).collect()),
        };
        let join_method = self.join_method.unwrap_or(DEFAULT_VM_JOIN_METHOD);
        let azure = self
            .azure_client_id
            .clone()
            .filter(|_| join_method == JoinMethodName::Azure)
            .map(|client_id| AzureOnboarding { client_id: Some(client_id) });
        let outputs = self
            .outputs
            .iter()
            .map(|o| {
                OutputConfig::Identity(IdentityOutputConfig {
                    kind: IdentityType::Identity,
                    destination: Some(DestinationConfig::directory(&o.path)),
                    roles: Some(o.roles.clone()).filter(|r| !r.is_empty()),
                    cluster: None,
                    ssh_config: None,
                })
            })
            .collect();
        Ok(BotConfig {
            version: Some(VERSION.into()),
            proxy_server: self.proxy_server.clone(),
            auth_server: self.auth_server.clone(),
            onboarding: Some(OnboardingConfig {
                join_method: Some(join_method),
                token: Some(self.token.clone()),
                ca_pins: Some(self.ca_pins.clone()).filter(|p| !p.is_empty()),
                ca_path: self.ca_path.clone(),
                azure,
            }),
            storage: Some(DestinationConfig::memory()),
            outputs: Some(outputs),
            certificate_ttl: Some(certificate_ttl),
            renewal_interval: Some(renewal_interval),
            oneshot: Some(self.oneshot),
            ..BotConfig::default()
        })
    }

    /// The agent's configuration as YAML (`tbot.yaml`).
    pub fn tbot_yaml(&self) -> Result<String, Vec<ConfigError>> {
        let bot = self.bot_config()?;
        bot.to_yaml().map_err(|e| vec![Source::new(SOURCE_NAME, "").decode(e.to_string())])
    }

    /// Checks the configuration with the agent's rules (no file on the VM is
    /// read), returning every problem with its YAML key.
    pub fn validate(&self) -> Result<Config, Vec<ConfigError>> {
        let bot = self.bot_config()?;
        bot.validate_all(&Source::new(SOURCE_NAME, ""))
    }

    /// The unit running the agent at `agent_path` with the configuration at
    /// `config_path`, as root, allowed to write the output directories.
    pub fn unit(&self, agent_path: &str, config_path: &str) -> AgentUnit {
        AgentUnit::new(agent_path, config_path, self.outputs.iter().map(|o| o.path.clone()).collect())
    }

    /// The input a YAML key of [`Bootstrap::validate`]'s errors comes from:
    /// `onboarding.azure.client_id` → `azure_client_id`,
    /// `outputs[1].destination.path` → `outputs[1].path`. `None` for a key
    /// no input sets.
    pub fn input_for_key(key: &str) -> Option<String> {
        let input = match key {
            "proxy_server" | "auth_server" | "renewal_interval" | "oneshot" => key,
            "certificate_ttl" | "credential_ttl" => "certificate_ttl",
            "onboarding.token" => "token",
            "onboarding.join_method" => "join_method",
            "onboarding.ca_pins" => "ca_pins",
            "onboarding.ca_path" => "ca_path",
            "onboarding.azure.client_id" => "azure_client_id",
            _ => {
                let rest = key.strip_prefix("outputs[")?;
                let (index, field) = rest.split_once(']')?;
                let field = match field {
                    "" => "",
                    ".roles" => ".roles",
                    f if f.starts_with(".destination") => ".path",
                    _ => return None,
                };
                return Some(format!("outputs[{index}]{field}"));
            }
        };
        Some(input.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_back_to_inputs() {
        assert_eq!(Bootstrap::input_for_key("onboarding.azure.client_id").as_deref(), Some("azure_client_id"));
        assert_eq!(Bootstrap::input_for_key("outputs[2].destination.path").as_deref(), Some("outputs[2].path"));
        assert_eq!(Bootstrap::input_for_key("outputs[0].roles").as_deref(), Some("outputs[0].roles"));
        assert_eq!(Bootstrap::input_for_key("credential_ttl").as_deref(), Some("certificate_ttl"));
        assert_eq!(Bootstrap::input_for_key("storage.path"), None);
    }
}
