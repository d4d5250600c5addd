//! The `joinery-agent` command line: a drop-in for `tbot start -c /etc/tbot.yaml` on Azure VMs.
//!
//! It joins a Teleport cluster as a bot, writes credentials for other
//! programs, and keeps them fresh, as a systemd daemon or once (`--oneshot`)
//! in CI. The command line is tbot's (`start`, `start legacy`, the same
//! flags and environment variables), so existing units and scripts work
//! unchanged.
//!
//! Exit codes: 0 success (or a clean stop on SIGINT/SIGTERM); 1 invalid
//! configuration, reported before any network call; 2 command-line usage;
//! 3 the join or renewal failed (one-shot), the daemon gave up, or `check`
//! found that this machine cannot join.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use joinery_tbot_config::{Config, Destination, JoinMethodName, Server};

use crate::config::{self, Overrides};
use crate::{diag, join, outputs, renew, signals};

/// Exit code for an invalid configuration.
const EXIT_CONFIG: u8 = 1;
/// Exit code for a failed join/renewal or a daemon that gave up.
const EXIT_FAILED: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "joinery-agent",
    version = joinery_version::LONG,
    about = "Joins Teleport as a bot and keeps credentials fresh (a drop-in for `tbot start`)",
    after_help = "Exit codes: 0 ok, 1 invalid configuration, 2 usage, 3 join/renewal failed."
)]
struct Cli {
    /// Verbose logging.
    #[arg(short = 'd', long, global = true, env = "TBOT_DEBUG", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    debug: bool,
    /// Path to the tbot YAML configuration.
    #[arg(short = 'c', long = "config", global = true, env = "TBOT_CONFIG_PATH")]
    config: Option<PathBuf>,
    /// The configuration as base64 YAML (instead of -c).
    #[arg(long = "config-string", global = true, env = "TBOT_CONFIG", hide = true, hide_env_values = true)]
    config_string: Option<String>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Do not verify the server's certificate (test clusters only).
    #[arg(long, global = true)]
    insecure: bool,
    /// FIPS mode (not supported; accepted so that it fails clearly).
    #[arg(long, global = true, hide = true)]
    fips: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once at start")]
enum Command {
    /// Join the cluster and write credentials; renew them until stopped (or once with --oneshot).
    Start {
        #[command(subcommand)]
        mode: Option<StartMode>,
        #[command(flatten)]
        args: StartArgs,
    },
    /// Validate the configuration, with the same flags as `start`, and say whether this machine can join (exit 3 if not).
    Check {
        #[command(flatten)]
        args: StartArgs,
        /// Also ask Teleport: a real join whose credentials are discarded (azure join method).
        #[arg(long)]
        join: bool,
    },
    /// Print the version.
    Version,
}

#[derive(Debug, Subcommand)]
enum StartMode {
    /// The tbot v17 spelling of `start` with a config file.
    Legacy(StartArgs),
}

/// `tbot start` flags. Each overrides the file, with a warning.
#[derive(Debug, Clone, Args)]
struct StartArgs {
    /// Auth server address (host:port).
    #[arg(short = 'a', long, env = "TELEPORT_AUTH_SERVER")]
    auth_server: Option<String>,
    /// Proxy address (host:port).
    #[arg(long, env = "TELEPORT_PROXY")]
    proxy_server: Option<String>,
    /// Join token, or the absolute path of a file holding it.
    #[arg(long, env = "TELEPORT_BOT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Join method.
    #[arg(long, value_enum)]
    join_method: Option<JoinMethodName>,
    /// CA pin (sha256:...), repeatable.
    #[arg(long = "ca-pin")]
    ca_pins: Vec<String>,
    /// Directory storage for the bot's own identity.
    #[arg(long)]
    data_dir: Option<String>,
    /// Write a single identity output to this directory.
    #[arg(long)]
    destination_dir: Option<String>,
    /// Credential lifetime (Go duration).
    #[arg(long)]
    certificate_ttl: Option<String>,
    /// Renewal interval (Go duration).
    #[arg(long)]
    renewal_interval: Option<String>,
    /// Join, write the outputs once and exit.
    #[arg(long)]
    oneshot: bool,
    /// Address of the diagnostics HTTP server (host:port).
    #[arg(long)]
    diag_addr: Option<String>,
    /// Exit (code 3) once the credentials have been expired this long while
    /// every renewal failed (Go duration); by default the daemon keeps trying.
    #[arg(long, env = "JOINERY_GIVE_UP_AFTER", value_parser = parse_duration)]
    give_up_after: Option<std::time::Duration>,
}

impl StartArgs {
    fn overrides(&self, cli: &Cli) -> Overrides {
        Overrides {
            auth_server: self.auth_server.clone().filter(|s| !s.is_empty()),
            proxy_server: self.proxy_server.clone().filter(|s| !s.is_empty()),
            token: self.token.clone().filter(|s| !s.is_empty()),
            join_method: self.join_method,
            ca_pins: self.ca_pins.clone(),
            data_dir: self.data_dir.clone(),
            destination_dir: self.destination_dir.clone(),
            certificate_ttl: self.certificate_ttl.clone(),
            renewal_interval: self.renewal_interval.clone(),
            oneshot: self.oneshot,
            diag_addr: self.diag_addr.clone(),
            debug: cli.debug,
            insecure: cli.insecure,
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.fips {
        eprintln!("joinery-agent: invalid config: --fips: FIPS mode is not supported by joinery-agent");
        return ExitCode::from(EXIT_CONFIG);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("joinery-agent: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    match &cli.command {
        Command::Version => {
            println!(
                "joinery-agent v{} (commit {}, tbot configuration v2)",
                joinery_version::VERSION,
                joinery_version::COMMIT
            );
            ExitCode::SUCCESS
        }
        Command::Check { args, join } => runtime.block_on(check(&cli, args, *join)),
        Command::Start { mode, args } => {
            let args = match mode {
                Some(StartMode::Legacy(a)) => a.clone(),
                None => args.clone(),
            };
            runtime.block_on(start(&cli, &args))
        }
    }
}

/// Loads the configuration, printing the error and returning the exit code on failure.
fn load(cli: &Cli, overrides: &Overrides) -> Result<(Config, Vec<String>), ExitCode> {
    config::load(cli.config.as_deref(), cli.config_string.as_deref(), overrides).map_err(|e| {
        eprintln!("joinery-agent: {e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

fn init_logging(format: LogFormat, debug: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if debug { "debug,h2=info,hyper=info,tower=info,rustls=info" } else { "info" };
    let filter = EnvFilter::try_from_env("JOINERY_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi && format == LogFormat::Text);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

async fn start(cli: &Cli, args: &StartArgs) -> ExitCode {
    let overrides = args.overrides(cli);
    let (cfg, warnings) = match load(cli, &overrides) {
        Ok(c) => c,
        Err(code) => return code,
    };
    init_logging(cli.log_format, cfg.debug);
    for w in warnings {
        tracing::warn!("{w}");
    }
    tracing::info!(
        version = joinery_version::VERSION,
        commit = joinery_version::COMMIT,
        server = cfg.server.addr(),
        join_method = %cfg.onboarding.method.name(),
        oneshot = cfg.oneshot,
        outputs = cfg.outputs.len(),
        "joinery-agent starting"
    );
    let status = Arc::new(diag::Status::default());
    let agent = renew::Agent::new(cfg.clone(), status.clone());
    if cfg.oneshot {
        return match agent.run_once().await {
            Ok(()) => {
                tracing::info!("one-shot run complete");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!(reason = e.reason(), "one-shot run failed: {e}");
                ExitCode::from(EXIT_FAILED)
            }
        };
    }
    if let Some(addr) = &cfg.diag_addr {
        match diag::bind(addr).await {
            Ok(listener) => {
                tracing::info!(addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "diagnostics server listening");
                tokio::spawn(diag::serve(listener, status.clone()));
            }
            Err(e) => {
                tracing::error!("cannot listen on diag_addr {addr}: {e}");
                return ExitCode::from(EXIT_FAILED);
            }
        }
    }
    let events = match signals::events() {
        Ok(rx) => rx,
        Err(e) => {
            tracing::error!("cannot install signal handlers: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let (path, inline) = (cli.config.clone(), cli.config_string.clone());
    let reload: renew::Reloader =
        Box::new(move || config::load(path.as_deref(), inline.as_deref(), &overrides).map(|(c, _)| c));
    match agent.run(events, reload, args.give_up_after).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

async fn check(cli: &Cli, args: &StartArgs, join: bool) -> ExitCode {
    let overrides = args.overrides(cli);
    let (cfg, warnings) = match load(cli, &overrides) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let source = cli.config.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "--config-string".into());
    for w in warnings {
        println!("warning: {w}");
    }
    println!("config: {source}: valid");
    match &cfg.server {
        Server::Auth(a) => println!("auth_server: {a}"),
        Server::Proxy(p) => println!("proxy_server: {p}"),
    }
    println!("join_method: {}", cfg.onboarding.method.name());
    println!("token: {}", cfg.onboarding.token.masked());
    match &cfg.storage {
        Destination::Directory { path, .. } => println!("storage: directory {}", path.display()),
        Destination::Memory => println!("storage: memory"),
    }
    println!(
        "credential_ttl: {}, renewal_interval: {}, oneshot: {}",
        joinery_util::duration::format(cfg.credential_ttl),
        joinery_util::duration::format(cfg.renewal_interval),
        cfg.oneshot
    );
    if cfg.outputs.is_empty() {
        println!("outputs: none");
    }
    for o in &cfg.outputs {
        println!("output: {}", outputs::of(o).summary());
    }
    for line in join::from_config(&cfg).describe().await {
        println!("{line}");
    }
    crate::check::run(&cfg, join).await
}

/// A Go duration flag (`30m`, `2h`).
fn parse_duration(value: &str) -> Result<std::time::Duration, String> {
    joinery_util::duration::parse(value).map_err(|e| e.to_string())
}
