//! Getting a bot identity: joining with the configured method, and renewing.
//!
//! Joining differs per method, renewing does not: a token-joined bot gets a
//! *renewable* certificate and renews it with `GenerateUserCerts` (fresh
//! key, its own mTLS identity, [`renew`]), while every other method (Azure)
//! gets a non-renewable one and must join again each time, over the
//! authenticated connection so the server keeps the bot instance (Teleport
//! v16+).
//!
//! Each method is a [`Join`] in its own module, built from the
//! configuration's `onboarding` block by [`from_config`], with its own
//! typed errors (a variant of [`JoinError`]) and their metric labels.
//! Adding a method `foo` (after its block in `joinery_tbot_config`): a
//! module `foo.rs` implementing [`Join`], its arm in [`from_config`], and,
//! if it fails in ways of its own, a variant of [`JoinError`] with its
//! message and label.

pub mod azure;
pub mod github;
pub mod token;

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use joinery_tbot_config::{Config, JoinMethod, JoinMethodName, Token};
use joinery_teleport::join::{JoinedCerts, timestamp};
use joinery_teleport::keys::KeyPair;
use joinery_teleport::proto::legacy::UserCertsRequest;
use joinery_teleport::{Client, Identity};

use crate::renew::teleport_reason;

/// One join method.
#[async_trait]
pub trait Join: Send + Sync {
    /// The method's name, for logs.
    fn method(&self) -> JoinMethodName;

    /// Fails early when the method cannot run on this machine, before any dial.
    fn check_available(&self) -> Result<(), JoinError> {
        Ok(())
    }

    /// Joins over `client` (unauthenticated for a first join, the bot's
    /// mTLS client for a re-join), asking for certificates valid for `ttl`.
    async fn join(&self, client: &Client, ttl: Duration) -> Result<(KeyPair, JoinedCerts), JoinError>;

    /// What `check` prints about the method's environment, one line each.
    async fn describe(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Why a join or renewal failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// Teleport refused or failed; the message is the server's.
    #[error(transparent)]
    Teleport(#[from] joinery_teleport::Error),
    /// The join method cannot run on this machine.
    #[error("the {method} join method is not available: {reason}")]
    Unavailable {
        /// The method.
        method: JoinMethodName,
        /// Why.
        reason: String,
    },
    /// The Azure join failed.
    #[error("{}", azure::message(.0))]
    Azure(#[from] azure::JoinError),
    /// The certificate the server returned is unusable.
    #[error("the server returned an unusable certificate: {0}")]
    BadCertificate(String),
    /// The CI's ID token could not be had (`github`).
    #[error("{0}")]
    IdToken(#[from] joinery_azure::federation::FederationError),
}

impl JoinError {
    /// A short label for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            JoinError::Teleport(e) => teleport_reason(e),
            JoinError::Unavailable { .. } => "join_method_unavailable",
            JoinError::Azure(e) => azure::reason(e),
            JoinError::BadCertificate(_) => "bad_certificate",
            JoinError::IdToken(_) => "id_token",
        }
    }
}

/// The join method `cfg` configures.
pub fn from_config(cfg: &Config) -> Box<dyn Join> {
    let token = cfg.onboarding.token.clone();
    match &cfg.onboarding.method {
        JoinMethod::Token => Box::new(token::TokenJoin::new(token)),
        JoinMethod::Azure(block) => Box::new(azure::AzureJoin::new(token, block)),
        JoinMethod::Github => Box::new(github::GithubJoin::new(token)),
    }
}

/// Joins with `method` and returns the new bot identity, reading the
/// cluster name from the certificate's issuer as tbot does.
pub async fn join(method: &dyn Join, token: &Token, client: &Client, ttl: Duration) -> Result<Identity, JoinError> {
    tracing::info!(method = %method.method(), token = %token.masked(), server = client.addr(), "joining");
    let (key, certs) = method.join(client, ttl).await?;
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
        .renew_user_certs(UserCertsRequest {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_messages_come_from_the_typed_errors() {
        let denied = || joinery_teleport::Error::AccessDenied("token expired or not found".into());
        let cases = [
            (JoinError::Teleport(denied()), "access_denied", "access denied: token expired or not found"),
            (
                JoinError::Azure(azure::JoinError::Teleport(denied())),
                "access_denied",
                "access denied: token expired or not found",
            ),
            (
                JoinError::Azure(azure::JoinError::Protocol("no challenge".into())),
                "protocol",
                "unexpected response from Teleport: no challenge",
            ),
            (
                JoinError::Unavailable { method: JoinMethodName::Azure, reason: "IMDS: bad endpoint".into() },
                "join_method_unavailable",
                "the azure join method is not available: IMDS: bad endpoint",
            ),
            (
                JoinError::BadCertificate("no issuer".into()),
                "bad_certificate",
                "the server returned an unusable certificate: no issuer",
            ),
        ];
        for (error, label, message) in cases {
            assert_eq!(error.reason(), label, "{error:?}");
            assert_eq!(error.to_string(), message);
        }
    }
}
