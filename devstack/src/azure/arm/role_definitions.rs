//! `{scope}/providers/Microsoft.Authorization/roleDefinitions`: the built-in roles of
//! [`rbac`] plus custom roles; list (with `$filter=roleName eq '…'`), GET, PUT (custom only;
//! role names unique in the directory) and DELETE (refused while assigned).

use hyper::{Method, StatusCode};
use joinery_azure::arm::{
    Audit, Page, ROLE_DEFINITION_TYPE, RoleDefinition, RoleDefinitionProperties, RoleDefinitionRequest,
};
use joinery_util::guid::is_guid;

use super::auth::{Call, authorize, verb};
use super::failure::{Failure, arm_error, method_not_allowed, parse_body};
use crate::azure::http::{Resp, empty, json};
use crate::azure::rbac;
use crate::azure::state;

/// The subscription GUID of a scope under `/subscriptions/{s}`.
pub(super) fn subscription_of(scope: &str) -> Option<String> {
    let segs: Vec<&str> = scope.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        [s, id, ..] if s.eq_ignore_ascii_case("subscriptions") => Some(id.to_string()),
        _ => None,
    }
}

/// The id of role definition `guid` as seen from `scope` (subscription-level under a
/// subscription, tenant-level otherwise).
pub(super) fn role_definition_id(scope: &str, guid: &str) -> String {
    match subscription_of(scope) {
        Some(s) => format!("/subscriptions/{s}/providers/{ROLE_DEFINITION_TYPE}/{guid}"),
        None => format!("/providers/{ROLE_DEFINITION_TYPE}/{guid}"),
    }
}

/// A built-in role as ARM returns it.
pub(super) fn builtin(scope: &str, b: &rbac::BuiltinRole) -> RoleDefinition {
    RoleDefinition {
        id: role_definition_id(scope, b.id),
        name: b.id.to_string(),
        resource_type: ROLE_DEFINITION_TYPE.into(),
        properties: RoleDefinitionProperties {
            role_name: b.name.to_string(),
            kind: "BuiltInRole".into(),
            description: Some(b.description.to_string()),
            assignable_scopes: vec!["/".into()],
            permissions: b.permissions(),
            audit: Audit {
                created_on: Some("2015-02-02T21:55:09.8806423Z".into()),
                updated_on: Some("2021-11-11T20:13:47.8628684Z".into()),
                ..Default::default()
            },
        },
    }
}

/// A custom role as ARM returns it.
pub(super) fn custom(scope: &str, d: &state::RoleDefinition) -> RoleDefinition {
    RoleDefinition {
        id: role_definition_id(scope, &d.name),
        name: d.name.clone(),
        resource_type: ROLE_DEFINITION_TYPE.into(),
        properties: RoleDefinitionProperties {
            role_name: d.role_name.clone(),
            kind: "CustomRole".into(),
            description: Some(d.description.clone()),
            assignable_scopes: d.assignable_scopes.clone(),
            permissions: d.permissions.clone(),
            ..Default::default()
        },
    }
}

/// Requests on `{scope}/providers/Microsoft.Authorization/roleDefinitions[/{name}]`.
pub(super) fn handle(call: Call<'_>, scope: &str, name: Option<&str>) -> Result<Resp, Failure> {
    let Call { emu, caller, req } = call;
    authorize(emu, caller, &format!("{ROLE_DEFINITION_TYPE}/{}", verb(&req.method)), scope)?;
    let Some(name) = name else {
        if req.method != Method::GET {
            return Err(method_not_allowed("Use GET to list role definitions."));
        }
        let wanted = req.param("$filter").and_then(|f| {
            f.to_ascii_lowercase().contains("rolename eq").then(|| f.split('\'').nth(1).map(str::to_string)).flatten()
        });
        let matches = |n: &str| wanted.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(n));
        let mut value: Vec<RoleDefinition> =
            rbac::BUILTIN_ROLES.iter().filter(|b| matches(b.name)).map(|b| builtin(scope, b)).collect();
        emu.arm.read(|s| {
            value.extend(s.role_definitions.iter().filter(|d| matches(&d.role_name)).map(|d| custom(scope, d)));
        });
        return Ok(json(StatusCode::OK, &Page { value, next_link: None }));
    };
    let builtin_named = rbac::builtin_role(name).filter(|b| b.id.eq_ignore_ascii_case(name));
    let find = |s: &state::ArmState| s.role_definitions.iter().position(|d| d.name.eq_ignore_ascii_case(name));
    match req.method {
        Method::GET => {
            if let Some(b) = builtin_named {
                return Ok(json(StatusCode::OK, &builtin(scope, b)));
            }
            emu.arm
                .read(|s| find(s).map(|i| custom(scope, &s.role_definitions[i])))
                .map(|v| json(StatusCode::OK, &v))
                .ok_or_else(|| {
                    arm_error(
                        StatusCode::NOT_FOUND,
                        "RoleDefinitionDoesNotExist",
                        &format!("The specified role definition with ID '{name}' does not exist."),
                    )
                })
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
                Some(d) => json(StatusCode::OK, &custom(scope, &d)),
                None => empty(StatusCode::NO_CONTENT),
            })
        }
        Method::PUT if builtin_named.is_some() => Err(arm_error(
            StatusCode::FORBIDDEN,
            "RoleDefinitionUpdateNotPermitted",
            "Built-in role definitions cannot be updated.",
        )),
        Method::PUT => put(call, scope, name, find),
        _ => Err(method_not_allowed("Use GET, PUT or DELETE.")),
    }
}

/// Creates (201) or replaces (200) a custom role.
fn put(
    call: Call<'_>,
    scope: &str,
    name: &str,
    find: impl Fn(&state::ArmState) -> Option<usize>,
) -> Result<Resp, Failure> {
    let Call { emu, caller, req } = call;
    if !is_guid(name) {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidRoleDefinitionId",
            &format!("The role definition ID '{name}' is not valid. The role definition ID must be a GUID."),
        ));
    }
    let props = parse_body::<RoleDefinitionRequest>(req)?.properties;
    let role_name = props.role_name;
    if role_name.is_empty() {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "RoleDefinitionNameNullOrEmpty",
            "The role definition name cannot be null or empty.",
        ));
    }
    if props.assignable_scopes.is_empty() {
        return Err(arm_error(
            StatusCode::BAD_REQUEST,
            "InvalidAssignableScopes",
            "The role definition must have at least one assignable scope.",
        ));
    }
    for sc in &props.assignable_scopes {
        authorize(emu, caller, &format!("{ROLE_DEFINITION_TYPE}/write"), sc)?;
    }
    let def = state::RoleDefinition {
        name: name.to_ascii_lowercase(),
        scope: scope.to_string(),
        role_name: role_name.clone(),
        description: props.description.unwrap_or_default(),
        permissions: props.permissions,
        assignable_scopes: props.assignable_scopes,
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
        let v = custom(scope, &def);
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
