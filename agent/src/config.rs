//! tbot's `v2` YAML configuration, decoded strictly and validated up front.
//!
//! The agent is a drop-in for `tbot start -c /etc/tbot.yaml`, so it reads
//! tbot's file format (`lib/tbot/config`): the same keys, the same defaults
//! (1h credentials renewed every 20m, directory storage in
//! `/var/lib/teleport/bot`) and the same strictness (`KnownFields(true)`: a
//! misspelt key is an error, not a silently ignored setting). Every problem
//! is reported as one message naming the key, with its line where the YAML
//! parser knows it, before anything touches the network: a bad config on a
//! fleet of VMs should fail loudly at start, not at the first renewal.
//!
//! Decoding is two-step. [`RawConfig`] mirrors the YAML (all optional, so
//! command-line flags can fill gaps, see [`Overrides`]); [`Config`] is the
//! validated result the rest of the agent uses.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use joinery_util::guid::is_guid;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// Default credential lifetime (tbot's `DefaultCertificateTTL`).
pub const DEFAULT_CREDENTIAL_TTL: Duration = Duration::from_secs(60 * 60);
/// Default renewal interval (tbot's `DefaultRenewInterval`).
pub const DEFAULT_RENEWAL_INTERVAL: Duration = Duration::from_secs(20 * 60);
/// tbot's default storage directory.
pub const DEFAULT_STORAGE_DIR: &str = "/var/lib/teleport/bot";
/// Default port of an Auth server address without one.
pub const DEFAULT_AUTH_PORT: u16 = 3025;
/// Default port of a proxy address without one.
pub const DEFAULT_PROXY_PORT: u16 = 443;

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML does not decode (unknown key, wrong type, bad value); the
    /// message carries the key path and line from the parser.
    #[error("invalid config {source_name}: {message}")]
    Decode {
        /// File name (or `<flags>`).
        source_name: String,
        /// Parser message, e.g. `onboarding: unknown field `tokn` ... at line 4 column 3`.
        message: String,
    },
    /// A value decodes but is not acceptable.
    #[error("invalid config {source_name}: {key}{}: {reason}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Invalid {
        /// File name (or `<flags>`).
        source_name: String,
        /// The offending key, dotted (`onboarding.token`).
        key: String,
        /// Its line, when it is in the file.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },
}

// ---- the YAML, as written -------------------------------------------------

/// A Go duration (`"20m"`, `"1h30m"`), as tbot's YAML spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoDuration(pub Duration);

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = GoDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"20m\" or \"1h\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<GoDuration, E> {
                joinery_util::duration::parse(s).map(GoDuration).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<GoDuration, E> {
                if n == 0 {
                    return Ok(GoDuration(Duration::ZERO));
                }
                Err(E::custom(format!("a bare number ({n}) is not a duration: add a unit, e.g. \"{n}s\"")))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<GoDuration, E> {
                Err(E::custom(format!("a bare number ({n}) is not a duration: add a unit, e.g. \"{n}s\"")))
            }
        }
        d.deserialize_any(V)
    }
}

/// `ssh_config: on|off` (YAML 1.2 reads both as strings; `true`/`false` are accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// `on`.
    On,
    /// `off`.
    Off,
}

impl<'de> Deserialize<'de> for Switch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Switch;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("on or off")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Switch, E> {
                Ok(if b { Switch::On } else { Switch::Off })
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Switch, E> {
                match s {
                    "on" | "true" | "yes" => Ok(Switch::On),
                    "off" | "false" | "no" => Ok(Switch::Off),
                    _ => Err(E::custom(format!("expected on or off, got {s:?}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Join methods this agent knows. Other tbot methods are rejected by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinMethodName {
    /// A shared secret (a provision token), single use.
    Token,
    /// Azure delegated join with the VM's managed identity.
    Azure,
}

/// Destination types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum DestinationKind {
    Directory,
    Memory,
}

/// Output types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OutputKind {
    Identity,
}

/// The whole file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Checked before strict decoding (see [`RawConfig::parse`]); kept so strict decoding accepts it.
    #[serde(rename = "version")]
    _version: Option<String>,
    proxy_server: Option<String>,
    auth_server: Option<String>,
    onboarding: Option<RawOnboarding>,
    storage: Option<RawDestination>,
    outputs: Option<Vec<RawOutput>>,
    services: Option<Vec<RawOutput>>,
    oneshot: Option<bool>,
    certificate_ttl: Option<GoDuration>,
    credential_ttl: Option<GoDuration>,
    renewal_interval: Option<GoDuration>,
    debug: Option<bool>,
    diag_addr: Option<String>,
    insecure: Option<bool>,
    fips: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOnboarding {
    join_method: Option<JoinMethodName>,
    token: Option<String>,
    ca_pins: Option<Vec<String>>,
    ca_path: Option<String>,
    azure: Option<RawAzure>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAzure {
    client_id: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDestination {
    #[serde(rename = "type")]
    kind: Option<DestinationKind>,
    path: Option<String>,
    /// Legacy form: `memory: true`.
    memory: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    #[serde(rename = "type")]
    kind: OutputKind,
    destination: Option<RawDestination>,
    roles: Option<Vec<String>>,
    cluster: Option<String>,
    ssh_config: Option<Switch>,
}

// ---- the validated configuration -----------------------------------------

/// Which Teleport endpoint the agent talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    /// `auth_server`: direct to Auth (SNI `teleport.cluster.local`, ALPN `h2`).
    Auth(String),
    /// `proxy_server`: through the proxy (SNI the proxy host).
    Proxy(String),
}

impl Server {
    /// `host:port`.
    pub fn addr(&self) -> &str {
        match self {
            Server::Auth(a) | Server::Proxy(a) => a,
        }
    }

    /// The host part of the address (without brackets for IPv6).
    pub fn host(&self) -> &str {
        let addr = self.addr();
        let host = match addr.rfind(':') {
            Some(i) => &addr[..i],
            None => addr,
        };
        host.trim_start_matches('[').trim_end_matches(']')
    }
}

/// How the agent proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinMethod {
    /// `join_method: token`.
    Token,
    /// `join_method: azure`, optionally with a user-assigned identity's client id.
    Azure {
        /// `onboarding.azure.client_id`.
        client_id: Option<String>,
    },
}

impl JoinMethod {
    /// The method's name.
    pub fn name(&self) -> &'static str {
        match self {
            JoinMethod::Token => "token",
            JoinMethod::Azure { .. } => "azure",
        }
    }
}

/// A join token. Its value is a secret for `token` joins: never log it unmasked.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The value, for the join request.
    pub fn value(&self) -> &str {
        &self.0
    }

    /// Teleport's masked form (all but the last quarter replaced by `*`).
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.masked())
    }
}

/// Teleport's `MaskKeyName`: the first three quarters of a name become `*`.
pub fn mask(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let hidden = chars.len() * 3 / 4;
    chars.iter().enumerate().map(|(i, c)| if i < hidden { '*' } else { *c }).collect()
}

/// The `onboarding` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onboarding {
    /// Join method.
    pub method: JoinMethod,
    /// The token (value, or read from the file the config named).
    pub token: Token,
    /// `ca_pins`: `sha256:<hex>` pins of the cluster's TLS CA.
    pub ca_pins: Vec<String>,
    /// `ca_path`: a PEM file with the CA to trust.
    pub ca_path: Option<PathBuf>,
}

/// Where credentials go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Files in a directory (created 0700, files 0600).
    Directory(PathBuf),
    /// Kept in memory only.
    Memory,
}

/// An `identity` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityOutput {
    /// Where to write.
    pub destination: Destination,
    /// Roles to impersonate; empty means every role the bot may impersonate.
    pub roles: Vec<String>,
    /// Cluster to route to (leaf clusters); empty for the bot's own cluster.
    pub cluster: Option<String>,
    /// Whether to write `ssh_config`.
    pub ssh_config: bool,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Teleport endpoint.
    pub server: Server,
    /// How to join.
    pub onboarding: Onboarding,
    /// Where the agent keeps its own identity.
    pub storage: Destination,
    /// Credentials written for other programs.
    pub outputs: Vec<IdentityOutput>,
    /// Join, write outputs once and exit.
    pub oneshot: bool,
    /// Requested credential lifetime.
    pub credential_ttl: Duration,
    /// How often to renew.
    pub renewal_interval: Duration,
    /// Debug logging.
    pub debug: bool,
    /// `host:port` of the diagnostics HTTP server.
    pub diag_addr: Option<String>,
    /// Skip TLS verification of the server (test clusters only).
    pub insecure: bool,
}

/// Command-line (and environment) values that override the file, as
/// `tbot start` does.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--auth-server` / `TELEPORT_AUTH_SERVER`.
    pub auth_server: Option<String>,
    /// `--proxy-server` / `TELEPORT_PROXY`.
    pub proxy_server: Option<String>,
    /// `--token` / `TELEPORT_BOT_TOKEN`.
    pub token: Option<String>,
    /// `--join-method`.
    pub join_method: Option<JoinMethodName>,
    /// `--ca-pin` (repeatable).
    pub ca_pins: Vec<String>,
    /// `--data-dir`: directory storage.
    pub data_dir: Option<String>,
    /// `--destination-dir`: a single identity output.
    pub destination_dir: Option<String>,
    /// `--certificate-ttl`.
    pub certificate_ttl: Option<String>,
    /// `--renewal-interval`.
    pub renewal_interval: Option<String>,
    /// `--oneshot`.
    pub oneshot: bool,
    /// `--diag-addr`.
    pub diag_addr: Option<String>,
    /// `-d/--debug`.
    pub debug: bool,
    /// `--insecure`.
    pub insecure: bool,
}

/// Where the configuration text came from, for messages and line lookups.
struct Source<'a> {
    name: String,
    text: &'a str,
}

impl Source<'_> {
    fn invalid(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            source_name: self.name.clone(),
            key: key.to_string(),
            line: line_of(self.text, key),
            reason: reason.into(),
        }
    }
}

/// The line (1-based) where the last segment of a dotted key is defined,
/// found by shape (`key:` at the start of a line, maybe after `- `), after
/// the line of each parent segment.
fn line_of(text: &str, dotted: &str) -> Option<usize> {
    let mut from = 0;
    let mut found = None;
    for segment in dotted.split('.') {
        let name = segment.split('[').next().unwrap_or(segment);
        let (i, _) = text.lines().enumerate().skip(from).find(|(_, line)| {
            let t = line.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix(name).is_some_and(|rest| rest.trim_start().starts_with(':'))
        })?;
        from = i;
        found = Some(i + 1);
    }
    found
}

impl RawConfig {
    /// Decodes YAML text strictly. `name` is used in messages.
    pub fn parse(text: &str, name: &str) -> Result<Self, ConfigError> {
        let decode = |message: String| ConfigError::Decode { source_name: name.to_string(), message };
        // The version decides the schema, so read it before strict decoding
        // (a v1 file would otherwise fail on its first v1-only key).
        let loose: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| decode(e.to_string()))?;
        let src = Source { name: name.to_string(), text };
        let version = match &loose {
            serde_yaml_ng::Value::Null => None,
            serde_yaml_ng::Value::Mapping(m) => match m.get("version") {
                None | Some(serde_yaml_ng::Value::Null) => None,
                Some(serde_yaml_ng::Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(src.invalid("version", "must be a string such as v2")),
            },
            _ => return Err(decode("the top level must be a mapping of keys to values".into())),
        };
        match version.as_deref() {
            Some("v2") => {}
            None | Some("") | Some("v1") => {
                return Err(src.invalid(
                    "version",
                    format!(
                        "{} only version v2 is supported; add `version: v2` (run `tbot migrate` for v1 files)",
                        if version.as_deref().unwrap_or("").is_empty() {
                            "is missing:".to_string()
                        } else {
                            "is v1:".to_string()
                        }
                    ),
                ));
            }
            Some(other) => return Err(src.invalid("version", format!("unsupported version {other:?}: use v2"))),
        }
        serde_yaml_ng::from_str(text).map_err(|e| decode(e.to_string()))
    }

    /// Applies command-line overrides, warning about each value the file
    /// already set, as `tbot start` does.
    pub fn apply(&mut self, o: &Overrides) -> Vec<String> {
        let mut warnings = Vec::new();
        let mut note = |what: &str, was_set: bool| {
            if was_set {
                warnings.push(format!("command-line value for {what} overrides the config file"));
            }
        };
        if let Some(a) = &o.auth_server {
            note("auth_server", self.auth_server.is_some() || self.proxy_server.is_some());
            self.auth_server = Some(a.clone());
            self.proxy_server = None;
        }
        if let Some(p) = &o.proxy_server {
            note("proxy_server", self.auth_server.is_some() || self.proxy_server.is_some());
            self.proxy_server = Some(p.clone());
            if o.auth_server.is_none() {
                self.auth_server = None;
            }
        }
        if o.token.is_some() || o.join_method.is_some() || !o.ca_pins.is_empty() {
            // tbot replaces the whole onboarding block.
            note("onboarding (token, join method, CA pins)", self.onboarding.is_some());
            self.onboarding = Some(RawOnboarding {
                join_method: o.join_method,
                token: o.token.clone(),
                ca_pins: if o.ca_pins.is_empty() { None } else { Some(o.ca_pins.clone()) },
                ca_path: None,
                azure: None,
            });
        }
        if let Some(d) = &o.data_dir {
            note("storage", self.storage.is_some());
            self.storage =
                Some(RawDestination { kind: Some(DestinationKind::Directory), path: Some(d.clone()), memory: None });
        }
        if let Some(d) = &o.destination_dir {
            note("outputs", self.outputs.as_ref().is_some_and(|v| !v.is_empty()));
            self.outputs = Some(vec![RawOutput {
                kind: OutputKind::Identity,
                destination: Some(RawDestination {
                    kind: Some(DestinationKind::Directory),
                    path: Some(d.clone()),
                    memory: None,
                }),
                roles: None,
                cluster: None,
                ssh_config: None,
            }]);
        }
        let dur = |s: &String| joinery_util::duration::parse(s).ok().map(GoDuration);
        if let Some(t) = &o.certificate_ttl {
            note("certificate_ttl", self.certificate_ttl.is_some() || self.credential_ttl.is_some());
            self.credential_ttl = dur(t).or(Some(GoDuration(Duration::ZERO)));
            self.certificate_ttl = None;
        }
        if let Some(r) = &o.renewal_interval {
            note("renewal_interval", self.renewal_interval.is_some());
            self.renewal_interval = dur(r).or(Some(GoDuration(Duration::ZERO)));
        }
        if o.oneshot {
            self.oneshot = Some(true);
        }
        if let Some(a) = &o.diag_addr {
            note("diag_addr", self.diag_addr.is_some());
            self.diag_addr = Some(a.clone());
        }
        if o.debug {
            self.debug = Some(true);
        }
        if o.insecure {
            self.insecure = Some(true);
        }
        warnings
    }

    /// Validates and resolves (reads a token file) into a [`Config`].
    pub fn validate(self, name: &str, text: &str) -> Result<Config, ConfigError> {
        let src = Source { name: name.to_string(), text };
        if self.fips == Some(true) {
            return Err(src.invalid("fips", "FIPS mode is not supported by joinery-agent"));
        }
        let server = match (&self.auth_server, &self.proxy_server) {
            (Some(_), Some(_)) => {
                return Err(src.invalid("proxy_server", "auth_server and proxy_server are mutually exclusive: set one"));
            }
            (None, None) => {
                return Err(src.invalid(
                    "proxy_server",
                    "one of proxy_server or auth_server is required (or --proxy-server / --auth-server)",
                ));
            }
            (Some(a), None) => {
                Server::Auth(normalize_addr(a, DEFAULT_AUTH_PORT).map_err(|r| src.invalid("auth_server", r))?)
            }
            (None, Some(p)) => {
                Server::Proxy(normalize_addr(p, DEFAULT_PROXY_PORT).map_err(|r| src.invalid("proxy_server", r))?)
            }
        };

        let ob = self.onboarding.unwrap_or_default();
        let method = match ob.join_method.unwrap_or(JoinMethodName::Token) {
            JoinMethodName::Token => {
                if ob.azure.as_ref().is_some_and(|a| a.client_id.is_some()) {
                    return Err(src.invalid("onboarding.azure.client_id", "is only used with join_method: azure"));
                }
                JoinMethod::Token
            }
            JoinMethodName::Azure => {
                let client_id = ob.azure.and_then(|a| a.client_id).map(|c| c.trim().to_string());
                if let Some(c) = client_id.as_ref().filter(|c| !is_guid(c)) {
                    return Err(src.invalid(
                        "onboarding.azure.client_id",
                        format!(
                            "{c:?} is not a UUID (the managed identity's client id, e.g. 22222222-2222-2222-2222-222222222222)"
                        ),
                    ));
                }
                JoinMethod::Azure { client_id }
            }
        };
        let token = match ob.token.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(src.invalid(
                    "onboarding.token",
                    "a join token is required (onboarding.token, --token or TELEPORT_BOT_TOKEN)",
                ));
            }
            Some(t) => Token(read_value_or_file(t).map_err(|r| src.invalid("onboarding.token", r))?),
        };
        let ca_pins = ob.ca_pins.unwrap_or_default();
        for pin in &ca_pins {
            let hex = pin.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(src.invalid(
                    "onboarding.ca_pins",
                    format!("{pin:?} is not a pin of the form sha256:<64 hex digits>"),
                ));
            }
        }
        let ca_path = match ob.ca_path.filter(|p| !p.trim().is_empty()) {
            Some(p) => {
                if !Path::new(&p).is_file() {
                    return Err(src.invalid("onboarding.ca_path", format!("{p:?} is not a readable file")));
                }
                Some(PathBuf::from(p))
            }
            None => None,
        };

        let storage = match self.storage {
            None => Destination::Directory(PathBuf::from(DEFAULT_STORAGE_DIR)),
            Some(d) => destination(d, &src, "storage")?,
        };
        let mut outputs = Vec::new();
        let all = self.outputs.unwrap_or_default().into_iter().chain(self.services.unwrap_or_default());
        for (i, o) in all.enumerate() {
            let key = format!("outputs[{i}]");
            let OutputKind::Identity = o.kind;
            let destination = match o.destination {
                None => return Err(src.invalid(&format!("{key}.destination"), "is required")),
                Some(d) => destination(d, &src, &format!("{key}.destination"))?,
            };
            let roles = o.roles.unwrap_or_default();
            if roles.iter().any(|r| r.trim().is_empty()) {
                return Err(src.invalid(&format!("{key}.roles"), "role names must not be empty"));
            }
            outputs.push(IdentityOutput {
                destination,
                roles,
                cluster: o.cluster.filter(|c| !c.is_empty()),
                ssh_config: o.ssh_config.unwrap_or(Switch::On) == Switch::On,
            });
        }

        let oneshot = self.oneshot.unwrap_or(false);
        let (ttl_key, credential_ttl) = match (self.credential_ttl, self.certificate_ttl) {
            (Some(c), _) => ("credential_ttl", c.0),
            (None, Some(c)) => ("certificate_ttl", c.0),
            (None, None) => ("credential_ttl", DEFAULT_CREDENTIAL_TTL),
        };
        if credential_ttl.is_zero() {
            return Err(src.invalid(ttl_key, "must be a positive duration such as \"1h\""));
        }
        let renewal_interval = self.renewal_interval.map(|d| d.0).unwrap_or(DEFAULT_RENEWAL_INTERVAL);
        if renewal_interval.is_zero() {
            return Err(src.invalid("renewal_interval", "must be a positive duration such as \"20m\""));
        }
        if !oneshot && renewal_interval >= credential_ttl {
            return Err(src.invalid(
                "renewal_interval",
                format!(
                    "{} is not shorter than {ttl_key} {}: credentials would expire before they are renewed",
                    joinery_util::duration::format(renewal_interval),
                    joinery_util::duration::format(credential_ttl)
                ),
            ));
        }
        let diag_addr = match self.diag_addr.filter(|a| !a.trim().is_empty()) {
            Some(a) => {
                let ok = a.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
                if !ok {
                    return Err(src.invalid("diag_addr", format!("{a:?} is not host:port, e.g. 127.0.0.1:3000")));
                }
                Some(a)
            }
            None => None,
        };
        Ok(Config {
            server,
            onboarding: Onboarding { method, token, ca_pins, ca_path },
            storage,
            outputs,
            oneshot,
            credential_ttl,
            renewal_interval,
            debug: self.debug.unwrap_or(false),
            diag_addr,
            insecure: self.insecure.unwrap_or(false),
        })
    }
}

fn destination(d: RawDestination, src: &Source, key: &str) -> Result<Destination, ConfigError> {
    let kind = match (d.kind, d.memory) {
        (Some(k), None) => k,
        (None, Some(true)) => DestinationKind::Memory,
        (Some(DestinationKind::Memory), Some(true)) => DestinationKind::Memory,
        (None, Some(false)) | (None, None) => {
            if d.path.is_some() {
                DestinationKind::Directory
            } else {
                return Err(src.invalid(&format!("{key}.type"), "is required: directory or memory"));
            }
        }
        (Some(_), Some(_)) => return Err(src.invalid(&format!("{key}.memory"), "conflicts with type")),
    };
    match kind {
        DestinationKind::Memory => {
            if d.path.is_some() {
                return Err(src.invalid(&format!("{key}.path"), "is not used by a memory destination"));
            }
            Ok(Destination::Memory)
        }
        DestinationKind::Directory => match d.path.filter(|p| !p.trim().is_empty()) {
            Some(p) => Ok(Destination::Directory(PathBuf::from(p))),
            None => Err(src.invalid(&format!("{key}.path"), "is required for a directory destination")),
        },
    }
}

/// `host:port`, adding the default port; rejects URLs and empty hosts.
fn normalize_addr(addr: &str, default_port: u16) -> Result<String, String> {
    let a = addr.trim();
    if a.is_empty() {
        return Err("must not be empty".into());
    }
    if a.contains("://") {
        return Err(format!("{a:?} must be host:port, not a URL"));
    }
    // IPv6 literal in brackets, or host[:port].
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (h, tail) = rest.split_once(']').ok_or_else(|| format!("{a:?}: unterminated IPv6 address"))?;
        (format!("[{h}]"), tail.strip_prefix(':').map(str::to_string))
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.to_string())),
            None => (a.to_string(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(format!("{a:?} has no host"));
    }
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| format!("{a:?} has an invalid port"))?,
        None => default_port,
    };
    Ok(format!("{host}:{port}"))
}

/// tbot's `TryReadValueAsFile`: an absolute path is read (and trimmed),
/// anything else is the value itself.
fn read_value_or_file(value: &str) -> Result<String, String> {
    if !value.starts_with('/') {
        return Ok(value.to_string());
    }
    let content = std::fs::read_to_string(value).map_err(|e| format!("cannot read token file {value}: {e}"))?;
    let content = content.trim();
    if content.is_empty() {
        return Err(format!("token file {value} is empty"));
    }
    Ok(content.to_string())
}

/// Reads, overrides and validates a configuration.
///
/// `path` is the `-c` file, if any; `inline` is the `--config-string`
/// (base64 YAML) form. With neither, the flags alone must make a config.
pub fn load(
    path: Option<&Path>,
    inline: Option<&str>,
    overrides: &Overrides,
) -> Result<(Config, Vec<String>), ConfigError> {
    let (name, text) = match (path, inline) {
        (Some(p), _) => {
            let text =
                std::fs::read_to_string(p).map_err(|source| ConfigError::Read { path: p.to_path_buf(), source })?;
            (p.display().to_string(), text)
        }
        (None, Some(b64)) => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|e| {
                ConfigError::Decode { source_name: "--config-string".into(), message: format!("not valid base64: {e}") }
            })?;
            let text = String::from_utf8(bytes).map_err(|_| ConfigError::Decode {
                source_name: "--config-string".into(),
                message: "does not decode to UTF-8 text".into(),
            })?;
            ("--config-string".to_string(), text)
        }
        (None, None) => ("<flags>".to_string(), "version: v2\n".to_string()),
    };
    let mut raw = RawConfig::parse(&text, &name)?;
    check_override_durations(overrides)?;
    let mut warnings = raw.apply(overrides);
    if raw.certificate_ttl.is_some() && raw.credential_ttl.is_some() {
        warnings.push("both certificate_ttl and credential_ttl are set: credential_ttl wins".into());
    }
    let config = raw.validate(&name, &text)?;
    Ok((config, warnings))
}

fn check_override_durations(o: &Overrides) -> Result<(), ConfigError> {
    for (flag, value) in [("--certificate-ttl", &o.certificate_ttl), ("--renewal-interval", &o.renewal_interval)] {
        if let Some(v) = value {
            joinery_util::duration::parse(v).map_err(|e| ConfigError::Invalid {
                source_name: "<flags>".into(),
                key: flag.into(),
                line: None,
                reason: e.to_string(),
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        RawConfig::parse(text, "tbot.yaml")?.validate("tbot.yaml", text)
    }

    const SEED: &str = "version: v2
proxy_server: example.teleport.sh:443
onboarding:
  join_method: azure
  token: example-bot
  azure :
    client_id: 22222222-2222-2222-2222-222222222222
storage:
  type: memory
# outputs will be filled in during the completion of an access guide.
outputs: []
";

    #[test]
    fn seed_parses() {
        let c = parse(SEED).unwrap();
        assert_eq!(c.server, Server::Proxy("example.teleport.sh:443".into()));
        assert_eq!(
            c.onboarding.method,
            JoinMethod::Azure { client_id: Some("22222222-2222-2222-2222-222222222222".into()) }
        );
        assert_eq!(c.storage, Destination::Memory);
        assert_eq!(c.credential_ttl, DEFAULT_CREDENTIAL_TTL);
        assert_eq!(c.renewal_interval, DEFAULT_RENEWAL_INTERVAL);
        assert_eq!(c.onboarding.token.masked(), "********bot");
    }

    #[test]
    fn errors_name_key_and_line() {
        let e =
            parse("version: v2\nauth_server: a:3025\nonboarding:\n  token: x\n  tokn: y\n").unwrap_err().to_string();
        assert!(e.contains("tokn") && e.contains("line 5"), "{e}");
        let e = parse("version: v2\nauth_server: a:3025\noneshot: maybe\nonboarding: {token: x}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("oneshot") && e.contains("line 3"), "{e}");
        let e = parse("version: v2\nauth_server: a:3025\nonboarding: {token: x}\nrenewal_interval: 1h\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("renewal_interval (line 4)"), "{e}");
        let e = parse("version: v2\nauth_server: a:3025\nonboarding: {token: x}\ncredential_ttl: 5\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("credential_ttl") && e.contains("line 4"), "{e}");
        let e = parse("version: v1\n").unwrap_err().to_string();
        assert!(e.contains("only version v2"), "{e}");
        let e = parse("").unwrap_err().to_string();
        assert!(e.contains("version") && e.contains("v2"), "{e}");
        let e = parse("version: v2\nauth_server: a\n").unwrap_err().to_string();
        assert!(e.contains("onboarding.token"), "{e}");
        let e =
            parse("version: v2\nauth_server: a\nproxy_server: b\nonboarding: {token: x}\n").unwrap_err().to_string();
        assert!(e.contains("mutually exclusive"), "{e}");
        let e = parse("version: v2\nauth_server: a\nfips: true\nonboarding: {token: x}\n").unwrap_err().to_string();
        assert!(e.contains("fips (line 3)"), "{e}");
        let e = parse("version: v2\nauth_server: a\nonboarding:\n  join_method: azure\n  token: x\n  azure:\n    client_id: nope\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("onboarding.azure.client_id (line 7)"), "{e}");
        let e = parse("version: v2\nauth_server: a\nonboarding: {token: x, join_method: github}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("github") && e.contains("line 3"), "{e}");
        let e = parse("version: v2\nauth_server: a\nonboarding: {token: x}\noutputs:\n  - type: database\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("outputs[0]") && e.contains("line 5"), "{e}");
    }

    #[test]
    fn defaults_and_short_values() {
        let c = parse(
            "version: v2\nauth_server: localhost\nonboarding: {token: abc}\nrenewal_interval: 2s\ncertificate_ttl: 1m\nstorage: {memory: true}\noutputs:\n - type: identity\n   destination: {type: directory, path: /tmp/x}\n   roles: [access]\n   ssh_config: off\n",
        )
        .unwrap();
        assert_eq!(c.server, Server::Auth("localhost:3025".into()));
        assert_eq!(c.renewal_interval, Duration::from_secs(2));
        assert_eq!(c.credential_ttl, Duration::from_secs(60));
        assert_eq!(c.storage, Destination::Memory);
        assert!(!c.outputs[0].ssh_config);
        let c =
            parse("version: v2\nauth_server: a:1\nonboarding: {token: abc}\ncertificate_ttl: 1m\ncredential_ttl: 2h\n")
                .unwrap();
        assert_eq!(c.credential_ttl, Duration::from_secs(7200));
    }

    #[test]
    fn overrides_replace_onboarding() {
        let mut raw = RawConfig::parse(SEED, "x").unwrap();
        let w = raw.apply(&Overrides {
            token: Some("tok".into()),
            auth_server: Some("127.0.0.1:1".into()),
            ..Default::default()
        });
        assert_eq!(w.len(), 2);
        let c = raw.validate("x", SEED).unwrap();
        assert_eq!(c.onboarding.method, JoinMethod::Token);
        assert_eq!(c.server, Server::Auth("127.0.0.1:1".into()));
    }

    #[test]
    fn mask_like_teleport() {
        assert_eq!(mask("abcdefgh"), "******gh");
        assert_eq!(mask(""), "");
    }
}
