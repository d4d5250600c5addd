//! Getting a bot identity: joining with the configured method, and renewing.
//!
//! Joining differs per method, renewing does not: a token-joined bot gets a
//! *renewable* certificate and renews it with `GenerateUserCerts` (fresh
//! key, its own mTLS identity), while every other method (Azure) gets a
//! non-renewable one and must join again each time, over the authenticated
//! connection so the server keeps the bot instance (Teleport v16+).
//!
//! The method-specific part is [`Joiner`]; the Azure arm goes through
//! [`crate::azure::join`], which uses the shared `joinery_azure::join`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use joinery_azure::imds::ImdsClient;
use joinery_teleport::join::{JoinedCerts, join_with_token, timestamp};
use joinery_teleport::keys::KeyPair;
use joinery_teleport::proto::legacy::UserCertsRequest;
use joinery_teleport::{Client, Identity};

use crate::config::{Config, JoinMethod, Token};

/// Why a join or renewal failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// Teleport refused or failed; the message is the server's.
    #[error(transparent)]
    Teleport(#[from] joinery_teleport::Error),
    /// The join method cannot run in this build or on this machine.
    #[error("{0}")]
    Unavailable(String),
    /// The VM could not produce its proof (IMDS).
    #[error("cannot get the VM's Azure attestation: {0}")]
    Attestation(String),
    /// The certificate the server returned is unusable.
    #[error("the server returned an unusable certificate: {0}")]
    BadCertificate(String),
}

/// How this agent joins, per the config.
#[derive(Clone)]
pub enum Joiner {
    /// `join_method: token`.
    Token(Token),
    /// `join_method: azure`.
    Azure {
        /// The token (rule) name.
        token: Token,
        /// `onboarding.azure.client_id`.
        client_id: Option<String>,
        /// This VM's IMDS client, or why it could not be set up.
        imds: Result<Arc<ImdsClient>, String>,
    },
}

impl Joiner {
    /// The joiner for `cfg`, with the Azure attestor this build provides.
    pub fn from_config(cfg: &Config) -> Self {
        match &cfg.onboarding.method {
            JoinMethod::Token => Joiner::Token(cfg.onboarding.token.clone()),
            JoinMethod::Azure { client_id } => Joiner::Azure {
                token: cfg.onboarding.token.clone(),
                client_id: client_id.clone(),
                imds: crate::azure::imds().map(Arc::new),
            },
        }
    }

    /// The method's name, for logs.
    pub fn method(&self) -> &'static str {
        match self {
            Joiner::Token(_) => "token",
            Joiner::Azure { .. } => "azure",
        }
    }

    /// Fails early when the method cannot run in this build, before any dial.
    pub fn check_available(&self) -> Result<(), JoinError> {
        match self {
            Joiner::Azure { imds: Err(e), .. } => {
                Err(JoinError::Unavailable(format!("the azure join method is not available: IMDS: {e}")))
            }
            _ => Ok(()),
        }
    }

    /// Joins over `client` (unauthenticated for a first join, the bot's
    /// mTLS client for an Azure re-join), asking for certificates valid for
    /// `ttl`. Returns the new bot identity.
    pub async fn join(&self, client: &Client, ttl: Duration) -> Result<Identity, JoinError> {
        let (key, certs) = match self {
            Joiner::Token(token) => {
                tracing::info!(method = "token", token = %token.masked(), server = client.addr(), "joining");
                let (key, certs, service) = join_with_token(client, token.value(), ttl).await?;
                tracing::debug!(?service, "joined");
                (key, certs)
            }
            Joiner::Azure { token, client_id, imds } => {
                let imds = imds.as_ref().map_err(|e| {
                    JoinError::Unavailable(format!("the azure join method is not available: IMDS: {e}"))
                })?;
                tracing::info!(method = "azure", token = %token.masked(), server = client.addr(), "joining");
                crate::azure::join(client, token.value(), client_id.as_deref(), imds, ttl).await?
            }
        };
        to_identity(key, certs)
    }
}

/// Combines a key and certificates into an identity, reading the cluster
/// name from the certificate's issuer as tbot does.
fn to_identity(key: KeyPair, certs: JoinedCerts) -> Result<Identity, JoinError> {
    let info = joinery_teleport::identity::CertInfo::from_pem(&certs.tls_cert_pem)
        .map_err(|e| JoinError::BadCertificate(e.to_string()))?;
    Ok(certs.into_identity(&key, &info.cluster_name))
}

/// Renews a renewable (token-joined) bot identity: `GenerateUserCerts` for
/// the bot itself with a fresh key, over the bot's own mTLS connection.
pub async fn renew(client: &Client, bot: &Identity, ttl: Duration) -> Result<Identity, JoinError> {
    let info = bot.tls_info().map_err(|e| JoinError::BadCertificate(e.to_string()))?;
    let key = KeyPair::generate();
    let certs = client
        .generate_user_certs(UserCertsRequest {
            username: info.username.clone(),
            expires: Some(timestamp(SystemTime::now() + ttl)),
            ssh_public_key: key.ssh_authorized_key().into_bytes(),
            tls_public_key: key.public_key_pkix_pem().into_bytes(),
            ..Default::default()
        })
        .await?;
    let certs = JoinedCerts::from_legacy(certs)?;
    let mut identity = certs.into_identity(&key, &info.cluster_name);
    // GenerateUserCerts returns the host CAs; keep those the join gave if it returned none.
    if identity.tls_ca_pems.is_empty() {
        identity.tls_ca_pems = bot.tls_ca_pems.clone();
    }
    if identity.ssh_ca_lines.is_empty() {
        identity.ssh_ca_lines = bot.ssh_ca_lines.clone();
    }
    Ok(identity)
}
