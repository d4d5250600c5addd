//! The devstack's `azure` join method: Teleport's server-side checks, in Teleport's order,
//! against the emulator's Azure instead of the real one.
//!
//! 1. challenge: base64url (no padding) of 24 random bytes, 32 characters;
//! 2. attested document: PKCS#7 signature, nonce == challenge, signer named after
//!    `metadata.azure.com`, chain to the **emulator's** pinned root through the intermediates
//!    the client sent (`teleport.join.v1`) or, on the legacy stream, the one fetched from the
//!    leaf's AIA URL (allow-listed to the emulator's AIA host only);
//! 3. access token: RS256 under the tenant's JWKS (discovered from the emulated authority
//!    while the issuer stays `https://sts.windows.net/{tid}/`), `aud` exactly
//!    `https://management.azure.com/`, unexpired;
//! 4. subscription and resource group: from `xms_az_rid` / `xms_mirid` when it names a VM
//!    (the attested `subscriptionId` must match), else — and always with
//!    `--azure-verifier-arm-lookup always`, as Teleport before v16 did — through ARM **with
//!    the client's token**: a GET of the VM `xms_mirid` names (system-assigned identity) or a
//!    list of the subscription's VMs (user-assigned), so an identity without
//!    `Microsoft.Compute/virtualMachines/read` — or whose role assignment has not taken effect
//!    yet — is refused by the emulated ARM. An ARM refusal reaches the client the way
//!    Teleport's `ConvertResponseError` passes on the Azure SDK's error: `AccessDenied` (403)
//!    or `NotFound` (404) carrying the `azcore.ResponseError` text, whose `ERROR CODE:` line
//!    names ARM's code;
//! 5. allow rules: any rule with the same subscription (exact) and either no resource groups
//!    or a case-insensitively equal one.
//!
//! Each rejection is a gRPC status whose message names the failed check, logged in full here.

use base64::Engine as _;
use joinery_azure::aia::{AiaError, AiaFetcher};
use joinery_azure::arm::{ArmClient, ArmError, ArmOptions};
use joinery_azure::attested::{AttestedDocument, AttestedVerifier, RootStore, split_der_certificates};
use joinery_azure::jwt::{AccessTokenVerifier, VerifierOptions};
use joinery_teleport::proto::types::ProvisionTokenV2;
use time::OffsetDateTime;
use tonic::Status;

use joinery_teleport::proto::teleport::join::v1;

use super::realism::ArmLookup;
use crate::teleport::delegated::{
    BotKeys, ChallengeJoin, ChallengeSolution, DelegatedJoin, Exchange, bot_params, unexpected_message,
};

/// Verifies Azure joins against the emulator.
pub struct AzureVerifier {
    attested: AttestedVerifier,
    tokens: AccessTokenVerifier,
    aia: AiaFetcher,
    arm: ArmOptions,
    arm_lookup: ArmLookup,
}

/// Where the verifier finds the emulated Azure.
pub struct VerifierConfig {
    /// DER of the attestation root to pin.
    pub root_der: Vec<u8>,
    /// `host:port` allowed for AIA downloads (the IMDS listener).
    pub aia_host: String,
    /// Emulated authority base URL (discovery).
    pub authority: String,
    /// Emulated ARM base URL.
    pub arm_endpoint: String,
    /// PEM of the emulator's HTTPS CA.
    pub https_ca_pem: Vec<u8>,
    /// When to look the VM up in ARM.
    pub arm_lookup: ArmLookup,
}

fn deny(msg: impl std::fmt::Display) -> Status {
    Status::permission_denied(msg.to_string())
}

impl AzureVerifier {
    /// Builds the verifier.
    pub fn new(cfg: VerifierConfig) -> anyhow::Result<Self> {
        let roots = RootStore::empty().with_der(&cfg.root_der)?;
        let tokens = AccessTokenVerifier::new(VerifierOptions {
            discovery_base: Some(format!("{}/", cfg.authority.trim_end_matches('/'))),
            extra_ca_pem: Some(cfg.https_ca_pem.clone()),
            expected_tenant: None,
            leeway: None,
        })?;
        Ok(AzureVerifier {
            attested: AttestedVerifier::new(roots),
            tokens,
            aia: AiaFetcher::new()?.with_allowed_hosts([cfg.aia_host]),
            arm: ArmOptions { base_url: Some(cfg.arm_endpoint), extra_ca_pem: Some(cfg.https_ca_pem) },
            arm_lookup: cfg.arm_lookup,
        })
    }

    /// The legacy stream carries no intermediates: fetch the leaf's issuer as Teleport does.
    /// A document that cannot be read yields none, and verification then says what is wrong.
    async fn fetch_issuers(&self, attested_data: &[u8]) -> Result<Vec<Vec<u8>>, Status> {
        let Ok(doc) = AttestedDocument::parse(attested_data) else { return Ok(vec![]) };
        let Ok(leaf) = doc.signer_certificate() else { return Ok(vec![]) };
        match self.aia.fetch_intermediates(leaf).await {
            Ok(certs) => Ok(certs),
            Err(AiaError::NoAia) => Ok(vec![]),
            Err(e) => Err(deny(format!("unable to fetch the attested data signer's issuer certificate: {e}"))),
        }
    }

    async fn check(
        &self,
        token: &ProvisionTokenV2,
        challenge: &str,
        solution: ChallengeSolution,
    ) -> Result<String, Status> {
        let token_name = token.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default();
        let now = OffsetDateTime::now_utc();
        let intermediates = match &solution.intermediate {
            Some(bytes) => split_der_certificates(bytes).map_err(|e| Status::invalid_argument(e.to_string()))?,
            None => self.fetch_issuers(&solution.attested_data).await?,
        };
        let attested = self.attested.verify(&solution.attested_data, challenge, &intermediates, now).map_err(deny)?;
        let vm_id = attested.data.vm_id.clone();
        let attested_sub = attested
            .data
            .subscription_id
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| deny("attested data has no subscriptionId (api-version older than 2019-04-30?)"))?;
        let claims = self.tokens.verify(&solution.access_token, now).await.map_err(deny)?;

        let from_claims = match self.arm_lookup {
            ArmLookup::Fallback => claims.vm_resource_id(),
            ArmLookup::Always => None,
        };
        let (subscription, resource_group) = match from_claims {
            Some(rid) => {
                let sub = rid.subscription.clone().unwrap_or_default();
                if !sub.eq_ignore_ascii_case(&attested_sub) {
                    return Err(deny(format!(
                        "subscription {attested_sub:?} of the attested data does not match subscription {sub:?} of the access token's VM"
                    )));
                }
                (sub, rid.resource_group.clone().unwrap_or_default())
            }
            None => self.look_up_vm(&solution.access_token, &claims, &attested_sub, &vm_id).await?,
        };

        let rules = token.spec.as_ref().and_then(|s| s.azure.as_ref()).map(|a| a.allow.clone()).unwrap_or_default();
        let allowed = rules.iter().any(|r| {
            r.subscription == subscription
                && (r.resource_groups.is_empty()
                    || r.resource_groups.iter().any(|g| g.eq_ignore_ascii_case(&resource_group)))
        });
        if !allowed {
            return Err(deny(format!("instance {vm_id} did not match any allow rules in token {token_name}")));
        }
        Ok(format!("vm {vm_id} in subscription {subscription}, resource group {resource_group}"))
    }
}

impl AzureVerifier {
    /// The VM's subscription and resource group from ARM, with the client's own token:
    /// `xms_mirid` names the VM (system-assigned identity) → GET it and compare `vmId`; else
    /// list the subscription's VMs and find `vm_id`.
    async fn look_up_vm(
        &self,
        access_token: &str,
        claims: &joinery_azure::jwt::AccessTokenClaims,
        subscription: &str,
        vm_id: &str,
    ) -> Result<(String, String), Status> {
        let arm =
            ArmClient::new(access_token.to_string(), self.arm.clone()).map_err(|e| Status::internal(e.to_string()))?;
        let mirid = claims.xms_mirid.as_deref().unwrap_or_default();
        let by_id = joinery_azure::resource_id::ResourceId::parse(mirid).is_ok_and(|r| r.is_virtual_machine());
        let vm = if by_id {
            let vm = arm.get_vm(mirid).await.map_err(arm_refusal)?;
            if !vm.properties.vm_id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(vm_id)) {
                return Err(deny("vm ID does not match"));
            }
            vm
        } else {
            let vms = arm.list_vms(subscription).await.map_err(|e| match e.status() {
                Some(404) => deny("no VM found with matching VM ID"),
                _ => arm_refusal(e),
            })?;
            vms.into_iter()
                .find(|v| v.properties.vm_id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(vm_id)))
                .ok_or_else(|| deny("no VM found with matching VM ID"))?
        };
        let rid = joinery_azure::resource_id::ResourceId::parse(&vm.id).map_err(deny)?;
        Ok((rid.subscription.unwrap_or_default(), rid.resource_group.unwrap_or_default()))
    }
}

/// An ARM failure as Teleport reports it: the Azure SDK's `ResponseError` text (request,
/// status, `ERROR CODE:` and the indented body), as `AccessDenied` for 403 and `NotFound` for
/// 404 (Teleport's `ConvertResponseError`), passed through otherwise.
fn arm_refusal(e: ArmError) -> Status {
    let ArmError::Api { status, code, message, request } = &e else {
        return Status::unknown(e.to_string());
    };
    const SEPARATOR: &str = "--------------------------------------------------------------------------------";
    let reason = hyper::StatusCode::from_u16(*status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
    let body = serde_json::to_string_pretty(&serde_json::json!({"error": {"code": code, "message": message}}))
        .unwrap_or_default();
    let text = format!(
        "{request}\n{SEPARATOR}\nRESPONSE {status}: {status} {reason}\nERROR CODE: {code}\n{SEPARATOR}\n{body}\n{SEPARATOR}\n"
    );
    match status {
        403 => Status::permission_denied(text),
        404 => Status::not_found(text),
        _ => Status::unknown(text),
    }
}

#[tonic::async_trait]
impl DelegatedJoin for AzureVerifier {
    fn method(&self) -> &'static str {
        "azure"
    }

    /// `AzureInit` (bot parameters) → `AzureChallenge` → `AzureChallengeSolution`.
    async fn join_v1(
        &self,
        token: &ProvisionTokenV2,
        first: v1::join_request::Payload,
        exchange: &mut Exchange<'_>,
    ) -> Result<BotKeys, Status> {
        let v1::join_request::Payload::AzureInit(init) = first else {
            return Err(unexpected_message(self.method()));
        };
        let keys = bot_params(init.client_params)?;
        let challenge = self.challenge();
        exchange
            .send(v1::join_response::Payload::Challenge(v1::Challenge {
                payload: Some(v1::challenge::Payload::AzureChallenge(v1::AzureChallenge {
                    challenge: challenge.clone(),
                })),
            }))
            .await?;
        let solution = match exchange.next().await? {
            v1::join_request::Payload::Solution(v1::ChallengeSolution {
                payload: Some(v1::challenge_solution::Payload::AzureChallengeSolution(s)),
            }) => s,
            _ => return Err(Status::invalid_argument("expected an Azure challenge solution")),
        };
        if solution.attested_data.is_empty() {
            return Err(Status::invalid_argument("client did not send attested data"));
        }
        if solution.access_token.is_empty() {
            return Err(Status::invalid_argument("client did not send access token"));
        }
        if solution.intermediate.is_empty() {
            return Err(Status::invalid_argument("client did not send intermediate CAs"));
        }
        let solution = ChallengeSolution {
            attested_data: solution.attested_data,
            intermediate: Some(solution.intermediate),
            access_token: solution.access_token,
        };
        self.verify(token, &challenge, solution).await?;
        Ok(keys)
    }

    fn legacy_challenge(&self) -> Option<&dyn ChallengeJoin> {
        Some(self)
    }
}

#[tonic::async_trait]
impl ChallengeJoin for AzureVerifier {
    fn challenge(&self) -> String {
        let bytes: [u8; 24] = rand::random();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    async fn verify(
        &self,
        token: &ProvisionTokenV2,
        challenge: &str,
        solution: ChallengeSolution,
    ) -> Result<(), Status> {
        let name = token.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default();
        match self.check(token, challenge, solution).await {
            Ok(who) => {
                tracing::info!(token = %name, %who, "azure join verified");
                Ok(())
            }
            Err(status) => {
                tracing::warn!(token = %name, code = ?status.code(), reason = %status.message(), "azure join rejected");
                Err(status)
            }
        }
    }
}
