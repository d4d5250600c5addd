//! Outputs: credentials the agent writes for other programs, one module per
//! output type, each an [`Output`].
//!
//! After every join or renewal, [`write_all`] hands each configured output a
//! [`Context`]: the bot's authenticated client, its identity, and what the
//! configuration says about the server. An output issues its own
//! certificates with that client (never handing out the bot identity) and
//! owns its files. Adding a type `foo` (after its block in
//! `joinery_tbot_config`): a module `foo.rs` implementing [`Output`] for the
//! validated block, and its arm in [`of`].

pub mod identity;

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use joinery_tbot_config::{Config, Server};
use joinery_teleport::authority::{ca_type, concat_tls_certificates};
use joinery_teleport::identity::{CertInfo, der_to_pem, pem_certs_to_der};
use joinery_teleport::{Client, Identity};

use crate::renew::teleport_reason;

/// What an output gets to work with.
pub struct Context<'a> {
    /// The bot's authenticated (mTLS) client.
    pub client: &'a Client,
    /// The bot identity.
    pub bot: &'a Identity,
    /// The bot's certificate: its user name and cluster.
    pub bot_info: &'a CertInfo,
    /// The configured server.
    pub server: &'a Server,
    /// The lifetime of the certificates to issue.
    pub credential_ttl: Duration,
    /// The cluster's host CAs (PEM, one certificate each), fetched once per
    /// renewal as tbot appends them to every output; `None` if unavailable.
    pub host_cas: Option<Vec<String>>,
    /// The cluster's CA files, read once per renewal with the bot's own
    /// credentials as tbot does.
    pub ca_files: &'a CaFiles,
}

/// tbot's CA files (`writeTLSCAs` in `lib/tbot`): the TLS certificates of
/// every host, user and database CA the cluster trusts, each file the
/// certificates concatenated as Teleport stores them (PEM).
///
/// tbot reads them with the bot's own identity (`GetCertAuthorities(type,
/// false)`, secrets excluded): every Teleport role may list and read CAs
/// without their keys, so no bot needs a rule for it.
#[derive(Debug, Clone, Default)]
pub struct CaFiles {
    /// `teleport-host-ca.crt`.
    pub host: Vec<u8>,
    /// `teleport-user-ca.crt`.
    pub user: Vec<u8>,
    /// `teleport-database-ca.crt`.
    pub database: Vec<u8>,
}

impl CaFiles {
    /// Reads the three CA types from `client`, as tbot does before rendering
    /// an output; a failure fails the outputs, as in tbot.
    pub async fn fetch(client: &Client) -> Result<CaFiles, joinery_teleport::Error> {
        let read = |t| async move { client.get_cert_authorities(t).await.map(|cas| concat_tls_certificates(&cas)) };
        Ok(CaFiles {
            host: read(ca_type::HOST).await?,
            user: read(ca_type::USER).await?,
            database: read(ca_type::DATABASE).await?,
        })
    }
}

/// One output.
#[async_trait]
pub trait Output: Send + Sync {
    /// A short name for logs and errors: where it writes.
    fn describe(&self) -> String;

    /// What `check` prints about it.
    fn summary(&self) -> String;

    /// Issues the output's credentials and writes them; returns when the
    /// issued credentials expire (the renewal schedule follows the earliest).
    async fn write(&self, ctx: &Context<'_>) -> Result<SystemTime, OutputError>;
}

/// Why an output could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Teleport refused the certificate request.
    #[error("cannot issue certificates for output {dest}: {source}")]
    Issue {
        /// The output's destination.
        dest: String,
        /// The server's answer.
        source: joinery_teleport::Error,
    },
    /// The cluster's CAs could not be read (with the bot's identity).
    #[error("cannot read the cluster's certificate authorities for the outputs: {0}")]
    CertAuthorities(joinery_teleport::Error),
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] joinery_util::fs::FsError),
}

impl OutputError {
    /// A short label for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            OutputError::Issue { source, .. } | OutputError::CertAuthorities(source) => teleport_reason(source),
            OutputError::Write(_) => "output_write",
        }
    }
}

/// The agent's side of a configured output.
pub fn of(output: &joinery_tbot_config::Output) -> &dyn Output {
    match output {
        joinery_tbot_config::Output::Identity(o) => o,
    }
}

/// Issues and writes every output of `cfg` with the bot's authenticated
/// client; returns the earliest expiry of what they issued (`None` without outputs).
pub async fn write_all(cfg: &Config, client: &Client, bot: &Identity) -> Result<Option<SystemTime>, OutputError> {
    if cfg.outputs.is_empty() {
        return Ok(None);
    }
    let bot_info = bot.tls_info().map_err(|e| OutputError::Issue {
        dest: "(all)".into(),
        source: joinery_teleport::Error::Credentials(e.to_string()),
    })?;
    let host_cas = match client.get_cluster_ca_cert().await {
        Ok(pem) => Some(pem_certs_to_der(&String::from_utf8_lossy(&pem))).filter(|ders| !ders.is_empty()),
        Err(_) => None,
    };
    let ca_files = CaFiles::fetch(client).await.map_err(OutputError::CertAuthorities)?;
    let ctx = Context {
        ca_files: &ca_files,
        client,
        bot,
        bot_info: &bot_info,
        server: &cfg.server,
        credential_ttl: cfg.credential_ttl,
        host_cas: host_cas.map(|ders| ders.iter().map(|d| der_to_pem(d)).collect()),
    };
    let mut earliest: Option<SystemTime> = None;
    for output in &cfg.outputs {
        let expires = of(output).write(&ctx).await?;
        earliest = Some(earliest.map_or(expires, |e| e.min(expires)));
    }
    Ok(earliest)
}
