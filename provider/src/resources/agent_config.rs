//! `teleport_agent_config`: renders the VM agent's bootstrap.
//!
//! One data source turns a few inputs into the three files a VM needs to
//! join on first boot: the `tbot.yaml` that `joinery-agent` (and Teleport's
//! `tbot`) read, a hardened systemd unit, and a `#cloud-config` document
//! that installs the agent, writes both files and starts the service. The
//! YAML is produced by a serializer, never by string pasting, so any value
//! is quoted correctly.

use async_trait::async_trait;
use serde::Serialize;

use super::convert::{get_elements, get_string, get_strings};
use crate::connect::TeleportClient;
use joinery_tfplugin::cty::{Type, Value};
use joinery_tfplugin::framework::{Attribute, AttributePath, DataSource, Diagnostics, Schema, validators};

/// The data source type name.
pub const TYPE_NAME: &str = "teleport_agent_config";

const DEFAULT_AGENT_PATH: &str = "/usr/local/bin/joinery-agent";
const DEFAULT_CONFIG_PATH: &str = "/etc/tbot.yaml";
const UNIT_NAME: &str = "joinery-agent.service";

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
                .validator(validators::one_of(["azure", "token"]))
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
        .attribute(opt("agent_url", "HTTPS URL cloud-init downloads the agent binary from. Without it, the binary must already be at `agent_path`."))
        .attribute(opt("agent_sha256", "SHA-256 (hex) the downloaded binary must match. Strongly recommended with `agent_url`."))
        .attribute(opt("agent_path", "Where the agent binary lives on the VM; default `/usr/local/bin/joinery-agent`."))
        .attribute(opt("config_path", "Where the configuration is written on the VM; default `/etc/tbot.yaml`."))
        .attribute(Attribute::string("tbot_yaml").computed().description("The agent configuration (tbot v2 YAML)."))
        .attribute(Attribute::string("systemd_unit").computed().description("A hardened systemd unit running the agent."))
        .attribute(Attribute::string("cloud_init").computed().description("A `#cloud-config` document installing and starting the agent."))
}

#[derive(Serialize)]
struct TbotConfig {
    version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    proxy_server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_server: Option<String>,
    onboarding: Onboarding,
    storage: Storage,
    outputs: Vec<Output>,
    certificate_ttl: String,
    renewal_interval: String,
    oneshot: bool,
}

#[derive(Serialize)]
struct Onboarding {
    join_method: String,
    token: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ca_pins: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    azure: Option<AzureOnboarding>,
}

#[derive(Serialize)]
struct AzureOnboarding {
    client_id: String,
}

#[derive(Serialize)]
struct Storage {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Output {
    #[serde(rename = "type")]
    kind: String,
    destination: Destination,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<String>,
}

#[derive(Serialize)]
struct Destination {
    #[serde(rename = "type")]
    kind: &'static str,
    path: String,
}

#[derive(Serialize)]
struct CloudConfig {
    write_files: Vec<WriteFile>,
    runcmd: Vec<Vec<String>>,
}

#[derive(Serialize)]
struct WriteFile {
    path: String,
    permissions: &'static str,
    owner: &'static str,
    content: String,
}

fn non_empty(v: &Value, name: &str) -> Option<String> {
    Some(get_string(v, name)).filter(|s| !s.is_empty())
}

/// Cross-attribute checks on the inputs.
fn check(config: &Value, diags: &mut Diagnostics) {
    let proxy = config.attr("proxy_server");
    let auth = config.attr("auth_server");
    if proxy.is_known_value() && auth.is_known_value() && !proxy.is_null() && !auth.is_null() {
        diags.add_attribute_error(
            AttributePath::root("auth_server"),
            "Conflicting addresses",
            "Set only one of proxy_server and auth_server.",
        );
    }
    if proxy.is_null() && auth.is_null() {
        diags.add_attribute_error(
            AttributePath::root("proxy_server"),
            "Missing address",
            "Set proxy_server or auth_server.",
        );
    }
    let ttl = config.attr("certificate_ttl").as_str().unwrap_or("1h");
    let interval = config.attr("renewal_interval").as_str().unwrap_or("20m");
    for (name, value) in [("certificate_ttl", ttl), ("renewal_interval", interval)] {
        if let Err(e) = joinery_util::duration::parse(value) {
            diags.add_attribute_error(AttributePath::root(name), "Invalid duration", e.to_string());
        }
    }
    if let (Ok(t), Ok(i)) = (joinery_util::duration::parse(ttl), joinery_util::duration::parse(interval))
        && i >= t
        && config.attr("oneshot").as_bool() != Some(true)
    {
        diags.add_attribute_error(
            AttributePath::root("renewal_interval"),
            "Renewal interval too long",
            format!("renewal_interval ({interval}) must be shorter than certificate_ttl ({ttl}), or credentials expire before renewal."),
        );
    }
    if let Some(sha) = config.attr("agent_sha256").as_str()
        && !(sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()))
    {
        diags.add_attribute_error(
            AttributePath::root("agent_sha256"),
            "Invalid SHA-256",
            "agent_sha256 must be 64 hex digits.",
        );
    }
    if let Some(url) = config.attr("agent_url").as_str()
        && !url.starts_with("https://")
    {
        diags.add_attribute_error(
            AttributePath::root("agent_url"),
            "Insecure download",
            "agent_url must be an https:// URL: the binary becomes the VM's identity agent.",
        );
    }
}

/// Renders the three documents.
pub fn render(config: &Value) -> Result<(String, String, String), Diagnostics> {
    let join_method = non_empty(config, "join_method").unwrap_or_else(|| "azure".into());
    let outputs: Vec<Output> = get_elements(config, "outputs")
        .iter()
        .map(|o| Output {
            kind: non_empty(o, "type").unwrap_or_else(|| "identity".into()),
            destination: Destination { kind: "directory", path: get_string(o, "path") },
            roles: get_strings(o, "roles"),
        })
        .collect();
    let output_paths: Vec<String> = outputs.iter().map(|o| o.destination.path.clone()).collect();
    let tbot = TbotConfig {
        version: "v2",
        proxy_server: non_empty(config, "proxy_server"),
        auth_server: non_empty(config, "auth_server"),
        onboarding: Onboarding {
            azure: non_empty(config, "azure_client_id")
                .filter(|_| join_method == "azure")
                .map(|client_id| AzureOnboarding { client_id }),
            join_method,
            token: get_string(config, "token"),
            ca_pins: get_strings(config, "ca_pins"),
            ca_path: non_empty(config, "ca_path"),
        },
        storage: Storage { kind: "memory" },
        outputs,
        certificate_ttl: non_empty(config, "certificate_ttl").unwrap_or_else(|| "1h".into()),
        renewal_interval: non_empty(config, "renewal_interval").unwrap_or_else(|| "20m".into()),
        oneshot: config.attr("oneshot").as_bool().unwrap_or(false),
    };
    let yaml_err = |e: serde_yaml_ng::Error| Diagnostics::error("Cannot render YAML", e.to_string());
    let tbot_yaml = serde_yaml_ng::to_string(&tbot).map_err(yaml_err)?;
    let agent_path = non_empty(config, "agent_path").unwrap_or_else(|| DEFAULT_AGENT_PATH.into());
    let config_path = non_empty(config, "config_path").unwrap_or_else(|| DEFAULT_CONFIG_PATH.into());
    let read_write: Vec<String> = output_paths.iter().map(|p| format!("ReadWritePaths={p}\n")).collect();
    let unit = format!(
        "[Unit]\n\
         Description=Joinery agent: Teleport Machine ID credentials from the VM's managed identity\n\
         After=network-online.target\n\
         Wants=network-online.target\n\
         \n\
         [Service]\n\
         Type=simple\n\
         ExecStart={agent_path} start -c {config_path}\n\
         ExecReload=/bin/kill -HUP $MAINPID\n\
         Restart=on-failure\n\
         RestartSec=5\n\
         NoNewPrivileges=yes\n\
         ProtectSystem=strict\n\
         ProtectHome=yes\n\
         PrivateTmp=yes\n\
         PrivateDevices=yes\n\
         ProtectKernelTunables=yes\n\
         ProtectKernelModules=yes\n\
         ProtectControlGroups=yes\n\
         RestrictSUIDSGID=yes\n\
         LockPersonality=yes\n\
         UMask=0077\n\
         {}\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
        read_write.concat()
    );
    let mut runcmd = Vec::new();
    for p in &output_paths {
        runcmd.push(vec!["install".into(), "-d".into(), "-m".into(), "0700".into(), p.clone()]);
    }
    if let Some(url) = non_empty(config, "agent_url") {
        runcmd.push(vec![
            "curl".into(),
            "-fsSL".into(),
            "--proto".into(),
            "=https".into(),
            "-o".into(),
            agent_path.clone(),
            url,
        ]);
        if let Some(sha) = non_empty(config, "agent_sha256") {
            runcmd.push(vec![
                "sh".into(),
                "-c".into(),
                format!("echo '{sha}  {agent_path}' | sha256sum -c - || {{ rm -f '{agent_path}'; exit 1; }}"),
            ]);
        }
        runcmd.push(vec!["chmod".into(), "0755".into(), agent_path.clone()]);
    }
    runcmd.push(vec!["systemctl".into(), "daemon-reload".into()]);
    runcmd.push(vec!["systemctl".into(), "enable".into(), "--now".into(), UNIT_NAME.into()]);
    let cloud = CloudConfig {
        write_files: vec![
            WriteFile { path: config_path, permissions: "0600", owner: "root:root", content: tbot_yaml.clone() },
            WriteFile {
                path: format!("/etc/systemd/system/{UNIT_NAME}"),
                permissions: "0644",
                owner: "root:root",
                content: unit.clone(),
            },
        ],
        runcmd,
    };
    let cloud_init = format!("#cloud-config\n{}", serde_yaml_ng::to_string(&cloud).map_err(yaml_err)?);
    Ok((tbot_yaml, unit, cloud_init))
}

/// The data source.
pub struct AgentConfigDataSource;

#[async_trait]
impl DataSource<TeleportClient> for AgentConfigDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        check(config, diags);
    }

    async fn read(&self, _client: &TeleportClient, config: Value) -> Result<Value, Diagnostics> {
        let mut diags = Diagnostics::new();
        check(&config, &mut diags);
        if diags.has_errors() {
            return Err(diags);
        }
        let (tbot_yaml, unit, cloud_init) = render(&config)?;
        Ok(config
            .with_attr("tbot_yaml", Value::string(tbot_yaml))
            .with_attr("systemd_unit", Value::string(unit))
            .with_attr("cloud_init", Value::string(cloud_init)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_quoted_yaml_and_a_cloud_config() {
        let config = Value::object([
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
        ]);
        let (yaml, unit, cloud) = render(&config).unwrap();
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
    fn rejects_bad_inputs_on_the_attribute() {
        let mut d = Diagnostics::new();
        check(
            &Value::object([
                ("auth_server", Value::string("a:3025")),
                ("proxy_server", Value::string("p:443")),
                ("renewal_interval", Value::string("2h")),
                ("agent_url", Value::string("http://example.com/agent")),
            ]),
            &mut d,
        );
        let paths: Vec<String> = d.0.iter().filter_map(|x| x.path.as_ref().map(|p| p.to_string())).collect();
        assert!(paths.contains(&"auth_server".to_string()), "{paths:?}");
        assert!(paths.contains(&"renewal_interval".to_string()), "{paths:?}");
        assert!(paths.contains(&"agent_url".to_string()), "{paths:?}");
    }
}
