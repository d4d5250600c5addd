//! The emulated Azure Resource Manager, over HTTPS.
//!
//! Routes (paths match case-insensitively, as ARM's do; `api-version` is required):
//!
//! | Path | Verbs | Module |
//! |---|---|---|
//! | `/subscriptions/{s}` , `/subscriptions/{s}/resourceGroups/{rg}` | GET | [`containers`] |
//! | `/subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.Compute/virtualMachines` | GET (paged, `nextLink`) | [`vms`] |
//! | `.../virtualMachines/{vm}` | GET, PATCH (identity; 202 + `Azure-AsyncOperation`) | [`vms`] |
//! | `/subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/operations/{id}` | GET | [`operations`] |
//! | `.../resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities[/{n}]` | GET, PUT, DELETE | [`identities`] |
//! | `{scope}/providers/Microsoft.Authorization/roleAssignments[/{n}]` | GET (`$filter`), PUT, DELETE | [`role_assignments`] |
//! | `{scope}/providers/Microsoft.Authorization/roleDefinitions[/{n}]` | GET (`$filter=roleName eq`), PUT, DELETE | [`role_definitions`] |
//!
//! Every request needs a bearer token the emulator issued (managed identity or client
//! credentials), unexpired; the caller's `oid` is then checked against the role assignments
//! *before* the resource is looked up, as ARM does, and a missing permission is Azure's 403
//! `AuthorizationFailed` ([`auth`]). Errors use ARM's `{"error":{"code","message"}}` envelope
//! ([`failure`]).
//!
//! Bodies are `joinery_azure::arm`'s wire types, the ones the client decodes, so the client
//! and the emulator cannot disagree about a field. To emulate another endpoint: its wire type
//! in `azure/src/arm/<resource>.rs` (if new), its state in [`crate::azure::state`] (if it
//! persists anything), a handler module here and one arm in [`route`].

mod auth;
mod containers;
mod failure;
mod identities;
mod operations;
mod role_assignments;
mod role_definitions;
mod vms;

#[cfg(test)]
mod golden_tests;

use hyper::{Method, StatusCode};

pub use failure::{Failure, arm_error};
pub use operations::Operations;

use super::Emulator;
use super::http::{Req, Resp};
use auth::{Call, Caller, authenticate};
use failure::unknown_path;

/// Handles a request on the ARM listener.
pub async fn handle(emu: &Emulator, req: Req) -> Resp {
    match req.param("api-version") {
        Some(v) if !v.is_empty() => {}
        _ => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
            .into();
        }
    }
    let caller = match authenticate(emu, &req) {
        Ok(c) => c,
        Err(f) => return f.into(),
    };
    let path = req.path.trim_end_matches('/').to_string();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    route(emu, &caller, &req, &segs, &l).unwrap_or_else(Resp::from)
}

/// Dispatches on the path's segments (`segs` as sent, `l` lower-cased).
fn route(emu: &Emulator, caller: &Caller, req: &Req, segs: &[&str], l: &[&str]) -> Result<Resp, Failure> {
    let call = Call { emu, caller, req };
    // Extension resources under any scope: {scope}/providers/Microsoft.Authorization/...
    if let Some(i) =
        (0..l.len().saturating_sub(2)).rev().find(|&i| l[i] == "providers" && l[i + 1] == "microsoft.authorization")
    {
        let scope = if i == 0 { "/".to_string() } else { format!("/{}", segs[..i].join("/")) };
        let name = segs.get(i + 3).copied();
        return match l.get(i + 2).copied() {
            Some("roleassignments") if l.len() <= i + 4 => role_assignments::handle(call, &scope, name),
            Some("roledefinitions") if l.len() <= i + 4 => role_definitions::handle(call, &scope, name),
            _ => Err(unknown_path(req)),
        };
    }
    let get = req.method == Method::GET;
    match l {
        ["subscriptions", _] if get => containers::get_subscription(call, segs[1]),
        ["subscriptions", _, "resourcegroups", _] if get => containers::get_resource_group(call, segs[1], segs[3]),
        ["subscriptions", _, "providers", "microsoft.compute", "virtualmachines"] if get => {
            vms::list(call, segs[1], None)
        }
        ["subscriptions", _, "resourcegroups", _, "providers", "microsoft.compute", "virtualmachines"] if get => {
            vms::list(call, segs[1], Some(segs[3]))
        }
        ["subscriptions", _, "resourcegroups", _, "providers", "microsoft.compute", "virtualmachines", _] => {
            vms::handle(call, segs[1], segs[3], segs[7])
        }
        ["subscriptions", _, "providers", "microsoft.compute", "locations", _, "operations", id] if get => {
            emu.operations.get(id)
        }
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.managedidentity",
            "userassignedidentities",
        ] if get => identities::list(call, segs[1], segs[3]),
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.managedidentity",
            "userassignedidentities",
            _,
        ] => identities::handle(call, segs[1], segs[3], segs[7]),
        _ => Err(unknown_path(req)),
    }
}
