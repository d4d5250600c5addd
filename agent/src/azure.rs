//! The VM side of the Azure join, behind one seam.
//!
//! [`crate::join`] runs the Azure join protocol and asks an
//! [`AzureAttestor`] to answer the server's challenge. The attestor here is
//! built on the `joinery-azure` crate and does what Teleport's client does:
//! the IMDS attested document for the challenge (as nonce), the issuer chain
//! of its signer (AIA, which current Teleport servers require), and a
//! managed-identity token for `https://management.azure.com/` (with the
//! trailing slash Teleport checks), for the configured user-assigned
//! identity when `client_id` is set.
//!
//! `JOINERY_IMDS_ENDPOINT` points IMDS elsewhere (the devstack);
//! `JOINERY_AZURE_AIA_ALLOW` (comma separated) allows more AIA hosts than
//! Microsoft's, for the same reason.

use std::sync::Arc;

use base64::Engine;
use joinery_azure::aia::AiaFetcher;
use joinery_azure::attested::{AttestedDocument, concat_der_certificates};
use joinery_azure::imds::{ARM_RESOURCE, IdentitySelector, ImdsClient};
use joinery_azure::jwt::AccessTokenClaims;

use crate::join::{AzureAttestor, AzureSolution, JoinError};

/// Extra AIA hosts (comma separated), for emulated Azure PKIs.
const AIA_ALLOW_ENV: &str = "JOINERY_AZURE_AIA_ALLOW";

/// Answers Azure join challenges from this VM's IMDS.
struct ImdsAttestor {
    imds: ImdsClient,
}

impl AzureAttestor for ImdsAttestor {
    fn solve<'a>(
        &'a self,
        challenge: &'a str,
        client_id: Option<&'a str>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<AzureSolution, JoinError>> + Send + 'a>> {
        Box::pin(async move {
            let fail = |e: &dyn std::fmt::Display| JoinError::Attestation(e.to_string());
            let attested_data = self.imds.attested_document(challenge).await.map_err(|e| fail(&e))?;
            let doc = AttestedDocument::parse(&attested_data).map_err(|e| fail(&e))?;
            let leaf = doc.signer_certificate().map_err(|e| fail(&e))?;
            let mut aia = AiaFetcher::new().map_err(|e| fail(&e))?;
            if let Ok(hosts) = std::env::var(AIA_ALLOW_ENV) {
                for h in hosts.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                    aia = aia.allow_host(h);
                }
            }
            let chain = aia.fetch_intermediates(leaf).await.map_err(|e| fail(&e))?;
            let selector = client_id.map(|c| IdentitySelector::ClientId(c.to_string()));
            let token = self.imds.access_token(ARM_RESOURCE, selector.as_ref()).await.map_err(|e| fail(&e))?;
            Ok(AzureSolution {
                attested_data,
                intermediate: concat_der_certificates(&chain),
                access_token: token.access_token,
            })
        })
    }
}

/// The attestor this build provides, if any.
pub fn attestor() -> Option<Arc<dyn AzureAttestor>> {
    match ImdsClient::from_env() {
        Ok(imds) => Some(Arc::new(ImdsAttestor { imds })),
        Err(e) => {
            tracing::warn!(error = %e, "cannot set up the IMDS client: the azure join is unavailable");
            None
        }
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
