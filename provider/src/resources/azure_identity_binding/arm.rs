//! What the binding does in ARM: the role (the least-privilege custom role
//! created once per subscription, or one that exists), the role
//! assignment, attaching and detaching the identity on VMs, and the
//! reconcile and removal that put them together. Whatever this code
//! creates is recorded in [`Binding`] as owned, and only that is removed.

use std::time::Duration;

use joinery_azure::arm::{ArmClient, ArmError, VmIdentityPatch};
use joinery_azure::resource_id::same_resource;

use super::ids::{has_identity, reader_role_id, role_guid, stable_guid, subscription_of_scope};
use super::model::Binding;
use super::schema::{IDENTITY_ID, ROLE, VIRTUAL_MACHINE_IDS};
use crate::azure::arm_error;
use joinery_tfplugin::framework::{AttributePath, Diagnostics};

/// The only action of the least-privilege role.
const VM_READ_ACTION: &str = "Microsoft.Compute/virtualMachines/read";
/// Description put on role assignments this resource creates.
const ASSIGNMENT_DESCRIPTION: &str = "Managed by Terraform (teleport_azure_identity_binding): lets the VM identity read its VM for Teleport's Azure join.";
/// Tries of a role assignment PUT through replication lag (about 8 × 15 s, as Azure advises).
const ASSIGNMENT_TRIES: u32 = 10;

/// The least-privilege role of `scope`'s subscription: (subscription, GUID, role definition ID).
pub(super) fn least_privilege_ids(scope: &str) -> Result<(String, String, String), Diagnostics> {
    let sub = subscription_of_scope(scope).ok_or_else(|| {
        Diagnostics::attribute_error(
            AttributePath::root(ROLE),
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
        "reader" => Ok((reader_role_id(scope), false)),
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
    let started = std::time::Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
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
            // Still replication lag after every try: say what is pending.
            Err(e @ ArmError::Api { .. })
                if matches!(e.code(), "PrincipalNotFound" | "RoleDefinitionDoesNotExist" | "RoleAssignmentExists") =>
            {
                return Err(Diagnostics::error(
                    "Azure: the role assignment is still pending",
                    format!(
                        "Assigning role {role_definition_id} to principal {principal_id} on {scope}: ARM still answers {} \
                         after {ASSIGNMENT_TRIES} tries over {}: {e}. This is Azure's replication delay after creating \
                         the identity or the role; apply again in a few minutes.",
                        e.code(),
                        joinery_util::duration::format(Duration::from_secs(started.elapsed().as_secs()))
                    ),
                ));
            }
            Err(e) => return Err(arm_error("creating the role assignment", e)),
        }
    }
}

/// Attaches the identity unless already attached; returns whether it attached it. The change
/// is computed from the VM as read and written with `If-Match`, re-read on a conflict, so a
/// binding attaching another identity to the same VM at the same time is never undone.
async fn attach(arm: &ArmClient, vm_id: &str, identity_id: &str) -> Result<bool, Diagnostics> {
    let update = arm
        .update_vm_identity(vm_id, |vm| {
            (!has_identity(vm, identity_id)).then(|| VmIdentityPatch::attach(vm, identity_id))
        })
        .await
        .map_err(|e| vm_error(vm_id, "attaching the identity to", e))?;
    Ok(update.patched)
}

/// Detaches the identity if attached (a deleted VM is fine), keeping the VM's others.
async fn detach(arm: &ArmClient, vm_id: &str, identity_id: &str) -> Result<(), Diagnostics> {
    let update = arm
        .update_vm_identity(vm_id, |vm| has_identity(vm, identity_id).then(|| VmIdentityPatch::detach(vm, identity_id)))
        .await;
    match update {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(vm_error(vm_id, "detaching the identity from", e)),
    }
}

async fn vm_gone(arm: &ArmClient, vm_id: &str) -> bool {
    matches!(arm.get_vm(vm_id).await, Err(e) if e.is_not_found())
}

/// A failure on one VM; a missing VM points at `virtual_machine_ids`.
pub(super) fn vm_error(vm_id: &str, action: &str, e: ArmError) -> Diagnostics {
    if e.is_not_found() {
        Diagnostics::attribute_error(
            AttributePath::root(VIRTUAL_MACHINE_IDS),
            "Azure VM not found",
            format!("{vm_id} does not exist: {e}"),
        )
    } else {
        Diagnostics::error(format!("Azure: error {action} VM {vm_id}"), e.to_string())
    }
}

/// Deletes what `b` records as created here. Best effort across steps; first error wins.
pub(super) async fn remove_managed(arm: &ArmClient, b: &Binding) -> Result<(), Diagnostics> {
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
pub(super) async fn reconcile(arm: &ArmClient, mut want: Binding, have: &Binding) -> Result<Binding, Diagnostics> {
    let identity = arm.get_identity(&want.identity_id).await.map_err(|e| {
        if e.is_not_found() {
            Diagnostics::attribute_error(
                AttributePath::root(IDENTITY_ID),
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
            if want.vm_ids.iter().any(|w| same_resource(w, vm)) {
                managed.push(vm.clone());
            } else {
                detach(arm, vm, &want.identity_id).await?;
            }
        }
        // Wanted VMs: attach.
        for vm in &want.vm_ids {
            let known_deleted = have.vm_ids.iter().any(|h| same_resource(h, vm));
            let attached = match attach(arm, vm, &want.identity_id).await {
                Ok(a) => a,
                // Deleted outside Terraform after it was bound: nothing to attach (plan warns).
                Err(_) if known_deleted && vm_gone(arm, vm).await => false,
                Err(d) => return Err(d),
            };
            if attached {
                created.managed_vms.push(vm.clone());
                if !managed.iter().any(|m| same_resource(m, vm)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keeps_other_identities() {
        let vm: joinery_azure::arm::VirtualMachine = serde_json::from_value(serde_json::json!({
            "id": super::super::ids::tests::vm("g", "v"), "name": "v",
            "identity": {"type": "SystemAssigned, UserAssigned", "principalId": "p",
                "userAssignedIdentities": {"/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a": {},
                                           "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b": {}}}
        }))
        .unwrap();
        let ours = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a";
        let body = serde_json::to_value(VmIdentityPatch::detach(&vm, ours)).unwrap();
        assert_eq!(body["type"], "SystemAssigned, UserAssigned");
        assert_eq!(body["userAssignedIdentities"].as_object().unwrap().len(), 1);
        assert!(body["userAssignedIdentities"].as_object().unwrap().values().all(|v| v.is_null()));
        assert_eq!(
            serde_json::to_value(VmIdentityPatch::attach(&vm, ours)).unwrap()["type"],
            "SystemAssigned, UserAssigned"
        );
    }
}
