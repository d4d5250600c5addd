//! `join_method: azure`: the VM proves who it is with what only Azure can
//! produce, answered from the Instance Metadata Service (IMDS).
//!
//! The protocol is what Teleport's client does. A current Teleport (18+)
//! speaks `teleport.join.v1.JoinService/Join`:
//!
//! 1. `ClientInit{join_method: "azure", token_name, system_role: "Bot"}` → `ServerInit`;
//! 2. the key pair is generated only now (the server names the key suite), then
//!    `AzureInit{bot_params}` → `AzureChallenge{challenge}`;
//! 3. from IMDS: the attested document with `nonce = challenge` and a managed-identity token
//!    for exactly `https://management.azure.com/` (trailing slash: the server compares the
//!    audience exactly); the intermediates are fetched from the document leaf's AIA URL, under
//!    the [`AiaFetcher`]'s allow-list, because newer servers reject a solution without them;
//! 4. `AzureChallengeSolution{attested_data, intermediate (concatenated DER), access_token}`
//!    → the bot certificates.
//!
//! An older server answers `Unimplemented`, and a server whose `join.v1` Azure messages differ
//! from these fails at the protocol level; either way the client then uses the legacy
//! `proto.JoinService/RegisterUsingAzureMethod` stream ([`join_with_azure`]), where **the server speaks first** with
//! the challenge and the server fetches intermediates itself. Server rejections keep the
//! server's reason ([`JoinError::Teleport`]); [`AzureJoin`] adds to a refusal what it knows
//! of the VM and the fix ([`JoinError::Rejected`], [`vm`]); when the VM cannot produce its proof, the client
//! tells the server why (`GivingUp`) before it reports the local failure.
//!
//! [`join_with_azure`] and its two halves are public for the devstack's tests and the benches;
//! [`AzureJoin`] wires them to the VM: its IMDS client, the AIA allow-list, the configured
//! user-assigned identity. `JOINERY_IMDS_ENDPOINT` points IMDS elsewhere (the devstack);
//! `JOINERY_AZURE_AIA_ALLOW` (comma separated) allows more AIA hosts than Microsoft's, for the
//! same reason.

use std::time::{Duration, SystemTime};

mod error;
pub mod vm;

use error::is_pending;
pub use error::{JoinError, REJECTION_DOC};
pub(super) use error::{message, reason};

use async_trait::async_trait;
use joinery_azure::aia::AiaFetcher;
use joinery_azure::attested::{AttestedDocument, concat_der_certificates};
use joinery_azure::imds::{ARM_RESOURCE, IdentitySelector, ImdsClient, RetryPolicy};
use joinery_tbot_config::onboarding::azure::AzureOnboarding;
use joinery_tbot_config::{JoinMethodName, Token};
use joinery_teleport::join::{BOT_ROLE, JoinService, JoinStream, JoinedCerts, bot_params, legacy_bot_request};
use joinery_teleport::keys::KeyPair;
use joinery_teleport::proto::legacy::{RegisterUsingAzureMethodRequest, RegisterUsingAzureMethodResponse};
use joinery_teleport::proto::teleport::join::v1;
use joinery_teleport::{Client, Error as TeleportError};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::Join;

/// The method's name on the wire.
const AZURE_JOIN_METHOD: &str = JoinMethodName::Azure.as_str();

/// What IMDS proved for one challenge.
struct Proof {
    attested_data: Vec<u8>,
    access_token: String,
    intermediate: Vec<u8>,
}

async fn prove(
    challenge: &str,
    imds: &ImdsClient,
    selector: Option<&IdentitySelector>,
    aia: Option<&AiaFetcher>,
) -> Result<Proof, JoinError> {
    // The token does not depend on the document: IMDS answers both at once,
    // and the intermediates follow the document while the token is on its way.
    let document = async {
        let attested_data = imds.attested_document(challenge).await?;
        let intermediate = match aia {
            Some(aia) => {
                let doc = AttestedDocument::parse(&attested_data)?;
                let leaf = doc.signer_certificate()?;
                concat_der_certificates(&aia.fetch_intermediates(leaf).await?)
            }
            None => Vec::new(),
        };
        Ok::<_, JoinError>((attested_data, intermediate))
    };
    let token = async { Ok::<_, JoinError>(imds.access_token(ARM_RESOURCE, selector).await?) };
    let ((attested_data, intermediate), token) = tokio::try_join!(document, token)?;
    Ok(Proof { attested_data, access_token: token.access_token, intermediate })
}

/// Joins as a bot with the `azure` method: `teleport.join.v1` first, the legacy service when
/// the v1 attempt fails for a reason of protocol, not of access ([`JoinError::is_protocol_doubt`]).
/// A fresh key is generated for every join. The first fallback of the process is logged with
/// its reason as a warning, later ones at debug level.
pub async fn join_with_azure(
    client: &Client,
    token: &str,
    ttl: Duration,
    imds: &ImdsClient,
    selector: Option<IdentitySelector>,
    aia: &AiaFetcher,
) -> Result<(KeyPair, JoinedCerts, JoinService), JoinError> {
    let v1_error = match join_with_azure_v1(client, token, ttl, imds, selector.as_ref(), aia).await {
        Ok((key, certs)) => return Ok((key, certs, JoinService::V1)),
        Err(e) if e.is_protocol_doubt() => e,
        Err(e) => return Err(e),
    };
    static LOGGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !LOGGED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            reason = %v1_error,
            "teleport.join.v1 cannot do this Azure join; falling back to the legacy \
             proto.JoinService/RegisterUsingAzureMethod stream (logged once)"
        );
    } else {
        tracing::debug!(reason = %v1_error, "falling back to the legacy Azure join");
    }
    match join_with_azure_legacy(client, token, ttl, imds, selector.as_ref()).await {
        Ok((key, certs)) => Ok((key, certs, JoinService::Legacy)),
        // A server with neither: what its v1 service said is the better reason.
        Err(JoinError::Teleport(TeleportError::NotImplemented(_))) => Err(v1_error),
        Err(e) => Err(e),
    }
}

/// The `teleport.join.v1` Azure join only.
pub async fn join_with_azure_v1(
    client: &Client,
    token: &str,
    ttl: Duration,
    imds: &ImdsClient,
    selector: Option<&IdentitySelector>,
    aia: &AiaFetcher,
) -> Result<(KeyPair, JoinedCerts), JoinError> {
    let mut stream = JoinStream::open(client, client_init(token)).await?;
    let init = stream.recv_server_init().await?;
    if init.join_method != AZURE_JOIN_METHOD {
        return Err(JoinError::Protocol(format!(
            "server chose join method {:?}, expected \"azure\"",
            init.join_method
        )));
    }
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
        other => return Err(JoinError::Protocol(format!("expected an Azure challenge, got {other:?}"))),
    };
    let proof = match prove(&challenge, imds, selector, Some(aia)).await {
        Ok(p) => p,
        Err(e) => {
            // Tell the server why, as tbot does, then report the local failure.
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
                attested_data: proof.attested_data,
                intermediate: proof.intermediate,
                access_token: proof.access_token,
            })),
        }))
        .await?;
    let certs = stream.recv_bot_result().await?;
    Ok((key, certs))
}

/// The `ClientInit` of an Azure bot join with `token`.
fn client_init(token: &str) -> v1::ClientInit {
    v1::ClientInit {
        join_method: Some(AZURE_JOIN_METHOD.into()),
        token_name: token.to_string(),
        system_role: BOT_ROLE.to_string(),
        ..Default::default()
    }
}

/// Asks `teleport.join.v1` whether it takes `token` for an Azure bot join, without proving
/// anything: `ClientInit`, then `ServerInit` or the server's refusal, then the stream is
/// dropped. What `check --join` uses to tell a token Teleport refuses from a VM it refuses.
pub async fn probe_token(client: &Client, token: &str) -> Result<(), TeleportError> {
    let mut stream = JoinStream::open(client, client_init(token)).await?;
    stream.recv_server_init().await.map(|_| ())
}

/// The legacy `proto.JoinService/RegisterUsingAzureMethod` join only (pre-v18 servers). The
/// server speaks first; no intermediates are sent (the server fetches them).
pub async fn join_with_azure_legacy(
    client: &Client,
    token: &str,
    ttl: Duration,
    imds: &ImdsClient,
    selector: Option<&IdentitySelector>,
) -> Result<(KeyPair, JoinedCerts), JoinError> {
    let (tx, rx) = mpsc::channel::<RegisterUsingAzureMethodRequest>(2);
    let mut responses = client
        .legacy_join()
        .register_using_azure_method(ReceiverStream::new(rx))
        .await
        .map_err(TeleportError::from)?
        .into_inner();
    let first: RegisterUsingAzureMethodResponse = responses
        .message()
        .await
        .map_err(TeleportError::from)?
        .ok_or_else(|| JoinError::Protocol("the server closed the stream before sending a challenge".into()))?;
    if first.challenge.is_empty() {
        return Err(JoinError::Protocol("the first message carries no challenge".into()));
    }
    let proof = prove(&first.challenge, imds, selector, None).await?;
    let key = KeyPair::generate();
    tx.send(RegisterUsingAzureMethodRequest {
        register_using_token_request: Some(legacy_bot_request(token, &key, SystemTime::now() + ttl)),
        attested_data: proof.attested_data,
        access_token: proof.access_token,
    })
    .await
    .map_err(|_| JoinError::Protocol("the server closed the stream".into()))?;
    let second = responses
        .message()
        .await
        .map_err(TeleportError::from)?
        .ok_or_else(|| JoinError::Protocol("the server closed the stream without certificates".into()))?;
    let certs = second.certs.ok_or_else(|| JoinError::Protocol("the response carries no certificates".into()))?;
    Ok((key, JoinedCerts::from_legacy(certs)?))
}

/// Extra AIA hosts (comma separated), for emulated Azure PKIs.
const AIA_ALLOW_ENV: &str = "JOINERY_AZURE_AIA_ALLOW";

/// The IMDS api-version the agent asks for: one that serves both the
/// attested document with a nonce (≥ 2019-06-04) and managed-identity
/// tokens, from Microsoft's list of supported versions (IMDS keeps serving
/// old versions). Pinned rather than discovered through `/metadata/versions`:
/// discovery costs a round trip before the first useful call of every
/// one-shot join.
pub(crate) const IMDS_API_VERSION: &str = "2021-02-01";

/// This VM's IMDS client (`JOINERY_IMDS_ENDPOINT` or the link-local address)
/// at [`IMDS_API_VERSION`].
pub(crate) fn vm_imds() -> Result<ImdsClient, joinery_azure::imds::ImdsError> {
    Ok(ImdsClient::from_env()?.with_api_version(IMDS_API_VERSION))
}

/// IMDS retries during a join: a join makes two IMDS calls at once (the
/// attested document, the token), each bounded by its budget plus one
/// request, so that even both failing slowly end inside the agent's
/// 60 s attempt deadline and report what IMDS answered.
fn imds_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 5,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(8),
        budget: Duration::from_secs(12),
    }
}

/// How long one IMDS request may take during a join.
const IMDS_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The `azure` method on this VM.
pub struct AzureJoin {
    token: Token,
    client_id: Option<String>,
    /// This VM's IMDS client, or why it could not be set up.
    imds: Result<ImdsClient, String>,
}

impl AzureJoin {
    /// The configured `onboarding.azure.client_id`.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// An access-denied answer, with what the agent knows of this VM added
    /// (IMDS asked once more: the proof itself is not kept). Other errors,
    /// and a role assignment not effective yet, are returned as they are.
    async fn with_context(&self, e: JoinError) -> JoinError {
        match e {
            JoinError::Teleport(source @ TeleportError::AccessDenied(_)) if !is_pending(&source) => {
                let vm = vm::VmFacts::read(self.client_id.as_deref()).await.map_err(|e| e.to_string());
                JoinError::Rejected { source, token: self.token.masked(), vm: Box::new(vm) }
            }
            other => other,
        }
    }

    /// Joins with the token (rule) named `token`, as the identity `block` selects.
    pub fn new(token: Token, block: &AzureOnboarding) -> Self {
        let imds = vm_imds()
            .map(|c| c.with_retry_policy(imds_retry()).with_request_timeout(IMDS_REQUEST_TIMEOUT))
            .map_err(|e| e.to_string());
        AzureJoin { token, client_id: block.client_id.clone(), imds }
    }

    fn imds(&self) -> Result<&ImdsClient, super::JoinError> {
        self.imds
            .as_ref()
            .map_err(|e| super::JoinError::Unavailable { method: JoinMethodName::Azure, reason: format!("IMDS: {e}") })
    }
}

#[async_trait]
impl Join for AzureJoin {
    fn method(&self) -> JoinMethodName {
        JoinMethodName::Azure
    }

    fn check_available(&self) -> Result<(), super::JoinError> {
        self.imds().map(|_| ())
    }

    async fn join(&self, client: &Client, ttl: Duration) -> Result<(KeyPair, JoinedCerts), super::JoinError> {
        let imds = self.imds()?;
        let mut aia = AiaFetcher::new().map_err(JoinError::Aia)?;
        if let Ok(hosts) = std::env::var(AIA_ALLOW_ENV) {
            for h in hosts.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                aia = aia.allow_host(h);
            }
        }
        let selector = self.client_id.as_ref().map(|c| IdentitySelector::ClientId(c.clone()));
        match join_with_azure(client, self.token.value(), ttl, imds, selector, &aia).await {
            Ok((key, certs, service)) => {
                tracing::debug!(?service, "joined");
                Ok((key, certs))
            }
            Err(e) => Err(self.with_context(e).await.into()),
        }
    }

    async fn describe(&self) -> Vec<String> {
        let client_id = self.client_id.as_deref();
        let mut lines = vec![format!("azure.client_id: {}", client_id.unwrap_or("(system-assigned identity)"))];
        match vm::VmFacts::read(client_id).await {
            Ok(facts) => lines.extend(facts.lines().into_iter().map(|(k, v)| format!("azure.{k}: {v}"))),
            Err(e) => lines.push(format!("azure: not available: {e}")),
        }
        lines
    }
}
