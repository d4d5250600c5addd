//! Rendering the VM agent's bootstrap from the data source's model.
//!
//! The agent's configuration and unit come from `joinery-tbot-config`, the
//! crate the agent itself parses with: the same defaults, the same rules
//! ("renewal_interval < certificate_ttl", addresses, pins, the managed
//! identity's client id…), the same hardened unit as
//! `examples/systemd/joinery-agent.service`. This file adds only what is
//! the data source's own: mapping inputs to [`Bootstrap`], each rule's
//! error back onto the attribute it came from, the download of the agent
//! (its binary, or the release's `.deb`), and the `#cloud-config` document. The YAML is produced by a
//! serializer, never by string pasting, so any value is quoted correctly.

use joinery_tbot_config::bootstrap::{Bootstrap, IdentityDirectory};
use joinery_tbot_config::systemd::{DEFAULT_AGENT_PATH, DEFAULT_CONFIG_PATH, PACKAGED_AGENT_PATH, UNIT_NAME};
use joinery_tbot_config::{ConfigError, JoinMethodName};
use joinery_tfplugin::framework::{AttributePath, Diagnostics, Maybe};
use serde::Serialize;

use super::AgentConfigModel;

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

/// Where cloud-init downloads the agent's `.deb` before installing it.
const PACKAGE_DOWNLOAD: &str = "/var/tmp/joinery-agent.deb";

/// Whether `url` names a Debian package: its path ends in `.deb`, whatever
/// follows it (a storage account's SAS token, say).
fn is_package(url: &str) -> bool {
    url.split(['?', '#']).next().is_some_and(|path| path.ends_with(".deb"))
}

/// A set, non-empty string.
fn non_empty(v: &Maybe<String>) -> Option<String> {
    v.known().filter(|s| !s.is_empty()).cloned()
}

/// The agent's inputs, once every one of them is known (`None` before:
/// the checks run again when the data source is read).
fn bootstrap(config: &AgentConfigModel) -> Option<Bootstrap> {
    let all_known = [&config.proxy_server, &config.auth_server, &config.token, &config.join_method]
        .into_iter()
        .chain([&config.ca_path, &config.azure_client_id, &config.certificate_ttl, &config.renewal_interval])
        .all(|v| !v.is_unknown())
        && !config.ca_pins.is_unknown()
        && !config.oneshot.is_unknown()
        && !config.outputs.is_unknown()
        && config.outputs.known_or_default().iter().all(|o| !o.path.is_unknown() && !o.roles.is_unknown());
    if !all_known {
        return None;
    }
    Some(Bootstrap {
        proxy_server: non_empty(&config.proxy_server),
        auth_server: non_empty(&config.auth_server),
        token: config.token.known_or_default(),
        // The schema's validator admits only the names `JoinMethodName` knows.
        join_method: non_empty(&config.join_method).and_then(|m| m.parse::<JoinMethodName>().ok()),
        ca_pins: config.ca_pins.known_or_default(),
        ca_path: non_empty(&config.ca_path),
        azure_client_id: non_empty(&config.azure_client_id),
        outputs: config
            .outputs
            .known_or_default()
            .iter()
            .map(|o| IdentityDirectory { path: o.path.known_or_default(), roles: o.roles.known_or_default() })
            .collect(),
        certificate_ttl: non_empty(&config.certificate_ttl),
        renewal_interval: non_empty(&config.renewal_interval),
        oneshot: config.oneshot.known_or_default(),
    })
}

/// Each problem on the attribute it comes from.
fn diagnostics(errors: Vec<ConfigError>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for e in errors {
        let path = e.key().and_then(Bootstrap::input_for_key).map(|input| AttributePath::dotted(&input));
        match path {
            Some(path) => diags.add_attribute_error(path, "Invalid agent configuration", e.reason()),
            None => diags.add_error("Invalid agent configuration", e.to_string()),
        }
    }
    diags
}

/// Checks on the inputs, which may be unknown (a check whose inputs are not
/// known yet passes, and runs again on read): the agent's own rules, and
/// the download's.
pub fn check(config: &AgentConfigModel, diags: &mut Diagnostics) {
    if let Some(Err(errors)) = bootstrap(config).map(|b| b.validate()) {
        diags.extend(diagnostics(errors));
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
        && is_package(url)
        && let Some(path) = config.agent_path.known_str()
        && path != PACKAGED_AGENT_PATH
    {
        diags.add_attribute_error(
            AttributePath::root("agent_path"),
            "Agent path set by the package",
            format!("agent_url is a .deb, which installs the agent at {PACKAGED_AGENT_PATH}: leave agent_path unset."),
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
    let vm = bootstrap(config)
        .ok_or_else(|| Diagnostics::error("Cannot render the agent configuration", "Some inputs are not known yet."))?;
    let tbot_yaml = vm.tbot_yaml().map_err(diagnostics)?;
    let url = non_empty(&config.agent_url);
    let package = url.as_deref().is_some_and(is_package);
    let default_path = if package { PACKAGED_AGENT_PATH } else { DEFAULT_AGENT_PATH };
    let agent_path = non_empty(&config.agent_path).unwrap_or_else(|| default_path.into());
    let config_path = non_empty(&config.config_path).unwrap_or_else(|| DEFAULT_CONFIG_PATH.into());
    let unit = vm.unit(&agent_path, &config_path).render();
    let mut runcmd = Vec::new();
    for output in &vm.outputs {
        runcmd.push(vec!["install".into(), "-d".into(), "-m".into(), "0700".into(), output.path.clone()]);
    }
    if let Some(url) = url {
        // A package is downloaded aside and installed; a binary lands in place.
        let download = if package { PACKAGE_DOWNLOAD.to_string() } else { agent_path.clone() };
        runcmd.push(vec![
            "curl".into(),
            "-fsSL".into(),
            "--proto".into(),
            "=https".into(),
            "-o".into(),
            download.clone(),
            url,
        ]);
        if let Some(sha) = non_empty(&config.agent_sha256) {
            runcmd.push(vec![
                "sh".into(),
                "-c".into(),
                format!("echo '{sha}  {download}' | sha256sum -c - || {{ rm -f '{download}'; exit 1; }}"),
            ]);
        }
        if package {
            runcmd.push(vec!["dpkg".into(), "-i".into(), download.clone()]);
            runcmd.push(vec!["rm".into(), "-f".into(), download]);
        } else {
            runcmd.push(vec!["chmod".into(), "0755".into(), agent_path.clone()]);
        }
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
    let cloud_init = serde_yaml_ng::to_string(&cloud)
        .map(|yaml| format!("#cloud-config\n{yaml}"))
        .map_err(|e| Diagnostics::error("Cannot render YAML", e.to_string()))?;
    Ok(Rendered { tbot_yaml, systemd_unit: unit, cloud_init })
}
