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
//!
//! - [`schema`](schema::schema): the schema;
//! - `model`: the typed model, and the plain `Binding` the ARM code works on;
//! - `ids`: pure helpers on ARM IDs (default scope, `azure_allow`, stable GUIDs);
//! - `arm`: roles, role assignments, attaching identities, reconcile and removal;
//! - `token`: the plan-time check of a join token;
//! - here: planning and the resource's lifecycle.

mod arm;
mod ids;
mod model;
mod schema;
mod token;

use async_trait::async_trait;
use joinery_azure::resource_id::same_resource;

use self::arm::{least_privilege_ids, reconcile, remove_managed, vm_error};
use self::ids::{azure_allow, binding_id, default_scope, has_identity, reader_role_id, role_guid, vm_refs};
use self::model::Binding;
pub use self::model::BindingModel;
pub use self::schema::schema;
use self::schema::{SCOPE, VIRTUAL_MACHINE_IDS};
use self::token::check_token;
use crate::azure::arm_error;
use crate::connect::TeleportClient;
use joinery_tfplugin::framework::{
    AttributePath, CreateRequest, DeleteRequest, Diagnostics, Maybe, ModifyPlan, ReadRequest, Resource, Schema,
    UpdateRequest,
};

/// The resource type name.
pub const TYPE_NAME: &str = "teleport_azure_identity_binding";

/// Fills in `scope` from the VMs when not configured.
fn planned_scope(m: &BindingModel) -> Result<String, Diagnostics> {
    match m.scope.known_str() {
        Some(s) if !s.is_empty() => Ok(s.trim_end_matches('/').to_string()),
        _ => default_scope(&vm_refs(&m.virtual_machine_ids.known_or_default())?),
    }
}

/// Whether two sets of IDs hold the same strings.
fn same_set(a: &Maybe<Vec<String>>, b: &Maybe<Vec<String>>) -> bool {
    let sorted = |m: &Maybe<Vec<String>>| {
        m.clone().map(|mut v| {
            v.sort();
            v
        })
    };
    sorted(a) == sorted(b)
}

/// The resource.
pub struct AzureIdentityBindingResource;

#[async_trait]
impl Resource<TeleportClient> for AzureIdentityBindingResource {
    type Model = BindingModel;

    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn modify_plan(
        &self,
        client: Option<&TeleportClient>,
        p: &mut ModifyPlan<BindingModel>,
    ) -> Result<(), Diagnostics> {
        // Known means wholly known: an unknown VM ID makes the whole set unknown.
        let vm_ids = p.plan.virtual_machine_ids.known().cloned();
        if let Some(ids) = &vm_ids {
            let vms = vm_refs(ids)?;
            p.plan.azure_allow = Maybe::Known(azure_allow(&vms));
            p.plan.id = Maybe::Known(binding_id(p.plan.identity_id.known_str().unwrap_or_default(), ids));
            if p.config.scope.is_null() {
                p.plan.scope = Maybe::Known(default_scope(&vms)?);
            }
        }
        if let Some(state) = &p.state {
            let same = match (p.plan.scope.known_str(), state.scope.known_str()) {
                (Some(a), Some(b)) => a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/')),
                _ => false,
            };
            if same {
                p.plan.scope = state.scope.clone();
            } else {
                // Role assignments are immutable: a new scope (or one not known yet) replaces.
                p.requires_replace.push(AttributePath::root(SCOPE));
            }
            // Drift reported by read: plan the repair.
            let mut repair = false;
            if state.role_assignment_id.is_null() {
                p.plan.role_assignment_id = Maybe::Unknown;
                repair = true;
            }
            if state.role_definition_id.is_null() {
                p.plan.role_definition_id = Maybe::Unknown;
                repair = true;
            }
            if repair || !same_set(&p.plan.virtual_machine_ids, &state.virtual_machine_ids) {
                p.plan.managed = Maybe::Unknown;
            }
        }
        let Some(c) = client else { return Ok(()) };
        let Some(ids) = vm_ids else { return Ok(()) };
        let vms = vm_refs(&ids)?;
        if let Some(token) = p.plan.token.known_str() {
            check_token(c, token, &vms).await?;
        }
        // VMs deleted outside Terraform: a warning (kept in state), or an error for new ones.
        let arm = c.azure.arm().await?;
        let before = p.state.as_ref().map(|s| s.virtual_machine_ids.known_or_default()).unwrap_or_default();
        for vm in &vms {
            match arm.get_vm(&vm.id).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {
                    if before.iter().any(|b| same_resource(b, &vm.id)) {
                        p.diagnostics.add_attribute_warning(
                            AttributePath::root(VIRTUAL_MACHINE_IDS),
                            "Azure VM deleted outside Terraform",
                            format!("{} no longer exists; remove it from virtual_machine_ids.", vm.id),
                        );
                    } else {
                        return Err(Diagnostics::attribute_error(
                            AttributePath::root(VIRTUAL_MACHINE_IDS),
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

    async fn create(&self, c: &TeleportClient, req: CreateRequest<BindingModel>) -> Result<BindingModel, Diagnostics> {
        let mut want = Binding::from_model(&req.plan);
        want.scope = planned_scope(&req.plan)?;
        let vms = vm_refs(&want.vm_ids)?;
        if let Some(token) = want.token.known_str() {
            check_token(c, token, &vms).await?;
        }
        let arm = c.azure.arm().await?;
        reconcile(&arm, want, &Binding::default()).await?.to_model()
    }

    async fn read(
        &self,
        c: &TeleportClient,
        req: ReadRequest<BindingModel>,
    ) -> Result<Option<BindingModel>, Diagnostics> {
        let mut b = Binding::from_model(&req.state);
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
                Ok(_) => b.managed_vms.retain(|m| !same_resource(m, vm)),
                // Deleted outside Terraform: kept (nothing to repair), with a plan warning.
                Err(e) if e.is_not_found() => {
                    kept.push(vm.clone());
                    b.managed_vms.retain(|m| !same_resource(m, vm));
                }
                Err(e) => return Err(vm_error(vm, "reading", e)),
            }
        }
        b.vm_ids = kept;
        b.to_model().map(Some)
    }

    async fn update(&self, c: &TeleportClient, req: UpdateRequest<BindingModel>) -> Result<BindingModel, Diagnostics> {
        let have = Binding::from_model(&req.state);
        let mut want = Binding::from_model(&req.plan);
        want.scope = planned_scope(&req.plan)?;
        if let Some(token) = want.token.known_str() {
            check_token(c, token, &vm_refs(&want.vm_ids)?).await?;
        }
        let arm = c.azure.arm().await?;
        reconcile(&arm, want, &have).await?.to_model()
    }

    async fn delete(&self, c: &TeleportClient, req: DeleteRequest<BindingModel>) -> Result<(), Diagnostics> {
        let b = Binding::from_model(&req.state);
        let arm = c.azure.arm().await?;
        remove_managed(&arm, &b).await
    }

    async fn import(&self, c: &TeleportClient, id: &str) -> Result<BindingModel, Diagnostics> {
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
            "reader" => Some(reader_role_id(&scope)),
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
            token: Maybe::Null,
            client_id: identity.properties.client_id,
            principal_id: identity.properties.principal_id,
            tenant_id: identity.properties.tenant_id,
            managed_assignment: ra.is_some(),
            role_assignment_id: ra,
            role_definition_id: rd,
            managed_definition: adopt_definition,
            managed_vms: attached,
        }
        .to_model()
    }
}

#[cfg(test)]
mod tests {
    use joinery_tfplugin::framework::model::{Role, check};

    use super::*;

    #[test]
    fn model_matches_schema() {
        check::<BindingModel>(&schema(), Role::Resource).unwrap();
    }
}
