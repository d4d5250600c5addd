//! Verification of managed-identity **access tokens** (Entra ID v1 JWTs for ARM).
//!
//! The attested document proves *which VM* answered the challenge; the access token proves
//! *which identity and resource group* it runs as, via `xms_mirid` / `xms_az_rid`. Teleport
//! verifies the token with OIDC discovery of the token's own tenant (`tid`), so this module
//! does the same:
//!
//! 1. the header must say `RS256` (no `none`, no HMAC, nothing else) and carry a `kid`;
//! 2. `tid` is read from the unverified payload; issuer = `https://sts.windows.net/{tid}/`;
//! 3. `{issuer}.well-known/openid-configuration` is fetched (its `issuer` must match), then
//!    its `jwks_uri`; keys are cached per tenant and refetched on an unknown `kid`;
//! 4. the RS256 signature is checked with the key named by `kid`;
//! 5. `iss` must equal the issuer exactly, `aud` must contain `https://management.azure.com/`
//!    exactly (the slash-less form gets a message telling the agent to request the right
//!    resource), and `exp`/`nbf` hold at the caller's `now` with 60 s leeway.
//!
//! The discovery base (`https://sts.windows.net/` by default) is overridable so that the
//! devstack's Entra emulator and tests can serve discovery and keys, over HTTP or over HTTPS
//! with a caller-supplied CA. The *issuer* stays `https://sts.windows.net/{tid}/`: it is an
//! identity, not a location.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

use crate::resource_id::ResourceId;

/// The audience Teleport demands: ARM's App ID URI **with** the trailing slash.
pub const ARM_AUDIENCE: &str = "https://management.azure.com/";
/// Issuer prefix of v1 tokens; the issuer is `{ISSUER_BASE}{tid}/`.
pub const ISSUER_BASE: &str = "https://sts.windows.net/";
/// Default leeway for `exp` / `nbf` (go-jose's default).
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

const MAX_DISCOVERY_BYTES: usize = 256 * 1024;
const KEYS_TTL: Duration = Duration::from_secs(3600);
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// Why an access token is rejected.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a three-part JWT with JSON header and payload.
    #[error("access token is malformed: {0}")]
    Malformed(String),
    /// `alg` is not RS256.
    #[error("access token uses signing algorithm {0:?}; only RS256 is accepted for Azure managed-identity tokens")]
    UnsupportedAlgorithm(String),
    /// No `kid` in the header.
    #[error("access token header has no key id (kid)")]
    MissingKid,
    /// No key with this `kid` in the tenant's JWKS, even after refetching it.
    #[error("access token is signed with unknown key id {0:?}")]
    UnknownKid(String),
    /// `tid` is missing or not a tenant id.
    #[error("access token has no valid tenant id (tid): {0}")]
    BadTenant(String),
    /// `tid` differs from the expected tenant.
    #[error("access token is for tenant {got:?}, expected tenant {expected:?}")]
    WrongTenant {
        /// Expected tenant.
        expected: String,
        /// Tenant in the token.
        got: String,
    },
    /// OIDC discovery or JWKS retrieval failed.
    #[error("fetching signing keys from {url}: {message}")]
    Discovery {
        /// URL that failed.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The RS256 signature does not verify.
    #[error("access token signature is invalid: {0}")]
    SignatureInvalid(String),
    /// `iss` differs from the tenant's v1 issuer.
    #[error("access token issuer {got:?} does not match expected issuer {expected:?}")]
    WrongIssuer {
        /// Expected issuer.
        expected: String,
        /// Issuer in the token.
        got: String,
    },
    /// The token is for `https://management.azure.com` (no trailing slash).
    #[error(
        "access token audience is \"https://management.azure.com\" without the trailing slash; the agent must request resource \"https://management.azure.com/\" (with the trailing slash) from IMDS"
    )]
    AudienceMissingSlash,
    /// `aud` does not contain the expected audience.
    #[error("access token audience {got:?} does not contain {expected:?}")]
    WrongAudience {
        /// Expected audience.
        expected: String,
        /// Audiences in the token.
        got: Vec<String>,
    },
    /// `exp` is past (beyond leeway).
    #[error("access token expired at {exp} (now {now})")]
    Expired {
        /// Expiry (Unix seconds).
        exp: i64,
        /// Verification time (Unix seconds).
        now: i64,
    },
    /// `nbf` is in the future (beyond leeway).
    #[error("access token is not valid before {nbf} (now {now})")]
    NotYetValid {
        /// Not-before (Unix seconds).
        nbf: i64,
        /// Verification time (Unix seconds).
        now: i64,
    },
    /// The verifier could not be built.
    #[error("access token verifier setup: {0}")]
    Setup(String),
}

/// Serde helper: a JWT `aud` is a string or a list of strings.
pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// Serde helper: a JWT NumericDate (`exp`, `nbf`, `iat`) is a JSON number of seconds, and
/// "non-integer values can be represented" (RFC 7519 §2) — MSAL writes `time.time()` floats.
/// Fractions are dropped.
pub fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_i64()
        .or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f.trunc() as i64))
        .ok_or_else(|| serde::de::Error::custom(format!("NumericDate {n} is out of range")))
}

/// [`numeric_date`] for an optional claim.
pub fn optional_numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "numeric_date")] i64);
    Ok(Option::<Wrapped>::deserialize(d)?.map(|Wrapped(n)| n))
}

/// The claims of a managed-identity access token that Joinery uses.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AccessTokenClaims {
    /// Audience(s).
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// Issuer.
    pub iss: String,
    /// Issued at (Unix seconds).
    #[serde(default)]
    pub iat: Option<i64>,
    /// Not before (Unix seconds).
    #[serde(default)]
    pub nbf: Option<i64>,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Tenant id.
    pub tid: String,
    /// Object (principal) id of the identity.
    #[serde(default)]
    pub oid: Option<String>,
    /// Subject (= `oid` for app-only tokens).
    #[serde(default)]
    pub sub: Option<String>,
    /// Client (application) id of the identity (v1).
    #[serde(default)]
    pub appid: Option<String>,
    /// Token version (`1.0`).
    #[serde(default)]
    pub ver: Option<String>,
    /// Managed identity resource id: the VM (system-assigned) or the UAMI (user-assigned).
    #[serde(default)]
    pub xms_mirid: Option<String>,
    /// The VM the token was requested from (user-assigned identities only).
    #[serde(default)]
    pub xms_az_rid: Option<String>,
}

impl fmt::Debug for AccessTokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenClaims")
            .field("aud", &self.aud)
            .field("iss", &self.iss)
            .field("exp", &self.exp)
            .field("tid", &self.tid)
            .field("oid", &self.oid)
            .field("xms_mirid", &self.xms_mirid)
            .field("xms_az_rid", &self.xms_az_rid)
            .finish_non_exhaustive()
    }
}

impl AccessTokenClaims {
    /// Teleport's fast path: `xms_az_rid`, else `xms_mirid`, parsed, **if** it names a VM or
    /// VM scale set. Its subscription and resource group then identify the machine without
    /// an ARM call (the verifier must still require the attested `subscriptionId` to equal
    /// the id's subscription). `None` means the ARM fallback is needed.
    pub fn vm_resource_id(&self) -> Option<ResourceId> {
        let rid = self.xms_az_rid.as_deref().or(self.xms_mirid.as_deref())?;
        ResourceId::parse(rid).ok().filter(ResourceId::is_virtual_machine)
    }

    /// `xms_mirid` parsed: the managed identity's own resource id.
    pub fn identity_resource_id(&self) -> Option<ResourceId> {
        ResourceId::parse(self.xms_mirid.as_deref()?).ok()
    }
}

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct TenantOnly {
    tid: Option<serde_json::Value>,
}

fn decode_part<T: serde::de::DeserializeOwned>(part: &str, what: &str) -> Result<T, TokenError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|e| TokenError::Malformed(format!("{what} is not base64url: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| TokenError::Malformed(format!("{what} is not the expected JSON: {e}")))
}

/// Header and tenant of a token, read **without** verification.
struct Unverified {
    kid: String,
    tid: String,
}

fn inspect(token: &str) -> Result<Unverified, TokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(TokenError::Malformed(format!("expected 3 dot-separated parts, got {}", parts.len())));
    }
    let header: RawHeader = decode_part(parts[0], "header")?;
    let alg = header.alg.unwrap_or_default();
    if alg != "RS256" {
        return Err(TokenError::UnsupportedAlgorithm(alg));
    }
    let kid = header.kid.filter(|k| !k.is_empty()).ok_or(TokenError::MissingKid)?;
    let payload: TenantOnly = decode_part(parts[1], "payload")?;
    let tid = match payload.tid {
        Some(serde_json::Value::String(s)) => s,
        _ => return Err(TokenError::BadTenant("missing".to_string())),
    };
    // The tenant id goes into a URL path: only allow what Entra tenant ids look like.
    if tid.is_empty() || tid.len() > 64 || !tid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return Err(TokenError::BadTenant(format!("{tid:?}")));
    }
    Ok(Unverified { kid, tid })
}

/// The v1 issuer of tenant `tid`.
pub fn issuer_for_tenant(tid: &str) -> String {
    format!("{ISSUER_BASE}{tid}/")
}

/// Checks signature and claims of `token` against an already known key set; no network.
/// `expected_tenant`, if given, must equal `tid`.
pub fn verify_with_keys(
    token: &str,
    keys: &JwkSet,
    expected_tenant: Option<&str>,
    now: OffsetDateTime,
    leeway: Duration,
) -> Result<AccessTokenClaims, TokenError> {
    let u = inspect(token)?;
    check_tenant(&u.tid, expected_tenant)?;
    let jwk = keys.find(&u.kid).ok_or_else(|| TokenError::UnknownKid(u.kid.clone()))?;
    verify_signed(token, jwk, &u.tid, now, leeway)
}

fn check_tenant(tid: &str, expected: Option<&str>) -> Result<(), TokenError> {
    match expected {
        Some(exp) if !exp.eq_ignore_ascii_case(tid) => {
            Err(TokenError::WrongTenant { expected: exp.to_string(), got: tid.to_string() })
        }
        _ => Ok(()),
    }
}

fn verify_signed(
    token: &str,
    jwk: &jsonwebtoken::jwk::Jwk,
    tid: &str,
    now: OffsetDateTime,
    leeway: Duration,
) -> Result<AccessTokenClaims, TokenError> {
    let key =
        DecodingKey::from_jwk(jwk).map_err(|e| TokenError::SignatureInvalid(format!("unusable signing key: {e}")))?;
    let mut validation = Validation::new(Algorithm::RS256);
    // Claims are checked below against the caller's clock and with precise messages.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map_err(|e| TokenError::SignatureInvalid(e.to_string()))?;
    let claims: AccessTokenClaims =
        serde_json::from_value(data.claims).map_err(|e| TokenError::Malformed(format!("claims: {e}")))?;

    let expected_iss = issuer_for_tenant(tid);
    if claims.iss != expected_iss {
        return Err(TokenError::WrongIssuer { expected: expected_iss, got: claims.iss });
    }
    if !claims.aud.iter().any(|a| a == ARM_AUDIENCE) {
        if claims.aud.iter().any(|a| a == ARM_AUDIENCE.trim_end_matches('/')) {
            return Err(TokenError::AudienceMissingSlash);
        }
        return Err(TokenError::WrongAudience { expected: ARM_AUDIENCE.to_string(), got: claims.aud });
    }
    let now_s = now.unix_timestamp();
    let leeway = i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX);
    if now_s > claims.exp.saturating_add(leeway) {
        return Err(TokenError::Expired { exp: claims.exp, now: now_s });
    }
    if let Some(nbf) = claims.nbf
        && now_s < nbf.saturating_sub(leeway)
    {
        return Err(TokenError::NotYetValid { nbf, now: now_s });
    }
    Ok(claims)
}

struct CachedKeys {
    keys: JwkSet,
    fetched: Instant,
}

/// Verifies access tokens, fetching each tenant's keys by OIDC discovery.
pub struct AccessTokenVerifier {
    http: reqwest::Client,
    discovery_base: String,
    expected_tenant: Option<String>,
    leeway: Duration,
    cache: Mutex<HashMap<String, CachedKeys>>,
}

impl fmt::Debug for AccessTokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenVerifier")
            .field("discovery_base", &self.discovery_base)
            .field("expected_tenant", &self.expected_tenant)
            .finish_non_exhaustive()
    }
}

/// Options for [`AccessTokenVerifier::new`].
#[derive(Debug, Clone, Default)]
pub struct VerifierOptions {
    /// Where discovery documents live: `{discovery_base}{tid}/.well-known/openid-configuration`.
    /// Default `https://sts.windows.net/`. A trailing `/` is added if missing.
    pub discovery_base: Option<String>,
    /// PEM bundle of extra CAs to trust for discovery and JWKS fetches (devstack over HTTPS).
    pub extra_ca_pem: Option<Vec<u8>>,
    /// If set, tokens of other tenants are rejected before any fetch.
    pub expected_tenant: Option<String>,
    /// Leeway for `exp`/`nbf`; default 60 s.
    pub leeway: Option<Duration>,
}

impl AccessTokenVerifier {
    /// Builds a verifier.
    pub fn new(opts: VerifierOptions) -> Result<Self, TokenError> {
        let http = crate::http::build_client(&crate::http::ClientOptions {
            extra_ca_pem: opts.extra_ca_pem.as_deref(),
            no_proxy: false,
            timeout: Duration::from_secs(15),
            https_only: false,
            platform_roots: true,
        })
        .map_err(TokenError::Setup)?;
        let mut base = opts.discovery_base.unwrap_or_else(|| ISSUER_BASE.to_string());
        if !base.ends_with('/') {
            base.push('/');
        }
        Ok(AccessTokenVerifier {
            http,
            discovery_base: base,
            expected_tenant: opts.expected_tenant,
            leeway: opts.leeway.unwrap_or(DEFAULT_LEEWAY),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Verifies `token` at time `now`; see the module docs for the checks.
    pub async fn verify(&self, token: &str, now: OffsetDateTime) -> Result<AccessTokenClaims, TokenError> {
        let u = inspect(token)?;
        check_tenant(&u.tid, self.expected_tenant.as_deref())?;
        let keys = self.keys_for(&u.tid, &u.kid).await?;
        let jwk = keys.find(&u.kid).ok_or_else(|| TokenError::UnknownKid(u.kid.clone()))?;
        verify_signed(token, jwk, &u.tid, now, self.leeway)
    }

    /// Cached keys of `tid`, refetched when stale or when `kid` is unknown (at most every
    /// 30 s, so random `kid`s cannot turn the verifier into a request amplifier).
    async fn keys_for(&self, tid: &str, kid: &str) -> Result<JwkSet, TokenError> {
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = cache.get(tid) {
                let age = c.fetched.elapsed();
                let has = c.keys.find(kid).is_some();
                if (has && age < KEYS_TTL) || (!has && age < MIN_REFETCH_INTERVAL) {
                    return Ok(c.keys.clone());
                }
            }
        }
        let keys = self.fetch_keys(tid).await?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(tid.to_string(), CachedKeys { keys: keys.clone(), fetched: Instant::now() });
        Ok(keys)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, TokenError> {
        let fail = |message: String| TokenError::Discovery { url: url.to_string(), message };
        let resp = self.http.get(url).send().await.map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        let body = crate::http::read_capped(resp, MAX_DISCOVERY_BYTES).await.map_err(fail)?;
        if !status.is_success() {
            return Err(fail(format!("HTTP {status}: {}", crate::http::describe_error_body(&body))));
        }
        serde_json::from_slice(&body).map_err(|e| fail(format!("invalid JSON: {e}")))
    }

    async fn fetch_keys(&self, tid: &str) -> Result<JwkSet, TokenError> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let url = format!("{}{tid}/.well-known/openid-configuration", self.discovery_base);
        let disc: Discovery = self.get_json(&url).await?;
        let expected = issuer_for_tenant(tid);
        if disc.issuer != expected {
            return Err(TokenError::Discovery {
                url,
                message: format!("discovery issuer {:?} does not match {expected:?}", disc.issuer),
            });
        }
        self.get_json(&disc.jwks_uri).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_dates_may_have_fractions() {
        #[derive(Deserialize)]
        struct C {
            #[serde(deserialize_with = "numeric_date")]
            exp: i64,
            #[serde(default, deserialize_with = "optional_numeric_date")]
            nbf: Option<i64>,
        }
        let c: C = serde_json::from_str(r#"{"exp": 1700000600.73, "nbf": 1700000000}"#).unwrap();
        assert_eq!((c.exp, c.nbf), (1_700_000_600, Some(1_700_000_000)));
        let c: C = serde_json::from_str(r#"{"exp": 1700000600}"#).unwrap();
        assert_eq!(c.nbf, None);
        assert!(serde_json::from_str::<C>(r#"{"exp": 1e300}"#).is_err());
        assert!(serde_json::from_str::<C>(r#"{"exp": "1700000600"}"#).is_err());
    }
}
