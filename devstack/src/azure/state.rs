//! The emulated ARM state (resource groups, VMs, identities, role assignments and
//! definitions, service principals), persisted as `DIR/azure/arm.json`.
//!
//! Every mutation rewrites the file atomically before the change becomes visible, so a crash
//! never leaves a half-written state and a restart keeps what the provider created. The
//! state records a digest of the fixture it was seeded from: starting with a different
//! fixture reseeds it (the fixture *replaces* the previous world), starting with the same one
//! keeps the changes made since.

use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::fixture::AzureFixture;
use super::rbac::{self, Permission};

/// A subscription.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    /// GUID.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A resource group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceGroup {
    /// Subscription GUID.
    pub subscription: String,
    /// Name.
    pub name: String,
    /// Location.
    pub location: String,
}

impl ResourceGroup {
    /// ARM id.
    pub fn id(&self) -> String {
        format!("/subscriptions/{}/resourceGroups/{}", self.subscription, self.name)
    }
}

/// A user-assigned managed identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    /// Subscription GUID.
    pub subscription: String,
    /// Resource group name.
    pub resource_group: String,
    /// Name.
    pub name: String,
    /// Location.
    pub location: String,
    /// Client id.
    pub client_id: String,
    /// Principal id.
    pub principal_id: String,
    /// Tags.
    #[serde(default)]
    pub tags: serde_json::Map<String, serde_json::Value>,
    /// When its principal is replicated (unix ms): before, a role assignment naming it
    /// without `principalType` gets `PrincipalNotFound`. `None`: always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicated_at_ms: Option<i64>,
}

impl Identity {
    /// ARM id, in the `resourcegroups` spelling identity ids use in tokens.
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    /// ARM id as ARM returns it from a GET (`resourceGroups`).
    pub fn arm_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
            self.subscription, self.resource_group, self.name
        )
    }
}

/// A VM's system-assigned identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemIdentity {
    /// Principal id.
    pub principal_id: String,
    /// Client id.
    pub client_id: String,
}

/// A virtual machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vm {
    /// Subscription GUID.
    pub subscription: String,
    /// Resource group name.
    pub resource_group: String,
    /// Name.
    pub name: String,
    /// vmId.
    pub vm_id: String,
    /// Location.
    pub location: String,
    /// System-assigned identity.
    pub system_assigned: Option<SystemIdentity>,
    /// Attached user-assigned identities, by ARM id.
    pub user_assigned: Vec<String>,
    /// Bumped by every write: the VM's `etag` is `"N"`.
    #[serde(default)]
    pub generation: u64,
}

impl Vm {
    /// ARM id.
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachines/{}",
            self.subscription, self.resource_group, self.name
        )
    }
}

/// A role assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignment {
    /// Name (GUID).
    pub name: String,
    /// Scope.
    pub scope: String,
    /// Role definition GUID.
    pub role_definition: String,
    /// Principal id.
    pub principal_id: String,
    /// `ServicePrincipal`, `User` or `Group`.
    pub principal_type: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Creation time (RFC 3339).
    pub created_on: String,
    /// When it takes effect (unix ms; RBAC propagation). `None`: at once (seeded ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_at_ms: Option<i64>,
}

impl RoleAssignment {
    /// ARM id.
    pub fn id(&self) -> String {
        format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", self.scope.trim_end_matches('/'), self.name)
    }
}

/// A custom role definition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleDefinition {
    /// Name (GUID).
    pub name: String,
    /// Scope it was created at.
    pub scope: String,
    /// Role name.
    pub role_name: String,
    /// Description.
    pub description: String,
    /// Permissions.
    pub permissions: Vec<Permission>,
    /// Assignable scopes.
    pub assignable_scopes: Vec<String>,
}

/// A service principal with a client secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServicePrincipal {
    /// Display name.
    pub name: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Principal id.
    pub principal_id: String,
    /// Registered certificates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<super::fixture::CertificateCredential>,
    /// Federated identity credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub federated_credentials: Vec<super::fixture::FederatedCredential>,
}

/// Everything ARM knows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArmState {
    /// SHA-256 of the fixture this state was seeded from.
    pub fixture_digest: String,
    /// Tenant.
    pub tenant_id: String,
    /// Subscriptions.
    pub subscriptions: Vec<Subscription>,
    /// Resource groups.
    pub resource_groups: Vec<ResourceGroup>,
    /// User-assigned identities.
    pub identities: Vec<Identity>,
    /// VMs.
    pub vms: Vec<Vm>,
    /// Role assignments.
    pub role_assignments: Vec<RoleAssignment>,
    /// Custom role definitions.
    pub role_definitions: Vec<RoleDefinition>,
    /// Service principals.
    pub service_principals: Vec<ServicePrincipal>,
    /// Deleted role assignments that still take effect until `effective_at_ms` (RBAC
    /// propagation works both ways).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_assignments: Vec<RoleAssignment>,
}

/// Now, unix milliseconds.
pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// `now_ms() + d`.
pub fn ms_after(d: std::time::Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Now, RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

pub(super) fn fixture_digest(f: &AzureFixture) -> String {
    // Serializing plain strings and vectors cannot fail.
    let bytes = serde_json::to_vec(f).unwrap_or_default();
    hex::encode(sha2::Sha256::digest(bytes))
}

impl ArmState {
    /// Builds the state a fixture describes.
    pub fn seed(f: &AzureFixture) -> Self {
        let first = f.subscriptions[0].id.clone();
        let sub = |s: &Option<String>| s.clone().unwrap_or_else(|| first.clone());
        let resource_groups: Vec<ResourceGroup> = f
            .resource_groups
            .iter()
            .map(|g| ResourceGroup {
                subscription: sub(&g.subscription),
                name: g.name.clone(),
                location: g.location.clone().unwrap_or_else(|| "eastus".into()),
            })
            .collect();
        let rg_location = |s: &str, rg: &str| {
            resource_groups
                .iter()
                .find(|g| g.subscription.eq_ignore_ascii_case(s) && g.name.eq_ignore_ascii_case(rg))
                .map(|g| g.location.clone())
                .unwrap_or_else(|| "eastus".into())
        };
        let identities: Vec<Identity> = f
            .identities
            .iter()
            .map(|i| {
                let s = sub(&i.subscription);
                Identity {
                    location: i.location.clone().unwrap_or_else(|| rg_location(&s, &i.resource_group)),
                    subscription: s,
                    resource_group: i.resource_group.clone(),
                    name: i.name.clone(),
                    client_id: i.client_id.to_ascii_lowercase(),
                    principal_id: i.principal_id.to_ascii_lowercase(),
                    tags: Default::default(),
                    replicated_at_ms: None,
                }
            })
            .collect();
        let vms = f
            .vms
            .iter()
            .map(|v| {
                let s = sub(&v.subscription);
                let user_assigned = v
                    .user_assigned
                    .iter()
                    .filter_map(|u| {
                        identities
                            .iter()
                            .find(|i| {
                                (i.name.eq_ignore_ascii_case(u) && i.subscription.eq_ignore_ascii_case(&s))
                                    || i.id().eq_ignore_ascii_case(u)
                            })
                            .map(Identity::arm_id)
                    })
                    .collect();
                Vm {
                    location: v.location.clone().unwrap_or_else(|| rg_location(&s, &v.resource_group)),
                    subscription: s,
                    resource_group: v.resource_group.clone(),
                    name: v.name.clone(),
                    vm_id: v.vm_id.to_ascii_lowercase(),
                    system_assigned: v.system_assigned.as_ref().map(|x| SystemIdentity {
                        principal_id: x.principal_id.to_ascii_lowercase(),
                        client_id: x.client_id.to_ascii_lowercase(),
                    }),
                    user_assigned,
                    generation: 1,
                }
            })
            .collect();
        let role_assignments = f
            .role_assignments
            .iter()
            .map(|r| {
                let role_definition = rbac::builtin_role(&r.role).map(|b| b.id.to_string()).unwrap_or(r.role.clone());
                let name = r.name.clone().unwrap_or_else(|| {
                    let d = sha2::Sha256::digest(format!("{}|{}|{}", r.scope, role_definition, r.principal_id));
                    uuid::Builder::from_random_bytes(d[..16].try_into().unwrap_or([0; 16])).into_uuid().to_string()
                });
                RoleAssignment {
                    name,
                    scope: r.scope.clone(),
                    role_definition,
                    principal_id: r.principal_id.to_ascii_lowercase(),
                    principal_type: "ServicePrincipal".into(),
                    description: None,
                    created_on: now_rfc3339(),
                    effective_at_ms: None,
                }
            })
            .collect();
        ArmState {
            fixture_digest: fixture_digest(f),
            tenant_id: f.tenant_id.to_ascii_lowercase(),
            subscriptions: f
                .subscriptions
                .iter()
                .map(|s| Subscription { id: s.id.to_ascii_lowercase(), name: s.name.clone().unwrap_or_default() })
                .collect(),
            resource_groups,
            identities,
            vms,
            role_assignments,
            role_definitions: vec![],
            service_principals: f
                .service_principals
                .iter()
                .map(|s| ServicePrincipal {
                    name: s.name.clone(),
                    client_id: s.client_id.to_ascii_lowercase(),
                    client_secret: s.client_secret.clone(),
                    principal_id: s.principal_id.to_ascii_lowercase(),
                    certificates: s.certificates.clone(),
                    federated_credentials: s.federated_credentials.clone(),
                })
                .collect(),
            removed_assignments: vec![],
        }
    }

    /// A resource group (names compare case-insensitively, as ARM's do).
    pub fn resource_group(&self, subscription: &str, name: &str) -> Option<&ResourceGroup> {
        self.resource_groups
            .iter()
            .find(|g| g.subscription.eq_ignore_ascii_case(subscription) && g.name.eq_ignore_ascii_case(name))
    }

    /// The index of the VM `name` in a resource group.
    pub fn vm_index(&self, subscription: &str, resource_group: &str, name: &str) -> Option<usize> {
        position(&self.vms, subscription, resource_group, name)
    }

    /// The index of the user-assigned identity `name` in a resource group.
    pub fn identity_index(&self, subscription: &str, resource_group: &str, name: &str) -> Option<usize> {
        position(&self.identities, subscription, resource_group, name)
    }

    /// A VM by name (case-insensitive).
    pub fn vm(&self, name: &str) -> Option<&Vm> {
        self.vms.iter().find(|v| v.name.eq_ignore_ascii_case(name))
    }

    /// A user-assigned identity by ARM id (case-insensitive).
    pub fn identity_by_id(&self, id: &str) -> Option<&Identity> {
        self.identities.iter().find(|i| i.id().eq_ignore_ascii_case(id))
    }

    /// Whether a principal id exists in the directory (replicated by `now_ms`, unless the
    /// caller says what kind of principal it is, which skips the look-up).
    pub fn principal_exists(&self, principal: &str, typed: bool, now_ms: i64) -> bool {
        self.identities.iter().any(|i| {
            i.principal_id.eq_ignore_ascii_case(principal) && (typed || i.replicated_at_ms.is_none_or(|t| t <= now_ms))
        }) || self.service_principals.iter().any(|s| s.principal_id.eq_ignore_ascii_case(principal))
            || self
                .vms
                .iter()
                .any(|v| v.system_assigned.as_ref().is_some_and(|s| s.principal_id.eq_ignore_ascii_case(principal)))
    }

    /// The permissions of a role definition GUID (built-in or custom).
    pub fn role_permissions(&self, role: &str) -> Option<Vec<Permission>> {
        if let Some(b) = rbac::builtin_role(role) {
            return Some(b.permissions());
        }
        self.role_definitions.iter().find(|d| d.name.eq_ignore_ascii_case(role)).map(|d| d.permissions.clone())
    }

    /// The role assignments ARM enforces now: those in effect (propagated), and deleted ones
    /// whose removal has not propagated yet.
    pub fn effective_assignments(&self) -> impl Iterator<Item = &RoleAssignment> {
        let now = now_ms();
        let live = self.role_assignments.iter().filter(move |a| a.effective_at_ms.is_none_or(|t| t <= now));
        live.chain(self.removed_assignments.iter().filter(move |a| a.effective_at_ms.is_some_and(|t| t > now)))
    }

    /// Whether `principal` may perform `action` on `scope`.
    pub fn allowed(&self, principal: &str, action: &str, scope: &str) -> bool {
        self.effective_assignments().any(|a| {
            a.principal_id.eq_ignore_ascii_case(principal)
                && rbac::scope_covers(&a.scope, scope)
                && self.role_permissions(&a.role_definition).is_some_and(|p| rbac::permissions_allow(&p, action))
        })
    }

    /// Whether `principal` may perform `action` on `scope` or anywhere below it (ARM's list
    /// filtering: a list at a subscription shows what the caller can read inside it).
    pub fn allowed_somewhere_under(&self, principal: &str, action: &str, scope: &str) -> bool {
        self.allowed(principal, action, scope)
            || self.effective_assignments().any(|a| {
                a.principal_id.eq_ignore_ascii_case(principal)
                    && rbac::scope_covers(scope, &a.scope)
                    && self.role_permissions(&a.role_definition).is_some_and(|p| rbac::permissions_allow(&p, action))
            })
    }
}

/// A resource that lives in a resource group.
trait Grouped {
    /// Subscription, resource group and name.
    fn place(&self) -> [&str; 3];
}

impl Grouped for Vm {
    fn place(&self) -> [&str; 3] {
        [&self.subscription, &self.resource_group, &self.name]
    }
}

impl Grouped for Identity {
    fn place(&self) -> [&str; 3] {
        [&self.subscription, &self.resource_group, &self.name]
    }
}

/// Where `subscription/resource_group/name` is in `items`, ignoring case.
fn position<T: Grouped>(items: &[T], subscription: &str, resource_group: &str, name: &str) -> Option<usize> {
    let wanted = [subscription, resource_group, name];
    items.iter().position(|i| i.place().iter().zip(wanted).all(|(a, b)| a.eq_ignore_ascii_case(b)))
}

pub use super::store::{ArmStore, PersistFailure};
