//! The emulated Azure Resource Manager, over HTTPS.
//!
//! Routes (paths match case-insensitively, as ARM's do; `api-version` is required):
//!
//! | Path | Verbs |
//! |---|---|
//! | `/subscriptions/{s}` , `/subscriptions/{s}/resourceGroups/{rg}` | GET |
//! | `/subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.Compute/virtualMachines` | GET (paged, `nextLink`) |
//! | `.../virtualMachines/{vm}` | GET, PATCH (identity, tags; 202 + `Azure-AsyncOperation`) |
//! | `/subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/operations/{id}` | GET |
//! | `.../resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities[/{n}]` | GET, PUT, DELETE |
//! | `{scope}/providers/Microsoft.Authorization/roleAssignments[/{n}]` | GET (`$filter`), PUT, DELETE |
//! | `{scope}/providers/Microsoft.Authorization/roleDefinitions[/{n}]` | GET (`$filter=roleName eq`), PUT, DELETE |
//!
//! Every request needs a bearer token the emulator issued (managed identity or client
//! credentials), unexpired; the caller's `oid` is then checked against the role assignments
//! *before* the resource is looked up, as ARM does, and a missing permission is Azure's 403
//! `AuthorizationFailed`. Errors use ARM's `{"error":{"code","message"}}` envelope.

use std::collections::HashMap;
use std::sync::Mutex;

use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::Emulator;
use super::http::{Req, Resp, json};
use super::rbac::{self, Permission};
use super::state::{ArmState, Identity, RoleAssignment, RoleDefinition, Vm, now_rfc3339};
use joinery_util::guid::is_guid;

/// VMs per list page (small, so clients must follow `nextLink`).
const PAGE_SIZE: usize = 2;

/// Completed asynchronous operations, by id.
#[derive(Default)]
pub struct Operations(Mutex<HashMap<String, Value>>);

/// An ARM error: status, code and message, rendered as `{"error":{"code","message"}}`.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl From<Failure> for Resp {
    fn from(f: Failure) -> Resp {
        let mut r = json(f.status, &json!({ "error": { "code": f.code, "message": f.message } }));
        let id = uuid::Uuid::new_v4().to_string();
        if let Ok(v) = hyper::header::HeaderValue::from_str(&id) {
            r.headers_mut().insert("x-ms-request-id", v.clone());
            r.headers_mut().insert("x-ms-correlation-request-id", v);
        }
        r
    }
}

/// An ARM error.
pub fn arm_error(status: StatusCode, code: &'static str, message: &str) -> Failure {
    Failure { status, code, message: message.to_string() }
}

/// The authenticated caller.
struct Caller {
    principal: String,
    client: String,
}

fn authenticate(emu: &Emulator, req: &Req) -> Result<Caller, Failure> {
    let Some(auth) = req.header("authorization") else {
        return Err(arm_error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let Some(token) = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")) else {
        return Err(arm_error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.",
        ));
    };
    let invalid = || arm_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "The access token is invalid.");
    let header = jsonwebtoken::decode_header(token.trim()).map_err(|_| invalid())?;
    if header.alg != jsonwebtoken::Algorithm::RS256 || header.kid.as_deref() != Some(emu.issuer.kid()) {
        return Err(invalid());
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(token.trim(), &emu.decoding_key, &validation).map_err(|_| invalid())?;
    let c = data.claims;
    let iss = joinery_azure::jwt::issuer_for_tenant(&emu.tenant_id());
    if c["iss"].as_str() != Some(iss.as_str()) {
        return Err(arm_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenTenant",
            "The access token is from the wrong issuer. It must match the tenant associated with this subscription.",
        ));
    }
    let aud_ok = |a: &str| {
        ["https://management.azure.com/", "https://management.azure.com", "https://management.core.windows.net/"]
            .contains(&a)
    };
    let aud = match &c["aud"] {
        Value::String(a) => aud_ok(a),
        Value::Array(v) => v.iter().any(|a| a.as_str().is_some_and(aud_ok)),
        _ => false,
    };
    if !aud {
        return Err(arm_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenAudience",
            "The access token has been obtained for wrong audience or resource. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.azure.com/'.",
        ));
    }
    let now = time::OffsetDateTime::now_utc();
    let exp = c["exp"].as_i64().unwrap_or(0);
    if exp < now.unix_timestamp() {
        let fmt = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .ok()
                .and_then(|t| {
                    t.format(&time::macros::format_description!("[month]/[day]/[year] [hour]:[minute]:[second]")).ok()
                })
                .unwrap_or_default()
        };
        return Err(arm_error(
            StatusCode::UNAUTHORIZED,
            "ExpiredAuthenticationToken",
            &format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                fmt(exp),
                fmt(now.unix_timestamp())
            ),
        ));
    }
    let principal = c["oid"].as_str().unwrap_or_default().to_string();
    let client = c["appid"].as_str().unwrap_or_default().to_string();
    if principal.is_empty() {
        return Err(invalid());
    }
    Ok(Caller { principal, client })
}

fn forbidden(caller: &Caller, action: &str, scope: &str) -> Failure {
    arm_error(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        &format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            caller.client, caller.principal
        ),
    )
}

fn authorize(emu: &Emulator, caller: &Caller, action: &str, scope: &str) -> Result<(), Failure> {
    if emu.arm.read(|s| s.allowed(&caller.principal, action, scope)) {
        Ok(())
    } else {
        tracing::info!(principal = %caller.principal, action, scope, "ARM request not authorized");
        Err(forbidden(caller, action, scope))
    }
}

fn not_found(kind: &str, name: &str, rg: &str) -> Failure {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!(
            "The Resource '{kind}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

fn check_container(s: &ArmState, sub: &str, rg: Option<&str>) -> Result<(), Failure> {
    if !s.subscriptions.iter().any(|x| x.id.eq_ignore_ascii_case(sub)) {
        return Err(arm_error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            &format!("The subscription '{sub}' could not be found."),
        ));
    }
    if let Some(rg) = rg
        && !s
            .resource_groups
            .iter()
            .any(|g| g.subscription.eq_ignore_ascii_case(sub) && g.name.eq_ignore_ascii_case(rg))
    {
        return Err(arm_error(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            &format!("Resource group '{rg}' could not be found."),
        ));
    }
    Ok(())
}

fn parse_body(req: &Req) -> Result<Value, Failure> {
    serde_json::from_slice(&req.body).map_err(|e| {
        arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            &format!("The request content was invalid and could not be deserialized: '{e}'."),
        )
    })
}

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

fn route(emu: &Emulator, caller: &Caller, req: &Req, segs: &[&str], l: &[&str]) -> Result<Resp, Failure> {
    // Extension resources under any scope: {scope}/providers/Microsoft.Authorization/...
    if let Some(i) =
        (0..l.len().saturating_sub(2)).rev().find(|&i| l[i] == "providers" && l[i + 1] == "microsoft.authorization")
    {
        let scope = if i == 0 { "/".to_string() } else { format!("/{}", segs[..i].join("/")) };
        let name = segs.get(i + 3).copied();
        return match l.get(i + 2).copied() {
            Some("roleassignments") if l.len() <= i + 4 => role_assignments(emu, caller, req, &scope, name),
            Some("roledefinitions") if l.len() <= i + 4 => role_definitions(emu, caller, req, &scope, name),
            _ => Err(unknown_path(req)),
        };
    }
    match l {
        ["subscriptions", _] if req.method == Method::GET => {
            let scope = format!("/subscriptions/{}", segs[1]);
            authorize(emu, caller, "Microsoft.Resources/subscriptions/read", &scope)?;
            let s = emu.arm.read(|s| s.subscriptions.iter().find(|x| x.id.eq_ignore_ascii_case(segs[1])).cloned());
            match s {
                Some(s) => Ok(json(
                    StatusCode::OK,
                    &json!({"id": format!("/subscriptions/{}", s.id), "subscriptionId": s.id, "displayName": s.name, "state": "Enabled", "tenantId": emu.tenant_id()}),
                )),
                None => Err(emu
                    .arm
                    .read(|st| check_container(st, segs[1], None))
                    .err()
                    .unwrap_or_else(|| unknown_path(req))),
            }
        }
        ["subscriptions", _, "resourcegroups", _] if req.method == Method::GET => {
            let scope = format!("/subscriptions/{}/resourceGroups/{}", segs[1], segs[3]);
            authorize(emu, caller, "Microsoft.Resources/subscriptions/resourceGroups/read", &scope)?;
            emu.arm.read(|s| check_container(s, segs[1], Some(segs[3])))?;
            let g = emu.arm.read(|s| {
                s.resource_groups
                    .iter()
                    .find(|g| g.subscription.eq_ignore_ascii_case(segs[1]) && g.name.eq_ignore_ascii_case(segs[3]))
                    .cloned()
            });
            let g = g.ok_or_else(|| unknown_path(req))?;
            Ok(json(
                StatusCode::OK,
                &json!({"id": g.id(), "name": g.name, "type": "Microsoft.Resources/resourceGroups", "location": g.location, "properties": {"provisioningState": "Succeeded"}}),
            ))
        }
        ["subscriptions", _, "providers", "microsoft.compute", "virtualmachines"] if req.method == Method::GET => {
            list_vms(emu, caller, req, segs[1], None)
        }
        ["subscriptions", _, "resourcegroups", _, "providers", "microsoft.compute", "virtualmachines"]
            if req.method == Method::GET =>
        {
            list_vms(emu, caller, req, segs[1], Some(segs[3]))
        }
        ["subscriptions", _, "resourcegroups", _, "providers", "microsoft.compute", "virtualmachines", _] => {
            vm(emu, caller, req, segs[1], segs[3], segs[7])
        }
        ["subscriptions", _, "providers", "microsoft.compute", "locations", _, "operations", id]
            if req.method == Method::GET =>
        {
            let op = emu.operations.0.lock().unwrap_or_else(|p| p.into_inner()).get(*id).cloned();
            op.map(|o| json(StatusCode::OK, &o)).ok_or_else(|| {
                arm_error(StatusCode::NOT_FOUND, "NotFound", &format!("The operation '{id}' was not found."))
            })
        }
        [
            "subscriptions",
            _,
            "resourcegroups",
            _,
            "providers",
            "microsoft.managedidentity",
            "userassignedidentities",
        ] if req.method == Method::GET => {
            let scope = format!("/subscriptions/{}/resourceGroups/{}", segs[1], segs[3]);
            authorize(emu, caller, "Microsoft.ManagedIdentity/userAssignedIdentities/read", &scope)?;
            emu.arm.read(|s| check_container(s, segs[1], Some(segs[3])))?;
            let value: Vec<Value> = emu.arm.read(|s| {
                s.identities
                    .iter()
                    .filter(|i| {
                        i.subscription.eq_ignore_ascii_case(segs[1]) && i.resource_group.eq_ignore_ascii_case(segs[3])
                    })
                    .map(|i| identity_json(s, i))
                    .collect()
            });
            Ok(json(StatusCode::OK, &json!({ "value": value })))
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
        ] => identity(emu, caller, req, segs[1], segs[3], segs[7]),
        _ => Err(unknown_path(req)),
    }
}

fn unknown_path(req: &Req) -> Failure {
    arm_error(
        StatusCode::NOT_FOUND,
        "InvalidResourceType",
        &format!("The devstack ARM emulator does not serve {} {}.", req.method, req.path),
    )
}

// ---------------------------------------------------------------------------------------------
// Virtual machines
// ---------------------------------------------------------------------------------------------

fn vm_json(s: &ArmState, vm: &Vm) -> Value {
    let mut out = json!({
        "name": vm.name,
        "id": vm.id(),
        "type": "Microsoft.Compute/virtualMachines",
        "location": vm.location,
        "tags": {},
        "properties": {
            "vmId": vm.vm_id,
            "hardwareProfile": {"vmSize": "Standard_B1s"},
            "provisioningState": "Succeeded",
            "osProfile": {"computerName": vm.name, "adminUsername": "azureuser"},
        },
    });
    let uamis: serde_json::Map<String, Value> = vm
        .user_assigned
        .iter()
        .map(|id| {
            let v = match s.identity_by_id(id) {
                Some(i) => json!({"principalId": i.principal_id, "clientId": i.client_id}),
                None => json!({}),
            };
            (id.clone(), v)
        })
        .collect();
    let kind = match (vm.system_assigned.is_some(), !uamis.is_empty()) {
        (true, true) => Some("SystemAssigned, UserAssigned"),
        (true, false) => Some("SystemAssigned"),
        (false, true) => Some("UserAssigned"),
        (false, false) => None,
    };
    if let (Some(kind), Some(obj)) = (kind, out.as_object_mut()) {
        let mut identity = json!({ "type": kind });
        if let Some(sys) = &vm.system_assigned {
            identity["principalId"] = json!(sys.principal_id);
            identity["tenantId"] = json!(s.tenant_id);
        }
        if !uamis.is_empty() {
            identity["userAssignedIdentities"] = Value::Object(uamis);
        }
        obj.insert("identity".into(), identity);
    }
    out
}

fn list_vms(emu: &Emulator, caller: &Caller, req: &Req, sub: &str, rg: Option<&str>) -> Result<Resp, Failure> {
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
    let all: Vec<Value> = emu.arm.read(|s| {
        s.vms
            .iter()
            .filter(|v| v.subscription.eq_ignore_ascii_case(sub))
            .filter(|v| rg.is_none_or(|rg| v.resource_group.eq_ignore_ascii_case(rg)))
            .filter(|v| s.allowed(&caller.principal, action, &v.id()))
            .map(|v| vm_json(s, v))
            .collect()
    });
    let skip: usize = req.param("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = all.iter().skip(skip).take(PAGE_SIZE).cloned().collect();
    let mut body = json!({ "value": page });
    if skip + PAGE_SIZE < all.len() {
        let version = req.param("api-version").unwrap_or_default();
        body["nextLink"] = json!(format!(
            "{}{}?api-version={}&%24skiptoken={}",
            emu.arm_endpoint,
            req.path.trim_end_matches('/'),
            version,
            skip + PAGE_SIZE
        ));
    }
    Ok(json(StatusCode::OK, &body))
}

fn vm(emu: &Emulator, caller: &Caller, req: &Req, sub: &str, rg: &str, name: &str) -> Result<Resp, Failure> {
    let scope = format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}");
    let find = |s: &ArmState| {
        s.vms.iter().position(|v| {
            v.subscription.eq_ignore_ascii_case(sub)
                && v.resource_group.eq_ignore_ascii_case(rg)
                && v.name.eq_ignore_ascii_case(name)
        })
    };
    match req.method {
        Method::GET => {
            authorize(emu, caller, "Microsoft.Compute/virtualMachines/read", &scope)?;
            emu.arm.read(|s| check_container(s, sub, Some(rg)))?;
            emu.arm
                .read(|s| find(s).map(|i| vm_json(s, &s.vms[i])))
                .map(|v| json(StatusCode::OK, &v))
                .ok_or_else(|| not_found("Microsoft.Compute/virtualMachines", name, rg))
        }
        Method::PATCH => {
            authorize(emu, caller, "Microsoft.Compute/virtualMachines/write", &scope)?;
            emu.arm.read(|s| check_container(s, sub, Some(rg)))?;
            let body = parse_body(req)?;
            if emu.arm.read(|s| find(s)).is_none() {
                return Err(not_found("Microsoft.Compute/virtualMachines", name, rg));
            }
            // Attaching an identity needs the assign action on it.
            if let Some(map) = body["identity"]["userAssignedIdentities"].as_object() {
                for (id, v) in map {
                    if !v.is_null() {
                        authorize(emu, caller, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", id)?;
                    }
                }
            }
            let updated = emu.arm.write(|s| {
                let i = find(s).ok_or_else(|| not_found("Microsoft.Compute/virtualMachines", name, rg))?;
                if let Some(identity) = body.get("identity") {
                    patch_identity(s, i, identity)?;
                }
                Ok::<_, Failure>(vm_json(s, &s.vms[i]))
            })?;
            let op = uuid::Uuid::new_v4().to_string();
            let location = emu.arm.read(|s| find(s).map(|i| s.vms[i].location.clone())).unwrap_or_default();
            let now = now_rfc3339();
            emu.operations
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(op.clone(), json!({"startTime": now, "endTime": now, "status": "Succeeded", "name": op}));
            let version = req.param("api-version").unwrap_or_default();
            let url = format!(
                "{}/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/operations/{op}?api-version={version}",
                emu.arm_endpoint
            );
            let mut r = json(StatusCode::ACCEPTED, &updated);
            if let Ok(v) = hyper::header::HeaderValue::from_str(&url) {
                r.headers_mut().insert("azure-asyncoperation", v.clone());
                r.headers_mut().insert(hyper::header::LOCATION, v);
            }
            r.headers_mut().insert(hyper::header::RETRY_AFTER, hyper::header::HeaderValue::from_static("0"));
            Ok(r)
        }
        _ => Err(arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!("The devstack emulates GET and PATCH of virtual machines, not {}.", req.method),
        )),
    }
}

fn patch_identity(s: &mut ArmState, i: usize, identity: &Value) -> Result<(), Failure> {
    let kind = identity["type"].as_str().unwrap_or("None").to_ascii_lowercase();
    let system = kind.contains("systemassigned");
    let user = kind.contains("userassigned");
    if !system && !user && kind != "none" {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            &format!("The value of parameter identity.type is invalid: {:?}.", identity["type"]),
        ));
    }
    let mut attached = if user { s.vms[i].user_assigned.clone() } else { vec![] };
    if let Some(map) = identity["userAssignedIdentities"].as_object() {
        if !user && !map.is_empty() {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                "userAssignedIdentities may only be given when identity.type includes UserAssigned.",
            ));
        }
        for (id, v) in map {
            attached.retain(|a| !a.eq_ignore_ascii_case(id));
            if v.is_null() {
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
        vm.system_assigned = Some(super::state::SystemIdentity {
            principal_id: uuid::Uuid::new_v4().to_string(),
            client_id: uuid::Uuid::new_v4().to_string(),
        });
    } else if !system {
        vm.system_assigned = None;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// User-assigned identities
// ---------------------------------------------------------------------------------------------

fn identity_json(s: &ArmState, i: &Identity) -> Value {
    json!({
        "id": i.arm_id(),
        "name": i.name,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": i.location,
        "tags": i.tags,
        "properties": {
            "tenantId": s.tenant_id,
            "principalId": i.principal_id,
            "clientId": i.client_id,
            "isolationScope": "None",
        },
    })
}

fn identity(emu: &Emulator, caller: &Caller, req: &Req, sub: &str, rg: &str, name: &str) -> Result<Resp, Failure> {
    let scope = format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    );
    let kind = "Microsoft.ManagedIdentity/userAssignedIdentities";
    let find = |s: &ArmState| {
        s.identities.iter().position(|i| {
            i.subscription.eq_ignore_ascii_case(sub)
                && i.resource_group.eq_ignore_ascii_case(rg)
                && i.name.eq_ignore_ascii_case(name)
        })
    };
    match req.method {
        Method::GET => {
            authorize(emu, caller, &format!("{kind}/read"), &scope)?;
            emu.arm.read(|s| check_container(s, sub, Some(rg)))?;
            emu.arm
                .read(|s| find(s).map(|i| identity_json(s, &s.identities[i])))
                .map(|v| json(StatusCode::OK, &v))
                .ok_or_else(|| not_found(kind, name, rg))
        }
        Method::PUT => {
            authorize(emu, caller, &format!("{kind}/write"), &scope)?;
            emu.arm.read(|s| check_container(s, sub, Some(rg)))?;
            if name.is_empty()
                || name.len() > 128
                || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidResourceName",
                    &format!(
                        "Resource name {name} is invalid. The name can be 3-128 characters long and can contain alphanumerics, hyphens and underscores."
                    ),
                ));
            }
            let body = parse_body(req)?;
            let Some(location) = body["location"].as_str().filter(|l| !l.is_empty()) else {
                return Err(arm_error(
                    StatusCode::BAD_REQUEST,
                    "LocationRequired",
                    "The location property is required for this definition.",
                ));
            };
            let tags = body["tags"].as_object().cloned().unwrap_or_default();
            let (created, v) = emu.arm.write(|s| {
                let out = match find(s) {
                    Some(i) => {
                        if !s.identities[i].location.eq_ignore_ascii_case(location) {
                            return Err(arm_error(
                                StatusCode::BAD_REQUEST,
                                "InvalidResourceLocation",
                                &format!("The resource '{name}' already exists in location '{}' in resource group '{rg}'. A resource with the same name cannot be created in location '{location}'. Please select a new resource name.", s.identities[i].location),
                            ));
                        }
                        s.identities[i].tags = tags;
                        (false, identity_json(s, &s.identities[i]))
                    }
                    None => {
                        let canonical_rg = s
                            .resource_groups
                            .iter()
                            .find(|g| g.subscription.eq_ignore_ascii_case(sub) && g.name.eq_ignore_ascii_case(rg))
                            .map(|g| g.name.clone())
                            .unwrap_or_else(|| rg.to_string());
                        let i = Identity {
                            subscription: sub.to_ascii_lowercase(),
                            resource_group: canonical_rg,
                            name: name.to_string(),
                            location: location.to_string(),
                            client_id: uuid::Uuid::new_v4().to_string(),
                            principal_id: uuid::Uuid::new_v4().to_string(),
                            tags,
                        };
                        let v = identity_json(s, &i);
                        s.identities.push(i);
                        (true, v)
                    }
                };
                Ok::<_, Failure>(out)
            })?;
            Ok(json(if created { StatusCode::CREATED } else { StatusCode::OK }, &v))
        }
        Method::DELETE => {
            authorize(emu, caller, &format!("{kind}/delete"), &scope)?;
            emu.arm.read(|s| check_container(s, sub, Some(rg)))?;
            let removed = emu.arm.write(|s| Ok::<_, Failure>(find(s).map(|i| s.identities.remove(i))))?;
            Ok(super::http::empty(if removed.is_some() { StatusCode::OK } else { StatusCode::NO_CONTENT }))
        }
        _ => Err(arm_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "Use GET, PUT or DELETE.")),
    }
}

// ---------------------------------------------------------------------------------------------
// Role assignments
// ---------------------------------------------------------------------------------------------

fn subscription_of(scope: &str) -> Option<String> {
    let segs: Vec<&str> = scope.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        [s, id, ..] if s.eq_ignore_ascii_case("subscriptions") => Some(id.to_string()),
        _ => None,
    }
}

fn role_definition_id(scope: &str, guid: &str) -> String {
    match subscription_of(scope) {
        Some(s) => format!("/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
        None => format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
    }
}

fn assignment_json(a: &RoleAssignment) -> Value {
    json!({
        "properties": {
            "roleDefinitionId": role_definition_id(&a.scope, &a.role_definition),
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "scope": a.scope,
            "condition": null,
            "conditionVersion": null,
            "createdOn": a.created_on,
            "updatedOn": a.created_on,
            "createdBy": null,
            "updatedBy": null,
            "delegatedManagedIdentityResourceId": null,
            "description": a.description,
        },
        "id": a.id(),
        "type": "Microsoft.Authorization/roleAssignments",
        "name": a.name,
    })
}

/// The value inside `principalId eq '...'` / `assignedTo('...')`, and whether `atScope()` is set.
fn assignment_filter(filter: Option<&str>) -> (Option<String>, bool) {
    let Some(f) = filter else { return (None, false) };
    let quoted = |s: &str| s.split('\'').nth(1).map(str::to_string);
    let lower = f.to_ascii_lowercase();
    let principal = if let Some(i) = lower.find("principalid eq") {
        quoted(&f[i..])
    } else if let Some(i) = lower.find("assignedto(") {
        quoted(&f[i..])
    } else {
        None
    };
    (principal, lower.contains("atscope()"))
}

fn role_assignments(
    emu: &Emulator,
    caller: &Caller,
    req: &Req,
    scope: &str,
    name: Option<&str>,
) -> Result<Resp, Failure> {
    let action = |verb: &str| format!("Microsoft.Authorization/roleAssignments/{verb}");
    if let Some(sub) = subscription_of(scope) {
        let rg = {
            let segs: Vec<&str> = scope.trim_start_matches('/').split('/').collect();
            (segs.len() >= 4 && segs[2].eq_ignore_ascii_case("resourceGroups")).then(|| segs[3].to_string())
        };
        // Authorization comes first (ARM checks RBAC before resolving the scope).
        let verb = match req.method {
            Method::PUT => "write",
            Method::DELETE => "delete",
            _ => "read",
        };
        authorize(emu, caller, &action(verb), scope)?;
        emu.arm.read(|s| check_container(s, &sub, rg.as_deref()))?;
    } else {
        authorize(emu, caller, &action("read"), scope)?;
    }
    let Some(name) = name else {
        if req.method != Method::GET {
            return Err(arm_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "Use GET to list role assignments.",
            ));
        }
        let (principal, at_scope) = assignment_filter(req.param("$filter"));
        let value: Vec<Value> = emu.arm.read(|s| {
            s.role_assignments
                .iter()
                .filter(|a| rbac::scope_covers(&a.scope, scope) || (!at_scope && rbac::scope_covers(scope, &a.scope)))
                .filter(|a| principal.as_deref().is_none_or(|p| a.principal_id.eq_ignore_ascii_case(p)))
                .map(assignment_json)
                .collect()
        });
        return Ok(json(StatusCode::OK, &json!({ "value": value })));
    };
    let find = |s: &ArmState| {
        s.role_assignments.iter().position(|a| {
            a.name.eq_ignore_ascii_case(name)
                && a.scope.trim_end_matches('/').eq_ignore_ascii_case(scope.trim_end_matches('/'))
        })
    };
    let missing = || {
        arm_error(
            StatusCode::NOT_FOUND,
            "RoleAssignmentNotFound",
            &format!("The role assignment '{name}' is not found."),
        )
    };
    match req.method {
        Method::GET => emu
            .arm
            .read(|s| find(s).map(|i| assignment_json(&s.role_assignments[i])))
            .map(|v| json(StatusCode::OK, &v))
            .ok_or_else(missing),
        Method::DELETE => {
            let removed = emu.arm.write(|s| Ok::<_, Failure>(find(s).map(|i| s.role_assignments.remove(i))))?;
            Ok(match removed {
                Some(a) => json(StatusCode::OK, &assignment_json(&a)),
                None => super::http::empty(StatusCode::NO_CONTENT),
            })
        }
        Method::PUT => {
            if !is_guid(name) {
                return Err(arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRoleAssignmentId",
                    &format!("The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."),
                ));
            }
            let body = parse_body(req)?;
            let props = &body["properties"];
            let role_id = props["roleDefinitionId"].as_str().unwrap_or_default();
            let role = role_id.rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
            let principal = props["principalId"].as_str().unwrap_or_default().to_ascii_lowercase();
            if role.is_empty() || principal.is_empty() {
                return Err(arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRoleAssignmentRequest",
                    "The request must specify properties.roleDefinitionId and properties.principalId.",
                ));
            }
            let principal_type = props["principalType"].as_str().unwrap_or("ServicePrincipal").to_string();
            let description = props["description"].as_str().map(str::to_string);
            emu.arm.write(|s| {
                if s.role_permissions(&role).is_none() {
                    return Err(arm_error(
                        StatusCode::BAD_REQUEST,
                        "RoleDefinitionDoesNotExist",
                        &format!("The specified role definition with ID '{role}' does not exist."),
                    ));
                }
                if !s.principal_exists(&principal) {
                    return Err(arm_error(
                        StatusCode::BAD_REQUEST,
                        "PrincipalNotFound",
                        &format!("Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype", principal.replace('-', ""), s.tenant_id),
                    ));
                }
                let new = RoleAssignment {
                    name: name.to_ascii_lowercase(),
                    scope: scope.to_string(),
                    role_definition: role.clone(),
                    principal_id: principal.clone(),
                    principal_type: principal_type.clone(),
                    description: description.clone(),
                    created_on: now_rfc3339(),
                };
                if let Some(i) = find(s) {
                    let old = &s.role_assignments[i];
                    if old.role_definition == new.role_definition && old.principal_id == new.principal_id {
                        return Ok(json(StatusCode::CREATED, &assignment_json(old)));
                    }
                    return Err(arm_error(
                        StatusCode::CONFLICT,
                        "RoleAssignmentUpdateNotPermitted",
                        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                    ));
                }
                if let Some(dup) = s.role_assignments.iter().find(|a| {
                    a.principal_id == new.principal_id
                        && a.role_definition == new.role_definition
                        && a.scope.trim_end_matches('/').eq_ignore_ascii_case(scope.trim_end_matches('/'))
                }) {
                    return Err(arm_error(
                        StatusCode::CONFLICT,
                        "RoleAssignmentExists",
                        &format!("The role assignment already exists. The ID of the existing role assignment is {}.", dup.name.replace('-', "")),
                    ));
                }
                let v = assignment_json(&new);
                s.role_assignments.push(new);
                Ok(json(StatusCode::CREATED, &v))
            })
        }
        _ => Err(arm_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "Use GET, PUT or DELETE.")),
    }
}

// ---------------------------------------------------------------------------------------------
// Role definitions
// ---------------------------------------------------------------------------------------------

fn builtin_json(scope: &str, b: &rbac::BuiltinRole) -> Value {
    json!({
        "properties": {
            "roleName": b.name,
            "type": "BuiltInRole",
            "description": b.description,
            "assignableScopes": ["/"],
            "permissions": [{"actions": b.actions, "notActions": b.not_actions, "dataActions": [], "notDataActions": []}],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2021-11-11T20:13:47.8628684Z",
            "createdBy": null,
            "updatedBy": null,
        },
        "id": role_definition_id(scope, b.id),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": b.id,
    })
}

fn custom_json(scope: &str, d: &RoleDefinition) -> Value {
    json!({
        "properties": {
            "roleName": d.role_name,
            "type": "CustomRole",
            "description": d.description,
            "assignableScopes": d.assignable_scopes,
            "permissions": d.permissions,
            "createdOn": null,
            "updatedOn": null,
            "createdBy": null,
            "updatedBy": null,
        },
        "id": role_definition_id(scope, &d.name),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": d.name,
    })
}

fn role_definitions(
    emu: &Emulator,
    caller: &Caller,
    req: &Req,
    scope: &str,
    name: Option<&str>,
) -> Result<Resp, Failure> {
    let verb = match req.method {
        Method::PUT => "write",
        Method::DELETE => "delete",
        _ => "read",
    };
    authorize(emu, caller, &format!("Microsoft.Authorization/roleDefinitions/{verb}"), scope)?;
    let Some(name) = name else {
        if req.method != Method::GET {
            return Err(arm_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "Use GET to list role definitions.",
            ));
        }
        let wanted = req.param("$filter").and_then(|f| {
            f.to_ascii_lowercase().contains("rolename eq").then(|| f.split('\'').nth(1).map(str::to_string)).flatten()
        });
        let matches = |n: &str| wanted.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(n));
        let mut value: Vec<Value> =
            rbac::BUILTIN_ROLES.iter().filter(|b| matches(b.name)).map(|b| builtin_json(scope, b)).collect();
        emu.arm.read(|s| {
            value.extend(s.role_definitions.iter().filter(|d| matches(&d.role_name)).map(|d| custom_json(scope, d)));
        });
        return Ok(json(StatusCode::OK, &json!({ "value": value })));
    };
    let missing = || {
        arm_error(
            StatusCode::NOT_FOUND,
            "RoleDefinitionDoesNotExist",
            &format!("The specified role definition with ID '{name}' does not exist."),
        )
    };
    let find = |s: &ArmState| s.role_definitions.iter().position(|d| d.name.eq_ignore_ascii_case(name));
    match req.method {
        Method::GET => {
            if let Some(b) = rbac::builtin_role(name).filter(|b| b.id.eq_ignore_ascii_case(name)) {
                return Ok(json(StatusCode::OK, &builtin_json(scope, b)));
            }
            emu.arm
                .read(|s| find(s).map(|i| custom_json(scope, &s.role_definitions[i])))
                .map(|v| json(StatusCode::OK, &v))
                .ok_or_else(missing)
        }
        Method::DELETE => {
            let removed = emu.arm.write(|s| {
                let Some(i) = find(s) else { return Ok(None) };
                if s.role_assignments.iter().any(|a| a.role_definition.eq_ignore_ascii_case(name)) {
                    return Err(arm_error(
                        StatusCode::CONFLICT,
                        "RoleDefinitionHasAssignments",
                        "There are existing role assignments referencing role (code: RoleDefinitionHasAssignments).",
                    ));
                }
                Ok(Some(s.role_definitions.remove(i)))
            })?;
            Ok(match removed {
                Some(d) => json(StatusCode::OK, &custom_json(scope, &d)),
                None => super::http::empty(StatusCode::NO_CONTENT),
            })
        }
        Method::PUT => {
            if !is_guid(name) {
                return Err(arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRoleDefinitionId",
                    &format!("The role definition ID '{name}' is not valid. The role definition ID must be a GUID."),
                ));
            }
            if rbac::builtin_role(name).is_some_and(|b| b.id.eq_ignore_ascii_case(name)) {
                return Err(arm_error(
                    StatusCode::FORBIDDEN,
                    "RoleDefinitionUpdateNotPermitted",
                    "Built-in role definitions cannot be updated.",
                ));
            }
            let body = parse_body(req)?;
            let props = &body["properties"];
            let role_name = props["roleName"].as_str().unwrap_or_default().to_string();
            if role_name.is_empty() {
                return Err(arm_error(
                    StatusCode::BAD_REQUEST,
                    "RoleDefinitionNameNullOrEmpty",
                    "The role definition name cannot be null or empty.",
                ));
            }
            let permissions: Vec<Permission> = serde_json::from_value(props["permissions"].clone()).unwrap_or_default();
            let assignable: Vec<String> = serde_json::from_value(props["assignableScopes"].clone()).unwrap_or_default();
            if assignable.is_empty() {
                return Err(arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidAssignableScopes",
                    "The role definition must have at least one assignable scope.",
                ));
            }
            for sc in &assignable {
                authorize(emu, caller, "Microsoft.Authorization/roleDefinitions/write", sc)?;
            }
            let def = RoleDefinition {
                name: name.to_ascii_lowercase(),
                scope: scope.to_string(),
                role_name: role_name.clone(),
                description: props["description"].as_str().unwrap_or_default().to_string(),
                permissions,
                assignable_scopes: assignable,
            };
            emu.arm.write(|s| {
                let taken = rbac::BUILTIN_ROLES.iter().any(|b| b.name.eq_ignore_ascii_case(&role_name))
                    || s.role_definitions
                        .iter()
                        .any(|d| d.role_name.eq_ignore_ascii_case(&role_name) && !d.name.eq_ignore_ascii_case(name));
                if taken {
                    return Err(arm_error(
                        StatusCode::CONFLICT,
                        "RoleDefinitionWithSameNameExists",
                        "A custom role with the same name already exists in this directory. Use a different name.",
                    ));
                }
                let v = custom_json(scope, &def);
                let status = match find(s) {
                    Some(i) => {
                        s.role_definitions[i] = def;
                        StatusCode::OK
                    }
                    None => {
                        s.role_definitions.push(def);
                        StatusCode::CREATED
                    }
                };
                Ok(json(status, &v))
            })
        }
        _ => Err(arm_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "Use GET, PUT or DELETE.")),
    }
}
