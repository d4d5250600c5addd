//! The VM side of the Azure join.
//!
//! The protocol lives in `joinery_azure::join` (shared with the tests and
//! the benches); this module wires it to the agent's environment: the IMDS
//! client, the AIA allow-list, the configured user-assigned identity.
//! `joinery_azure::join` does what Teleport's client does: the attested
//! document for the challenge (as nonce), the issuer chain of its signer
//! (AIA, which current Teleport servers require), and a managed-identity
//! token for `https://management.azure.com/` (with the trailing slash
//! Teleport checks).
//!
//! `JOINERY_IMDS_ENDPOINT` points IMDS elsewhere (the devstack);
//! `JOINERY_AZURE_AIA_ALLOW` (comma separated) allows more AIA hosts than
//! Microsoft's, for the same reason.

use base64::Engine;
use joinery_azure::aia::AiaFetcher;
use joinery_azure::attested::AttestedDocument;
use joinery_azure::imds::{ARM_RESOURCE, IdentitySelector, ImdsClient};
use joinery_azure::jwt::AccessTokenClaims;
use joinery_teleport::Client;
use joinery_teleport::join::JoinedCerts;
use joinery_teleport::keys::KeyPair;

use crate::join::JoinError;

/// Extra AIA hosts (comma separated), for emulated Azure PKIs.
const AIA_ALLOW_ENV: &str = "JOINERY_AZURE_AIA_ALLOW";

/// This VM's IMDS client, or why there is none.
pub fn imds() -> Result<ImdsClient, String> {
    ImdsClient::from_env().map_err(|e| e.to_string())
}

/// Joins with the Azure method through `joinery_azure::join` (join.v1 first,
/// the legacy stream on `Unimplemented`), answering the challenge from IMDS.
pub async fn join(
    client: &Client,
    token: &str,
    client_id: Option<&str>,
    imds: &ImdsClient,
    ttl: std::time::Duration,
) -> Result<(KeyPair, JoinedCerts), JoinError> {
    use joinery_azure::join::JoinError as AzureJoinError;
    let mut aia = AiaFetcher::new().map_err(|e| JoinError::Attestation(e.to_string()))?;
    if let Ok(hosts) = std::env::var(AIA_ALLOW_ENV) {
        for h in hosts.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            aia = aia.allow_host(h);
        }
    }
    let selector = client_id.map(|c| IdentitySelector::ClientId(c.to_string()));
    match joinery_azure::join::join_with_azure(client, token, ttl, imds, selector, &aia).await {
        Ok((key, certs, service)) => {
            tracing::debug!(?service, "joined");
            Ok((key, certs))
        }
        Err(AzureJoinError::Teleport(e)) => Err(JoinError::Teleport(e)),
        Err(AzureJoinError::Protocol(m)) => Err(JoinError::Teleport(joinery_teleport::Error::Protocol(m))),
        Err(AzureJoinError::Imds(e)) => Err(JoinError::Attestation(e.to_string())),
        Err(AzureJoinError::Document(e)) => Err(JoinError::Attestation(e.to_string())),
        Err(AzureJoinError::Aia(e)) => Err(JoinError::Attestation(e.to_string())),
    }
}

/// What `check` prints about the VM: subscription, resource group, vmId and
/// the managed identity, from IMDS (an attested document and a token whose
/// claims are read, not verified: this is a diagnostic).
pub async fn describe_vm(client_id: Option<&str>) -> Result<Vec<(String, String)>, String> {
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
