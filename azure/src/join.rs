//! The client side of Teleport's `azure` join: what `tbot` does on an Azure VM, for the
//! Joinery agent.
//!
//! A current Teleport (18+) speaks `teleport.join.v1.JoinService/Join`:
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
//! server's reason ([`JoinError::Teleport`]).

use std::time::{Duration, SystemTime};

use joinery_teleport::join::{BOT_ROLE, JoinService, JoinStream, JoinedCerts, bot_params, legacy_bot_request};
use joinery_teleport::keys::KeyPair;
use joinery_teleport::proto::legacy::{RegisterUsingAzureMethodRequest, RegisterUsingAzureMethodResponse};
use joinery_teleport::proto::teleport::join::v1;
use joinery_teleport::{Client, Error as TeleportError};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::aia::{AiaError, AiaFetcher};
use crate::attested::{AttestedDocument, AttestedError, concat_der_certificates};
use crate::imds::{ARM_RESOURCE, IdentitySelector, ImdsClient, ImdsError};

/// The join method name.
pub const AZURE_JOIN_METHOD: &str = "azure";

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
    let attested_data = imds.attested_document(challenge).await?;
    let token = imds.access_token(ARM_RESOURCE, selector).await?;
    let intermediate = match aia {
        Some(aia) => {
            let doc = AttestedDocument::parse(&attested_data)?;
            let leaf = doc.signer_certificate()?;
            concat_der_certificates(&aia.fetch_intermediates(leaf).await?)
        }
        None => Vec::new(),
    };
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
