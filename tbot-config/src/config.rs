//! The validated configuration, and the defaults and rules that make it.
//!
//! [`BotConfig::validate`] is a pure function: it reads no file and opens no
//! connection, so the agent runs it before anything touches the network and
//! the Terraform provider runs it on the YAML it renders. The two checks
//! that need the VM's filesystem (reading a token from an absolute path,
//! `ca_path` being a file) are the agent's, after this.

use std::time::Duration;

use crate::bot_config::BotConfig;
use crate::destination::{Destination, SymlinkPolicy};
use crate::error::{ConfigError, Source};
use crate::onboarding::Onboarding;
use crate::outputs::Output;
use crate::values::GoDuration;

/// Default credential lifetime (tbot's `DefaultCertificateTTL`).
pub const DEFAULT_CREDENTIAL_TTL: GoDuration = GoDuration::literal("1h", Duration::from_secs(60 * 60));
/// Default renewal interval (tbot's `DefaultRenewInterval`).
pub const DEFAULT_RENEWAL_INTERVAL: GoDuration = GoDuration::literal("20m", Duration::from_secs(20 * 60));
/// tbot's default storage directory.
pub const DEFAULT_STORAGE_DIR: &str = "/var/lib/teleport/bot";
/// Default port of an Auth server address without one.
pub const DEFAULT_AUTH_PORT: u16 = 3025;
/// Default port of a proxy address without one.
pub const DEFAULT_PROXY_PORT: u16 = 443;

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

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Teleport endpoint.
    pub server: Server,
    /// How to join.
    pub onboarding: Onboarding,
    /// Where the agent keeps its own identity.
    pub storage: Destination,
    /// Credentials written for other programs (`outputs`, then `services`).
    pub outputs: Vec<Output>,
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

impl BotConfig {
    /// Applies the defaults and checks every rule, naming the key (and its
    /// line in `src`) of the first problem. Reads no file: see the module docs.
    pub fn validate(self, src: &Source) -> Result<Config, ConfigError> {
        // `validate_all` fails only with at least one error.
        self.validate_all(src).map_err(|mut errors| errors.swap_remove(0))
    }

    /// Like [`BotConfig::validate`], but reports the first problem of every
    /// part (server, onboarding, storage, each output, durations,
    /// `diag_addr`), in that order, for callers that show them all.
    pub fn validate_all(self, src: &Source) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        if self.fips == Some(true) {
            errors.push(src.invalid("fips", "FIPS mode is not supported by joinery-agent"));
        }
        let server = keep(&mut errors, server(self.auth_server.as_deref(), self.proxy_server.as_deref(), src));
        let onboarding = keep(&mut errors, self.onboarding.unwrap_or_default().validate(src));
        let storage = keep(
            &mut errors,
            match self.storage {
                None => {
                    Ok(Destination::Directory { path: DEFAULT_STORAGE_DIR.into(), symlinks: SymlinkPolicy::default() })
                }
                Some(d) => d.validate(src, "storage"),
            },
        );
        let mut outputs = Vec::new();
        let all = self.outputs.unwrap_or_default().into_iter().chain(self.services.unwrap_or_default());
        for (i, o) in all.enumerate() {
            outputs.extend(keep(&mut errors, o.validate(src, &format!("outputs[{i}]"))));
        }
        let oneshot = self.oneshot.unwrap_or(false);
        let durations = keep(
            &mut errors,
            durations(self.credential_ttl, self.certificate_ttl, self.renewal_interval, oneshot, src),
        );
        let diag_addr = keep(&mut errors, diag_addr(self.diag_addr, src));
        match (server, onboarding, storage, durations, diag_addr) {
            (
                Some(server),
                Some(onboarding),
                Some(storage),
                Some((credential_ttl, renewal_interval)),
                Some(diag_addr),
            ) if errors.is_empty() => Ok(Config {
                server,
                onboarding,
                storage,
                outputs,
                oneshot,
                credential_ttl,
                renewal_interval,
                debug: self.debug.unwrap_or(false),
                diag_addr,
                insecure: self.insecure.unwrap_or(false),
            }),
            _ => Err(errors),
        }
    }
}

/// The value of a part, or `None` with its error kept.
fn keep<T>(errors: &mut Vec<ConfigError>, result: Result<T, ConfigError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// `auth_server` or `proxy_server`, with the default port.
fn server(auth: Option<&str>, proxy: Option<&str>, src: &Source) -> Result<Server, ConfigError> {
    match (auth, proxy) {
        (Some(_), Some(_)) => {
            Err(src.invalid("proxy_server", "auth_server and proxy_server are mutually exclusive: set one"))
        }
        (None, None) => Err(src.invalid(
            "proxy_server",
            "one of proxy_server or auth_server is required (or --proxy-server / --auth-server)",
        )),
        (Some(a), None) => {
            Ok(Server::Auth(normalize_addr(a, DEFAULT_AUTH_PORT).map_err(|r| src.invalid("auth_server", r))?))
        }
        (None, Some(p)) => {
            Ok(Server::Proxy(normalize_addr(p, DEFAULT_PROXY_PORT).map_err(|r| src.invalid("proxy_server", r))?))
        }
    }
}

/// The credential lifetime (`credential_ttl` wins over its older name
/// `certificate_ttl`) and the renewal interval, which must be shorter for a daemon.
fn durations(
    credential_ttl: Option<GoDuration>,
    certificate_ttl: Option<GoDuration>,
    renewal_interval: Option<GoDuration>,
    oneshot: bool,
    src: &Source,
) -> Result<(Duration, Duration), ConfigError> {
    let (ttl_key, ttl) = match (credential_ttl, certificate_ttl) {
        (Some(c), _) => ("credential_ttl", c.value()),
        (None, Some(c)) => ("certificate_ttl", c.value()),
        (None, None) => ("credential_ttl", DEFAULT_CREDENTIAL_TTL.value()),
    };
    if ttl.is_zero() {
        return Err(src.invalid(ttl_key, "must be a positive duration such as \"1h\""));
    }
    let interval = renewal_interval.unwrap_or(DEFAULT_RENEWAL_INTERVAL).value();
    if interval.is_zero() {
        return Err(src.invalid("renewal_interval", "must be a positive duration such as \"20m\""));
    }
    if !oneshot && interval >= ttl {
        return Err(src.invalid(
            "renewal_interval",
            format!(
                "{} is not shorter than {ttl_key} {}: credentials would expire before they are renewed",
                joinery_util::duration::format(interval),
                joinery_util::duration::format(ttl)
            ),
        ));
    }
    Ok((ttl, interval))
}

/// `diag_addr`: `host:port`, or unset.
fn diag_addr(addr: Option<String>, src: &Source) -> Result<Option<String>, ConfigError> {
    match addr.filter(|a| !a.trim().is_empty()) {
        Some(a) => {
            let ok = a.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !ok {
                return Err(src.invalid("diag_addr", format!("{a:?} is not host:port, e.g. 127.0.0.1:3000")));
            }
            Ok(Some(a))
        }
        None => Ok(None),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_durations_are_what_they_say() {
        for d in [DEFAULT_CREDENTIAL_TTL, DEFAULT_RENEWAL_INTERVAL] {
            assert_eq!(joinery_util::duration::parse(d.as_str()), Ok(d.value()), "{d}");
        }
    }
}
