//! Dialling Teleport the way tbot does, for the two kinds of connection the
//! agent makes.
//!
//! * **Joining** (no client certificate yet). Through `auth_server`: SNI
//!   `teleport.cluster.local`, ALPN `h2`. Through `proxy_server`: SNI the
//!   proxy host, ALPN `teleport-proxy-grpc` then `h2`. What the agent trusts
//!   is, in order: the `ca_path` file; else the cluster CA fetched over an
//!   unverified connection and accepted only if it matches a `ca_pins`
//!   entry (Teleport's `CheckSPKI`: every CA certificate must match a pin) —
//!   no secret is sent before that check; else nothing, with `insecure`;
//!   else the system roots (honouring `SSL_CERT_FILE` / `SSL_CERT_DIR`).
//! * **Authenticated** (renewal, output certificates): mTLS with the bot
//!   identity, trusting the cluster CAs the join returned, SNI
//!   `teleport.cluster.local`. Through a proxy the ALPN list starts with
//!   `teleport-auth@<hex(cluster)>.teleport.cluster.local` so a TLS-routing
//!   proxy forwards the connection to Auth.

use std::time::Duration;

use joinery_tbot_config::{Config, Server};
use joinery_teleport::identity::{ca_pin, pem_certs_to_der};
use joinery_teleport::tls::{ALPN_AUTH_PREFIX, ALPN_PROXY_GRPC, API_DOMAIN, PinnedTrust, TlsSettings, Trust};
use joinery_teleport::{Client, ClientConfig, Credentials, Identity, RetryPolicy};

use crate::renew::teleport_reason;

/// How long one call may wait for its answer (a server that accepted the
/// connection and then went silent must not hang the attempt).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one dial (TCP + TLS) may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A Teleport-level failure (dial, TLS, gRPC status).
    #[error(transparent)]
    Teleport(#[from] joinery_teleport::Error),
    /// The `ca_path` file is unusable.
    #[error("onboarding.ca_path {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The cluster CA does not match any configured pin.
    #[error("the cluster CA served by {addr} ({got}) matches none of onboarding.ca_pins; refusing to join")]
    PinMismatch {
        /// The address dialled.
        addr: String,
        /// The CA's actual pin.
        got: String,
    },
}

impl ConnectError {
    /// A short label for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            ConnectError::Teleport(e) => teleport_reason(e),
            ConnectError::CaFile { .. } => "ca_file",
            ConnectError::PinMismatch { .. } => "ca_pin_mismatch",
        }
    }
}

/// Retries for one attempt: a few quick tries, then let the renewal loop back off.
fn retry() -> RetryPolicy {
    RetryPolicy { base: Duration::from_millis(200), cap: Duration::from_secs(2), max_tries: 3 }
}

fn join_settings(server: &Server, trust: Trust) -> TlsSettings {
    match server {
        Server::Auth(_) => {
            TlsSettings { trust, client_auth: None, server_name: API_DOMAIN.into(), alpn: vec!["h2".into()] }
        }
        Server::Proxy(_) => TlsSettings {
            trust,
            client_auth: None,
            server_name: server.host().to_string(),
            alpn: vec![ALPN_PROXY_GRPC.into(), "h2".into()],
        },
    }
}

async fn dial(addr: &str, tls: TlsSettings) -> Result<Client, joinery_teleport::Error> {
    let client =
        Client::connect(ClientConfig { addr: addr.to_string(), tls, retry: retry(), dial_timeout: DIAL_TIMEOUT })
            .await?;
    Ok(client.with_call_timeout(CALL_TIMEOUT))
}

/// An unauthenticated client for joining, trusting what the config says.
pub async fn join_client(cfg: &Config) -> Result<Client, ConnectError> {
    let server = &cfg.server;
    let addr = server.addr();
    let ob = &cfg.onboarding;
    if let Some(path) = &ob.ca_path {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| ConnectError::CaFile { path: path.display().to_string(), reason: e.to_string() })?;
        let ders = pem_certs_to_der(&pem);
        if ders.is_empty() {
            return Err(ConnectError::CaFile {
                path: path.display().to_string(),
                reason: "no PEM certificate in the file".into(),
            });
        }
        return Ok(dial(addr, join_settings(server, Trust::Roots(ders))).await?);
    }
    if !ob.ca_pins.is_empty() {
        // One connection for the bootstrap and the join: the certificate
        // the server presented is checked against the pinned CA before the
        // join sends anything.
        let trust = PinnedTrust::default();
        let client = dial(addr, join_settings(server, Trust::Pinned(trust.clone()))).await?;
        let cas = fetch_pinned_ca(&client, addr, &ob.ca_pins).await?;
        return match (trust.confirm(&cas), server) {
            (Ok(()), _) => Ok(client),
            // A proxy serves its public web certificate, not the cluster CA's:
            // the pin proved we reach the right cluster, the system roots
            // prove we reach the right proxy.
            (Err(_), Server::Proxy(_)) => Ok(dial(addr, join_settings(server, Trust::System)).await?),
            (Err(e), Server::Auth(_)) => {
                Err(joinery_teleport::Error::UntrustedServer { addr: addr.to_string(), detail: e.to_string() }.into())
            }
        };
    }
    if cfg.insecure {
        tracing::warn!(addr, "insecure: the server's certificate is not verified");
        return Ok(dial(addr, join_settings(server, Trust::Insecure)).await?);
    }
    Ok(dial(addr, join_settings(server, Trust::System)).await?)
}

/// The cluster's TLS CA certificates (DER) fetched over `client`, only if
/// every one matches a pin.
async fn fetch_pinned_ca(client: &Client, addr: &str, pins: &[String]) -> Result<Vec<Vec<u8>>, ConnectError> {
    let pem = client.get_cluster_ca_cert().await?;
    let pem = String::from_utf8_lossy(&pem);
    let ders = pem_certs_to_der(&pem);
    if ders.is_empty() {
        return Err(joinery_teleport::Error::Protocol("GetClusterCACert returned no certificate".into()).into());
    }
    for der in &ders {
        let got = ca_pin(der).map_err(|e| joinery_teleport::Error::Protocol(e.to_string()))?;
        if !pins.iter().any(|p| p.eq_ignore_ascii_case(&got)) {
            return Err(ConnectError::PinMismatch { addr: addr.to_string(), got });
        }
    }
    Ok(ders)
}

/// A client authenticated as `identity` (mTLS), for renewals and output certificates.
pub async fn auth_client(cfg: &Config, identity: &Identity) -> Result<Client, ConnectError> {
    let creds = Credentials::from_identity(identity)?;
    let mut tls = creds.tls_settings();
    if cfg.insecure {
        tls.trust = Trust::Insecure;
    }
    if let Server::Proxy(_) = cfg.server {
        let cluster = creds.info().cluster_name.clone();
        tls.alpn = vec![format!("{ALPN_AUTH_PREFIX}{}.{API_DOMAIN}", hex::encode(cluster)), "h2".into()];
    }
    Ok(dial(cfg.server.addr(), tls).await?)
}
