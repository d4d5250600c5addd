//! Loading the configuration on the VM: the file (or `--config-string`),
//! the command line's overrides, then the checks that need the VM's files.
//!
//! The YAML model, its defaults and rules are `joinery_tbot_config`'s (the
//! Terraform provider renders the same model). What is left here is what
//! only the agent does: reading the file, applying `tbot start`'s flags on
//! top of it (each with a warning when it replaces a value of the file),
//! and, after the pure validation, reading a token from an absolute path
//! (tbot's `TryReadValueAsFile`) and checking that `ca_path` is a file.
//! Every problem is reported before anything touches the network.

use std::path::{Path, PathBuf};

use joinery_tbot_config::outputs::identity::IdentityOutputConfig;
use joinery_tbot_config::{
    BotConfig, Config, ConfigError, DestinationConfig, GoDuration, JoinMethodName, OnboardingConfig, OutputConfig,
    Source, Token,
};

/// A configuration that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
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

/// Applies command-line overrides to `raw`, warning about each value the
/// file already set, as `tbot start` does.
pub fn apply(raw: &mut BotConfig, o: &Overrides) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut note = |what: &str, was_set: bool| {
        if was_set {
            warnings.push(format!("command-line value for {what} overrides the config file"));
        }
    };
    if let Some(a) = &o.auth_server {
        note("auth_server", raw.auth_server.is_some() || raw.proxy_server.is_some());
        raw.auth_server = Some(a.clone());
        raw.proxy_server = None;
    }
    if let Some(p) = &o.proxy_server {
        note("proxy_server", raw.auth_server.is_some() || raw.proxy_server.is_some());
        raw.proxy_server = Some(p.clone());
        if o.auth_server.is_none() {
            raw.auth_server = None;
        }
    }
    if o.token.is_some() || o.join_method.is_some() || !o.ca_pins.is_empty() {
        // tbot replaces the whole onboarding block.
        note("onboarding (token, join method, CA pins)", raw.onboarding.is_some());
        raw.onboarding = Some(OnboardingConfig {
            join_method: o.join_method,
            token: o.token.clone(),
            ca_pins: if o.ca_pins.is_empty() { None } else { Some(o.ca_pins.clone()) },
            ..OnboardingConfig::default()
        });
    }
    if let Some(d) = &o.data_dir {
        note("storage", raw.storage.is_some());
        raw.storage = Some(DestinationConfig::directory(d));
    }
    if let Some(d) = &o.destination_dir {
        note("outputs", raw.outputs.as_ref().is_some_and(|v| !v.is_empty()));
        raw.outputs = Some(vec![OutputConfig::Identity(IdentityOutputConfig {
            destination: Some(DestinationConfig::directory(d)),
            ..IdentityOutputConfig::default()
        })]);
    }
    // A flag that does not parse was reported by `check_override_durations`.
    let dur = |s: &String| GoDuration::parse(s).unwrap_or_else(|_| GoDuration::from(std::time::Duration::ZERO));
    if let Some(t) = &o.certificate_ttl {
        note("certificate_ttl", raw.certificate_ttl.is_some() || raw.credential_ttl.is_some());
        raw.credential_ttl = Some(dur(t));
        raw.certificate_ttl = None;
    }
    if let Some(r) = &o.renewal_interval {
        note("renewal_interval", raw.renewal_interval.is_some());
        raw.renewal_interval = Some(dur(r));
    }
    if o.oneshot {
        raw.oneshot = Some(true);
    }
    if let Some(a) = &o.diag_addr {
        note("diag_addr", raw.diag_addr.is_some());
        raw.diag_addr = Some(a.clone());
    }
    if o.debug {
        raw.debug = Some(true);
    }
    if o.insecure {
        raw.insecure = Some(true);
    }
    warnings
}

/// Reads, overrides and validates a configuration.
///
/// `path` is the `-c` file, if any; `inline` is the `--config-string`
/// (base64 YAML) form. With neither, the flags alone must make a config.
pub fn load(
    path: Option<&Path>,
    inline: Option<&str>,
    overrides: &Overrides,
) -> Result<(Config, Vec<String>), LoadError> {
    let (name, text) = match (path, inline) {
        (Some(p), _) => {
            let text =
                std::fs::read_to_string(p).map_err(|source| LoadError::Read { path: p.to_path_buf(), source })?;
            (p.display().to_string(), text)
        }
        (None, Some(b64)) => {
            use base64::Engine;
            let src = Source::new("--config-string", "");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| src.decode(format!("not valid base64: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|_| src.decode("does not decode to UTF-8 text"))?;
            ("--config-string".to_string(), text)
        }
        (None, None) => ("<flags>".to_string(), "version: v2\n".to_string()),
    };
    let src = Source::new(&name, &text);
    let mut raw = BotConfig::parse(&src)?;
    check_override_durations(overrides)?;
    let mut warnings = apply(&mut raw, overrides);
    warnings.extend(raw.warnings());
    let mut config = raw.validate(&src)?;
    check_files(&mut config, &src)?;
    Ok((config, warnings))
}

/// The checks that need the VM's files: a token given as an absolute path
/// is read (tbot's `TryReadValueAsFile`), and `ca_path` must be a file.
fn check_files(config: &mut Config, src: &Source) -> Result<(), ConfigError> {
    let ob = &mut config.onboarding;
    let token = ob.token.value();
    if token.starts_with('/') {
        let content = std::fs::read_to_string(token)
            .map_err(|e| src.invalid("onboarding.token", format!("cannot read token file {token}: {e}")))?;
        let content = content.trim();
        if content.is_empty() {
            return Err(src.invalid("onboarding.token", format!("token file {token} is empty")));
        }
        ob.token = Token::new(content);
    }
    if let Some(p) = &ob.ca_path
        && !p.is_file()
    {
        return Err(src.invalid("onboarding.ca_path", format!("{:?} is not a readable file", p.to_string_lossy())));
    }
    Ok(())
}

fn check_override_durations(o: &Overrides) -> Result<(), ConfigError> {
    let src = Source::new("<flags>", "");
    for (flag, value) in [("--certificate-ttl", &o.certificate_ttl), ("--renewal-interval", &o.renewal_interval)] {
        if let Some(v) = value {
            GoDuration::parse(v).map_err(|e| src.invalid(flag, e.to_string()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use joinery_tbot_config::JoinMethod;
    use joinery_tbot_config::Server;

    const SEED: &str = include_str!("../../tbot-config/testdata/seed.yaml");

    #[test]
    fn overrides_replace_onboarding() {
        let src = Source::new("x", SEED);
        let mut raw = BotConfig::parse(&src).unwrap();
        let w = apply(
            &mut raw,
            &Overrides { token: Some("tok".into()), auth_server: Some("127.0.0.1:1".into()), ..Default::default() },
        );
        assert_eq!(w.len(), 2);
        let c = raw.validate(&src).unwrap();
        assert_eq!(c.onboarding.method, JoinMethod::Token);
        assert_eq!(c.server, Server::Auth("127.0.0.1:1".into()));
    }
}
