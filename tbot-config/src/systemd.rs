//! The agent's systemd unit, as a typed model rendered to text.
//!
//! One unit serves every machine: `examples/systemd/joinery-agent.service`
//! is [`AgentUnit::example`] rendered (a test compares the file), and the
//! Terraform data source `teleport_agent_config` renders [`AgentUnit::new`]
//! for the VM's paths. Both get the same restart policy (an invalid
//! configuration exits 1, which systemd must not retry forever) and the same
//! hardening.

use std::fmt::Write as _;

use crate::config::DEFAULT_STORAGE_DIR;

/// Where the agent binary is installed by default.
pub const DEFAULT_AGENT_PATH: &str = "/usr/local/bin/joinery-agent";
/// Where the Debian package (`make release`) installs the agent.
pub const PACKAGED_AGENT_PATH: &str = "/usr/bin/joinery-agent";
/// Where the Debian package installs the unit.
pub const PACKAGED_UNIT_PATH: &str = "/usr/lib/systemd/system/joinery-agent.service";
/// The output directory of the example unit and configuration (Teleport's guide's).
pub const EXAMPLE_OUTPUT_DIR: &str = "/opt/machine-id";
/// Where the configuration is written by default.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/tbot.yaml";
/// The unit's file name.
pub const UNIT_NAME: &str = "joinery-agent.service";
/// The command (from the workspace root) that writes `examples/systemd/joinery-agent.service`.
pub const REGENERATE_EXAMPLE: &str =
    "cargo run -q -p joinery-tbot-config --example systemd_unit > examples/systemd/joinery-agent.service";

/// The command (from the workspace root) that writes `packaging/deb/joinery-agent.service`.
pub const REGENERATE_PACKAGED: &str =
    "cargo run -q -p joinery-tbot-config --example systemd_unit -- --packaged > packaging/deb/joinery-agent.service";

/// `[Unit] Description=`.
const DESCRIPTION: &str = "Joinery agent (Teleport Machine ID for Azure VMs)";
/// `[Unit] Documentation=`.
const DOCUMENTATION: &str = "https://goteleport.com/docs/machine-id/";

/// The sandbox: the agent needs the network (Teleport, Azure IMDS) and its
/// directories, nothing else.
const HARDENING: &[(&str, &str)] = &[
    ("NoNewPrivileges", "yes"),
    ("ProtectSystem", "strict"),
    ("ProtectHome", "yes"),
    ("PrivateTmp", "yes"),
    ("PrivateDevices", "yes"),
    ("ProtectKernelTunables", "yes"),
    ("ProtectKernelModules", "yes"),
    ("ProtectKernelLogs", "yes"),
    ("ProtectControlGroups", "yes"),
    ("ProtectClock", "yes"),
    ("ProtectHostname", "yes"),
    ("ProtectProc", "invisible"),
    ("ProcSubset", "pid"),
    ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
    ("RestrictNamespaces", "yes"),
    ("RestrictRealtime", "yes"),
    ("RestrictSUIDSGID", "yes"),
    ("LockPersonality", "yes"),
    ("MemoryDenyWriteExecute", "yes"),
    ("RemoveIPC", "yes"),
    ("CapabilityBoundingSet", ""),
    ("AmbientCapabilities", ""),
    ("SystemCallFilter", "@system-service"),
    ("SystemCallFilter", "~@privileged @resources"),
    ("SystemCallArchitectures", "native"),
    ("LimitNOFILE", "65536"),
];

/// The agent's unit for one machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentUnit {
    /// Comment lines at the top of the file (without the `# `).
    pub header: Vec<String>,
    /// `User=`; root when unset.
    pub user: Option<String>,
    /// `Group=`; the user's group when unset.
    pub group: Option<String>,
    /// The agent binary.
    pub agent_path: String,
    /// The tbot configuration file (`start -c`).
    pub config_path: String,
    /// Directories the outputs write to (`ReadWritePaths=`, one each).
    pub output_paths: Vec<String>,
}

impl AgentUnit {
    /// The unit running `agent_path start -c config_path` as root, writing `output_paths`.
    pub fn new(agent_path: impl Into<String>, config_path: impl Into<String>, output_paths: Vec<String>) -> Self {
        let config_path = config_path.into();
        AgentUnit {
            header: header(&config_path, &[]),
            user: None,
            group: None,
            agent_path: agent_path.into(),
            config_path,
            output_paths,
        }
    }

    /// `examples/systemd/joinery-agent.service`: a `teleport` system user, one output in `/opt/machine-id`.
    pub fn example() -> Self {
        let install = [
            "install -m 0755 joinery-agent /usr/local/bin/joinery-agent",
            "useradd --system --home /var/lib/teleport --shell /usr/sbin/nologin teleport",
            "install -m 0644 joinery-agent.service /etc/systemd/system/",
            "systemctl daemon-reload && systemctl enable --now joinery-agent",
        ];
        let mut header = header(DEFAULT_CONFIG_PATH, &install);
        header.extend([
            String::new(),
            "Generated from tbot-config/src/systemd.rs (edit that, not this file):".into(),
            format!("  {REGENERATE_EXAMPLE}"),
        ]);
        AgentUnit {
            header,
            user: Some("teleport".into()),
            group: Some("teleport".into()),
            ..AgentUnit::new(DEFAULT_AGENT_PATH, DEFAULT_CONFIG_PATH, vec![EXAMPLE_OUTPUT_DIR.into()])
        }
    }

    /// The unit the Debian package installs at [`PACKAGED_UNIT_PATH`]: the
    /// example's `teleport` user and output directory (the package creates
    /// both), the package's binary at [`PACKAGED_AGENT_PATH`].
    pub fn packaged() -> Self {
        let mut header = header(DEFAULT_CONFIG_PATH, &[]);
        header.extend([
            String::new(),
            "Installed by the joinery-agent package. Write /etc/tbot.yaml (example:".into(),
            "/usr/share/doc/joinery-agent/examples/tbot.yaml) readable by the teleport".into(),
            "group, then: systemctl enable --now joinery-agent".into(),
            String::new(),
            "Generated from tbot-config/src/systemd.rs (edit that, not this file):".into(),
            format!("  {REGENERATE_PACKAGED}"),
        ]);
        AgentUnit { header, agent_path: PACKAGED_AGENT_PATH.into(), ..AgentUnit::example() }
    }

    /// The unit as sections of directives.
    pub fn unit_file(&self) -> UnitFile {
        let unit = Section::new("Unit")
            .set("Description", DESCRIPTION)
            .set("Documentation", DOCUMENTATION)
            .set("Wants", "network-online.target")
            .set("After", "network-online.target");

        let mut service = Section::new("Service").set("Type", "simple");
        if let Some(user) = &self.user {
            service = service.set("User", user);
        }
        if let Some(group) = &self.group {
            service = service.set("Group", group);
        }
        service = service
            .set("ExecStart", &format!("{} start -c {}", self.agent_path, self.config_path))
            .set("ExecReload", "/bin/kill -HUP $MAINPID")
            .set("Restart", "on-failure")
            .set("RestartSec", "5s")
            .comment("1 = invalid configuration, 2 = usage: restarting cannot help.")
            .set("RestartPreventExitStatus", "1 2")
            .blank()
            .comment("The bot identity (storage) and the outputs. Add every output directory")
            .comment(&format!("of {} to ReadWritePaths.", self.config_path))
            .set("StateDirectory", DEFAULT_STORAGE_DIR.trim_start_matches("/var/lib/"))
            .set("StateDirectoryMode", "0700");
        for path in &self.output_paths {
            service = service.set("ReadWritePaths", path);
        }
        service = service
            .set("UMask", "0077")
            .blank()
            .comment("Hardening: the agent needs the network (Teleport, Azure IMDS) and its")
            .comment("directories, nothing else.");
        for (key, value) in HARDENING {
            service = service.set(key, value);
        }

        let install = Section::new("Install").set("WantedBy", "multi-user.target");
        UnitFile { header: self.header.clone(), sections: vec![unit, service, install] }
    }

    /// The unit file's text.
    pub fn render(&self) -> String {
        self.unit_file().render()
    }
}

/// The comment at the top: what the unit is, how to install it (when
/// `install` has steps), reload and health.
fn header(config_path: &str, install: &[&str]) -> Vec<String> {
    let mut lines = vec!["joinery-agent as a daemon: a drop-in for tbot's unit, hardened.".to_string(), String::new()];
    if !install.is_empty() {
        lines.push("Install:".into());
        lines.extend(install.iter().map(|step| format!("  {step}")));
        lines.push(String::new());
    }
    lines.push(format!("Reload (re-reads {config_path} and renews at once): systemctl reload joinery-agent"));
    lines.push("Health: set `diag_addr: 127.0.0.1:3000` and probe /readyz.".into());
    lines
}

/// A systemd unit file: a header comment, then sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFile {
    /// Comment lines at the top (without the `# `).
    pub header: Vec<String>,
    /// `[Unit]`, `[Service]`, `[Install]`.
    pub sections: Vec<Section>,
}

impl UnitFile {
    /// The section named `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The text systemd reads.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            out.push_str(&comment(line));
        }
        for section in &self.sections {
            if !out.is_empty() {
                out.push('\n');
            }
            // Writing to a String cannot fail.
            let _ = writeln!(out, "[{}]", section.name);
            for line in &section.lines {
                match line {
                    Line::Directive(key, value) => {
                        let _ = writeln!(out, "{key}={value}");
                    }
                    Line::Comment(text) => out.push_str(&comment(text)),
                    Line::Blank => out.push('\n'),
                }
            }
        }
        out
    }
}

fn comment(text: &str) -> String {
    if text.is_empty() { "#\n".into() } else { format!("# {text}\n") }
}

/// One `[Section]` of a unit file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name between brackets.
    pub name: String,
    /// Its lines, in order.
    pub lines: Vec<Line>,
}

impl Section {
    fn new(name: &str) -> Self {
        Section { name: name.into(), lines: Vec::new() }
    }

    fn set(mut self, key: &str, value: &str) -> Self {
        self.lines.push(Line::Directive(key.into(), value.into()));
        self
    }

    fn comment(mut self, text: &str) -> Self {
        self.lines.push(Line::Comment(text.into()));
        self
    }

    fn blank(mut self) -> Self {
        self.lines.push(Line::Blank);
        self
    }

    /// The values of every `key=` directive, in order.
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Directive(k, v) if k == key => Some(v.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// A line of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `Key=value`.
    Directive(String, String),
    /// `# text`.
    Comment(String),
    /// An empty line.
    Blank,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vm_unit_runs_as_root_and_does_not_restart_a_bad_config() {
        let unit = AgentUnit::new("/opt/agent", "/etc/agent.yaml", vec!["/a".into(), "/b".into()]).unit_file();
        let service = unit.section("Service").unwrap();
        assert!(service.values("User").is_empty() && service.values("Group").is_empty());
        assert_eq!(service.values("ExecStart"), ["/opt/agent start -c /etc/agent.yaml"]);
        assert_eq!(service.values("RestartPreventExitStatus"), ["1 2"]);
        assert_eq!(service.values("ReadWritePaths"), ["/a", "/b"]);
        assert_eq!(service.values("StateDirectory"), ["teleport/bot"]);
        assert_eq!(service.values("SystemCallFilter"), ["@system-service", "~@privileged @resources"]);
        let text = unit.render();
        assert!(text.contains("\nCapabilityBoundingSet=\n"), "{text}");
        assert!(text.contains("# Reload (re-reads /etc/agent.yaml and renews at once)"), "{text}");
    }

    #[test]
    fn the_packaged_unit_runs_the_packaged_binary_as_teleport() {
        let unit = AgentUnit::packaged().unit_file();
        let service = unit.section("Service").unwrap();
        assert_eq!(service.values("ExecStart"), ["/usr/bin/joinery-agent start -c /etc/tbot.yaml"]);
        assert_eq!(service.values("User"), ["teleport"]);
        assert_eq!(service.values("Group"), ["teleport"]);
        assert_eq!(service.values("ReadWritePaths"), [EXAMPLE_OUTPUT_DIR]);
        let text = unit.render();
        assert!(!text.contains("/usr/local/bin"), "the package installs nothing under /usr/local:\n{text}");
    }
}
