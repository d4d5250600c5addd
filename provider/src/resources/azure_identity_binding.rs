//! `teleport_azure_identity_binding`: gives a user-assigned managed identity what an Azure
//! join needs on a set of VMs — a role assignment that lets it read the VMs (Teleport's
//! verifier GETs the joining VM with the VM's own token) and the identity attached to each VM
//! — and computes the `azure.allow` rules a join token needs to admit exactly those VMs.
//!
//! Ownership: the state's `managed` block records what this resource created (the role
//! assignment, the least-privilege custom role, the VM attachments). Delete removes only
//! those; identities and roles it merely reused are never touched.
//!
//! Drift is reported by `read` (a detached identity drops the VM from `virtual_machine_ids`;
//! a missing role assignment or custom role nulls its id) and turned into an in-place repair
//! by `modify_plan`. A VM deleted outside Terraform stays in state with a warning, so plans
//! converge instead of failing on every apply.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use joinery_azure::arm::{ArmClient, ArmError, VirtualMachine};
use joinery_azure::resource_id::ResourceId;
use joinery_teleport::Error as TeleportError;
use sha2::{Digest, Sha256};

use crate::azure::arm_error;
use crate::connect::TeleportClient;
use joinery_tfplugin::cty::{Type, Value};
use joinery_tfplugin::framework::{
    Attribute, AttributePath, CreateRequest, DeleteRequest, Diagnostics, ModifyPlan, ReadRequest, Resource, Schema,
    UpdateRequest, validators,
};

/// The resource type name.
pub const TYPE_NAME: &str = "teleport_azure_identity_binding";

/// Built-in Reader.
pub const READER_ROLE_GUID: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
/// The only action of the least-privilege role.
pub const VM_READ_ACTION: &str = "Microsoft.Compute/virtualMachines/read";
/// Description put on role assignments this resource creates.
const ASSIGNMENT_DESCRIPTION: &str = "Managed by Terraform (teleport_azure_identity_binding): lets the VM identity read its VM for Teleport's Azure join.";
/// Tries of a role assignment PUT through replication lag (about 8 × 15 s, as Azure advises).
const ASSIGNMENT_TRIES: u32 = 10;

/// The resource schema.
pub fn schema() -> Schema {
    let id_validator = |kind: &'static str, what: &'static str| {
        validators::from_fn(what, move |value| {
            let v = value.as_str()?;
            match ResourceId::parse(v) {
                Ok(r) if r.has_type(kind) && r.subscription.is_some() && r.resource_group.is_some() => None,
                Ok(_) => Some(format!("{v:?} is not {what}.")),
                Err(e) => Some(e.to_string()),
            }
        })
    };
    Schema::new()
        .description(
            "Binds a user-assigned managed identity to Azure VMs for Teleport's `azure` join method: assigns the \
             identity a role that can read the VMs (on `scope`), attaches the identity to every VM as user-assigned \
             (other identities of the VM are left alone), and computes `azure_allow`, the rules a \
             `teleport_provision_token` needs to admit exactly these VMs.\n\n\
             With `token` set, the plan fails when that token does not admit one of the VMs, naming each VM.\n\n\
             Drift is repaired in place: a deleted role assignment or custom role, or an identity detached from a \
             VM, shows up in the next plan. A VM deleted outside Terraform produces a warning, not an error; remove \
             it from `virtual_machine_ids`.\n\n\
             Destroy removes only what this resource created (see `managed`): the role assignment, the \
             least-privilege custom role (kept while other assignments use it), and the identity from the VMs it \
             attached it to. The identity itself is never deleted.\n\n\
             Import with `terraform import teleport_azure_identity_binding.NAME '<identity id>|<vm id>[,<vm id>…][|<role>[|<scope>]]'`. \
             The imported role assignment, the VMs that already carry the identity and the least-privilege custom role \
             become managed by Terraform (and are removed on destroy).",
        )
        .attribute(Attribute::string("id").computed().description(
            "`<identity id>|<vm id>,<vm id>…` (VM IDs sorted).",
        ))
        .attribute(
            Attribute::string("identity_id")
                .required()
                .requires_replace()
                .validator(id_validator("userAssignedIdentities", "the ARM ID of a user-assigned managed identity"))
                .description(
                    "ARM ID of the user-assigned managed identity (`/subscriptions/…/resourceGroups/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/…`). Changing it replaces the binding.",
                ),
        )
        .attribute(
            Attribute::set("virtual_machine_ids", Type::String)
                .required()
                .validator(validators::from_fn("a non-empty set of VM ARM IDs", |value| {
                    let items = value.as_elements()?;
                    if items.is_empty() {
                        return Some("at least one VM is required.".to_string());
                    }
                    items.iter().filter_map(|i| i.as_str()).find_map(|v| match ResourceId::parse(v) {
                        Ok(r) if r.is_virtual_machine() && r.subscription.is_some() && r.resource_group.is_some() => None,
                        Ok(_) => Some(format!("{v:?} is not the ARM ID of a virtual machine.")),
                        Err(e) => Some(e.to_string()),
                    })
                }))
                .description("ARM IDs of the VMs the identity is attached to and may read. Changes are applied in place (attach/detach), unless they change the computed `scope`."),
        )
        .attribute(
            Attribute::string("role")
                .optional()
                .computed()
                .default("least_privilege")
                .requires_replace()
                .validator(validators::from_fn(
                    "`least_privilege`, `reader` or a role definition ID",
                    |value| {
                        let v = value.as_str()?;
                        if v == "least_privilege" || v == "reader" || role_guid(v).is_some() {
                            None
                        } else {
                            Some(format!(
                                "{v:?} must be least_privilege, reader, or a role definition ID (/subscriptions/…/providers/Microsoft.Authorization/roleDefinitions/<guid>)."
                            ))
                        }
                    },
                ))
                .description(
                    "Role assigned to the identity: `least_privilege` (default; a custom role holding only \
                     `Microsoft.Compute/virtualMachines/read`, created once per subscription as `Joinery VM Reader \
                     (<subscription>)` and reused), `reader` (built-in Reader) or an explicit role definition ID. \
                     Changing it replaces the binding.",
                ),
        )
        .attribute(
            // Replacement is decided in modify_plan, once the default scope is known.
            Attribute::string("scope")
                .optional()
                .computed()
                .description(
                    "Scope of the role assignment. Defaults to the narrowest scope covering the VMs: the VM itself \
                     for one VM, their resource group, or their subscription (VMs in several subscriptions need an \
                     explicit scope). Changing it replaces the binding; set it explicitly to keep VM set changes \
                     in place.",
                ),
        )
        .attribute(Attribute::string("token").optional().description(
            "Name of a `teleport_provision_token` (join method `azure`) to check at plan time: the plan fails, \
             naming each VM, when the token's `spec.azure.allow` does not admit a VM's subscription and resource group.",
        ))
        .attribute(
            Attribute::string("client_id")
                .computed()
                .use_state_for_unknown()
                .description("Client ID of the identity (what the agent passes to IMDS)."),
        )
        .attribute(
            Attribute::string("principal_id")
                .computed()
                .use_state_for_unknown()
                .description("Principal (object) ID of the identity."),
        )
        .attribute(
            Attribute::string("tenant_id").computed().use_state_for_unknown().description("Tenant of the identity."),
        )
        .attribute(
            Attribute::string("role_assignment_id")
                .computed()
                .use_state_for_unknown()
                .description("ARM ID of the role assignment (null in state when it was deleted outside Terraform)."),
        )
        .attribute(
            Attribute::string("role_definition_id")
                .computed()
                .use_state_for_unknown()
                .description("ARM ID of the assigned role definition."),
        )
        .attribute(
            Attribute::list_nested(
                "azure_allow",
                [
                    Attribute::string("subscription").computed().description("Subscription ID."),
                    Attribute::list("resource_groups", Type::String)
                        .computed()
                        .description("Resource groups of the VMs in that subscription, sorted."),
                ],
            )
            .computed()
            .description(
                "Rules admitting exactly the VMs' subscriptions and resource groups, one per subscription; use as \
                 `spec.azure.allow` of a `teleport_provision_token`.",
            ),
        )
        .attribute(
            Attribute::single_nested(
                "managed",
                [
                    Attribute::bool("role_assignment")
                        .computed()
                        .description("Whether this resource created the role assignment (and deletes it)."),
                    Attribute::bool("role_definition")
                        .computed()
                        .description("Whether this resource created the custom role (and deletes it when unused)."),
                    Attribute::set("virtual_machine_ids", Type::String)
                        .computed()
                        .description("VMs this resource attached the identity to (and detaches it from on destroy)."),
                ],
            )
            .computed()
            .description("What this resource created, and so removes on destroy."),
        )
}

// ---- pure helpers ------------------------------------------------------------------------

/// The GUID of a role definition ID, if it is one.
fn role_guid(id: &str) -> Option<String> {
    let (prefix, guid) = id.trim_end_matches('/').rsplit_once('/')?;
    (prefix.to_ascii_lowercase().ends_with("/providers/microsoft.authorization/roledefinitions")
        && joinery_util::guid::is_guid(guid))
    .then(|| guid.to_ascii_lowercase())
}

/// A GUID derived from `parts` (stable names make every write idempotent).
fn stable_guid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.to_ascii_lowercase().as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &x[0..8], &x[8..12], &x[12..16], &x[16..20], &x[20..32])
}

struct VmRef {
    id: String,
    subscription: String,
    resource_group: String,
    name: String,
}

fn vm_ref(id: &str) -> Result<VmRef, Diagnostics> {
    let bad = |m: String| Diagnostics::attribute_error(AttributePath::root("virtual_machine_ids"), "Invalid VM ID", m);
    let r = ResourceId::parse(id).map_err(|e| bad(e.to_string()))?;
    match (r.subscription.clone(), r.resource_group.clone(), r.is_virtual_machine()) {
        (Some(s), Some(g), true) => Ok(VmRef {
            id: id.to_string(),
            subscription: s,
            resource_group: g,
            name: r.name().unwrap_or_default().to_string(),
        }),
        _ => Err(bad(format!("{id:?} is not the ARM ID of a virtual machine."))),
    }
}

fn vm_refs(ids: &[String]) -> Result<Vec<VmRef>, Diagnostics> {
    ids.iter().map(|i| vm_ref(i)).collect()
}

/// The narrowest scope covering the VMs.
fn default_scope(vms: &[VmRef]) -> Result<String, Diagnostics> {
    let Some(first) = vms.first() else {
        return Err(Diagnostics::attribute_error(
            AttributePath::root("virtual_machine_ids"),
            "No VMs",
            "virtual_machine_ids needs at least one VM.",
        ));
    };
    if vms.len() == 1 {
        return Ok(first.id.trim_end_matches('/').to_string());
    }
    let same_sub = vms.iter().all(|v| v.subscription.eq_ignore_ascii_case(&first.subscription));
    if !same_sub {
        return Err(Diagnostics::attribute_error(
            AttributePath::root("scope"),
            "Scope needed",
            "The VMs are in several subscriptions; set scope (for example a management group) explicitly.",
        ));
    }
    if vms.iter().all(|v| v.resource_group.eq_ignore_ascii_case(&first.resource_group)) {
        return Ok(format!("/subscriptions/{}/resourceGroups/{}", first.subscription, first.resource_group));
    }
    Ok(format!("/subscriptions/{}", first.subscription))
}

/// `{subscription, resource_groups}` rules admitting exactly the VMs.
fn azure_allow(vms: &[VmRef]) -> Value {
    let mut subs: BTreeMap<String, (String, BTreeMap<String, String>)> = BTreeMap::new();
    for v in vms {
        let e = subs
            .entry(v.subscription.to_ascii_lowercase())
            .or_insert_with(|| (v.subscription.clone(), BTreeMap::new()));
        e.1.entry(v.resource_group.to_ascii_lowercase()).or_insert_with(|| v.resource_group.clone());
    }
    Value::List(
        subs.into_values()
            .map(|(sub, groups)| {
                Value::object([
                    ("subscription", Value::string(sub)),
                    ("resource_groups", Value::List(groups.into_values().map(Value::string).collect())),
                ])
            })
            .collect(),
    )
}

fn binding_id(identity: &str, vms: &[String]) -> String {
    let mut v = vms.to_vec();
    v.sort_by_key(|s| s.to_ascii_lowercase());
    format!("{identity}|{}", v.join(","))
}

fn subscription_of_scope(scope: &str) -> Option<String> {
    let segs: Vec<&str> = scope.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        [s, id, ..] if s.eq_ignore_ascii_case("subscriptions") && !id.is_empty() => Some(id.to_string()),
        _ => None,
    }
}

fn has_identity(vm: &VirtualMachine, identity_id: &str) -> bool {
    vm.identity.as_ref().is_some_and(|i| i.user_assigned_identities.keys().any(|k| same_id(k, identity_id)))
}

fn same_id(a: &str, b: &str) -> bool {
    match (ResourceId::parse(a), ResourceId::parse(b)) {
        (Ok(x), Ok(y)) => x.eq_ignore_case(&y),
        _ => a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/')),
    }
}

/// Which VMs a token's Azure rules reject, with why.
fn rejected_vms(
    token: &joinery_teleport::proto::types::ProvisionTokenV2,
    vms: &[VmRef],
) -> Result<Vec<String>, String> {
    let spec = token.spec.clone().unwrap_or_default();
    if !spec.join_method.eq_ignore_ascii_case("azure") {
        return Err(format!("the token's join method is {:?}, not \"azure\"", spec.join_method));
    }
    let rules = spec.azure.map(|a| a.allow).unwrap_or_default();
    Ok(vms
        .iter()
        .filter(|v| {
            !rules.iter().any(|r| {
                r.subscription.eq_ignore_ascii_case(&v.subscription)
                    && (r.resource_groups.is_empty()
                        || r.resource_groups.iter().any(|g| g.eq_ignore_ascii_case(&v.resource_group)))
            })
        })
        .map(|v| {
            format!(
                "VM {} ({}): subscription {} / resource group {} is not admitted by the token's spec.azure.allow",
                v.name, v.id, v.subscription, v.resource_group
            )
        })
        .collect())
}

async fn check_token(c: &TeleportClient, token: &str, vms: &[VmRef]) -> Result<(), Diagnostics> {
    let path = AttributePath::root("token");
    let t = c.client.get_token(token).await.map_err(|e| match e {
        TeleportError::NotFound(_) => Diagnostics::attribute_error(
            path.clone(),
            "Join token not found",
            format!("No provision token named {token:?} exists (or it has expired)."),
        ),
        e => Diagnostics::error("Error reading ProvisionToken", e.to_string()),
    })?;
    match rejected_vms(&t, vms) {
        Err(why) => Err(Diagnostics::attribute_error(path, "Join token does not use the azure method", why)),
        Ok(bad) if bad.is_empty() => Ok(()),
        Ok(bad) => {
            let mut d = Diagnostics::new();
            for b in bad {
                d.add_attribute_error(path.clone(), "Join token does not admit a VM", format!("Token {token:?}: {b}."));
            }
            Err(d)
        }
    }
}

// ---- state -------------------------------------------------------------------------------

/// Everything the state holds, typed.
#[derive(Debug, Clone, Default)]
struct Binding {
    identity_id: String,
    vm_ids: Vec<String>,
    role: String,
    scope: String,
    token: Value,
    client_id: String,
    principal_id: String,
    tenant_id: String,
    role_assignment_id: Option<String>,
    role_definition_id: Option<String>,
    managed_assignment: bool,
    managed_definition: bool,
    managed_vms: Vec<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_string_vec().unwrap_or_default()
}

impl Binding {
    fn from_value(v: &Value) -> Binding {
        let m = v.attr("managed");
        Binding {
            identity_id: v.attr("identity_id").as_str().unwrap_or_default().to_string(),
            vm_ids: strings(v.attr("virtual_machine_ids")),
            role: v.attr("role").as_str().unwrap_or("least_privilege").to_string(),
            scope: v.attr("scope").as_str().unwrap_or_default().to_string(),
            token: v.attr("token").clone(),
            client_id: v.attr("client_id").as_str().unwrap_or_default().to_string(),
            principal_id: v.attr("principal_id").as_str().unwrap_or_default().to_string(),
            tenant_id: v.attr("tenant_id").as_str().unwrap_or_default().to_string(),
            role_assignment_id: v.attr("role_assignment_id").as_str().map(str::to_string),
            role_definition_id: v.attr("role_definition_id").as_str().map(str::to_string),
            managed_assignment: m.attr("role_assignment").as_bool().unwrap_or(false),
            managed_definition: m.attr("role_definition").as_bool().unwrap_or(false),
            managed_vms: strings(m.attr("virtual_machine_ids")),
        }
    }

    fn to_value(&self) -> Result<Value, Diagnostics> {
        let vms = vm_refs(&self.vm_ids)?;
        let opt = |s: &Option<String>| s.clone().map(Value::string).unwrap_or_default();
        Ok(Value::object([
            ("id", Value::string(binding_id(&self.identity_id, &self.vm_ids))),
            ("identity_id", Value::string(self.identity_id.clone())),
            ("virtual_machine_ids", Value::Set(self.vm_ids.iter().map(Value::string).collect())),
            ("role", Value::string(self.role.clone())),
            ("scope", Value::string(self.scope.clone())),
            ("token", self.token.clone()),
            ("client_id", Value::string(self.client_id.clone())),
            ("principal_id", Value::string(self.principal_id.clone())),
            ("tenant_id", Value::string(self.tenant_id.clone())),
            ("role_assignment_id", opt(&self.role_assignment_id)),
            ("role_definition_id", opt(&self.role_definition_id)),
            ("azure_allow", azure_allow(&vms)),
            (
                "managed",
                Value::object([
                    ("role_assignment", Value::Bool(self.managed_assignment)),
                    ("role_definition", Value::Bool(self.managed_definition)),
                    ("virtual_machine_ids", Value::Set(self.managed_vms.iter().map(Value::string).collect())),
                ]),
            ),
        ]))
    }
}

// ---- ARM operations ----------------------------------------------------------------------

fn least_privilege_ids(scope: &str) -> Result<(String, String, String), Diagnostics> {
    let sub = subscription_of_scope(scope).ok_or_else(|| {
        Diagnostics::attribute_error(
            AttributePath::root("role"),
            "least_privilege needs a subscription scope",
            format!("The custom role is defined per subscription; scope {scope:?} is not under one. Use reader or a role definition ID."),
        )
    })?;
    let guid = stable_guid(&["joinery-vm-reader", &sub]);
    let id = format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}");
    Ok((sub, guid, id))
}

/// Resolves (and for least_privilege creates) the role; returns its id and whether it was created here.
async fn ensure_role(arm: &ArmClient, role: &str, scope: &str) -> Result<(String, bool), Diagnostics> {
    match role {
        "reader" => {
            let sub = subscription_of_scope(scope);
            Ok((
                match sub {
                    Some(s) => format!(
                        "/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{READER_ROLE_GUID}"
                    ),
                    None => format!("/providers/Microsoft.Authorization/roleDefinitions/{READER_ROLE_GUID}"),
                },
                false,
            ))
        }
        "least_privilege" => {
            let (sub, guid, id) = least_privilege_ids(scope)?;
            if let Some(d) = arm.get_role_definition(&id).await.map_err(|e| arm_error("reading the custom role", e))? {
                return Ok((d.id, false));
            }
            let role_name = format!("Joinery VM Reader ({sub})");
            let sub_scope = format!("/subscriptions/{sub}");
            // A role with that name created some other way is reused, never modified.
            let existing =
                arm.find_role_definitions(&sub_scope, &role_name).await.map_err(|e| arm_error("listing roles", e))?;
            if let Some(d) = existing.into_iter().find(|d| d.properties.role_name.eq_ignore_ascii_case(&role_name)) {
                return Ok((d.id, false));
            }
            let d = arm
                .put_role_definition(
                    &guid,
                    &role_name,
                    "Read virtual machines only: what Teleport's Azure join verifier needs. Managed by Terraform (teleport_azure_identity_binding).",
                    &[VM_READ_ACTION],
                    &[sub_scope],
                )
                .await
                .map_err(|e| arm_error("creating the least-privilege custom role", e))?;
            Ok((if d.id.is_empty() { id } else { d.id }, true))
        }
        explicit => Ok((explicit.to_string(), false)),
    }
}

/// Ensures the principal holds `role_definition_id` on `scope`; returns the assignment id and
/// whether it is this resource's own.
async fn ensure_assignment(
    arm: &ArmClient,
    scope: &str,
    role_definition_id: &str,
    principal_id: &str,
) -> Result<(String, bool), Diagnostics> {
    let role = role_guid(role_definition_id).unwrap_or_default();
    let name = stable_guid(&[scope.trim_end_matches('/'), &role, principal_id]);
    let mut delay = Duration::from_secs(2);
    for attempt in 1..=ASSIGNMENT_TRIES {
        let existing = arm
            .list_role_assignments(scope, principal_id)
            .await
            .map_err(|e| arm_error("listing role assignments", e))?;
        if let Some(a) = existing.iter().find(|a| {
            role_guid(&a.properties.role_definition_id).as_deref() == Some(role.as_str())
                && a.properties.scope.trim_end_matches('/').eq_ignore_ascii_case(scope.trim_end_matches('/'))
        }) {
            return Ok((a.id.clone(), a.name.eq_ignore_ascii_case(&name)));
        }
        match arm
            .put_role_assignment(scope, &name, role_definition_id, principal_id, Some(ASSIGNMENT_DESCRIPTION))
            .await
        {
            Ok(a) => return Ok((a.id, true)),
            // Replication lag after creating the identity or the role: retry.
            Err(e @ ArmError::Api { .. })
                if matches!(e.code(), "PrincipalNotFound" | "RoleDefinitionDoesNotExist" | "RoleAssignmentExists")
                    && attempt < ASSIGNMENT_TRIES =>
            {
                tracing::info!(code = e.code(), attempt, "role assignment not possible yet; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(15));
            }
            Err(e) => return Err(arm_error("creating the role assignment", e)),
        }
    }
    Err(Diagnostics::error("Azure: error creating the role assignment", "gave up after retries"))
}

fn attach_body(vm: &VirtualMachine, identity_id: &str) -> serde_json::Value {
    let system = vm
        .identity
        .as_ref()
        .and_then(|i| i.kind.as_deref())
        .is_some_and(|k| k.to_ascii_lowercase().contains("systemassigned"));
    let mut map = serde_json::Map::new();
    map.insert(identity_id.to_string(), serde_json::json!({}));
    serde_json::json!({
        "type": if system { "SystemAssigned, UserAssigned" } else { "UserAssigned" },
        "userAssignedIdentities": map,
    })
}

fn detach_body(vm: &VirtualMachine, identity_id: &str) -> serde_json::Value {
    let ident = vm.identity.clone().unwrap_or_default();
    let system = ident.kind.as_deref().is_some_and(|k| k.to_ascii_lowercase().contains("systemassigned"));
    let others = ident.user_assigned_identities.keys().filter(|k| !same_id(k, identity_id)).count();
    let ours: Vec<&String> = ident.user_assigned_identities.keys().filter(|k| same_id(k, identity_id)).collect();
    match (system, others > 0) {
        (_, true) => {
            let mut map = serde_json::Map::new();
            for k in ours {
                map.insert(k.clone(), serde_json::Value::Null);
            }
            serde_json::json!({
                "type": if system { "SystemAssigned, UserAssigned" } else { "UserAssigned" },
                "userAssignedIdentities": map,
            })
        }
        (true, false) => serde_json::json!({ "type": "SystemAssigned" }),
        (false, false) => serde_json::json!({ "type": "None" }),
    }
}

/// Attaches the identity unless already attached; returns whether it attached it.
async fn attach(arm: &ArmClient, vm_id: &str, identity_id: &str) -> Result<bool, Diagnostics> {
    let vm = arm.get_vm(vm_id).await.map_err(|e| vm_error(vm_id, "reading", e))?;
    if has_identity(&vm, identity_id) {
        return Ok(false);
    }
    arm.patch_vm_identity(vm_id, attach_body(&vm, identity_id))
        .await
        .map_err(|e| vm_error(vm_id, "attaching the identity to", e))?;
    Ok(true)
}

/// Detaches the identity if attached (a deleted VM is fine).
async fn detach(arm: &ArmClient, vm_id: &str, identity_id: &str) -> Result<(), Diagnostics> {
    let vm = match arm.get_vm(vm_id).await {
        Ok(vm) => vm,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(vm_error(vm_id, "reading", e)),
    };
    if !has_identity(&vm, identity_id) {
        return Ok(());
    }
    match arm.patch_vm_identity(vm_id, detach_body(&vm, identity_id)).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(vm_error(vm_id, "detaching the identity from", e)),
    }
}

async fn vm_gone(arm: &ArmClient, vm_id: &str) -> bool {
    matches!(arm.get_vm(vm_id).await, Err(e) if e.is_not_found())
}

fn vm_error(vm_id: &str, action: &str, e: ArmError) -> Diagnostics {
    if e.is_not_found() {
        Diagnostics::attribute_error(
            AttributePath::root("virtual_machine_ids"),
            "Azure VM not found",
            format!("{vm_id} does not exist: {e}"),
        )
    } else {
        Diagnostics::error(format!("Azure: error {action} VM {vm_id}"), e.to_string())
    }
}

/// Deletes what `b` records as created here. Best effort across steps; first error wins.
async fn remove_managed(arm: &ArmClient, b: &Binding) -> Result<(), Diagnostics> {
    let mut errors = Diagnostics::new();
    if b.managed_assignment
        && let Some(id) = &b.role_assignment_id
        && let Err(e) = arm.delete_role_assignment(id).await
    {
        errors.extend(arm_error("deleting the role assignment", e));
    }
    if b.managed_definition
        && let Some(id) = &b.role_definition_id
    {
        match arm.delete_role_definition(id).await {
            Ok(()) => {}
            // Still used by another binding: it stays until the last one goes.
            Err(e) if e.code() == "RoleDefinitionHasAssignments" => {}
            Err(e) => errors.extend(arm_error("deleting the custom role", e)),
        }
    }
    for vm in &b.managed_vms {
        if let Err(d) = detach(arm, vm, &b.identity_id).await {
            errors.extend(d);
        }
    }
    if errors.has_errors() { Err(errors) } else { Ok(()) }
}

/// Brings Azure to `want` starting from `have` (what exists and is owned); returns the new
/// state. On failure, whatever this call created is rolled back.
async fn reconcile(arm: &ArmClient, mut want: Binding, have: &Binding) -> Result<Binding, Diagnostics> {
    let identity = arm.get_identity(&want.identity_id).await.map_err(|e| {
        if e.is_not_found() {
            Diagnostics::attribute_error(
                AttributePath::root("identity_id"),
                "Managed identity not found",
                format!("{}: {e}", want.identity_id),
            )
        } else {
            arm_error("reading the managed identity", e)
        }
    })?;
    want.client_id = identity.properties.client_id.clone();
    want.principal_id = identity.properties.principal_id.clone();
    want.tenant_id = identity.properties.tenant_id.clone();
    let mut created = Binding { identity_id: want.identity_id.clone(), ..Default::default() };
    let result = async {
        // Role definition.
        let (rd, rd_created) = ensure_role(arm, &want.role, &want.scope).await?;
        want.role_definition_id = Some(rd.clone());
        want.managed_definition = have.managed_definition || rd_created;
        if rd_created {
            created.role_definition_id = Some(rd.clone());
            created.managed_definition = true;
        }
        // Role assignment.
        let (ra, ours) = ensure_assignment(arm, &want.scope, &rd, &want.principal_id).await?;
        let pre_existing = have.role_assignment_id.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(&ra));
        want.managed_assignment = if pre_existing { have.managed_assignment } else { ours };
        if ours && !pre_existing {
            created.role_assignment_id = Some(ra.clone());
            created.managed_assignment = true;
        }
        want.role_assignment_id = Some(ra);
        // VMs no longer wanted: detach where this resource attached.
        let mut managed: Vec<String> = Vec::new();
        for vm in &have.managed_vms {
            if want.vm_ids.iter().any(|w| same_id(w, vm)) {
                managed.push(vm.clone());
            } else {
                detach(arm, vm, &want.identity_id).await?;
            }
        }
        // Wanted VMs: attach.
        for vm in &want.vm_ids {
            let known_deleted = have.vm_ids.iter().any(|h| same_id(h, vm));
            let attached = match attach(arm, vm, &want.identity_id).await {
                Ok(a) => a,
                // Deleted outside Terraform after it was bound: nothing to attach (plan warns).
                Err(_) if known_deleted && vm_gone(arm, vm).await => false,
                Err(d) => return Err(d),
            };
            if attached {
                created.managed_vms.push(vm.clone());
                if !managed.iter().any(|m| same_id(m, vm)) {
                    managed.push(vm.clone());
                }
            }
        }
        want.managed_vms = managed;
        Ok::<_, Diagnostics>(())
    }
    .await;
    match result {
        Ok(()) => Ok(want),
        Err(mut d) => {
            if let Err(cleanup) = remove_managed(arm, &created).await {
                d.extend(cleanup);
            }
            Err(d)
        }
    }
}

/// Fills in `scope` from the VMs when not configured.
fn planned_scope(v: &Value) -> Result<String, Diagnostics> {
    match v.attr("scope").as_str() {
        Some(s) if !s.is_empty() => Ok(s.trim_end_matches('/').to_string()),
        _ => default_scope(&vm_refs(&strings(v.attr("virtual_machine_ids")))?),
    }
}

/// The resource.
pub struct AzureIdentityBindingResource;

#[async_trait]
impl Resource<TeleportClient> for AzureIdentityBindingResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn modify_plan(&self, client: Option<&TeleportClient>, p: &mut ModifyPlan) -> Result<(), Diagnostics> {
        if p.plan.is_null() {
            return Ok(());
        }
        let vm_value = p.plan.attr("virtual_machine_ids").clone();
        let vm_ids = vm_value.as_string_vec().filter(|_| vm_value.is_wholly_known());
        if let Some(ids) = &vm_ids {
            let vms = vm_refs(ids)?;
            p.plan.set_attr("azure_allow", azure_allow(&vms));
            p.plan.set_attr(
                "id",
                Value::string(binding_id(p.plan.attr("identity_id").as_str().unwrap_or_default(), ids)),
            );
            if p.config.attr("scope").is_null() {
                p.plan.set_attr("scope", Value::string(default_scope(&vms)?));
            }
        }
        if !p.state.is_null() {
            let (planned, prior) = (p.plan.attr("scope"), p.state.attr("scope"));
            let same = match (planned.as_str(), prior.as_str()) {
                (Some(a), Some(b)) => a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/')),
                _ => false,
            };
            if same {
                p.plan.set_attr("scope", prior.clone());
            } else {
                // Role assignments are immutable: a new scope (or one not known yet) replaces.
                p.requires_replace.push(AttributePath::root("scope"));
            }
        }
        if !p.state.is_null() {
            // Drift reported by read: plan the repair.
            let mut repair = false;
            for attr in ["role_assignment_id", "role_definition_id"] {
                if p.state.attr(attr).is_null() {
                    p.plan.set_attr(attr, Value::Unknown);
                    repair = true;
                }
            }
            if repair || p.plan.attr("virtual_machine_ids") != p.state.attr("virtual_machine_ids") {
                p.plan.set_attr("managed", Value::Unknown);
            }
        }
        let Some(c) = client else { return Ok(()) };
        let Some(ids) = vm_ids else { return Ok(()) };
        let vms = vm_refs(&ids)?;
        if let Some(token) = p.plan.attr("token").as_str().filter(|_| !p.plan.attr("token").is_unknown()) {
            check_token(c, token, &vms).await?;
        }
        // VMs deleted outside Terraform: a warning (kept in state), or an error for new ones.
        let arm = c.azure.arm().await?;
        let before = strings(p.state.attr("virtual_machine_ids"));
        for vm in &vms {
            match arm.get_vm(&vm.id).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {
                    if before.iter().any(|b| same_id(b, &vm.id)) {
                        p.diagnostics.add_attribute_warning(
                            AttributePath::root("virtual_machine_ids"),
                            "Azure VM deleted outside Terraform",
                            format!("{} no longer exists; remove it from virtual_machine_ids.", vm.id),
                        );
                    } else {
                        return Err(Diagnostics::attribute_error(
                            AttributePath::root("virtual_machine_ids"),
                            "Azure VM not found",
                            format!("VM {} ({}) does not exist.", vm.name, vm.id),
                        ));
                    }
                }
                Err(e) => return Err(vm_error(&vm.id, "reading", e)),
            }
        }
        Ok(())
    }

    async fn create(&self, c: &TeleportClient, req: CreateRequest) -> Result<Value, Diagnostics> {
        let mut want = Binding::from_value(&req.plan);
        want.scope = planned_scope(&req.plan)?;
        let vms = vm_refs(&want.vm_ids)?;
        if let Some(token) = want.token.as_str() {
            check_token(c, token, &vms).await?;
        }
        let arm = c.azure.arm().await?;
        reconcile(&arm, want, &Binding::default()).await?.to_value()
    }

    async fn read(&self, c: &TeleportClient, req: ReadRequest) -> Result<Option<Value>, Diagnostics> {
        let mut b = Binding::from_value(&req.state);
        let arm = c.azure.arm().await?;
        match arm.get_identity(&b.identity_id).await {
            Ok(i) => {
                b.client_id = i.properties.client_id;
                b.principal_id = i.properties.principal_id;
                b.tenant_id = i.properties.tenant_id;
            }
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(arm_error("reading the managed identity", e)),
        }
        if let Some(id) = &b.role_assignment_id
            && arm.get_role_assignment(id).await.map_err(|e| arm_error("reading the role assignment", e))?.is_none()
        {
            b.role_assignment_id = None;
        }
        if b.role == "least_privilege"
            && let Some(id) = &b.role_definition_id
            && arm.get_role_definition(id).await.map_err(|e| arm_error("reading the custom role", e))?.is_none()
        {
            b.role_definition_id = None;
        }
        let mut kept = Vec::new();
        for vm in &b.vm_ids {
            match arm.get_vm(vm).await {
                Ok(v) if has_identity(&v, &b.identity_id) => kept.push(vm.clone()),
                // Detached outside Terraform: dropped, so the plan re-attaches.
                Ok(_) => b.managed_vms.retain(|m| !same_id(m, vm)),
                // Deleted outside Terraform: kept (nothing to repair), with a plan warning.
                Err(e) if e.is_not_found() => {
                    kept.push(vm.clone());
                    b.managed_vms.retain(|m| !same_id(m, vm));
                }
                Err(e) => return Err(vm_error(vm, "reading", e)),
            }
        }
        b.vm_ids = kept;
        b.to_value().map(Some)
    }

    async fn update(&self, c: &TeleportClient, req: UpdateRequest) -> Result<Value, Diagnostics> {
        let have = Binding::from_value(&req.state);
        let mut want = Binding::from_value(&req.plan);
        want.scope = planned_scope(&req.plan)?;
        if let Some(token) = want.token.as_str() {
            check_token(c, token, &vm_refs(&want.vm_ids)?).await?;
        }
        let arm = c.azure.arm().await?;
        reconcile(&arm, want, &have).await?.to_value()
    }

    async fn delete(&self, c: &TeleportClient, req: DeleteRequest) -> Result<(), Diagnostics> {
        let b = Binding::from_value(&req.state);
        let arm = c.azure.arm().await?;
        remove_managed(&arm, &b).await
    }

    async fn import(&self, c: &TeleportClient, id: &str) -> Result<Value, Diagnostics> {
        let usage = || {
            Diagnostics::error(
                "Invalid import ID",
                format!("Use '<identity id>|<vm id>[,<vm id>…][|<role>[|<scope>]]', got {id:?}."),
            )
        };
        let parts: Vec<&str> = id.split('|').map(str::trim).collect();
        if parts.len() < 2 || parts.len() > 4 || parts[0].is_empty() || parts[1].is_empty() {
            return Err(usage());
        }
        let vm_ids: Vec<String> = parts[1].split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let vms = vm_refs(&vm_ids)?;
        let role = parts.get(2).map(|r| r.to_string()).unwrap_or_else(|| "least_privilege".to_string());
        if !(role == "least_privilege" || role == "reader" || role_guid(&role).is_some()) {
            return Err(usage());
        }
        let scope = match parts.get(3) {
            Some(s) => s.trim_end_matches('/').to_string(),
            None => default_scope(&vms)?,
        };
        let arm = c.azure.arm().await?;
        let identity = arm.get_identity(parts[0]).await.map_err(|e| arm_error("reading the managed identity", e))?;
        let rd = match role.as_str() {
            "least_privilege" => {
                let (_, _, rd) = least_privilege_ids(&scope)?;
                arm.get_role_definition(&rd).await.map_err(|e| arm_error("reading the custom role", e))?.map(|d| d.id)
            }
            "reader" => Some(match subscription_of_scope(&scope) {
                Some(s) => {
                    format!("/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{READER_ROLE_GUID}")
                }
                None => format!("/providers/Microsoft.Authorization/roleDefinitions/{READER_ROLE_GUID}"),
            }),
            other => Some(other.to_string()),
        };
        // The least-privilege role under its deterministic ID is this provider's own: adopted.
        let adopt_definition = role == "least_privilege" && rd.is_some();
        let want_guid = rd.as_deref().and_then(role_guid);
        let ra = arm
            .list_role_assignments(&scope, &identity.properties.principal_id)
            .await
            .map_err(|e| arm_error("listing role assignments", e))?
            .into_iter()
            .find(|a| {
                want_guid.is_some()
                    && role_guid(&a.properties.role_definition_id) == want_guid
                    && a.properties.scope.trim_end_matches('/').eq_ignore_ascii_case(&scope)
            })
            .map(|a| a.id);
        let mut attached = Vec::new();
        for vm in &vm_ids {
            let v = arm.get_vm(vm).await.map_err(|e| vm_error(vm, "reading", e))?;
            if has_identity(&v, parts[0]) {
                attached.push(vm.clone());
            }
        }
        Binding {
            identity_id: parts[0].to_string(),
            vm_ids: attached.clone(),
            role,
            scope,
            token: Value::Null,
            client_id: identity.properties.client_id,
            principal_id: identity.properties.principal_id,
            tenant_id: identity.properties.tenant_id,
            managed_assignment: ra.is_some(),
            role_assignment_id: ra,
            role_definition_id: rd,
            managed_definition: adopt_definition,
            managed_vms: attached,
        }
        .to_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "11111111-2222-3333-4444-555555555555";

    fn vm(rg: &str, name: &str) -> String {
        format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}")
    }

    #[test]
    fn scope_and_allow() {
        let one = vm_refs(&[vm("group1", "vm-1")]).unwrap();
        assert_eq!(default_scope(&one).unwrap(), vm("group1", "vm-1"));
        let two = vm_refs(&[vm("group1", "vm-1"), vm("Group1", "vm-3")]).unwrap();
        assert_eq!(default_scope(&two).unwrap(), format!("/subscriptions/{SUB}/resourceGroups/group1"));
        let three = vm_refs(&[vm("group1", "vm-1"), vm("group2", "vm-2"), vm("GROUP1", "vm-3")]).unwrap();
        assert_eq!(default_scope(&three).unwrap(), format!("/subscriptions/{SUB}"));
        let allow = azure_allow(&three);
        let rules = allow.as_elements().unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].attr("resource_groups").as_string_vec().unwrap(), ["group1", "group2"]);
    }

    #[test]
    fn stable_guids_and_role_ids() {
        let a = stable_guid(&["x", "Y"]);
        assert_eq!(a, stable_guid(&["X", "y"]));
        assert!(joinery_util::guid::is_guid(&a));
        assert_eq!(
            role_guid(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{READER_ROLE_GUID}"
            )),
            Some(READER_ROLE_GUID.to_string())
        );
        assert_eq!(role_guid("reader"), None);
    }

    #[test]
    fn token_rules_name_each_rejected_vm() {
        use joinery_teleport::proto::types::{
            ProvisionTokenSpecV2, ProvisionTokenSpecV2Azure, ProvisionTokenV2, provision_token_spec_v2_azure::Rule,
        };
        let t = ProvisionTokenV2 {
            spec: Some(ProvisionTokenSpecV2 {
                join_method: "azure".into(),
                azure: Some(ProvisionTokenSpecV2Azure {
                    allow: vec![Rule { subscription: SUB.into(), resource_groups: vec!["GROUP2".into()] }],
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let vms = vm_refs(&[vm("group1", "vm-1"), vm("group2", "vm-2")]).unwrap();
        let bad = rejected_vms(&t, &vms).unwrap();
        assert_eq!(bad.len(), 1);
        assert!(bad[0].contains("VM vm-1"), "{bad:?}");
    }

    #[test]
    fn detach_keeps_other_identities() {
        let vm: VirtualMachine = serde_json::from_value(serde_json::json!({
            "id": vm("g", "v"), "name": "v",
            "identity": {"type": "SystemAssigned, UserAssigned", "principalId": "p",
                "userAssignedIdentities": {"/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a": {},
                                           "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b": {}}}
        }))
        .unwrap();
        let ours = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a";
        let body = detach_body(&vm, ours);
        assert_eq!(body["type"], "SystemAssigned, UserAssigned");
        assert_eq!(body["userAssignedIdentities"].as_object().unwrap().len(), 1);
        assert!(body["userAssignedIdentities"].as_object().unwrap().values().all(|v| v.is_null()));
        assert_eq!(attach_body(&vm, ours)["type"], "SystemAssigned, UserAssigned");
    }

    #[test]
    fn schema_is_documented() {
        let s = schema();
        assert!(s.problems().is_empty(), "{:?}", s.problems());
        fn walk(a: &[Attribute]) {
            for x in a {
                assert!(!x.description.is_empty(), "{}", x.name);
                if let Some((_, n)) = x.nested_attributes() {
                    walk(n);
                }
            }
        }
        walk(&s.attributes);
    }
}
