//! Client assertions in the emulated Entra: what the two kinds share. A client-credentials
//! grant may carry, instead of a secret, a JWT `client_assertion` (type
//! `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`) that is either
//!
//! * signed by the app itself with one of its registered certificates — `iss` is the app's
//!   client id ([`super::certificate`]); or
//! * issued by an external identity provider one of the app's federated identity credentials
//!   trusts ([`super::federated`]).
//!
//! Both are refused with Entra's codes (`AADSTS…`) and checked against the same clock: Entra
//! allows five minutes of skew on `nbf`/`exp` (`AADSTS700024`).

use hyper::StatusCode;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::oidc::StandardClaims;

/// The only `client_assertion_type` Entra accepts.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Entra's clock skew allowance.
const CLOCK_SKEW_SECS: i64 = 300;

/// Why an assertion is refused: an AADSTS code, its message, and the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub status: StatusCode,
    /// OAuth error.
    pub error: &'static str,
    /// AADSTS number.
    pub code: u32,
    /// Description (before Entra's trace lines).
    pub message: String,
}

/// A 401 `invalid_client` refusal: how Entra answers a bad client credential.
pub(super) fn refuse(code: u32, message: String) -> Refusal {
    Refusal { status: StatusCode::UNAUTHORIZED, error: "invalid_client", code, message }
}

/// The assertion is not a JWT at all (`AADSTS50027`, 400).
pub(super) fn malformed() -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        code: 50027,
        message: "JWT token is invalid or malformed.".into(),
    }
}

/// Entra's timestamps: RFC 3339 with seven fractional digits.
pub(super) fn entra_time(unix: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let s = t.replace_nanosecond(0).unwrap_or(t).format(&Rfc3339).unwrap_or_default();
    s.replace('Z', ".0000000Z")
}

/// `AADSTS700024` unless `now` lies within the assertion's `nbf` (or `iat`)..`exp`, give or
/// take Entra's skew.
pub(super) fn check_time_range(claims: &StandardClaims, now: i64) -> Result<(), Refusal> {
    let nbf = claims.nbf.or(claims.iat).unwrap_or(claims.exp);
    if now + CLOCK_SKEW_SECS < nbf || now - CLOCK_SKEW_SECS >= claims.exp {
        return Err(refuse(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                entra_time(now),
                entra_time(nbf),
                entra_time(claims.exp)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_entra_writes_them() {
        assert_eq!(entra_time(1_687_422_811), "2023-06-22T08:33:31.0000000Z");
    }
}
