//! The emulated Entra ID (Azure AD) authority, over HTTPS:
//!
//! * `GET /{tenant}/.well-known/openid-configuration`: v1 discovery whose `issuer` is Azure's
//!   own `https://sts.windows.net/{tid}/` and whose token endpoint is `/{tenant}/oauth2/token`,
//!   so a verifier given `discovery_base = <authority>/` checks the real issuer string while
//!   fetching from here;
//! * `GET /{tenant}/v2.0/.well-known/openid-configuration`: v2.0 discovery (issuer
//!   `https://login.microsoftonline.com/{tid}/v2.0`, token endpoint `/{tenant}/oauth2/v2.0/token`,
//!   keys `/{tenant}/discovery/v2.0/keys`): what MSAL reads before a client-credentials grant;
//! * `GET /common/discovery/keys` (and the tenant / v2.0 variants, whose keys name their
//!   `issuer`): the JWKS;
//! * `POST /{tenant}/oauth2/v2.0/token` (`scope`) and `POST /{tenant}/oauth2/token`
//!   (`resource`): the client-credentials grant for the fixture's service principals — with a
//!   client secret, or with a `client_assertion` ([`super::assertion`]: signed with one of the
//!   app's certificates, [`super::certificate`], or federated, [`super::federated`]) — with
//!   Entra's error bodies (`AADSTS...`). v2 numbers are JSON numbers, v1 ones strings.

use base64::Engine as _;
use hyper::{Method, StatusCode};
use serde_json::json;
use time::OffsetDateTime;

use super::Emulator;
use super::http::{Req, Resp, json};
use super::state::ServicePrincipal;

/// Entra's error body: the description ends with the trace and correlation ids and the
/// time, on lines of their own (`\r\n`), repeated as fields, as login.microsoftonline.com
/// writes them.
fn aad_error(status: StatusCode, error: &str, code: u32, desc: &str) -> Resp {
    let now = OffsetDateTime::now_utc();
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    let timestamp = now.format(&format).unwrap_or_default();
    let (trace_id, correlation_id) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
    json(
        status,
        &json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {desc}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
            ),
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

/// Handles a request on the authority listener.
pub async fn handle(emu: &Emulator, req: Req) -> Resp {
    let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let tenant = segs.first().copied().unwrap_or_default();
    let tenant_ok = tenant.eq_ignore_ascii_case(&emu.tenant_id()) || ["common", "organizations"].contains(&tenant);
    let jwks_uri = format!("{}/common/discovery/keys", emu.authority);
    match (&req.method, segs.as_slice()) {
        (&Method::GET, [_, ".well-known", "openid-configuration"])
        | (&Method::GET, [_, "v2.0", ".well-known", "openid-configuration"]) => {
            let v2 = segs.get(1) == Some(&"v2.0");
            if !tenant.eq_ignore_ascii_case(&emu.tenant_id()) {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_tenant",
                    90002,
                    &format!(
                        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
                    ),
                );
            }
            let tid = emu.tenant_id();
            if v2 {
                json(StatusCode::OK, &crate::azure::sign::openid_configuration_v2(&tid, &emu.authority))
            } else {
                json(StatusCode::OK, &crate::azure::sign::openid_configuration(&tid, &jwks_uri, &emu.authority))
            }
        }
        (&Method::GET, [_, "discovery", "keys"]) if tenant_ok => {
            json(StatusCode::OK, &crate::azure::sign::jwks(&[&emu.issuer]))
        }
        (&Method::GET, [_, "discovery", "v2.0", "keys"]) if tenant_ok => {
            // A tenant's v2.0 keys name the tenant's issuer; common's the `{tenantid}` template.
            let issuer = if tenant.eq_ignore_ascii_case(&emu.tenant_id()) {
                crate::azure::sign::v2_issuer(&emu.tenant_id())
            } else {
                crate::azure::sign::v2_issuer("{tenantid}")
            };
            json(StatusCode::OK, &crate::azure::sign::jwks_v2(&[&emu.issuer], &issuer))
        }
        (&Method::POST, [_, "oauth2", "v2.0", "token"]) => token(emu, &req, tenant, true).await,
        (&Method::POST, [_, "oauth2", "token"]) => token(emu, &req, tenant, false).await,
        _ => json(StatusCode::NOT_FOUND, &json!({ "error": "not_found", "error_description": "Unknown path" })),
    }
}

async fn token(emu: &Emulator, req: &Req, tenant: &str, v2: bool) -> Resp {
    if !tenant.eq_ignore_ascii_case(&emu.tenant_id()) {
        return aad_error(StatusCode::BAD_REQUEST, "invalid_request", 90002, &format!("Tenant '{tenant}' not found."));
    }
    let form = req.form();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type. The devstack supports client_credentials only.",
        );
    }
    if form.contains_key("client_assertion") || form.contains_key("client_assertion_type") {
        let sp = match assertion_sign_in(emu, &form, tenant).await {
            Ok(sp) => sp,
            Err(resp) => return resp,
        };
        return issue(emu, &form, &sp, v2);
    }
    // Credentials in the body, or HTTP Basic (client_secret_basic).
    let basic = req.header("authorization").and_then(|h| h.strip_prefix("Basic ")).and_then(|b| {
        let raw = base64::engine::general_purpose::STANDARD.decode(b.trim()).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (id, secret) = text.split_once(':')?;
        let dec = |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
        Some((dec(id)?, dec(secret)?))
    });
    let (client_id, secret) = match (form.get("client_id"), form.get("client_secret"), basic) {
        (Some(id), Some(s), _) => (id.clone(), s.clone()),
        (_, _, Some((id, s))) => (id, s),
        (Some(_), None, None) => {
            return aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            );
        }
        _ => {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            );
        }
    };
    let Some(sp) =
        emu.arm.read(|s| s.service_principals.iter().find(|p| p.client_id.eq_ignore_ascii_case(&client_id)).cloned())
    else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'."),
        );
    };
    if sp.client_secret != secret {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
        );
    }
    issue(emu, &form, &sp, v2)
}

/// A client-credentials grant with a client assertion ([`super::assertion`]): the app it names,
/// if the assertion is signed with one of its certificates (its `iss` is the app) or one of its
/// federated credentials accepts it.
async fn assertion_sign_in(
    emu: &Emulator,
    form: &std::collections::BTreeMap<String, String>,
    tenant: &str,
) -> Result<ServicePrincipal, Resp> {
    if form.get("client_assertion_type").map(String::as_str) != Some(super::assertion::JWT_BEARER) {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_assertion_type'.",
        ));
    }
    let (Some(client_id), Some(assertion)) = (form.get("client_id"), form.get("client_assertion")) else {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_assertion'.",
        ));
    };
    let Some(sp) =
        emu.arm.read(|s| s.service_principals.iter().find(|p| p.client_id.eq_ignore_ascii_case(client_id)).cloned())
    else {
        return Err(aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'."),
        ));
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let self_signed = crate::oidc::peek(assertion).is_ok_and(|(c, _)| c.iss.eq_ignore_ascii_case(&sp.client_id));
    let (kind, outcome) = if self_signed {
        // A registered certificate that no longer parses cannot have signed anything.
        let certificates: Vec<Vec<u8>> = sp.certificates.iter().filter_map(|c| c.der().ok()).collect();
        let audiences = super::certificate::audiences(&emu.authority, tenant);
        ("certificate", super::certificate::authenticate(&certificates, &sp.client_id, assertion, &audiences, now))
    } else {
        ("federated", super::federated::authenticate(&sp.federated_credentials, assertion, &emu.oidc, now).await)
    };
    match outcome {
        Ok(()) => Ok(sp),
        Err(r) => {
            tracing::warn!(client_id = %sp.client_id, code = r.code, kind, "client assertion refused");
            Err(aad_error(r.status, r.error, r.code, &r.message))
        }
    }
}

/// The access token for a signed-in app, for the `scope` (v2) or `resource` (v1) asked for.
fn issue(emu: &Emulator, form: &std::collections::BTreeMap<String, String>, sp: &ServicePrincipal, v2: bool) -> Resp {
    let audience = if v2 {
        let Some(scope) = form.get("scope").and_then(|s| s.strip_suffix(".default")) else {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
            );
        };
        scope.to_string()
    } else {
        match form.get("resource") {
            Some(r) if !r.is_empty() => r.clone(),
            _ => {
                return aad_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'resource'.",
                );
            }
        }
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let life = 3599i64;
    let iss = joinery_azure::jwt::issuer_for_tenant(&emu.tenant_id());
    let claims = json!({
        "aud": audience,
        "iss": iss,
        "iat": now,
        "nbf": now,
        "exp": now + life,
        "appid": sp.client_id,
        "appidacr": "1",
        "idp": iss,
        "idtyp": "app",
        "oid": sp.principal_id,
        "sub": sp.principal_id,
        "tid": emu.tenant_id(),
        "uti": uuid::Uuid::new_v4().simple().to_string(),
        "ver": "1.0",
    });
    let token = match emu.issuer.issue(&claims) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "cannot issue a client-credentials token");
            return aad_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                50000,
                "There was an error issuing a token.",
            );
        }
    };
    if v2 {
        json(
            StatusCode::OK,
            &json!({ "token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": token }),
        )
    } else {
        json(
            StatusCode::OK,
            &json!({
                "token_type": "Bearer",
                "expires_in": life.to_string(),
                "ext_expires_in": life.to_string(),
                "expires_on": (now + life).to_string(),
                "not_before": now.to_string(),
                "resource": audience,
                "access_token": token,
            }),
        )
    }
}
