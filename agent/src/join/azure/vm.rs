//! What this VM is, as Azure's IMDS tells it: for `check`, for the context
//! the agent adds to a refused join, and for the `azure.allow` rule that
//! would admit the VM.
//!
//! The facts come from an attested document (subscription, vmId) and a
//! managed-identity token whose claims are read, not verified (this is a
//! diagnostic: Teleport verifies them): the VM's resource id (name, resource
//! group) and the identity's. Nothing here is secret: the token itself is
//! never kept or shown.

use base64::Engine;
use joinery_azure::attested::AttestedDocument;
use joinery_azure::imds::{ARM_RESOURCE, IdentitySelector, ImdsError, RetryPolicy};
use joinery_azure::jwt::AccessTokenClaims;

/// Why the VM could not be described at all.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// IMDS is not configured or not reachable, or refused the document.
    #[error("IMDS: {0}")]
    Imds(#[from] ImdsError),
    /// The attested document cannot be read.
    #[error("attested document: {0}")]
    Document(#[from] joinery_azure::attested::AttestedError),
}

/// The managed identity IMDS issued a token for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFacts {
    /// Its resource id (`xms_mirid`): the VM's for a system-assigned identity.
    pub resource_id: Option<String>,
    /// Its principal (object) id.
    pub principal_id: Option<String>,
    /// Its client (application) id.
    pub client_id: Option<String>,
    /// The tenant.
    pub tenant: String,
}

impl IdentityFacts {
    /// `user-assigned` or `system-assigned`, read from its resource id.
    pub fn kind(&self) -> &'static str {
        let user =
            self.resource_id.as_deref().is_some_and(|r| r.to_ascii_lowercase().contains("/userassignedidentities/"));
        if user { "user-assigned" } else { "system-assigned" }
    }
}

/// What IMDS says about this VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmFacts {
    /// The IMDS endpoint asked.
    pub imds: String,
    /// The subscription (attested document).
    pub subscription: Option<String>,
    /// The VM's id (attested document).
    pub vm_id: String,
    /// The VM's resource group (the token's VM resource id).
    pub resource_group: Option<String>,
    /// The VM's name (the token's VM resource id).
    pub name: Option<String>,
    /// The configured `onboarding.azure.client_id`, if any.
    pub configured_client_id: Option<String>,
    /// The identity the agent joins with, or IMDS's answer when it issued no token.
    pub identity: Result<IdentityFacts, String>,
}

impl VmFacts {
    /// Asks IMDS (without retries) for a document and a token of the identity
    /// `client_id` selects (the VM's default identity when `None`).
    pub async fn read(client_id: Option<&str>) -> Result<VmFacts, VmError> {
        let imds = super::vm_imds()?.with_retry_policy(RetryPolicy::none());
        let body = imds.attested_document("joineryagentcheck").await?;
        let doc = AttestedDocument::parse(&body)?;
        let data = doc.data();
        let mut facts = VmFacts {
            imds: imds.base_url().to_string(),
            subscription: data.subscription_id.clone(),
            vm_id: data.vm_id.clone(),
            resource_group: None,
            name: None,
            configured_client_id: client_id.map(str::to_string),
            identity: Err(String::new()),
        };
        let selector = client_id.map(|c| IdentitySelector::ClientId(c.to_string()));
        facts.identity = match imds.access_token(ARM_RESOURCE, selector.as_ref()).await {
            Ok(token) => match claims(&token.access_token) {
                Some(c) => {
                    if let Some(vm) = c.vm_resource_id() {
                        facts.resource_group = vm.resource_group.clone();
                        facts.name = vm.name().map(str::to_string);
                        facts.subscription = facts.subscription.or(vm.subscription.clone());
                    }
                    Ok(IdentityFacts {
                        resource_id: c.xms_mirid.clone(),
                        principal_id: c.oid.clone(),
                        client_id: c.appid.clone(),
                        tenant: c.tid.clone(),
                    })
                }
                None => Err("IMDS issued a token whose claims cannot be read".into()),
            },
            Err(e) => Err(e.to_string()),
        };
        Ok(facts)
    }

    /// `check`'s lines, `key: value` each.
    pub fn lines(&self) -> Vec<(String, String)> {
        let unknown = || "(unknown)".to_string();
        let mut out = vec![
            ("imds".to_string(), self.imds.clone()),
            ("subscription".into(), self.subscription.clone().unwrap_or_else(|| "(not in document)".into())),
            ("vm_id".into(), self.vm_id.clone()),
            ("resource_group".into(), self.resource_group.clone().unwrap_or_else(unknown)),
        ];
        if let Some(name) = &self.name {
            out.push(("vm_name".into(), name.clone()));
        }
        match &self.identity {
            Ok(id) => {
                out.push(("identity".into(), id.resource_id.clone().unwrap_or_else(unknown)));
                out.push(("identity.principal_id".into(), id.principal_id.clone().unwrap_or_default()));
                out.push(("identity.client_id".into(), id.client_id.clone().unwrap_or_default()));
                out.push(("tenant".into(), id.tenant.clone()));
            }
            Err(e) => out.push(("identity".into(), format!("no managed identity token: {e}"))),
        }
        out
    }

    /// One line naming the VM and the identity used, for a refused join.
    pub fn context(&self) -> String {
        let unknown = "(unknown)";
        let mut parts = vec![format!("VM {}", self.name.as_deref().unwrap_or(&self.vm_id))];
        if self.name.is_some() {
            parts.push(format!("vmId {}", self.vm_id));
        }
        parts.push(format!("subscription {}", self.subscription.as_deref().unwrap_or(unknown)));
        parts.push(format!("resource group {}", self.resource_group.as_deref().unwrap_or(unknown)));
        match &self.identity {
            Ok(id) => parts.push(format!(
                "identity {} ({}, client_id {})",
                id.resource_id.as_deref().unwrap_or(unknown),
                id.kind(),
                id.client_id.as_deref().unwrap_or(unknown)
            )),
            Err(e) => parts.push(format!("no managed identity token: {e}")),
        }
        parts.join(", ")
    }

    /// The `azure.allow` rule admitting this VM, if its subscription and resource group are known.
    pub fn allow_rule(&self) -> Option<AllowRule> {
        Some(AllowRule { subscription: self.subscription.clone()?, resource_group: self.resource_group.clone()? })
    }
}

/// A provision token's `spec.azure.allow` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    /// The subscription (Teleport compares it exactly).
    pub subscription: String,
    /// The resource group (Teleport compares it without case).
    pub resource_group: String,
}

impl AllowRule {
    /// The rule in a token's YAML (`tctl create`).
    pub fn yaml(&self) -> String {
        format!(
            "spec:\n  join_method: azure\n  azure:\n    allow:\n      - subscription: {}\n        resource_groups: [{}]\n",
            self.subscription, self.resource_group
        )
    }

    /// The rule in a `teleport_provision_token` resource (Terraform).
    pub fn hcl(&self) -> String {
        format!(
            "spec = {{\n  join_method = \"azure\"\n  azure = {{\n    allow = [{{\n      subscription    = \"{}\"\n      resource_groups = [\"{}\"]\n    }}]\n  }}\n}}\n",
            self.subscription, self.resource_group
        )
    }
}

/// The unverified claims of a JWT.
fn claims(jwt: &str) -> Option<AccessTokenClaims> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_names_the_vm_s_place() {
        let rule = AllowRule { subscription: "0c2a".into(), resource_group: "group2".into() };
        assert!(
            rule.yaml().ends_with("      - subscription: 0c2a\n        resource_groups: [group2]\n"),
            "{}",
            rule.yaml()
        );
        assert!(
            rule.hcl().contains("      subscription    = \"0c2a\"\n      resource_groups = [\"group2\"]\n"),
            "{}",
            rule.hcl()
        );
    }

    #[test]
    fn the_context_names_the_identity_kind() {
        let facts = VmFacts {
            imds: "http://169.254.169.254".into(),
            subscription: Some("sub".into()),
            vm_id: "id".into(),
            resource_group: Some("rg".into()),
            name: Some("vm-2".into()),
            configured_client_id: None,
            identity: Ok(IdentityFacts {
                resource_id: Some(
                    "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-2".into(),
                ),
                principal_id: None,
                client_id: Some("cid".into()),
                tenant: "t".into(),
            }),
        };
        assert_eq!(
            facts.context(),
            "VM vm-2, vmId id, subscription sub, resource group rg, identity \
             /subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-2 (system-assigned, client_id cid)"
        );
    }
}
