//! The emulated Azure Resource Manager, over HTTPS.
//!
//! Routes (paths match case-insensitively, as ARM's do; `api-version` is required):
//!
//! | Path | Verbs | Module |
//! |---|---|---|
//! | `/subscriptions/{s}` , `/subscriptions/{s}/resourceGroups/{rg}` | GET | [`containers`] |
//! | `/subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.Compute/virtualMachines` | GET (paged, `nextLink`) | [`vms`] |
//! | `.../virtualMachines/{vm}` | GET, PUT, PATCH (long-running: 200/201 + `Azure-AsyncOperation`) | [`vms`] |
//! | `/subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/operations/{id}[?monitor=true]` | GET | [`operations`] |
//! | `/subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.ManagedIdentity/userAssignedIdentities` | GET | [`identities`] |
//! | `.../resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}` | GET, PUT, DELETE | [`identities`] |
//! | `{scope}/providers/Microsoft.Authorization/roleAssignments[/{n}]` | GET (`$filter`), PUT, DELETE | [`role_assignments`] |
//! | `{scope}/providers/Microsoft.Authorization/roleDefinitions[/{n}]` | GET (`$filter=roleName eq`), PUT, DELETE | [`role_definitions`] |
//!
//! Every request needs a bearer token the emulator issued (managed identity or client
//! credentials), unexpired; the caller's `oid` is then checked against the role assignments
//! *before* the resource is looked up, as ARM does, and a missing permission is Azure's 403
//! `AuthorizationFailed` ([`auth`]). Errors use ARM's `{"error":{"code","message"}}` envelope
//! ([`failure`]).
//!
//! Like ARM, it throttles per subscription (or tenant), principal and operation type with
//! token buckets (429 `SubscriptionRequestsThrottled` + `Retry-After`, and
//! `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}` on what passes), checks the
//! `api-version` per resource type ([`versions`]), and is eventually consistent: role
//! assignments take effect (and removed ones stop) after the RBAC delay, a new identity's
//! principal replicates after the principal delay, VM writes are long-running operations
//! ([`operations`]). The delays and limits are the `up` flags of [`crate::azure::realism`].
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
mod versions;
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
use versions::ApiType;

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
    // ARM throttles per subscription (or tenant), principal and operation type, before routing.
    let kind = match req.method {
        Method::GET | Method::HEAD => "reads",
        Method::DELETE => "deletes",
        _ => "writes",
    };
    let (scope, sub) = match l.as_slice() {
        ["subscriptions", _, ..] => ("subscription", segs[1].to_ascii_lowercase()),
        _ => ("tenant", String::new()),
    };
    let limit = match kind {
        "reads" => emu.realism.arm_reads,
        "deletes" => emu.realism.arm_deletes,
        _ => emu.realism.arm_writes,
    };
    let remaining = match emu.arm_buckets.take(&format!("{sub}|{}|{kind}", caller.principal), limit) {
        Ok(r) => r,
        Err(t) => return throttled(&caller, &sub, kind, t.retry_after_secs),
    };
    let mut resp = route(emu, &caller, &req, &segs, &l).unwrap_or_else(Resp::from);
    if let Some(n) = remaining
        && let Ok(v) = hyper::header::HeaderValue::from_str(&n.to_string())
        && let Ok(name) =
            hyper::header::HeaderName::from_bytes(format!("x-ms-ratelimit-remaining-{scope}-{kind}").as_bytes())
    {
        resp.headers_mut().insert(name, v);
    }
    resp
}

/// ARM's 429: `SubscriptionRequestsThrottled` with `Retry-After`.
fn throttled(caller: &Caller, sub: &str, kind: &str, retry_after: u64) -> Resp {
    tracing::info!(principal = %caller.principal, kind, retry_after, "ARM request throttled");
    let what = kind.trim_end_matches('s');
    let mut r: Resp = arm_error(
        StatusCode::TOO_MANY_REQUESTS,
        "SubscriptionRequestsThrottled",
        &format!(
            "Number of '{what}' requests for subscription '{sub}' actor '{}' exceeded. Please try again after '{retry_after}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.",
            caller.principal
        ),
    )
    .into();
    if let Ok(v) = hyper::header::HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
    }
    r
}

/// The region of a resource group, for ARM's api-version message.
fn region(emu: &Emulator, sub: &str, rg: &str) -> String {
    emu.arm.read(|s| s.resource_group(sub, rg).map(|g| g.location.clone())).unwrap_or_else(|| "eastus".into())
}

/// Dispatches on the path's segments (`segs` as sent, `l` lower-cased).
fn route(emu: &Emulator, caller: &Caller, req: &Req, segs: &[&str], l: &[&str]) -> Result<Resp, Failure> {
    let call = Call { emu, caller, req };
    let version = req.param("api-version").unwrap_or_default();
    // Extension resources under any scope: {scope}/providers/Microsoft.Authorization/...
    if let Some(i) =
        (0..l.len().saturating_sub(2)).rev().find(|&i| l[i] == "providers" && l[i + 1] == "microsoft.authorization")
    {
        let scope = if i == 0 { "/".to_string() } else { format!("/{}", segs[..i].join("/")) };
        let name = segs.get(i + 3).copied();
        return match l.get(i + 2).copied() {
            Some("roleassignments") if l.len() <= i + 4 => {
                ApiType::RoleAssignments.check(version, "global")?;
                role_assignments::handle(call, &scope, name)
            }
            Some("roledefinitions") if l.len() <= i + 4 => {
                ApiType::RoleDefinitions.check(version, "global")?;
                role_definitions::handle(call, &scope, name)
            }
            _ => Err(unknown_path(req)),
        };
    }
    let get = req.method == Method::GET;
    let compute = |rg: Option<&str>| {
        ApiType::VirtualMachines
            .check(version, &rg.map(|rg| region(emu, segs[1], rg)).unwrap_or_else(|| "eastus".into()))
    };
    let msi = |rg: Option<&str>| {
        ApiType::UserAssignedIdentities
            .check(version, &rg.map(|rg| region(emu, segs[1], rg)).unwrap_or_else(|| "eastus".into()))
    };
    match l {
        ["subscriptions", _] if get => {
            ApiType::Resources.check(version, "global")?;
            containers::get_subscription(call, segs[1])
        }
        ["subscriptions", _, "resourcegroups", _] if get => {
            ApiType::Resources.check(version, "global")?;
            containers::get_resource_group(call, segs[1], segs[3])
        }
        ["subscriptions", _, "providers", "microsoft.compute", "virtualmachines"] if get => {
            compute(None)?;
            vms::list(call, segs[1], None)
        }
        ["subscriptions", _, "resourcegroups", _, "providers", "microsoft.compute", "virtualmachines"] if get => {
            compute(Some(segs[3]))?;
            vms::list(call, segs[1], Some(segs[3]))
        }
        ["subscriptions", _, "resourcegroups", _, "providers", "microsoft.compute", "virtualmachines", _] => {
            compute(Some(segs[3]))?;
            vms::handle(call, segs[1], segs[3], segs[7])
        }
        ["subscriptions", _, "providers", "microsoft.compute", "locations", _, "operations", id] if get => {
            ApiType::VirtualMachines.check(version, segs[5])?;
            emu.operations.get(id, req.param("monitor").is_some_and(|m| m.eq_ignore_ascii_case("true")))
        }
        ["subscriptions", _, "providers", "microsoft.managedidentity", "userassignedidentities"] if get => {
            msi(None)?;
            identities::list(call, segs[1], None)
        }
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.managedidentity",
            "userassignedidentities",
        ] if get => {
            msi(Some(segs[3]))?;
            identities::list(call, segs[1], Some(segs[3]))
        }
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.managedidentity",
            "userassignedidentities",
            _,
        ] => {
            msi(Some(segs[3]))?;
            identities::handle(call, segs[1], segs[3], segs[7])
        }
        _ => Err(unknown_path(req)),
    }
}
