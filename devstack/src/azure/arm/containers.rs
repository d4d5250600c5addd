//! Subscriptions and resource groups: read-only, seeded from the fixture.

use hyper::StatusCode;
use joinery_azure::arm::{ResourceGroup, ResourceGroupProperties, Subscription};

use super::auth::{Call, authorize};
use super::failure::{Failure, check_container, unknown_path};
use crate::azure::http::{Resp, json};

/// `GET /subscriptions/{s}`.
pub(super) fn get_subscription(call: Call<'_>, sub: &str) -> Result<Resp, Failure> {
    let Call { emu, caller, req } = call;
    authorize(emu, caller, "Microsoft.Resources/subscriptions/read", &format!("/subscriptions/{sub}"))?;
    let s = emu.arm.read(|s| s.subscriptions.iter().find(|x| x.id.eq_ignore_ascii_case(sub)).cloned());
    match s {
        Some(s) => Ok(json(
            StatusCode::OK,
            &Subscription {
                id: format!("/subscriptions/{}", s.id),
                subscription_id: s.id,
                display_name: s.name,
                state: "Enabled".into(),
                tenant_id: emu.tenant_id(),
            },
        )),
        None => Err(emu.arm.read(|st| check_container(st, sub, None)).err().unwrap_or_else(|| unknown_path(req))),
    }
}

/// `GET /subscriptions/{s}/resourceGroups/{rg}`.
pub(super) fn get_resource_group(call: Call<'_>, sub: &str, rg: &str) -> Result<Resp, Failure> {
    let Call { emu, caller, req } = call;
    let scope = format!("/subscriptions/{sub}/resourceGroups/{rg}");
    authorize(emu, caller, "Microsoft.Resources/subscriptions/resourceGroups/read", &scope)?;
    emu.arm.read(|s| check_container(s, sub, Some(rg)))?;
    let g = emu.arm.read(|s| s.resource_group(sub, rg).cloned()).ok_or_else(|| unknown_path(req))?;
    Ok(json(
        StatusCode::OK,
        &ResourceGroup {
            id: g.id(),
            name: g.name,
            resource_type: "Microsoft.Resources/resourceGroups".into(),
            location: g.location,
            properties: ResourceGroupProperties { provisioning_state: "Succeeded".into() },
        },
    ))
}
