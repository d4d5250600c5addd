//! `teleport_agent_config`: renders the VM agent's bootstrap.
//!
//! One data source turns a few inputs into the three files a VM needs to
//! join on first boot: the `tbot.yaml` that `joinery-agent` (and Teleport's
//! `tbot`) read, a hardened systemd unit, and a `#cloud-config` document
//! that installs the agent, writes both files and starts the service.
//! Here: the schema, the model and the data source; the rendering is in
//! [`render`](mod@render).

pub mod render;

use async_trait::async_trait;
use joinery_tbot_config::JoinMethodName;
use serde::{Deserialize, Serialize};

use self::render::{Rendered, check, render};
use crate::connect::TeleportClient;
use joinery_tfplugin::cty::Type;
use joinery_tfplugin::framework::{Attribute, DataSource, Diagnostics, Maybe, Schema, validators};

/// The data source type name.
pub const TYPE_NAME: &str = "teleport_agent_config";

fn opt(name: &str, description: &str) -> Attribute {
    Attribute::string(name).optional().description(description)
}

/// The data source schema.
pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Renders the bootstrap of `joinery-agent` for a VM: `tbot_yaml` (the agent's configuration, also valid \
             for Teleport's `tbot`), `systemd_unit`, and `cloud_init`, a `#cloud-config` document to pass as VM \
             custom data so the VM joins Teleport on first boot. Nothing is contacted.",
        )
        .attribute(opt("proxy_server", "Teleport Proxy address, `host:port` (usually port 443). Set this or `auth_server`."))
        .attribute(opt("auth_server", "Teleport Auth address, `host:port` (usually 3025). Set this or `proxy_server`."))
        .attribute(
            Attribute::string("token")
                .required()
                .description("Name of the join token (for `azure`, not a secret: the VM's identity is the proof)."),
        )
        .attribute(
            Attribute::string("join_method")
                .optional()
                .validator(validators::one_of(JoinMethodName::ALL.map(JoinMethodName::as_str)))
                .description("`azure` (default) or `token`."),
        )
        .attribute(Attribute::list("ca_pins", Type::String).optional().description(
            "Pins of the cluster's CA (`sha256:<hex>`, from `tctl status`) the agent checks before sending anything. \
             Needed with `auth_server`; with `proxy_server` the proxy's public certificate is verified instead.",
        ))
        .attribute(opt("ca_path", "Path on the VM of a PEM file with the cluster's CA, instead of `ca_pins`."))
        .attribute(opt(
            "azure_client_id",
            "Client ID of the user-assigned managed identity to join with; needed when the VM has several identities.",
        ))
        .attribute(
            Attribute::list_nested(
                "outputs",
                [
                    Attribute::string("type").optional().validator(validators::one_of(["identity"])).description("Output type; `identity`."),
                    Attribute::string("path").required().description("Directory the credentials are written to."),
                    Attribute::list("roles", Type::String).optional().description("Roles to impersonate; empty: all the bot may use."),
                ],
            )
            .optional()
            .description("Where the agent writes credentials for other programs."),
        )
        .attribute(opt("certificate_ttl", "Lifetime of issued certificates (Go duration); default `1h`."))
        .attribute(opt("renewal_interval", "How often to renew (Go duration, shorter than the TTL); default `20m`."))
        .attribute(Attribute::bool("oneshot").optional().description("Join once and exit (CI) instead of running as a daemon."))
        .attribute(opt(
            "agent_url",
            "HTTPS URL cloud-init downloads the agent from: a release's binary (`joinery-agent_VERSION_linux_ARCH`), or \
             its Debian package (a URL whose path ends in `.deb`), which cloud-init installs with `dpkg`. Without it, the \
             binary must already be at `agent_path`.",
        ))
        .attribute(opt(
            "agent_sha256",
            "SHA-256 (hex) the download must match (the release's `SHA256SUMS` line). Strongly recommended with `agent_url`.",
        ))
        .attribute(opt(
            "agent_path",
            "Where the agent binary lives on the VM; default `/usr/local/bin/joinery-agent`, or `/usr/bin/joinery-agent` \
             (where the package puts it) when `agent_url` is a `.deb`.",
        ))
        .attribute(opt("config_path", "Where the configuration is written on the VM; default `/etc/tbot.yaml`."))
        .attribute(Attribute::string("tbot_yaml").computed().description("The agent configuration (tbot v2 YAML)."))
        .attribute(Attribute::string("systemd_unit").computed().description("A hardened systemd unit running the agent."))
        .attribute(Attribute::string("cloud_init").computed().description("A `#cloud-config` document installing and starting the agent."))
}

/// The data source's model: the inputs (set in configuration, so `Maybe`)
/// and the three rendered documents.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AgentConfigModel {
    /// Teleport Proxy address.
    pub proxy_server: Maybe<String>,
    /// Teleport Auth address.
    pub auth_server: Maybe<String>,
    /// Join token name.
    pub token: Maybe<String>,
    /// `azure` (default) or `token`.
    pub join_method: Maybe<String>,
    /// CA pins, `sha256:<hex>`.
    pub ca_pins: Maybe<Vec<String>>,
    /// Path of a CA file on the VM.
    pub ca_path: Maybe<String>,
    /// Client ID of the managed identity to join with.
    pub azure_client_id: Maybe<String>,
    /// Where credentials are written.
    pub outputs: Maybe<Vec<OutputModel>>,
    /// Certificate lifetime (Go duration).
    pub certificate_ttl: Maybe<String>,
    /// Renewal interval (Go duration).
    pub renewal_interval: Maybe<String>,
    /// Join once and exit.
    pub oneshot: Maybe<bool>,
    /// Where cloud-init downloads the agent.
    pub agent_url: Maybe<String>,
    /// SHA-256 of the download.
    pub agent_sha256: Maybe<String>,
    /// The agent binary on the VM.
    pub agent_path: Maybe<String>,
    /// The configuration file on the VM.
    pub config_path: Maybe<String>,
    /// Rendered: the tbot v2 YAML.
    pub tbot_yaml: Option<String>,
    /// Rendered: the systemd unit.
    pub systemd_unit: Option<String>,
    /// Rendered: the `#cloud-config` document.
    pub cloud_init: Option<String>,
}

/// One `outputs` element.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutputModel {
    /// Output type; `identity`.
    #[serde(rename = "type")]
    pub kind: Maybe<String>,
    /// Destination directory.
    pub path: Maybe<String>,
    /// Roles to impersonate.
    pub roles: Maybe<Vec<String>>,
}

/// The data source.
pub struct AgentConfigDataSource;

#[async_trait]
impl DataSource<TeleportClient> for AgentConfigDataSource {
    type Model = AgentConfigModel;

    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &AgentConfigModel, diags: &mut Diagnostics) {
        check(config, diags);
    }

    async fn read(&self, _client: &TeleportClient, config: AgentConfigModel) -> Result<AgentConfigModel, Diagnostics> {
        let mut diags = Diagnostics::new();
        check(&config, &mut diags);
        if diags.has_errors() {
            return Err(diags);
        }
        let Rendered { tbot_yaml, systemd_unit, cloud_init } = render(&config)?;
        Ok(AgentConfigModel {
            tbot_yaml: Some(tbot_yaml),
            systemd_unit: Some(systemd_unit),
            cloud_init: Some(cloud_init),
            ..config
        })
    }
}

#[cfg(test)]
mod tests {
    use joinery_tfplugin::cty::Value;
    use joinery_tfplugin::framework::model::{self, Role, check as check_model};

    use super::*;

    fn model(config: Value) -> AgentConfigModel {
        model::from_value(&config).unwrap()
    }

    #[test]
    fn model_matches_schema() {
        check_model::<AgentConfigModel>(&schema(), Role::DataSource).unwrap();
    }

    #[test]
    fn renders_quoted_yaml_and_a_cloud_config() {
        let config = model(Value::object([
            ("proxy_server", Value::string("teleport.example.com:443")),
            ("token", Value::string("azure-bot: tricky # value")),
            ("azure_client_id", Value::string("22222222-2222-2222-2222-222222222222")),
            (
                "outputs",
                Value::List(vec![Value::object([
                    ("path", Value::string("/opt/machine-id")),
                    ("roles", Value::string_list(["access"])),
                ])]),
            ),
        ]));
        let Rendered { tbot_yaml: yaml, systemd_unit: unit, cloud_init: cloud } = render(&config).unwrap();
        let parsed: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
        assert_eq!(parsed["onboarding"]["token"], "azure-bot: tricky # value");
        assert_eq!(parsed["onboarding"]["join_method"], "azure");
        assert_eq!(parsed["outputs"][0]["destination"]["path"], "/opt/machine-id");
        assert!(unit.contains("ExecStart=/usr/local/bin/joinery-agent start -c /etc/tbot.yaml"));
        assert!(unit.contains("ReadWritePaths=/opt/machine-id"));
        assert!(cloud.starts_with("#cloud-config\n"));
        let c: serde_yaml_ng::Value = serde_yaml_ng::from_str(&cloud).unwrap();
        assert_eq!(c["write_files"][0]["content"].as_str().unwrap(), yaml);
        assert_eq!(c["write_files"][0]["permissions"], "0600");
    }

    #[test]
    fn installs_the_agent_package_by_url_and_sha256() {
        let sha = "ab".repeat(32);
        let url = "https://releases.example.com/joinery-agent_0.1.0_amd64.deb?sv=2024&sig=x";
        let config = model(Value::object([
            ("proxy_server", Value::string("teleport.example.com:443")),
            ("token", Value::string("vm-azure")),
            ("agent_url", Value::string(url)),
            ("agent_sha256", Value::string(&sha)),
        ]));
        let mut d = Diagnostics::new();
        check(&config, &mut d);
        assert!(!d.has_errors(), "{d:?}");
        let Rendered { systemd_unit: unit, cloud_init: cloud, .. } = render(&config).unwrap();
        let c: serde_yaml_ng::Value = serde_yaml_ng::from_str(&cloud).unwrap();
        let runcmd: Vec<Vec<String>> = serde_yaml_ng::from_value(c["runcmd"].clone()).unwrap();
        let deb = "/var/tmp/joinery-agent.deb";
        let expected: Vec<Vec<String>> = vec![
            vec!["curl", "-fsSL", "--proto", "=https", "-o", deb, url],
            vec!["sh", "-c", &format!("echo '{sha}  {deb}' | sha256sum -c - || {{ rm -f '{deb}'; exit 1; }}")],
            vec!["dpkg", "-i", deb],
            vec!["rm", "-f", deb],
            vec!["systemctl", "daemon-reload"],
            vec!["systemctl", "enable", "--now", "joinery-agent.service"],
        ]
        .into_iter()
        .map(|cmd| cmd.into_iter().map(str::to_string).collect())
        .collect();
        assert_eq!(runcmd, expected);
        // The unit cloud-init writes runs the binary where the package puts it.
        assert!(unit.contains("ExecStart=/usr/bin/joinery-agent start -c /etc/tbot.yaml"), "{unit}");

        let mut d = Diagnostics::new();
        let elsewhere = AgentConfigModel { agent_path: Maybe::Known("/usr/local/bin/joinery-agent".into()), ..config };
        check(&elsewhere, &mut d);
        let paths: Vec<String> = d.0.iter().filter_map(|x| x.path.as_ref().map(|p| p.to_string())).collect();
        assert_eq!(paths, ["agent_path"]);
    }

    #[test]
    fn rejects_bad_inputs_on_the_attribute() {
        let mut d = Diagnostics::new();
        check(
            &model(Value::object([
                ("auth_server", Value::string("a:3025")),
                ("proxy_server", Value::string("p:443")),
                ("renewal_interval", Value::string("2h")),
                ("agent_url", Value::string("http://example.com/agent")),
            ])),
            &mut d,
        );
        let paths: Vec<String> = d.0.iter().filter_map(|x| x.path.as_ref().map(|p| p.to_string())).collect();
        // The agent's rule (joinery-tbot-config) names proxy_server for two addresses.
        assert!(paths.contains(&"proxy_server".to_string()), "{paths:?}");
        assert!(paths.contains(&"renewal_interval".to_string()), "{paths:?}");
        assert!(paths.contains(&"agent_url".to_string()), "{paths:?}");
    }
}
