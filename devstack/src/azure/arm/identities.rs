//! `Microsoft.ManagedIdentity/userAssignedIdentities`: list a subscription's or a resource
//! group's, and GET, PUT (create with fresh client and principal ids, or update tags) and
//! DELETE one. A new identity's principal replicates after the principal delay
//! ([`crate::azure::realism`]).

use hyper::{Method, StatusCode};
use joinery_azure::arm::{IDENTITY_TYPE, Identity, IdentityProperties, IdentityRequest, Page};

use super::auth::{Call, authorize, forbidden, verb};
use super::failure::{Failure, arm_error, check_container, method_not_allowed, not_found, parse_body};
use crate::azure::Emulator;
use crate::azure::http::{Req, Resp, empty, json};
use crate::azure::state::{self, ArmState};

/// An identity as ARM returns it.
pub(super) fn resource(s: &ArmState, i: &state::Identity) -> Identity {
    Identity {
        id: i.arm_id(),
        name: i.name.clone(),
        resource_type: IDENTITY_TYPE.into(),
        location: Some(i.location.clone()),
        tags: i.tags.clone(),
        properties: IdentityProperties {
            tenant_id: s.tenant_id.clone(),
            principal_id: i.principal_id.clone(),
            client_id: i.client_id.clone(),
            isolation_scope: Some("None".into()),
        },
    }
}

/// `GET /subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.ManagedIdentity/userAssignedIdentities`:
/// what the caller may read under the scope (a 403 when nothing).
pub(super) fn list(call: Call<'_>, sub: &str, rg: Option<&str>) -> Result<Resp, Failure> {
    let Call { emu, caller, .. } = call;
    let scope = match rg {
        Some(rg) => format!("/subscriptions/{sub}/resourceGroups/{rg}"),
        None => format!("/subscriptions/{sub}"),
    };
    let action = format!("{IDENTITY_TYPE}/read");
    if !emu.arm.read(|s| s.allowed_somewhere_under(&caller.principal, &action, &scope)) {
        return Err(forbidden(caller, &action, &scope));
    }
    emu.arm.read(|s| check_container(s, sub, rg))?;
    let value = emu.arm.read(|s| {
        s.identities
            .iter()
            .filter(|i| i.subscription.eq_ignore_ascii_case(sub))
            .filter(|i| rg.is_none_or(|rg| i.resource_group.eq_ignore_ascii_case(rg)))
            .filter(|i| s.allowed(&caller.principal, &action, &i.arm_id()))
            .map(|i| resource(s, i))
            .collect()
    });
    Ok(json(StatusCode::OK, &Page::<Identity> { value, next_link: None }))
}

/// `GET`, `PUT` or `DELETE …/userAssignedIdentities/{name}`.
pub(super) fn handle(call: Call<'_>, sub: &str, rg: &str, name: &str) -> Result<Resp, Failure> {
    let Call { emu, caller, req } = call;
    let scope = format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{IDENTITY_TYPE}/{name}");
    if matches!(req.method, Method::GET | Method::PUT | Method::DELETE) {
        authorize(emu, caller, &format!("{IDENTITY_TYPE}/{}", verb(&req.method)), &scope)?;
        emu.arm.read(|s| check_container(s, sub, Some(rg)))?;
    }
    match req.method {
        Method::GET => emu
            .arm
            .read(|s| s.identity_index(sub, rg, name).map(|i| resource(s, &s.identities[i])))
            .map(|v| json(StatusCode::OK, &v))
            .ok_or_else(|| not_found(IDENTITY_TYPE, name, rg)),
        Method::PUT => put(emu, req, sub, rg, name),
        Method::DELETE => {
            let removed =
                emu.arm.write(|s| Ok::<_, Failure>(s.identity_index(sub, rg, name).map(|i| s.identities.remove(i))))?;
            Ok(empty(if removed.is_some() { StatusCode::OK } else { StatusCode::NO_CONTENT }))
        }
        _ => Err(method_not_allowed("Use GET, PUT or DELETE.")),
    }
}

/// Creates the identity (201) or updates its tags (200); the location cannot change.
fn put(emu: &Emulator, req: &Req, sub: &str, rg: &str, name: &str) -> Result<Resp, Failure> {
    if name.is_empty() || name.len() > 128 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidResourceName",
            &format!(
                "Resource name {name} is invalid. The name can be 3-128 characters long and can contain alphanumerics, hyphens and underscores."
            ),
        ));
    }
    let body: IdentityRequest = parse_body(req)?;
    let Some(location) = body.location.filter(|l| !l.is_empty()) else {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    };
    let tags = body.tags.unwrap_or_default();
    let (created, v) = emu.arm.write(|s| {
        if let Some(i) = s.identity_index(sub, rg, name) {
            if !s.identities[i].location.eq_ignore_ascii_case(&location) {
                return Err(arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidResourceLocation",
                    &format!(
                        "The resource '{name}' already exists in location '{}' in resource group '{rg}'. A resource with the same name cannot be created in location '{location}'. Please select a new resource name.",
                        s.identities[i].location
                    ),
                ));
            }
            s.identities[i].tags = tags;
            return Ok((false, resource(s, &s.identities[i])));
        }
        let i = state::Identity {
            subscription: sub.to_ascii_lowercase(),
            resource_group: s.resource_group(sub, rg).map(|g| g.name.clone()).unwrap_or_else(|| rg.to_string()),
            name: name.to_string(),
            location: location.clone(),
            client_id: uuid::Uuid::new_v4().to_string(),
            principal_id: uuid::Uuid::new_v4().to_string(),
            tags,
            replicated_at_ms: Some(state::ms_after(emu.realism.principal_delay)),
        };
        let v = resource(s, &i);
        s.identities.push(i);
        Ok((true, v))
    })?;
    Ok(json(if created { StatusCode::CREATED } else { StatusCode::OK }, &v))
}
