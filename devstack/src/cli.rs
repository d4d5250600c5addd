//! The `joinery-devstack` command line: a local Teleport cluster and Azure (IMDS, Entra,
//! ARM) for Joinery's demo and end-to-end tests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::{tctl, up};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "joinery-devstack", version = joinery_version::LONG, about = "A local stand-in for a Teleport cluster and Azure")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the devstack in the foreground until SIGINT/SIGTERM.
    Up {
        /// State directory (CAs, resources, devstack.json).
        #[arg(long)]
        dir: PathBuf,
        /// Fixture file (YAML) replacing the built-in defaults.
        #[arg(long)]
        fixture: Option<PathBuf>,
        /// Address of the Teleport API.
        #[arg(long, default_value = "127.0.0.1:0")]
        teleport_addr: SocketAddr,
        /// Azure realism knobs.
        #[command(flatten)]
        realism: crate::azure::realism::RealismArgs,
        /// Which Teleport's `teleport.join.v1` service to play: full (Teleport 18), without-azure
        /// (Azure not on join.v1 yet), absent (before 18), renumbered-azure (other field numbers).
        #[arg(long, value_enum, default_value_t)]
        join_v1: crate::teleport::JoinV1Mode,
    },
    /// Administer the running devstack, like Teleport's tctl.
    Tctl {
        /// State directory of a running devstack.
        #[arg(long)]
        dir: PathBuf,
        #[command(subcommand)]
        command: tctl::Command,
    },
    /// Show who a Teleport TLS certificate (e.g. an agent's `tlscert`) says its holder is.
    Inspect {
        /// PEM certificate file.
        file: PathBuf,
    },
}

/// Prints the Teleport identity encoded in a certificate.
fn inspect(file: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let pem = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let info = joinery_teleport::CertInfo::from_pem(&pem).with_context(|| format!("{}", file.display()))?;
    let remaining = info.not_after.duration_since(std::time::SystemTime::now()).map(|d| d.as_secs()).unwrap_or(0);
    println!("user:     {}", info.username);
    println!("bot:      {}", info.bot_name.as_deref().unwrap_or("-"));
    println!("roles:    {}", info.roles.join(", "));
    println!("cluster:  {}", info.cluster_name);
    println!("expires:  {} (in {}m{}s)", joinery_teleport::fmt_time(info.not_after), remaining / 60, remaining % 60);
    println!("renewable: {}", info.renewable);
    Ok(())
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = matches!(cli.command, Command::Up { .. });
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("JOINERY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(if verbose { "info" } else { "warn" })),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("joinery-devstack: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up { dir, fixture, teleport_addr, realism, join_v1 } => {
                up::run(up::UpOptions { dir, fixture, teleport_addr, realism: realism.resolve(), join_v1 }).await
            }
            Command::Tctl { dir, command } => tctl::run(&dir, command).await,
            Command::Inspect { file } => inspect(&file),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("joinery-devstack: {e:#}");
            ExitCode::FAILURE
        }
    }
}
