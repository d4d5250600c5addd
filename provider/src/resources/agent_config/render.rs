//! Rendering the VM agent's bootstrap from the data source's model: the
//! `tbot.yaml`, the systemd unit and the `#cloud-config` document, and the
//! checks on the inputs that rendering relies on.
//!
//! [`render`] and [`check`] are the whole interface: the tbot configuration
//! (its defaults, the "renewal_interval < certificate_ttl" rule, the unit)
//! is meant to move to a crate shared with the agent, which then replaces
//! this file. The YAML is produced by a serializer, never by string
//! pasting, so any value is quoted correctly.

use serde::Serialize;

use super::AgentConfigModel;
use joinery_tfplugin::framework::{AttributePath, Diagnostics, Maybe};

const DEFAULT_AGENT_PATH: &str = "/usr/local/bin/joinery-agent";
const DEFAULT_CONFIG_PATH: &str = "/etc/tbot.yaml";
const UNIT_NAME: &str = "joinery-agent.service";

/// The three documents a VM needs to join on first boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The agent configuration (tbot v2 YAML).
    pub tbot_yaml: String,
    /// A hardened systemd unit running the agent.
    pub systemd_unit: String,
    /// A `#cloud-config` document installing and starting the agent.
    pub cloud_init: String,
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

/// A set, non-empty string.
fn non_empty(v: &Maybe<String>) -> Option<String> {
    v.known().filter(|s| !s.is_empty()).cloned()
}

/// Cross-attribute checks on the inputs, which may be unknown (a check
/// whose input is not known yet passes, and runs again on read).
pub fn check(config: &AgentConfigModel, diags: &mut Diagnostics) {
    let (proxy, auth) = (&config.proxy_server, &config.auth_server);
    if proxy.is_known() && auth.is_known() {
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
    let ttl = config.certificate_ttl.known_str().unwrap_or("1h");
    let interval = config.renewal_interval.known_str().unwrap_or("20m");
    for (name, value) in [("certificate_ttl", ttl), ("renewal_interval", interval)] {
        if let Err(e) = joinery_util::duration::parse(value) {
            diags.add_attribute_error(AttributePath::root(name), "Invalid duration", e.to_string());
        }
    }
    if let (Ok(t), Ok(i)) = (joinery_util::duration::parse(ttl), joinery_util::duration::parse(interval))
        && i >= t
        && config.oneshot.known() != Some(&true)
    {
        diags.add_attribute_error(
            AttributePath::root("renewal_interval"),
            "Renewal interval too long",
            format!("renewal_interval ({interval}) must be shorter than certificate_ttl ({ttl}), or credentials expire before renewal."),
        );
    }
    if let Some(sha) = config.agent_sha256.known_str()
        && !(sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()))
    {
        diags.add_attribute_error(
            AttributePath::root("agent_sha256"),
            "Invalid SHA-256",
            "agent_sha256 must be 64 hex digits.",
        );
    }
    if let Some(url) = config.agent_url.known_str()
        && !url.starts_with("https://")
    {
        diags.add_attribute_error(
            AttributePath::root("agent_url"),
            "Insecure download",
            "agent_url must be an https:// URL: the binary becomes the VM's identity agent.",
        );
    }
}

/// Renders the three documents from the (wholly known) inputs.
pub fn render(config: &AgentConfigModel) -> Result<Rendered, Diagnostics> {
    let join_method = non_empty(&config.join_method).unwrap_or_else(|| "azure".into());
    let outputs: Vec<Output> = config
        .outputs
        .known_or_default()
        .iter()
        .map(|o| Output {
            kind: non_empty(&o.kind).unwrap_or_else(|| "identity".into()),
            destination: Destination { kind: "directory", path: o.path.known_or_default() },
            roles: o.roles.known_or_default(),
        })
        .collect();
    let output_paths: Vec<String> = outputs.iter().map(|o| o.destination.path.clone()).collect();
    let tbot = TbotConfig {
        version: "v2",
        proxy_server: non_empty(&config.proxy_server),
        auth_server: non_empty(&config.auth_server),
        onboarding: Onboarding {
            azure: non_empty(&config.azure_client_id)
                .filter(|_| join_method == "azure")
                .map(|client_id| AzureOnboarding { client_id }),
            join_method,
            token: config.token.known_or_default(),
            ca_pins: config.ca_pins.known_or_default(),
            ca_path: non_empty(&config.ca_path),
        },
        storage: Storage { kind: "memory" },
        outputs,
        certificate_ttl: non_empty(&config.certificate_ttl).unwrap_or_else(|| "1h".into()),
        renewal_interval: non_empty(&config.renewal_interval).unwrap_or_else(|| "20m".into()),
        oneshot: config.oneshot.known_or_default(),
    };
    let yaml_err = |e: serde_yaml_ng::Error| Diagnostics::error("Cannot render YAML", e.to_string());
    let tbot_yaml = serde_yaml_ng::to_string(&tbot).map_err(yaml_err)?;
    let agent_path = non_empty(&config.agent_path).unwrap_or_else(|| DEFAULT_AGENT_PATH.into());
    let config_path = non_empty(&config.config_path).unwrap_or_else(|| DEFAULT_CONFIG_PATH.into());
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
    if let Some(url) = non_empty(&config.agent_url) {
        runcmd.push(vec![
            "curl".into(),
            "-fsSL".into(),
            "--proto".into(),
            "=https".into(),
            "-o".into(),
            agent_path.clone(),
            url,
        ]);
        if let Some(sha) = non_empty(&config.agent_sha256) {
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
    Ok(Rendered { tbot_yaml, systemd_unit: unit, cloud_init })
}

/// The data source.
pub struct AgentConfigDataSource;
