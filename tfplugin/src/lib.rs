//! The plugin runtime: everything needed for real Terraform to load a Rust
//! binary as a provider, the way it loads Go providers built on
//! terraform-plugin-framework.
//!
//! - [`handshake`]: go-plugin's magic cookie, version negotiation and the
//!   handshake line;
//! - [`tls`]: AutoMTLS (pinned client certificate, ALPN h2, aws-lc-rs);
//! - [`transport`]: unix socket (default) or TCP listeners;
//! - [`logging`]: hclog JSON lines on stderr;
//! - [`cty`]: Terraform's value system and wire encodings;
//! - [`framework`]: schemas, typed models ([`framework::model`]), the
//!   `Provider`/`Resource`/`DataSource` traits and the tfplugin6 service
//!   built on them.
//!
//! A provider binary's `main` is one call to [`serve`]; see the
//! [`framework`] docs and `examples/demo_provider.rs` for the rest.
//!
//! Nothing here is specific to one provider.

// Unit tests link the dev-dependencies the integration tests use.
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub mod cty;
pub mod framework;
pub mod handshake;
pub mod logging;
pub mod proto;
mod runtime;
pub mod tls;
pub mod transport;

use std::process::ExitCode;

use framework::Provider;

/// What the runtime needs to know besides the provider itself.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The provider's full source address, e.g.
    /// `registry.terraform.io/joinery/teleport`; used as the key of
    /// `TF_REATTACH_PROVIDERS` in debug mode.
    pub provider_address: String,
    /// The build's version (e.g. `1.2.3 (commit abc…)`): the first line of
    /// the provider's log, and what `--version` prints.
    pub version: Option<String>,
}

impl ServeOptions {
    /// Options for the provider at `provider_address`.
    pub fn new(provider_address: impl Into<String>) -> ServeOptions {
        ServeOptions { provider_address: provider_address.into(), version: None }
    }

    /// The same options, naming the build's `version`.
    pub fn with_version(self, version: impl Into<String>) -> ServeOptions {
        ServeOptions { version: Some(version.into()), ..self }
    }

    /// The provider's executable name, `terraform-provider-TYPE`, from the
    /// last part of its address.
    pub fn program(&self) -> String {
        let kind = self.provider_address.rsplit('/').next().unwrap_or_default();
        format!("terraform-provider-{kind}")
    }
}

/// Why the plugin could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// Terraform offered no protocol version we speak.
    #[error("Terraform offered plugin protocol versions {0:?}, but this provider only speaks version 6")]
    UnsupportedProtocol(String),
    /// `PLUGIN_CLIENT_CERT` is not a usable certificate.
    #[error("invalid PLUGIN_CLIENT_CERT: {0}")]
    ClientCert(String),
    /// The server certificate could not be generated.
    #[error("generating the plugin's TLS certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// The TLS configuration was rejected.
    #[error("configuring TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// The listener could not be opened.
    #[error("opening the plugin listener: {0}")]
    Listen(#[source] std::io::Error),
    /// The handshake line could not be written.
    #[error("writing the handshake line: {0}")]
    Handshake(#[source] std::io::Error),
    /// The gRPC server failed.
    #[error("serving gRPC: {0}")]
    Serve(#[source] tonic::transport::Error),
    /// The async runtime could not start.
    #[error("starting the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// Runs `provider` as a Terraform plugin and returns the process exit code.
///
/// Run by Terraform, it performs the go-plugin handshake and serves until
/// Terraform shuts it down. Run by hand it prints go-plugin's "This binary
/// is a plugin" message and fails, unless given `--debug`, which serves
/// plaintext and prints a `TF_REATTACH_PROVIDERS` line to use from another
/// shell until Ctrl-C.
///
/// With a version ([`ServeOptions::with_version`]), `--version` prints it
/// and exits, and it is the first line of the provider's log
/// (`TF_LOG_PROVIDER=info`), so a bug report names the build.
///
/// Set `JOINERY_PLUGIN_TCP=1` to listen on TCP 127.0.0.1 instead of a unix socket.
pub fn serve<P: Provider>(provider: P, options: ServeOptions) -> ExitCode {
    if let Some(version) = &options.version
        && std::env::args().skip(1).any(|a| a == "--version" || a == "-version")
    {
        println!("{} {version}", options.program());
        return ExitCode::SUCCESS;
    }
    logging::init();
    let debug = std::env::args().skip(1).any(|a| a == "--debug" || a == "-debug");
    match start(provider, &options, debug) {
        Ok(()) => ExitCode::SUCCESS,
        Err(StartError::NotAPlugin) => {
            eprint!("{}", handshake::NOT_A_PLUGIN_MESSAGE);
            ExitCode::FAILURE
        }
        Err(StartError::Plugin(e)) => {
            tracing::error!(error = %e, "plugin failed");
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

enum StartError {
    NotAPlugin,
    Plugin(PluginError),
}

impl From<PluginError> for StartError {
    fn from(e: PluginError) -> StartError {
        StartError::Plugin(e)
    }
}

fn start<P: Provider>(provider: P, options: &ServeOptions, debug: bool) -> Result<(), StartError> {
    let mode = if debug {
        runtime::Mode::Debug
    } else {
        let cookie = std::env::var(handshake::MAGIC_COOKIE_KEY).ok();
        if !handshake::cookie_matches(cookie.as_deref()) {
            return Err(StartError::NotAPlugin);
        }
        handshake::negotiate_version(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())?;
        // Terraform sets PLUGIN_CLIENT_CERT unless TF_DISABLE_PLUGIN_TLS is set.
        let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
            Ok(pem) if !pem.trim().is_empty() => Some(tls::auto_mtls(&pem)?),
            _ => None,
        };
        runtime::Mode::Managed { tls }
    };
    // Started by Terraform (or with --debug): name the build first.
    if let Some(version) = &options.version {
        tracing::info!(version = %version, "{} {version}", options.program());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(PluginError::Runtime)?;
    let result = rt.block_on(runtime::run(provider, options, mode));
    // Don't wait for stray tasks (signal handler, half-open connections):
    // Terraform expects the process gone promptly after Shutdown.
    rt.shutdown_background();
    Ok(result?)
}

#[cfg(test)]
mod tests {
    use super::ServeOptions;

    #[test]
    fn the_program_is_named_after_the_provider_type() {
        let options = ServeOptions::new("registry.terraform.io/joinery/teleport").with_version("1.2.3 (commit abc)");
        assert_eq!(options.program(), "terraform-provider-teleport");
        assert_eq!(options.version.as_deref(), Some("1.2.3 (commit abc)"));
        assert_eq!(ServeOptions::new("registry.terraform.io/joinery/teleport").version, None);
    }
}
