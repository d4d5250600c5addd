//! The Azure part of a devstack fixture: which tenant, subscriptions, resource groups, VMs,
//! identities, role assignments and service principals the emulator starts with.
//!
//! The fixture only *seeds* the emulated ARM state of a new state directory (or of one seeded
//! from a different fixture); afterwards ARM calls change the state and a restart keeps the
//! changes. Everything is validated up front so a typo fails `up` with one line naming the
//! file instead of surfacing later as a confusing 404.
//!
//! ```yaml
//! azure:
//!   tenant_id: 5b7ab2e1-...
//!   subscriptions: [{id: 0c2a..., name: Joinery Devstack}]
//!   resource_groups: [{name: group1, location: eastus}]      # subscription: defaults to the first
//!   identities:                                             # user-assigned managed identities
//!     - {name: vm1-identity, resource_group: group1, client_id: ..., principal_id: ...}
//!   vms:
//!     - name: vm-1
//!       resource_group: group1
//!       vm_id: 1f0e...
//!       system_assigned: {principal_id: ..., client_id: ...}  # optional
//!       user_assigned: [vm1-identity]                          # names (same subscription) or ids
//!   role_assignments:
//!     - {principal_id: ..., role: Reader, scope: /subscriptions/.../resourceGroups/group1}
//!   service_principals:
//!     - name: joinery-provider
//!       client_id: ...
//!       client_secret: ...
//!       principal_id: ...
//!       certificates:                                          # key credentials (RSA, PEM)
//!         - {name: ci, certificate: "-----BEGIN CERTIFICATE-----\n..."}
//!       federated_credentials:                                 # workload identity federation
//!         - {name: github-main, issuer: https://token.actions.githubusercontent.com,
//!            subject: "repo:joinery-demo/infrastructure:ref:refs/heads/main"}  # audiences: [api://AzureADTokenExchange]
//! ```

use joinery_util::guid::is_guid;
use serde::{Deserialize, Serialize};

/// The `azure:` section of a fixture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureFixture {
    /// Entra tenant id (GUID).
    pub tenant_id: String,
    /// Subscriptions; the first is the default for everything else.
    pub subscriptions: Vec<SubscriptionFixture>,
    /// Resource groups.
    #[serde(default)]
    pub resource_groups: Vec<ResourceGroupFixture>,
    /// User-assigned managed identities.
    #[serde(default)]
    pub identities: Vec<IdentityFixture>,
    /// Virtual machines (each gets its own IMDS).
    #[serde(default)]
    pub vms: Vec<VmFixture>,
    /// Role assignments.
    #[serde(default)]
    pub role_assignments: Vec<RoleAssignmentFixture>,
    /// Service principals that can get tokens with client credentials (the provider's).
    #[serde(default)]
    pub service_principals: Vec<ServicePrincipalFixture>,
}

/// A subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionFixture {
    /// Subscription id (GUID).
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A resource group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupFixture {
    /// Name.
    pub name: String,
    /// Subscription id; default the first subscription.
    #[serde(default)]
    pub subscription: Option<String>,
    /// Location; default `eastus`.
    #[serde(default)]
    pub location: Option<String>,
}

/// A user-assigned managed identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityFixture {
    /// Name.
    pub name: String,
    /// Resource group.
    pub resource_group: String,
    /// Subscription id; default the first subscription.
    #[serde(default)]
    pub subscription: Option<String>,
    /// Location; default the resource group's.
    #[serde(default)]
    pub location: Option<String>,
    /// Client (application) id.
    pub client_id: String,
    /// Principal (object) id.
    pub principal_id: String,
}

/// A system-assigned identity of a VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemIdentityFixture {
    /// Principal (object) id.
    pub principal_id: String,
    /// Client (application) id of its service principal.
    pub client_id: String,
}

/// A virtual machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmFixture {
    /// Name.
    pub name: String,
    /// Resource group.
    pub resource_group: String,
    /// Subscription id; default the first subscription.
    #[serde(default)]
    pub subscription: Option<String>,
    /// The VM's unique id (lower-case GUID), as IMDS and ARM report it.
    pub vm_id: String,
    /// Location; default the resource group's.
    #[serde(default)]
    pub location: Option<String>,
    /// System-assigned identity, if enabled.
    #[serde(default)]
    pub system_assigned: Option<SystemIdentityFixture>,
    /// Attached user-assigned identities: names in the VM's subscription, or resource ids.
    #[serde(default)]
    pub user_assigned: Vec<String>,
}

/// A role assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleAssignmentFixture {
    /// Assignment name (GUID); default derived from the other fields.
    #[serde(default)]
    pub name: Option<String>,
    /// Principal (object) id.
    pub principal_id: String,
    /// Built-in role name (`Reader`, `Owner`, ...) or role definition GUID.
    pub role: String,
    /// Scope (subscription, resource group or resource id).
    pub scope: String,
}

/// A service principal that authenticates with a client secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePrincipalFixture {
    /// Display name.
    pub name: String,
    /// Client (application) id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Principal (object) id.
    pub principal_id: String,
    /// Certificates registered on the app: their keys sign client assertions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertificateCredential>,
    /// Federated identity credentials: external tokens the app accepts as client assertions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub federated_credentials: Vec<FederatedCredential>,
}

/// A certificate registered on an app (Microsoft Graph's `keyCredentials`, type
/// `AsymmetricX509Cert`, usage `Verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateCredential {
    /// Display name.
    pub name: String,
    /// The certificate, PEM. Its key must be RSA, as Entra's are.
    pub certificate: String,
}

impl CertificateCredential {
    /// The certificate, DER.
    pub fn der(&self) -> Result<Vec<u8>, String> {
        use rustls::pki_types::pem::PemObject;
        let der = rustls::pki_types::CertificateDer::from_pem_slice(self.certificate.as_bytes())
            .map_err(|e| format!("not a PEM certificate: {e}"))?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|e| format!("invalid certificate: {e}"))?;
        if cert.public_key().algorithm.algorithm != x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION {
            return Err("the key is not RSA (Entra application certificates are RSA)".into());
        }
        Ok(der.to_vec())
    }
}

/// A federated identity credential (Microsoft Graph's `federatedIdentityCredential`): a token
/// from `issuer` about `subject`, for one of `audiences`, signs the app in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederatedCredential {
    /// Name.
    pub name: String,
    /// The external issuer, exactly as tokens name it.
    pub issuer: String,
    /// The external subject, exactly (case-sensitive, as Entra compares it).
    pub subject: String,
    /// Accepted audiences; Entra's recommended value is `api://AzureADTokenExchange`.
    #[serde(default = "default_fic_audiences")]
    pub audiences: Vec<String>,
}

/// The audience Entra recommends for token exchange.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

fn default_fic_audiences() -> Vec<String> {
    vec![TOKEN_EXCHANGE_AUDIENCE.to_string()]
}

const TENANT: &str = "5b7ab2e1-8c4d-4f6a-9e2b-3c1d0a9f8e71";
const SUBSCRIPTION: &str = "0c2a6e58-9b1f-4d3e-a7c4-5e8f1b2d3a90";

impl Default for AzureFixture {
    /// One tenant and subscription; `group1` holds `vm-1` (user-assigned `vm1-identity`, Reader
    /// on `group1`), `vm-3` (no identity) and the unattached `tbot-identity`; `group2` holds
    /// `vm-2` (system-assigned only). The provider's service principal is Owner on the
    /// subscription.
    fn default() -> Self {
        let rg = |name: &str| ResourceGroupFixture {
            name: name.into(),
            subscription: None,
            location: Some("eastus".into()),
        };
        let uami = |name: &str, client: &str, principal: &str| IdentityFixture {
            name: name.into(),
            resource_group: "group1".into(),
            subscription: None,
            location: None,
            client_id: client.into(),
            principal_id: principal.into(),
        };
        let vm = |name: &str, group: &str, vm_id: &str| VmFixture {
            name: name.into(),
            resource_group: group.into(),
            subscription: None,
            vm_id: vm_id.into(),
            location: None,
            system_assigned: None,
            user_assigned: vec![],
        };
        let vm1 = VmFixture { user_assigned: vec!["vm1-identity".into()], ..vm("vm-1", "group1", VM1_ID) };
        let vm2 = VmFixture {
            system_assigned: Some(SystemIdentityFixture {
                principal_id: "d2c4e6f8-1a3b-4c5d-8e9f-0a1b2c3d4e52".into(),
                client_id: "e3d5f7a9-2b4c-4d6e-9f0a-1b2c3d4e5f62".into(),
            }),
            ..vm("vm-2", "group2", VM2_ID)
        };
        AzureFixture {
            tenant_id: TENANT.into(),
            subscriptions: vec![SubscriptionFixture { id: SUBSCRIPTION.into(), name: Some("Joinery Devstack".into()) }],
            resource_groups: vec![rg("group1"), rg("group2")],
            identities: vec![
                uami("vm1-identity", "a1b2c3d4-0001-4e5f-8a9b-0c1d2e3f4a51", "b2c3d4e5-0001-4f6a-9b0c-1d2e3f4a5b61"),
                uami("tbot-identity", "a1b2c3d4-0002-4e5f-8a9b-0c1d2e3f4a52", "b2c3d4e5-0002-4f6a-9b0c-1d2e3f4a5b62"),
            ],
            vms: vec![vm1, vm2, vm("vm-3", "group1", "6c1e9a3f-0003-4b7d-8e2f-5a4c3b2d1e03")],
            role_assignments: vec![
                RoleAssignmentFixture {
                    name: None,
                    principal_id: "b2c3d4e5-0001-4f6a-9b0c-1d2e3f4a5b61".into(),
                    role: "Reader".into(),
                    scope: format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/group1"),
                },
                RoleAssignmentFixture {
                    name: None,
                    principal_id: PROVIDER_PRINCIPAL.into(),
                    role: "Owner".into(),
                    scope: format!("/subscriptions/{SUBSCRIPTION}"),
                },
            ],
            service_principals: vec![ServicePrincipalFixture {
                name: "joinery-provider".into(),
                client_id: "f4e6a8b0-3c5d-4e7f-8a1b-2c3d4e5f6a70".into(),
                client_secret: "devstack-provider-secret".into(),
                principal_id: PROVIDER_PRINCIPAL.into(),
                // The devstack registers its own generated certificate at start
                // (`keys::ClientCertificateFiles`).
                certificates: vec![],
                // The devstack's GitHub Actions pipeline (`crate::github::Run::default`).
                federated_credentials: vec![FederatedCredential {
                    name: "github-main".into(),
                    issuer: crate::github::ISSUER.into(),
                    subject: crate::github::Run::default().subject(),
                    audiences: default_fic_audiences(),
                }],
            }],
        }
    }
}

const VM1_ID: &str = "6c1e9a3f-0001-4b7d-8e2f-5a4c3b2d1e01";
const VM2_ID: &str = "6c1e9a3f-0002-4b7d-8e2f-5a4c3b2d1e02";
const PROVIDER_PRINCIPAL: &str = "c3d5e7f9-4a6b-4c8d-9e0f-1a2b3c4d5e80";

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 90 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.()".contains(&b))
}

impl AzureFixture {
    /// Checks ids, names and references; the error names the offending entry.
    pub fn validate(&self) -> Result<(), String> {
        let guid = |what: &str, v: &str| {
            if is_guid(v) { Ok(()) } else { Err(format!("{what}: {v:?} is not a GUID")) }
        };
        let name = |what: &str, v: &str| {
            if valid_name(v) { Ok(()) } else { Err(format!("{what}: invalid name {v:?}")) }
        };
        guid("azure.tenant_id", &self.tenant_id)?;
        if self.subscriptions.is_empty() {
            return Err("azure.subscriptions: at least one subscription is required".into());
        }
        for s in &self.subscriptions {
            guid("azure.subscriptions[].id", &s.id)?;
        }
        let sub_known = |what: &str, s: &Option<String>| match s {
            Some(s) if !self.subscriptions.iter().any(|x| x.id.eq_ignore_ascii_case(s)) => {
                Err(format!("{what}: unknown subscription {s:?}"))
            }
            _ => Ok(()),
        };
        for g in &self.resource_groups {
            name("azure.resource_groups[].name", &g.name)?;
            sub_known(&format!("resource group {}", g.name), &g.subscription)?;
        }
        let rg_known = |what: &str, sub: &Option<String>, rg: &str| {
            let sub = sub.clone().unwrap_or_else(|| self.subscriptions[0].id.clone());
            let found = self.resource_groups.iter().any(|g| {
                g.name.eq_ignore_ascii_case(rg)
                    && g.subscription.as_deref().unwrap_or(&self.subscriptions[0].id).eq_ignore_ascii_case(&sub)
            });
            if found { Ok(()) } else { Err(format!("{what}: unknown resource group {rg:?}")) }
        };
        let mut principals: Vec<&str> = Vec::new();
        for i in &self.identities {
            name("azure.identities[].name", &i.name)?;
            sub_known(&format!("identity {}", i.name), &i.subscription)?;
            rg_known(&format!("identity {}", i.name), &i.subscription, &i.resource_group)?;
            guid(&format!("identity {} client_id", i.name), &i.client_id)?;
            guid(&format!("identity {} principal_id", i.name), &i.principal_id)?;
            principals.push(&i.principal_id);
        }
        for v in &self.vms {
            name("azure.vms[].name", &v.name)?;
            if self.vms.iter().filter(|o| o.name.eq_ignore_ascii_case(&v.name)).count() > 1 {
                return Err(format!("vm {}: duplicate VM name (each VM gets an IMDS named after it)", v.name));
            }
            sub_known(&format!("vm {}", v.name), &v.subscription)?;
            rg_known(&format!("vm {}", v.name), &v.subscription, &v.resource_group)?;
            guid(&format!("vm {} vm_id", v.name), &v.vm_id)?;
            if let Some(s) = &v.system_assigned {
                guid(&format!("vm {} system_assigned.principal_id", v.name), &s.principal_id)?;
                guid(&format!("vm {} system_assigned.client_id", v.name), &s.client_id)?;
                principals.push(&s.principal_id);
            }
            for u in &v.user_assigned {
                let found = self.identities.iter().any(|i| {
                    i.name.eq_ignore_ascii_case(u)
                        || u.to_ascii_lowercase().ends_with(&format!("/{}", i.name.to_ascii_lowercase()))
                });
                if !found {
                    return Err(format!("vm {}: user-assigned identity {u:?} is not in azure.identities", v.name));
                }
            }
        }
        for sp in &self.service_principals {
            guid(&format!("service principal {} client_id", sp.name), &sp.client_id)?;
            guid(&format!("service principal {} principal_id", sp.name), &sp.principal_id)?;
            if sp.client_secret.is_empty() {
                return Err(format!("service principal {}: client_secret is empty", sp.name));
            }
            for c in &sp.certificates {
                c.der().map_err(|e| format!("service principal {}: certificate {}: {e}", sp.name, c.name))?;
            }
            for f in &sp.federated_credentials {
                if !f.issuer.starts_with("https://") {
                    return Err(format!(
                        "service principal {}: federated credential {}: issuer {:?} is not an https URL",
                        sp.name, f.name, f.issuer
                    ));
                }
                if f.subject.is_empty() || f.audiences.is_empty() {
                    return Err(format!(
                        "service principal {}: federated credential {}: subject and audiences are required",
                        sp.name, f.name
                    ));
                }
            }
            principals.push(&sp.principal_id);
        }
        for r in &self.role_assignments {
            if !principals.iter().any(|p| p.eq_ignore_ascii_case(&r.principal_id)) {
                return Err(format!("role assignment: unknown principal {:?}", r.principal_id));
            }
            if super::rbac::builtin_role(&r.role).is_none() && !is_guid(&r.role) {
                return Err(format!("role assignment: unknown role {:?} (a built-in role name or a GUID)", r.role));
            }
            joinery_azure::resource_id::ResourceId::parse(&r.scope)
                .map_err(|e| format!("role assignment scope: {e}"))?;
            if let Some(n) = &r.name {
                guid("role assignment name", n)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_fixture_is_valid() {
        AzureFixture::default().validate().unwrap();
    }

    #[test]
    fn unknown_identity_reference_is_rejected() {
        let mut f = AzureFixture::default();
        f.vms[0].user_assigned = vec!["nope".into()];
        assert!(f.validate().unwrap_err().contains("nope"));
    }
}
