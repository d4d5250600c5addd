//! Getting a bot identity: joining with the configured method, and renewing.
//!
//! Joining differs per method, renewing does not: a token-joined bot gets a
//! *renewable* certificate and renews it with `GenerateUserCerts` (fresh
//! key, its own mTLS identity), while every other method (Azure) gets a
//! non-renewable one and must join again each time, over the authenticated
//! connection so the server keeps the bot instance (Teleport v16+).
//!
//! The method-specific part is [`Joiner`]. The Azure arm needs a
//! [`AzureAttestor`]: something that turns the server's challenge into
//! proof from the VM (IMDS attested document + managed-identity token).
//! The protocol around it (challenge, solution, certificates) is here; the
//! attestor is plugged in from the Azure crate when the build has one.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use joinery_teleport::join::{JoinStream, JoinedCerts, bot_params, join_with_token, legacy_bot_request, timestamp};
use joinery_teleport::keys::KeyPair;
use joinery_teleport::proto::legacy::UserCertsRequest;
use joinery_teleport::proto::teleport::join::v1;
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

/// What the VM proves to the server in an Azure join.
#[derive(Clone)]
pub struct AzureSolution {
    /// The raw body of IMDS `/metadata/attested/document?nonce=<challenge>`.
    pub attested_data: Vec<u8>,
    /// Concatenated DER issuer certificates of the document's signer (no root).
    pub intermediate: Vec<u8>,
    /// A managed-identity access token for `https://management.azure.com/`.
    pub access_token: String,
}

impl std::fmt::Debug for AzureSolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureSolution").finish_non_exhaustive()
    }
}

/// The VM side of the Azure join: the seam the Azure crate plugs into.
pub trait AzureAttestor: Send + Sync {
    /// Answers the server's `challenge` (the IMDS nonce) with the attested
    /// document for it and an ARM token for the managed identity `client_id`
    /// (system-assigned when `None`).
    fn solve<'a>(
        &'a self,
        challenge: &'a str,
        client_id: Option<&'a str>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<AzureSolution, JoinError>> + Send + 'a>>;
}

/// How this agent joins, per the config.
#[derive(Clone)]
pub enum Joiner {
    /// `join_method: token`.
    Token(Token),
    /// `join_method: azure`; `attestor` is `None` when this build cannot attest.
    Azure {
        /// The token (rule) name.
        token: Token,
        /// `onboarding.azure.client_id`.
        client_id: Option<String>,
        /// The VM side.
        attestor: Option<Arc<dyn AzureAttestor>>,
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
                attestor: crate::azure::attestor(),
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
            Joiner::Azure { attestor: None, .. } => Err(JoinError::Unavailable(
                "the azure join method is not available in this build of joinery-agent (no Azure attestor)".into(),
            )),
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
            Joiner::Azure { token, client_id, attestor } => {
                let Some(attestor) = attestor else {
                    return Err(JoinError::Unavailable(
                        "the azure join method is not available in this build of joinery-agent (no Azure attestor)"
                            .into(),
                    ));
                };
                tracing::info!(method = "azure", token = %token.masked(), server = client.addr(), "joining");
                let (token, client_id, attestor) = (token.value(), client_id.as_deref(), attestor.as_ref());
                match join_azure_v1(client, token, client_id, attestor, ttl).await {
                    // A pre-v18 server: the legacy `proto.JoinService` stream.
                    Err(JoinError::Teleport(joinery_teleport::Error::NotImplemented(_))) => {
                        join_azure_legacy(client, token, client_id, attestor, ttl).await?
                    }
                    other => other?,
                }
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

/// The Azure flow on `teleport.join.v1` (§9.2): init, server init, keys,
/// challenge, solution, certificates.
async fn join_azure_v1(
    client: &Client,
    token: &str,
    client_id: Option<&str>,
    attestor: &dyn AzureAttestor,
    ttl: Duration,
) -> Result<(KeyPair, JoinedCerts), JoinError> {
    let mut stream = JoinStream::open(
        client,
        v1::ClientInit {
            join_method: Some("azure".into()),
            token_name: token.to_string(),
            system_role: joinery_teleport::join::BOT_ROLE.to_string(),
            ..Default::default()
        },
    )
    .await?;
    let _init = stream.recv_server_init().await?;
    let key = KeyPair::generate();
    stream
        .send(v1::join_request::Payload::AzureInit(v1::AzureInit {
            client_params: Some(bot_params(&key, SystemTime::now() + ttl)),
        }))
        .await?;
    let challenge = match stream.recv().await? {
        v1::join_response::Payload::Challenge(v1::Challenge {
            payload: Some(v1::challenge::Payload::AzureChallenge(c)),
        }) => c.challenge,
        other => {
            return Err(joinery_teleport::Error::Protocol(format!("expected an Azure challenge, got {other:?}")).into());
        }
    };
    let solution = match attestor.solve(&challenge, client_id).await {
        Ok(s) => s,
        Err(e) => {
            // Tell the server why, as Teleport's client does, then fail.
            let _ = stream
                .send(v1::join_request::Payload::GivingUp(v1::GivingUp {
                    reason: v1::giving_up::Reason::ChallengeSolutionFailed as i32,
                    msg: e.to_string(),
                }))
                .await;
            return Err(e);
        }
    };
    stream
        .send(v1::join_request::Payload::Solution(v1::ChallengeSolution {
            payload: Some(v1::challenge_solution::Payload::AzureChallengeSolution(v1::AzureChallengeSolution {
                attested_data: solution.attested_data,
                intermediate: solution.intermediate,
                access_token: solution.access_token,
            })),
        }))
        .await?;
    let certs = stream.recv_bot_result().await?;
    Ok((key, certs))
}

/// The Azure flow on the legacy `proto.JoinService/RegisterUsingAzureMethod`
/// stream (§8.2): the server speaks first with the challenge; the client
/// answers with its keys, the attested document and the token.
async fn join_azure_legacy(
    client: &Client,
    token: &str,
    client_id: Option<&str>,
    attestor: &dyn AzureAttestor,
    ttl: Duration,
) -> Result<(KeyPair, JoinedCerts), JoinError> {
    use joinery_teleport::Error;
    use joinery_teleport::proto::legacy::{RegisterUsingAzureMethodRequest, RegisterUsingAzureMethodResponse};
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let mut responses = client
        .legacy_join()
        .register_using_azure_method(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .map_err(Error::from)?
        .into_inner();
    let challenge = match responses.message().await.map_err(Error::from)? {
        Some(RegisterUsingAzureMethodResponse { challenge, .. }) if !challenge.is_empty() => challenge,
        _ => return Err(Error::Protocol("expected an Azure challenge first".into()).into()),
    };
    let solution = attestor.solve(&challenge, client_id).await?;
    let key = KeyPair::generate();
    tx.send(RegisterUsingAzureMethodRequest {
        register_using_token_request: Some(legacy_bot_request(token, &key, SystemTime::now() + ttl)),
        attested_data: solution.attested_data,
        access_token: solution.access_token,
    })
    .await
    .map_err(|_| Error::Protocol("join stream closed by the server".into()))?;
    match responses.message().await.map_err(Error::from)? {
        Some(RegisterUsingAzureMethodResponse { certs: Some(certs), .. }) => {
            Ok((key, JoinedCerts::from_legacy(certs)?))
        }
        _ => Err(Error::Protocol("the join stream ended without certificates".into()).into()),
    }
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
