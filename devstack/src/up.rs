//! `joinery-devstack up`: start every emulated service and say where it is.
//!
//! Start-up is ordered so that `devstack.json` is a promise: it is written
//! (atomically) only once every listener accepts connections, and removed
//! on shutdown, so a test that polls for it never talks to a half-started
//! stack.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use joinery_teleport::identity::{Identity, ca_pin};
use joinery_teleport::keys::KeyPair;
use joinery_util::fs::{SECRET_FILE_MODE, ensure_private_dir, write_atomic};
use serde::{Deserialize, Serialize};

use crate::azure::AzureInfo;
use crate::azure::fixture::AzureFixture;
use crate::teleport::ca::{Authority, UserCertRequest};
use crate::teleport::faults::Faults;
use crate::teleport::store::Store;
use crate::teleport::{ADMIN_ROLE, ADMIN_USER, Cluster};

/// Default cluster name.
pub const DEFAULT_CLUSTER_NAME: &str = "devstack.joinery.local";
/// How long the admin identity written at start-up is valid.
const ADMIN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The `--fixture` file (YAML); it replaces the built-in defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// Cluster name for a new state directory.
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// The emulated Azure world (see [`crate::azure::fixture`]); default: the built-in one.
    #[serde(default)]
    pub azure: AzureFixture,
}

impl Fixture {
    /// Reads and validates a fixture file. Errors are one line naming the file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read fixture {}", path.display()))?;
        let fixture: Fixture = serde_yaml_ng::from_str(&text)
            .map_err(|e| anyhow::anyhow!("invalid fixture {}: {}", path.display(), e.to_string().replace('\n', " ")))?;
        fixture.azure.validate().map_err(|e| anyhow::anyhow!("invalid fixture {}: {e}", path.display()))?;
        Ok(fixture)
    }
}

/// What `devstack.json` says about the Teleport side.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TeleportInfo {
    /// `host:port` of the Auth API (also serves joins).
    pub addr: String,
    /// Cluster name.
    pub cluster_name: String,
    /// Identity file with admin rights.
    pub admin_identity_file: PathBuf,
    /// PEM of the cluster's TLS CAs.
    pub ca_file: PathBuf,
    /// `sha256:<hex SPKI>` pin of the TLS host CA.
    pub ca_pin: String,
}

/// The whole `devstack.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevstackInfo {
    /// Process id of the devstack.
    pub pid: u32,
    /// The Teleport side.
    pub teleport: TeleportInfo,
    /// Environment that configures the Terraform provider for this stack.
    pub provider_env: std::collections::BTreeMap<String, String>,
    /// The Azure emulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureInfo>,
    /// The emulated GitHub Actions token service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<crate::github::GithubInfo>,
}

impl DevstackInfo {
    /// Reads `DIR/devstack.json`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("devstack.json");
        let bytes = std::fs::read(&path).with_context(|| {
            format!("cannot read {} (is `joinery-devstack up --dir {}` running?)", path.display(), dir.display())
        })?;
        serde_json::from_slice(&bytes).with_context(|| format!("invalid {}", path.display()))
    }
}

/// Options of `up`.
pub struct UpOptions {
    /// State directory.
    pub dir: PathBuf,
    /// Optional fixture.
    pub fixture: Option<PathBuf>,
    /// Teleport listen address.
    pub teleport_addr: SocketAddr,
    /// How asynchronous, throttled and eventually consistent the emulated Azure is.
    pub realism: crate::azure::realism::Realism,
    /// Which Teleport's `teleport.join.v1` service to play.
    pub join_v1: crate::teleport::JoinV1Mode,
}

/// Runs the devstack until SIGINT or SIGTERM.
pub async fn run(opts: UpOptions) -> Result<()> {
    let dir = &opts.dir;
    ensure_private_dir(dir).with_context(|| format!("cannot use state directory {}", dir.display()))?;
    let info_path = dir.join("devstack.json");
    let _ = std::fs::remove_file(&info_path);
    let fixture = match &opts.fixture {
        Some(p) => Fixture::load(p)?,
        None => Fixture::default(),
    };
    let cluster_name = fixture.cluster_name.clone().unwrap_or_else(|| DEFAULT_CLUSTER_NAME.to_string());
    let ca = Authority::load_or_create(dir, &cluster_name)?;
    let store = Store::open(dir)?;
    let listener = tokio::net::TcpListener::bind(opts.teleport_addr)
        .await
        .with_context(|| format!("cannot listen on {} (--teleport-addr)", opts.teleport_addr))?;
    let addr = listener.local_addr()?;

    let admin_identity_file = dir.join("admin.identity");
    write_atomic(&admin_identity_file, admin_identity(&ca)?.encode().as_bytes(), SECRET_FILE_MODE)?;
    let ca_file = dir.join("teleport-ca.pem");
    write_atomic(&ca_file, ca.tls_host_ca_pem().as_bytes(), 0o644)?;
    let teleport = TeleportInfo {
        addr: addr.to_string(),
        cluster_name: ca.cluster_name().to_string(),
        admin_identity_file: admin_identity_file.clone(),
        ca_file,
        ca_pin: ca_pin(ca.tls_host_ca_der())?,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut joins = crate::teleport::delegated::JoinMethods::default();
    let github = crate::github::start(dir, stop_rx.clone()).await?;
    joins.register(Arc::new(crate::teleport::github::GithubVerifier::new(github.discovery.clone())));
    let azure =
        crate::azure::start(dir, &fixture.azure, &opts.realism, stop_rx.clone(), &mut joins, &github.discovery).await?;
    let mut provider_env: std::collections::BTreeMap<String, String> = [
        ("TF_TELEPORT_ADDR".to_string(), teleport.addr.clone()),
        ("TF_TELEPORT_IDENTITY_FILE_PATH".to_string(), admin_identity_file.display().to_string()),
    ]
    .into_iter()
    .collect();
    provider_env.extend(azure.provider_env);
    let cluster = Arc::new(Cluster { ca, store, joins, faults: Faults::new(dir), join_v1: opts.join_v1 });

    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(crate::teleport::listener::serve(cluster, listener, async move {
        let _ = server_stop.wait_for(|s| *s).await;
    }));

    let info = DevstackInfo {
        pid: std::process::id(),
        teleport,
        provider_env,
        azure: Some(azure.info),
        github: Some(github.info),
    };
    write_atomic(&info_path, serde_json::to_string_pretty(&info)?.as_bytes(), SECRET_FILE_MODE)?;
    tracing::info!(teleport = %addr, dir = %dir.display(), "devstack is up");
    eprintln!("joinery-devstack: Teleport API on {addr}; wrote {}", info_path.display());

    let signal = wait_for_signal();
    tokio::select! {
        r = signal => r?,
        r = server => {
            let _ = std::fs::remove_file(&info_path);
            return r.context("server task failed")?;
        }
    }
    let _ = stop_tx.send(true);
    let _ = std::fs::remove_file(&info_path);
    eprintln!("joinery-devstack: stopped");
    Ok(())
}

async fn wait_for_signal() -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    Ok(())
}

/// Issues the admin identity (`editor` role) written to `admin.identity`.
fn admin_identity(ca: &Authority) -> Result<Identity> {
    let key = KeyPair::generate();
    let ssh_public = key.ssh_public_key();
    let issued = ca.issue_user(
        &UserCertRequest {
            username: ADMIN_USER.into(),
            roles: vec![ADMIN_ROLE.into()],
            logins: vec![],
            bot_name: None,
            bot_instance_id: None,
            generation: None,
            renewable: false,
            ttl: ADMIN_TTL,
        },
        Some(&key.public_key_pkix_der()),
        Some(&ssh_public),
    )?;
    let name = ca.cluster_name();
    Ok(Identity {
        private_key_pem: key.private_key_pem(),
        ssh_cert: issued.ssh_line,
        tls_cert_pem: joinery_teleport::identity::der_to_pem(&issued.tls_der),
        ssh_ca_lines: vec![format!("@cert-authority {name},*.{name} {} type=host", ca.ssh_host_ca_authorized_key())],
        tls_ca_pems: vec![ca.tls_host_ca_pem().to_string()],
    })
}
