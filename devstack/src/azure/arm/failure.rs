//! ARM's errors as the emulator answers them: a status and the
//! `{"error":{"code","message"}}` envelope with ARM's request-id headers, plus the checks
//! every handler shares (request body, containing subscription and resource group).

use hyper::StatusCode;
use joinery_azure::arm::{ErrorDetail, ErrorResponse};
use serde::de::DeserializeOwned;

use crate::azure::http::{Req, Resp, json};
use crate::azure::state::ArmState;

/// An ARM error: status, code and message.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl From<Failure> for Resp {
    fn from(f: Failure) -> Resp {
        let body = ErrorResponse { error: ErrorDetail { code: f.code.to_string(), message: f.message } };
        let mut r = json(f.status, &body);
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

/// ARM's 404 for a resource that does not exist in an existing resource group.
pub(super) fn not_found(kind: &str, name: &str, rg: &str) -> Failure {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!(
            "The Resource '{kind}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// A verb the resource does not support.
pub(super) fn method_not_allowed(message: &str) -> Failure {
    arm_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message)
}

/// A request body that does not deserialize.
pub(super) fn invalid_content(e: impl std::fmt::Display) -> Failure {
    arm_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        &format!("The request content was invalid and could not be deserialized: '{e}'."),
    )
}

/// The request body as `T` (one of `joinery_azure::arm`'s request types).
pub(super) fn parse_body<T: DeserializeOwned>(req: &Req) -> Result<T, Failure> {
    serde_json::from_slice(&req.body).map_err(invalid_content)
}

/// ARM's 404s for a missing subscription or resource group.
pub(super) fn check_container(s: &ArmState, sub: &str, rg: Option<&str>) -> Result<(), Failure> {
    if !s.subscriptions.iter().any(|x| x.id.eq_ignore_ascii_case(sub)) {
        return Err(arm_error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            &format!("The subscription '{sub}' could not be found."),
        ));
    }
    if let Some(rg) = rg
        && s.resource_group(sub, rg).is_none()
    {
        return Err(arm_error(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            &format!("Resource group '{rg}' could not be found."),
        ));
    }
    Ok(())
}

/// The 404 for a path the emulator does not serve.
pub(super) fn unknown_path(req: &Req) -> Failure {
    arm_error(
        StatusCode::NOT_FOUND,
        "InvalidResourceType",
        &format!("The devstack ARM emulator does not serve {} {}.", req.method, req.path),
    )
}
