//! Who is calling and what they may do: ARM accepts only bearer tokens the emulated Entra
//! issued (managed identity or client credentials), unexpired, for ARM's audience, and then
//! checks the caller's role assignments for the action *before* looking the resource up, as
//! ARM does; a missing permission is Azure's 403 `AuthorizationFailed`.

use hyper::{Method, StatusCode};
use serde_json::Value;

use super::failure::{Failure, arm_error};
use crate::azure::Emulator;
use crate::azure::http::Req;

/// The token audiences ARM accepts.
const ARM_AUDIENCES: [&str; 4] = [
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

/// One authenticated request: what every handler works with.
#[derive(Clone, Copy)]
pub(super) struct Call<'a> {
    /// The emulator.
    pub(super) emu: &'a Emulator,
    /// Who is calling.
    pub(super) caller: &'a Caller,
    /// The request.
    pub(super) req: &'a Req,
}

/// The authenticated caller.
pub(super) struct Caller {
    pub(super) principal: String,
    pub(super) client: String,
}

/// Checks the bearer token as ARM does (ARM's 401 codes and messages).
pub(super) fn authenticate(emu: &Emulator, req: &Req) -> Result<Caller, Failure> {
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
    // The four audiences ARM accepts: both hosts, with and without the trailing slash.
    let aud_ok = |a: &str| ARM_AUDIENCES.contains(&a);
    let aud = match &c["aud"] {
        Value::String(a) => aud_ok(a),
        Value::Array(v) => v.iter().any(|a| a.as_str().is_some_and(aud_ok)),
        _ => false,
    };
    if !aud {
        let got = match &c["aud"] {
            Value::String(a) => a.clone(),
            other => other.to_string(),
        };
        let allowed: Vec<String> = ARM_AUDIENCES.iter().map(|a| format!("'{a}'")).collect();
        return Err(arm_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenAudience",
            &format!(
                "The access token has been obtained for wrong audience or resource '{got}'. It should exactly match with one of the allowed audiences {}.",
                allowed.join(",")
            ),
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

/// Azure's 403 for `action` on `scope`.
pub(super) fn forbidden(caller: &Caller, action: &str, scope: &str) -> Failure {
    arm_error(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        &format!(
            "The client '{}' with object id '{}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            caller.client, caller.principal
        ),
    )
}

/// Requires a role assignment at `scope` or above that grants `action`.
pub(super) fn authorize(emu: &Emulator, caller: &Caller, action: &str, scope: &str) -> Result<(), Failure> {
    if emu.arm.read(|s| s.allowed(&caller.principal, action, scope)) {
        Ok(())
    } else {
        tracing::info!(principal = %caller.principal, action, scope, "ARM request not authorized");
        Err(forbidden(caller, action, scope))
    }
}

/// The RBAC verb of a request on a resource: `write` for PUT, `delete` for DELETE, else `read`.
pub(super) fn verb(method: &Method) -> &'static str {
    match *method {
        Method::PUT => "write",
        Method::DELETE => "delete",
        _ => "read",
    }
}
