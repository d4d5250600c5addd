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
//! An older server answers `Unimplemented`; the client then uses the legacy
//! `proto.JoinService/RegisterUsingAzureMethod` stream, where **the server speaks first** with
//! the challenge and the server fetches intermediates itself. Server rejections keep the
//! server's reason ([`JoinError::Teleport`]); when the VM cannot produce its proof, the client
//! tells the server why (`GivingUp`) before it reports the local failure.
//!
//! [`join_with_azure`] and its two halves are public for the devstack's tests and the benches;
//! [`AzureJoin`] wires them to the VM: its IMDS client, the AIA allow-list, the configured
//! user-assigned identity. `JOINERY_IMDS_ENDPOINT` points IMDS elsewhere (the devstack);
//! `JOINERY_AZURE_AIA_ALLOW` (comma separated) allows more AIA hosts than Microsoft's, for the
//! same reason.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use base64::Engine;
use joinery_azure::aia::{AiaError, AiaFetcher};
use joinery_azure::attested::{AttestedDocument, AttestedError, concat_der_certificates};
use joinery_azure::imds::{ARM_RESOURCE, IdentitySelector, ImdsClient, ImdsError, RetryPolicy};
use joinery_azure::jwt::AccessTokenClaims;
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
use crate::renew::teleport_reason;

/// The method's name on the wire.
const AZURE_JOIN_METHOD: &str = JoinMethodName::Azure.as_str();

/// Why an Azure join failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// Teleport refused or failed; the message is the server's reason.
    #[error("azure join: {0}")]
    Teleport(#[from] TeleportError),
    /// IMDS could not provide the document or token.
    #[error("azure join: {0}")]
    Imds(#[from] ImdsError),
    /// The attested document IMDS returned cannot be read.
    #[error("azure join: attested document from IMDS: {0}")]
    Document(#[from] AttestedError),
    /// The intermediates could not be fetched.
    #[error("azure join: fetching the attested document's intermediate certificates: {0}")]
    Aia(#[from] AiaError),
    /// The server broke the protocol.
    #[error("azure join: unexpected response from Teleport: {0}")]
    Protocol(String),
}

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

/// Joins as a bot with the `azure` method: `teleport.join.v1` first, the legacy service if
/// the server does not implement it. A fresh key is generated for every join.
pub async fn join_with_azure(
    client: &Client,
    token: &str,
    ttl: Duration,
    imds: &ImdsClient,
    selector: Option<IdentitySelector>,
    aia: &AiaFetcher,
) -> Result<(KeyPair, JoinedCerts, JoinService), JoinError> {
    match join_with_azure_v1(client, token, ttl, imds, selector.as_ref(), aia).await {
        Ok((key, certs)) => Ok((key, certs, JoinService::V1)),
        Err(JoinError::Teleport(TeleportError::NotImplemented(m))) => {
            tracing::debug!(reason = %m, "teleport.join.v1 not implemented; using the legacy Azure join");
            let (key, certs) = join_with_azure_legacy(client, token, ttl, imds, selector.as_ref()).await?;
            Ok((key, certs, JoinService::Legacy))
        }
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
    let mut stream = JoinStream::open(
        client,
        v1::ClientInit {
            join_method: Some(AZURE_JOIN_METHOD.into()),
            token_name: token.to_string(),
            system_role: BOT_ROLE.to_string(),
            ..Default::default()
        },
    )
    .await?;
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

/// IMDS retries during a join: a join makes three IMDS calls (versions, the
/// attested document, the token), each bounded by its budget plus one
/// request, so that even all three failing slowly end inside the agent's
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
    /// Joins with the token (rule) named `token`, as the identity `block` selects.
    pub fn new(token: Token, block: &AzureOnboarding) -> Self {
        let imds = ImdsClient::from_env()
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
        let (key, certs, service) = join_with_azure(client, self.token.value(), ttl, imds, selector, &aia).await?;
        tracing::debug!(?service, "joined");
        Ok((key, certs))
    }

    async fn describe(&self) -> Vec<String> {
        let client_id = self.client_id.as_deref();
        let mut lines = vec![format!("azure.client_id: {}", client_id.unwrap_or("(system-assigned identity)"))];
        match describe_vm(client_id).await {
            Ok(facts) => lines.extend(facts.into_iter().map(|(k, v)| format!("azure.{k}: {v}"))),
            Err(e) => lines.push(format!("azure: not available: {e}")),
        }
        lines
    }
}

impl JoinError {
    /// ARM's message when Teleport refused the join because its ARM look-up of this VM, made
    /// with the VM's own token, was refused with `AuthorizationFailed`: the identity's role
    /// assignment has not taken effect yet (Azure applies one within about 10 minutes). This
    /// is what a VM's first boot meets with a Teleport that looks VMs up in ARM (before v16,
    /// or when the token does not name the VM), and it passes by itself.
    ///
    /// Teleport hands on the Azure SDK's error text (`azcore.ResponseError`: request,
    /// `RESPONSE 403: …`, `ERROR CODE: …`, the JSON body) as `AccessDenied`; the code is read
    /// from its `ERROR CODE:` line, the message from its body.
    pub fn role_assignment_pending(&self) -> Option<String> {
        let JoinError::Teleport(TeleportError::AccessDenied(text)) = self else { return None };
        let code = text.lines().find_map(|l| l.trim().strip_prefix("ERROR CODE: "))?;
        if code.trim() != "AuthorizationFailed" {
            return None;
        }
        let body = text.find('{').and_then(|start| {
            let end = text.rfind('}')?;
            serde_json::from_str::<serde_json::Value>(&text[start..=end]).ok()
        });
        let message = body
            .as_ref()
            .and_then(|b| b.pointer("/error/message"))
            .and_then(|m| m.as_str())
            .unwrap_or("the identity may not read the VM");
        Some(message.to_string())
    }
}

/// How the agent reports a failed Azure join: the server's reason as is, a
/// broken exchange as a Teleport protocol error, the VM's own failures
/// as an attestation problem, and a role assignment that has not taken
/// effect yet as exactly that (the daemon retries it with backoff).
pub(super) fn message(e: &JoinError) -> String {
    if let Some(arm) = e.role_assignment_pending() {
        return format!(
            "role assignment not effective yet: Teleport's ARM look-up of this VM with its managed identity was refused \
             (AuthorizationFailed: {arm}); Azure applies a new role assignment within about 10 minutes, so this passes \
             by itself (the agent retries)"
        );
    }
    match e {
        JoinError::Teleport(e) => e.to_string(),
        JoinError::Protocol(m) => TeleportError::Protocol(m.clone()).to_string(),
        JoinError::Imds(e) => attestation(e),
        JoinError::Document(e) => attestation(e),
        JoinError::Aia(e) => attestation(e),
    }
}

fn attestation(e: &dyn std::fmt::Display) -> String {
    format!("cannot get the VM's Azure attestation: {e}")
}

/// The metric label of a failed Azure join: the cause, as precisely as a
/// bounded set of labels allows (IMDS's HTTP status, unreachable IMDS, a bad
/// document, the AIA download, or the server's reason).
pub(super) fn reason(e: &JoinError) -> &'static str {
    if e.role_assignment_pending().is_some() {
        return "azure_role_assignment_pending";
    }
    match e {
        JoinError::Teleport(e) => teleport_reason(e),
        JoinError::Protocol(_) => "protocol",
        JoinError::Imds(e) => imds_reason(e),
        JoinError::Document(_) => "attestation_document",
        JoinError::Aia(_) => "attestation_aia",
    }
}

fn imds_reason(e: &ImdsError) -> &'static str {
    match e {
        ImdsError::GaveUp { last, .. } => imds_reason(last),
        ImdsError::Unreachable { .. } => "imds_unreachable",
        ImdsError::Status { status, .. } => match status {
            400 => "imds_http_400",
            403 => "imds_http_403",
            404 => "imds_http_404",
            410 => "imds_http_410",
            429 => "imds_http_429",
            500 => "imds_http_500",
            502 => "imds_http_502",
            503 => "imds_http_503",
            504 => "imds_http_504",
            _ => "imds_http_other",
        },
        ImdsError::BadResponse { .. } => "imds_bad_response",
        ImdsError::VersionTooOld(_) => "imds_version",
        ImdsError::InvalidNonce => "protocol",
        ImdsError::Setup(_) => "imds_setup",
    }
}

/// What `check` prints about the VM: subscription, resource group, vmId and
/// the managed identity, from IMDS (an attested document and a token whose
/// claims are read, not verified: this is a diagnostic).
async fn describe_vm(client_id: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let imds =
        ImdsClient::from_env().map_err(|e| e.to_string())?.with_retry_policy(joinery_azure::imds::RetryPolicy::none());
    let mut out = vec![("imds".to_string(), imds.base_url().to_string())];
    let body = imds.attested_document("joineryagentcheck").await.map_err(|e| e.to_string())?;
    let doc = AttestedDocument::parse(&body).map_err(|e| format!("attested document: {e}"))?;
    let data = doc.data();
    out.push(("subscription".into(), data.subscription_id.clone().unwrap_or_else(|| "(not in document)".into())));
    out.push(("vm_id".into(), data.vm_id.clone()));
    let selector = client_id.map(|c| IdentitySelector::ClientId(c.to_string()));
    match imds.access_token(ARM_RESOURCE, selector.as_ref()).await {
        Ok(token) => match claims(&token.access_token) {
            Some(c) => {
                let vm = c.vm_resource_id();
                out.push((
                    "resource_group".into(),
                    vm.as_ref().and_then(|r| r.resource_group.clone()).unwrap_or_else(|| "(unknown)".into()),
                ));
                if let Some(name) = vm.as_ref().and_then(|r| r.name().map(str::to_string)) {
                    out.push(("vm_name".into(), name));
                }
                out.push(("identity".into(), c.xms_mirid.clone().unwrap_or_else(|| "(unknown)".into())));
                out.push(("identity.principal_id".into(), c.oid.clone().unwrap_or_default()));
                out.push(("identity.client_id".into(), c.appid.clone().unwrap_or_default()));
                out.push(("tenant".into(), c.tid.clone()));
            }
            None => out.push(("identity".into(), "(token claims unreadable)".into())),
        },
        Err(e) => out.push(("identity".into(), format!("no managed identity token: {e}"))),
    }
    Ok(out)
}

/// The unverified claims of a JWT.
fn claims(jwt: &str) -> Option<AccessTokenClaims> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}
