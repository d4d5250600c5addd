//! `Microsoft.Compute/virtualMachines`: paged lists filtered by what the caller may read, GET,
//! and the identity PATCH (202 + `Azure-AsyncOperation`, needing the `assign/action` on each
//! identity it attaches).

use std::collections::BTreeMap;

use hyper::{Method, StatusCode};
use joinery_azure::arm::{
    HardwareProfile, IdentityType, OsProfile, Page, Tags, UserAssignedIdentity, VM_TYPE, VirtualMachine, VmIdentity,
    VmIdentityPatch, VmPatch, VmProperties,
};
use serde_json::Value;

use super::auth::{Call, authorize, forbidden};
use super::failure::{Failure, arm_error, check_container, invalid_content, method_not_allowed, not_found};
use crate::azure::http::{Resp, json};
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
            .map(|v| resource(s, v))
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

/// `GET` or `PATCH …/virtualMachines/{name}`.
pub(super) fn handle(call: Call<'_>, sub: &str, rg: &str, name: &str) -> Result<Resp, Failure> {
    let Call { emu, caller, req } = call;
    let scope = format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}");
    let missing = || not_found(VM_TYPE, name, rg);
    match req.method {
        Method::GET => {
            authorize(emu, caller, "Microsoft.Compute/virtualMachines/read", &scope)?;
            emu.arm.read(|s| check_container(s, sub, Some(rg)))?;
            emu.arm
                .read(|s| s.vm_index(sub, rg, name).map(|i| resource(s, &s.vms[i])))
                .map(|v| json(StatusCode::OK, &v))
                .ok_or_else(missing)
        }
        Method::PATCH => {
            authorize(emu, caller, "Microsoft.Compute/virtualMachines/write", &scope)?;
            emu.arm.read(|s| check_container(s, sub, Some(rg)))?;
            let body: Value = super::failure::parse_body(req)?;
            let Some(location) = emu.arm.read(|s| s.vm_index(sub, rg, name).map(|i| s.vms[i].location.clone())) else {
                return Err(missing());
            };
            let patch = parse_patch(body)?;
            // Attaching an identity needs the assign action on it.
            let attached = patch.identity.iter().flat_map(|i| i.user_assigned_identities.iter().flatten());
            for (id, _) in attached.filter(|(_, v)| v.is_some()) {
                authorize(emu, caller, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", id)?;
            }
            let updated = emu.arm.write(|s| {
                let i = s.vm_index(sub, rg, name).ok_or_else(missing)?;
                if let Some(identity) = &patch.identity {
                    patch_identity(s, i, identity)?;
                }
                Ok::<_, Failure>(resource(s, &s.vms[i]))
            })?;
            let op = emu.operations.succeeded();
            let url = format!(
                "{}/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/operations/{op}?api-version={}",
                emu.arm_endpoint,
                req.param("api-version").unwrap_or_default()
            );
            let mut r = json(StatusCode::ACCEPTED, &updated);
            if let Ok(v) = hyper::header::HeaderValue::from_str(&url) {
                r.headers_mut().insert("azure-asyncoperation", v.clone());
                r.headers_mut().insert(hyper::header::LOCATION, v);
            }
            r.headers_mut().insert(hyper::header::RETRY_AFTER, hyper::header::HeaderValue::from_static("0"));
            Ok(r)
        }
        _ => Err(method_not_allowed(&format!(
            "The devstack emulates GET and PATCH of virtual machines, not {}.",
            req.method
        ))),
    }
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

/// Applies an identity PATCH to VM `i` as ARM does: the `userAssignedIdentities` named are
/// merged into (or, when `null`, removed from) the attached set, which `type` must describe.
fn patch_identity(s: &mut ArmState, i: usize, identity: &VmIdentityPatch) -> Result<(), Failure> {
    let (system, user) = (identity.kind.system_assigned(), identity.kind.user_assigned());
    let mut attached = if user { s.vms[i].user_assigned.clone() } else { vec![] };
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
