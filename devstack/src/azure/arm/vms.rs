//! `Microsoft.Compute/virtualMachines`: paged lists filtered by what the caller may read, GET,
//! PUT (create, or replace the identities) and the identity PATCH — both long-running, as
//! Compute's are: 200 (201 for a new VM) with `Azure-AsyncOperation` and `Location`, the VM
//! `Updating` until the operation ends, a second write meanwhile refused with 409
//! `ConflictingConcurrentWriteNotAllowed`, and from api-version 2023-09-01 an `etag` that a
//! write's `If-Match` must match (412 `PreconditionFailed`). Attaching an identity needs the
//! `assign/action` on it; IMDS serves it once the operation has ended plus the IMDS identity
//! delay.

use std::collections::BTreeMap;
use std::time::Instant;

use hyper::{Method, StatusCode};
use joinery_azure::arm::{
    HardwareProfile, IdentityType, OsProfile, Page, Tags, UserAssignedIdentity, VM_TYPE, VirtualMachine, VmIdentity,
    VmIdentityPatch, VmPatch, VmProperties,
};
use serde_json::Value;

use super::auth::{Call, authorize, forbidden};
use super::failure::{Failure, arm_error, check_container, invalid_content, method_not_allowed, not_found};
use super::versions::compute_has_etags;
use crate::azure::Emulator;
use crate::azure::http::{Req, Resp, json};
use crate::azure::state::{ArmState, SystemIdentity, Vm};

/// VMs per list page (small, so clients must follow `nextLink`).
const PAGE_SIZE: usize = 2;

/// A VM as ARM returns it.
pub(super) fn resource(s: &ArmState, vm: &Vm) -> VirtualMachine {
    let user_assigned: BTreeMap<String, UserAssignedIdentity> = vm
        .user_assigned
        .iter()
        .map(|id| {
            let ids = s.identity_by_id(id).map(|i| UserAssignedIdentity {
                principal_id: Some(i.principal_id.clone()),
                client_id: Some(i.client_id.clone()),
            });
            (id.clone(), ids.unwrap_or_default())
        })
        .collect();
    let kind = IdentityType::new(vm.system_assigned.is_some(), !user_assigned.is_empty());
    let identity = (kind != IdentityType::None).then(|| VmIdentity {
        kind: Some(kind.to_string()),
        principal_id: vm.system_assigned.as_ref().map(|sys| sys.principal_id.clone()),
        tenant_id: vm.system_assigned.as_ref().map(|_| s.tenant_id.clone()),
        user_assigned_identities: user_assigned,
    });
    VirtualMachine {
        id: vm.id(),
        name: vm.name.clone(),
        resource_type: VM_TYPE.into(),
        location: Some(vm.location.clone()),
        etag: None,
        tags: Tags::new(),
        properties: VmProperties {
            vm_id: Some(vm.vm_id.clone()),
            hardware_profile: Some(HardwareProfile { vm_size: "Standard_B1s".into() }),
            os_profile: Some(OsProfile { computer_name: vm.name.clone(), admin_username: "azureuser".into() }),
            provisioning_state: Some("Succeeded".into()),
        },
        identity,
    }
}

/// The VM as this request sees it: its `etag` (api-versions that have them) and, while an
/// operation on it runs, `Updating`/`Creating`.
fn answer(emu: &Emulator, req: &Req, s: &ArmState, vm: &Vm) -> VirtualMachine {
    let mut v = resource(s, vm);
    if compute_has_etags(req.param("api-version").unwrap_or_default()) {
        v.etag = Some(format!("\"{}\"", vm.generation));
    }
    if let Some((state, _)) = emu.operations.running_on(&vm.id()) {
        v.properties.provisioning_state = Some(state.into());
    }
    v
}

/// `GET …[/resourceGroups/{rg}]/providers/Microsoft.Compute/virtualMachines`.
pub(super) fn list(call: Call<'_>, sub: &str, rg: Option<&str>) -> Result<Resp, Failure> {
    let Call { emu, caller, req } = call;
    let action = "Microsoft.Compute/virtualMachines/read";
    let scope = match rg {
        Some(rg) => format!("/subscriptions/{sub}/resourceGroups/{rg}"),
        None => format!("/subscriptions/{sub}"),
    };
    // ARM filters lists by what the caller may read; no read anywhere under the scope is a 403.
    if !emu.arm.read(|s| s.allowed_somewhere_under(&caller.principal, action, &scope)) {
        return Err(forbidden(caller, action, &scope));
    }
    emu.arm.read(|s| check_container(s, sub, rg))?;
    let all: Vec<VirtualMachine> = emu.arm.read(|s| {
        s.vms
            .iter()
            .filter(|v| v.subscription.eq_ignore_ascii_case(sub))
            .filter(|v| rg.is_none_or(|rg| v.resource_group.eq_ignore_ascii_case(rg)))
            .filter(|v| s.allowed(&caller.principal, action, &v.id()))
            .map(|v| answer(emu, req, s, v))
            .collect()
    });
    let skip: usize = req.param("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let next_link = (skip + PAGE_SIZE < all.len()).then(|| {
        format!(
            "{}{}?api-version={}&%24skiptoken={}",
            emu.arm_endpoint,
            req.path.trim_end_matches('/'),
            req.param("api-version").unwrap_or_default(),
            skip + PAGE_SIZE
        )
    });
    let value = all.into_iter().skip(skip).take(PAGE_SIZE).collect();
    Ok(json(StatusCode::OK, &Page { value, next_link }))
}

/// `GET`, `PUT` or `PATCH …/virtualMachines/{name}`.
pub(super) fn handle(call: Call<'_>, sub: &str, rg: &str, name: &str) -> Result<Resp, Failure> {
    let Call { emu, caller, req } = call;
    let scope = format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}");
    let missing = || not_found(VM_TYPE, name, rg);
    match req.method {
        Method::GET => {
            authorize(emu, caller, "Microsoft.Compute/virtualMachines/read", &scope)?;
            emu.arm.read(|s| check_container(s, sub, Some(rg)))?;
            emu.arm
                .read(|s| s.vm_index(sub, rg, name).map(|i| answer(emu, req, s, &s.vms[i])))
                .map(|v| json(StatusCode::OK, &v))
                .ok_or_else(missing)
        }
        Method::PATCH | Method::PUT => {
            authorize(emu, caller, "Microsoft.Compute/virtualMachines/write", &scope)?;
            emu.arm.read(|s| check_container(s, sub, Some(rg)))?;
            let body: Value = super::failure::parse_body(req)?;
            let creating = emu.arm.read(|s| s.vm_index(sub, rg, name).is_none());
            if creating && req.method == Method::PATCH {
                return Err(missing());
            }
            let (patch, location) =
                if req.method == Method::PATCH { (parse_patch(body)?, None) } else { parse_put(body)? };
            // Attaching an identity needs the assign action on it.
            let attached = patch.identity.iter().flat_map(|i| i.user_assigned_identities.iter().flatten());
            for (id, _) in attached.filter(|(_, v)| v.is_some()) {
                authorize(emu, caller, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", id)?;
            }
            write(emu, req, [sub, rg, name], patch, location)
        }
        _ => Err(method_not_allowed(&format!(
            "The devstack emulates GET, PUT and PATCH of virtual machines, not {}.",
            req.method
        ))),
    }
}

/// Applies a PATCH (or PUT, with the new VM's `location`) as a long-running operation.
fn write(
    emu: &Emulator,
    req: &Req,
    [sub, rg, name]: [&str; 3],
    patch: VmPatch,
    location: Option<String>,
) -> Result<Resp, Failure> {
    let version = req.param("api-version").unwrap_or_default();
    let if_match = req.header("if-match").filter(|_| compute_has_etags(version)).map(str::to_string);
    let (status, vm_key, newly_attached, op) = emu.arm.write(|s| {
        let existing = s.vm_index(sub, rg, name);
        let i = match (existing, &location) {
            (Some(i), _) => i,
            (None, Some(location)) => create(s, [sub, rg, name], location)?,
            (None, None) => return Err(not_found(VM_TYPE, name, rg)),
        };
        let id = s.vms[i].id();
        if existing.is_some() {
            if let Some(op) = emu.operations.running_on(&id).map(|(_, op)| op) {
                tracing::info!(vm = %id, %op, "VM write refused: an operation on it is running");
                return Err(arm_error(
                    StatusCode::CONFLICT,
                    "ConflictingConcurrentWriteNotAllowed",
                    "The operation was interrupted by a conflicting concurrent write on the same entity. Please retry later.",
                ));
            }
            let etag = format!("\"{}\"", s.vms[i].generation);
            if let Some(wanted) = if_match.as_deref().filter(|w| *w != "*" && *w != etag) {
                tracing::info!(vm = %id, %wanted, %etag, "VM write refused: If-Match does not match");
                return Err(arm_error(
                    StatusCode::PRECONDITION_FAILED,
                    "PreconditionFailed",
                    &format!("Etag provided in if-match header {wanted} does not match etag {etag} of resource."),
                ));
            }
        }
        let before = s.vms[i].user_assigned.clone();
        if let Some(identity) = &patch.identity {
            patch_identity(s, i, identity, location.is_some())?;
        }
        let vm = &mut s.vms[i];
        vm.generation += 1;
        let newly: Vec<String> =
            vm.user_assigned.iter().filter(|a| !before.iter().any(|b| b.eq_ignore_ascii_case(a))).cloned().collect();
        let state = if existing.is_some() { "Updating" } else { "Creating" };
        let op = emu.operations.start(&id, state, emu.realism.operation_duration);
        let status = if existing.is_some() { StatusCode::OK } else { StatusCode::CREATED };
        Ok::<_, Failure>((status, id, newly, op))
    })?;
    // The VM's host picks new identities up after the update, and IMDS serves them then.
    let served_from = emu.operations.ends(&op).unwrap_or_else(Instant::now) + emu.realism.imds_identity_delay;
    for identity in &newly_attached {
        emu.pending_identities.serve_from(name, identity, served_from);
    }
    let body = emu.arm.read(|s| s.vm_index(sub, rg, name).map(|i| answer(emu, req, s, &s.vms[i])));
    let location = emu.arm.read(|s| s.vm_index(sub, rg, name).map(|i| s.vms[i].location.clone())).unwrap_or_default();
    let op_url = format!(
        "{}/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/operations/{op}?api-version={version}",
        emu.arm_endpoint
    );
    tracing::info!(vm = %vm_key, %op, "VM update started");
    let mut r = json(status, &body);
    for (header, url) in [("azure-asyncoperation", op_url.clone()), ("location", format!("{op_url}&monitor=true"))] {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&url) {
            r.headers_mut().insert(header, v);
        }
    }
    Ok(r)
}

/// A new VM from a PUT; returns its index.
fn create(s: &mut ArmState, [sub, rg, name]: [&str; 3], location: &str) -> Result<usize, Failure> {
    if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            &format!("The resource name '{name}' is invalid for a virtual machine."),
        ));
    }
    let resource_group = s.resource_group(sub, rg).map(|g| g.name.clone()).unwrap_or_else(|| rg.to_string());
    s.vms.push(Vm {
        subscription: sub.to_ascii_lowercase(),
        resource_group,
        name: name.to_string(),
        vm_id: uuid::Uuid::new_v4().to_string(),
        location: location.to_string(),
        system_assigned: None,
        user_assigned: vec![],
        generation: 0,
    });
    Ok(s.vms.len() - 1)
}

/// The PUT body: `location` (required) and `identity` (the full set: the VM gets exactly the
/// identities named). Other properties are accepted and not kept.
fn parse_put(body: Value) -> Result<(VmPatch, Option<String>), Failure> {
    let Some(location) = body.get("location").and_then(Value::as_str).filter(|l| !l.is_empty()).map(str::to_string)
    else {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    };
    let identity = body.get("identity").cloned().filter(|i| !i.is_null());
    let patch = match identity {
        None => VmPatch::default(),
        Some(i) => parse_patch(serde_json::json!({ "identity": i }))?,
    };
    Ok((patch, Some(location)))
}

/// The PATCH body as [`VmPatch`]; an identity `type` ARM does not know is ARM's
/// `InvalidParameter`.
fn parse_patch(body: Value) -> Result<VmPatch, Failure> {
    serde_json::from_value(body.clone()).map_err(|e| {
        let kind = &body["identity"]["type"];
        match kind.as_str().map(str::parse::<IdentityType>) {
            Some(Err(_)) => arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                &format!("The value of parameter identity.type is invalid: {kind:?}."),
            ),
            _ => invalid_content(e),
        }
    })
}

/// Applies an identity block to VM `i` as ARM does: on PATCH the `userAssignedIdentities`
/// named are merged into (or, when `null`, removed from) the attached set; on PUT (`replace`)
/// they are the set. `type` must describe the result.
fn patch_identity(s: &mut ArmState, i: usize, identity: &VmIdentityPatch, replace: bool) -> Result<(), Failure> {
    let (system, user) = (identity.kind.system_assigned(), identity.kind.user_assigned());
    let mut attached = if user && !replace { s.vms[i].user_assigned.clone() } else { vec![] };
    if let Some(map) = &identity.user_assigned_identities {
        if !user && !map.is_empty() {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                "userAssignedIdentities may only be given when identity.type includes UserAssigned.",
            ));
        }
        for (id, v) in map {
            attached.retain(|a| !a.eq_ignore_ascii_case(id));
            if v.is_none() {
                continue;
            }
            let Some(found) = s.identity_by_id(id) else {
                return Err(arm_error(
                    StatusCode::BAD_REQUEST,
                    "FailedIdentityOperation",
                    &format!(
                        "Identity operation for resource '{}' failed with error 'Resource '{id}' was not found.'.",
                        s.vms[i].id()
                    ),
                ));
            };
            attached.push(found.arm_id());
        }
    }
    if user && attached.is_empty() {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "identity.type includes UserAssigned but no user assigned identities are given.",
        ));
    }
    let vm = &mut s.vms[i];
    vm.user_assigned = attached;
    if system && vm.system_assigned.is_none() {
        vm.system_assigned = Some(SystemIdentity {
            principal_id: uuid::Uuid::new_v4().to_string(),
            client_id: uuid::Uuid::new_v4().to_string(),
        });
    } else if !system {
        vm.system_assigned = None;
    }
    Ok(())
}
