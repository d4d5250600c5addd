//! `{scope}/providers/Microsoft.Authorization/roleAssignments`: list (with `$filter` on the
//! principal and `atScope()`), and GET, PUT (idempotent; ARM's conflicts and directory checks)
//! and DELETE one.

use hyper::{Method, StatusCode};
use joinery_azure::arm::{
    Audit, Page, ROLE_ASSIGNMENT_TYPE, RoleAssignment, RoleAssignmentProperties, RoleAssignmentRequest,
};
use joinery_util::guid::is_guid;

use super::auth::{Call, authorize, verb};
use super::failure::{Failure, arm_error, check_container, method_not_allowed, parse_body};
use super::role_definitions::{role_definition_id, subscription_of};
use crate::azure::Emulator;
use crate::azure::http::{Req, Resp, empty, json};
use crate::azure::rbac;
use crate::azure::state::{self, ArmState, now_rfc3339};

/// An assignment as ARM returns it.
pub(super) fn resource(a: &state::RoleAssignment) -> RoleAssignment {
    RoleAssignment {
        id: a.id(),
        name: a.name.clone(),
        resource_type: ROLE_ASSIGNMENT_TYPE.into(),
        properties: RoleAssignmentProperties {
            role_definition_id: role_definition_id(&a.scope, &a.role_definition),
            principal_id: a.principal_id.clone(),
            principal_type: Some(a.principal_type.clone()),
            scope: a.scope.clone(),
            audit: Audit {
                created_on: Some(a.created_on.clone()),
                updated_on: Some(a.created_on.clone()),
                ..Default::default()
            },
            description: a.description.clone(),
            ..Default::default()
        },
    }
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

fn same_scope(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// Requests on `{scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]`.
pub(super) fn handle(call: Call<'_>, scope: &str, name: Option<&str>) -> Result<Resp, Failure> {
    let Call { emu, caller, req } = call;
    let action = |verb: &str| format!("{ROLE_ASSIGNMENT_TYPE}/{verb}");
    if let Some(sub) = subscription_of(scope) {
        let rg = {
            let segs: Vec<&str> = scope.trim_start_matches('/').split('/').collect();
            (segs.len() >= 4 && segs[2].eq_ignore_ascii_case("resourceGroups")).then(|| segs[3].to_string())
        };
        // Authorization comes first (ARM checks RBAC before resolving the scope).
        authorize(emu, caller, &action(verb(&req.method)), scope)?;
        emu.arm.read(|s| check_container(s, &sub, rg.as_deref()))?;
    } else {
        authorize(emu, caller, &action("read"), scope)?;
    }
    let Some(name) = name else {
        if req.method != Method::GET {
            return Err(method_not_allowed("Use GET to list role assignments."));
        }
        let (principal, at_scope) = assignment_filter(req.param("$filter"));
        let value = emu.arm.read(|s| {
            s.role_assignments
                .iter()
                .filter(|a| rbac::scope_covers(&a.scope, scope) || (!at_scope && rbac::scope_covers(scope, &a.scope)))
                .filter(|a| principal.as_deref().is_none_or(|p| a.principal_id.eq_ignore_ascii_case(p)))
                .map(resource)
                .collect()
        });
        return Ok(json(StatusCode::OK, &Page::<RoleAssignment> { value, next_link: None }));
    };
    let find = |s: &ArmState| {
        s.role_assignments.iter().position(|a| a.name.eq_ignore_ascii_case(name) && same_scope(&a.scope, scope))
    };
    match req.method {
        Method::GET => emu
            .arm
            .read(|s| find(s).map(|i| resource(&s.role_assignments[i])))
            .map(|v| json(StatusCode::OK, &v))
            .ok_or_else(|| {
                arm_error(
                    StatusCode::NOT_FOUND,
                    "RoleAssignmentNotFound",
                    &format!("The role assignment '{name}' is not found."),
                )
            }),
        Method::DELETE => {
            // Removal propagates like a grant: ARM keeps enforcing it for a while.
            let until = state::ms_after(emu.realism.rbac_delay);
            let removed = emu.arm.write(|s| {
                let now = state::now_ms();
                s.removed_assignments.retain(|a| a.effective_at_ms.is_some_and(|t| t > now));
                let removed = find(s).map(|i| s.role_assignments.remove(i));
                if let Some(a) = &removed {
                    s.removed_assignments.push(state::RoleAssignment { effective_at_ms: Some(until), ..a.clone() });
                }
                Ok::<_, Failure>(removed)
            })?;
            Ok(match removed {
                Some(a) => json(StatusCode::OK, &resource(&a)),
                None => empty(StatusCode::NO_CONTENT),
            })
        }
        Method::PUT => put(emu, req, scope, name, find),
        _ => Err(method_not_allowed("Use GET, PUT or DELETE.")),
    }
}

/// Creates an assignment (201); the same one again is 201 too, a different one under the same
/// name or a duplicate under another name are ARM's conflicts.
fn put(
    emu: &Emulator,
    req: &Req,
    scope: &str,
    name: &str,
    find: impl Fn(&ArmState) -> Option<usize>,
) -> Result<Resp, Failure> {
    if !is_guid(name) {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRoleAssignmentId",
            &format!("The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."),
        ));
    }
    let body: RoleAssignmentRequest = parse_body(req)?;
    let props = body.properties;
    let role = props.role_definition_id.rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
    let principal = props.principal_id.to_ascii_lowercase();
    if role.is_empty() || principal.is_empty() {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRoleAssignmentRequest",
            "The request must specify properties.roleDefinitionId and properties.principalId.",
        ));
    }
    emu.arm.write(|s| {
        if s.role_permissions(&role).is_none() {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "RoleDefinitionDoesNotExist",
                &format!("The specified role definition with ID '{role}' does not exist."),
            ));
        }
        let new = state::RoleAssignment {
            name: name.to_ascii_lowercase(),
            scope: scope.to_string(),
            role_definition: role.clone(),
            principal_id: principal.clone(),
            principal_type: props.principal_type.clone().unwrap_or_else(|| "ServicePrincipal".to_string()),
            description: props.description.clone(),
            created_on: now_rfc3339(),
            // RBAC propagation: ARM enforces it only after the delay.
            effective_at_ms: Some(state::ms_after(emu.realism.rbac_delay)),
        };
        if let Some(i) = find(s) {
            let old = &s.role_assignments[i];
            if old.role_definition == new.role_definition && old.principal_id == new.principal_id {
                return Ok(json(StatusCode::CREATED, &resource(old)));
            }
            return Err(arm_error(
                StatusCode::CONFLICT,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            ));
        }
        // A principal created moments ago is not replicated yet, unless the request says what
        // kind of principal it is (Azure's documented fix for this replication delay).
        if !s.principal_exists(&principal, props.principal_type.is_some(), state::now_ms()) {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "PrincipalNotFound",
                &format!(
                    "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
                    principal.replace('-', ""),
                    s.tenant_id
                ),
            ));
        }
        if let Some(dup) = s.role_assignments.iter().find(|a| {
            a.principal_id == new.principal_id && a.role_definition == new.role_definition && same_scope(&a.scope, scope)
        }) {
            return Err(arm_error(
                StatusCode::CONFLICT,
                "RoleAssignmentExists",
                &format!(
                    "The role assignment already exists. The ID of the existing role assignment is {}.",
                    dup.name.replace('-', "")
                ),
            ));
        }
        let v = resource(&new);
        s.role_assignments.push(new);
        Ok(json(StatusCode::CREATED, &v))
    })
}
