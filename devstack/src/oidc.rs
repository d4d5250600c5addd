//! OIDC ID-token verification as the relying parties the devstack stands in for do it:
//! Teleport's Auth service (`lib/oidc.ValidateToken`, zitadel/oidc v3's `rp.VerifyIDToken`)
//! and Entra's federated identity credentials.
//!
//! Both discover the issuer's keys the same way: `GET {issuer}/.well-known/openid-configuration`
//! (whose `issuer` must equal the expected one), then its `jwks_uri`. The devstack's issuers
//! keep their real names (`https://token.actions.githubusercontent.com`) while being served on
//! `127.0.0.1`, so a [`Discovery`] maps an issuer's origin to the local base it is served from
//! (the same trick `joinery_azure::jwt` plays for Entra's `sts.windows.net`).
//!
//! [`verify`] checks in zitadel's order — segments, `sub`, `iss`, `aud`, `azp`, signature,
//! `exp`, `iat` — and its errors print zitadel's messages, so a caller can wrap them the way
//! Teleport does and a client sees Teleport's text.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use serde_json::Value;

/// Why an ID token is refused (zitadel/oidc's error strings).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// Not a three-part JWT with a JSON payload.
    #[error("parsing of request failed: {0}")]
    Parse(String),
    /// Discovery or key download failed.
    #[error("OpenID Provider Configuration Discovery has failed: {0}")]
    Discovery(String),
    /// The discovery document names another issuer.
    #[error("issuer does not match")]
    DiscoveryIssuer,
    /// No `sub`.
    #[error("subject missing")]
    SubjectMissing,
    /// `iss` differs from the expected issuer.
    #[error("issuer does not match: Expected: {expected}, got: {got}")]
    Issuer {
        /// Expected issuer.
        expected: String,
        /// The token's.
        got: String,
    },
    /// `aud` does not contain the relying party's audience.
    #[error("audience is not valid: Audience must contain client_id {0:?}")]
    Audience(String),
    /// Several audiences and no `azp`.
    #[error("authorized party is not set. If Token is valid for multiple audiences, azp must not be empty")]
    AzpMissing,
    /// Bad or unverifiable signature.
    #[error("invalid signature ({0})")]
    Signature(String),
    /// `exp` is past.
    #[error("token has expired")]
    Expired,
    /// `iat` is missing.
    #[error("issuedAt of token is missing")]
    IatMissing,
    /// `iat` is in the future.
    #[error("issuedAt of token is in the future: (iat: {iat}, now with offset: {now})")]
    IatInFuture {
        /// `iat` (Unix seconds).
        iat: i64,
        /// Now (Unix seconds).
        now: i64,
    },
}

/// The registered claims every check reads.
#[derive(Debug, Clone, Deserialize)]
pub struct StandardClaims {
    /// `iss`.
    #[serde(default)]
    pub iss: String,
    /// `sub`.
    #[serde(default)]
    pub sub: String,
    /// `aud` (a string or a list).
    #[serde(default, deserialize_with = "joinery_azure::jwt::one_or_many")]
    pub aud: Vec<String>,
    /// `azp`.
    #[serde(default)]
    pub azp: Option<String>,
    /// `exp` (Unix seconds; a fraction is dropped).
    #[serde(default, deserialize_with = "joinery_azure::jwt::numeric_date")]
    pub exp: i64,
    /// `nbf` (Unix seconds).
    #[serde(default, deserialize_with = "joinery_azure::jwt::optional_numeric_date")]
    pub nbf: Option<i64>,
    /// `iat` (Unix seconds).
    #[serde(default, deserialize_with = "joinery_azure::jwt::optional_numeric_date")]
    pub iat: Option<i64>,
}

/// A token's payload, decoded without verification (to read `iss` before choosing keys).
pub fn peek(token: &str) -> Result<(StandardClaims, Value), OidcError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(OidcError::Parse("token contains an invalid number of segments".into()));
    }
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .map_err(|e| OidcError::Parse(format!("malformed jwt payload: {e}")))?;
    let raw: Value = serde_json::from_slice(&payload).map_err(|e| OidcError::Parse(e.to_string()))?;
    let std: StandardClaims = serde_json::from_value(raw.clone()).map_err(|e| OidcError::Parse(e.to_string()))?;
    Ok((std, raw))
}

/// Verifies `token` for `audience` from `issuer` under `keys`, at Unix time `now`, in
/// zitadel's order; returns every claim.
pub fn verify(token: &str, issuer: &str, audience: &str, keys: &JwkSet, now: i64) -> Result<Value, OidcError> {
    let (std, raw) = peek(token)?;
    if std.sub.is_empty() {
        return Err(OidcError::SubjectMissing);
    }
    if std.iss != issuer {
        return Err(OidcError::Issuer { expected: issuer.to_string(), got: std.iss });
    }
    if !std.aud.iter().any(|a| a == audience) {
        return Err(OidcError::Audience(audience.to_string()));
    }
    if std.aud.len() > 1 && std.azp.as_deref().unwrap_or_default().is_empty() {
        return Err(OidcError::AzpMissing);
    }
    check_signature(token, keys)?;
    if now >= std.exp {
        return Err(OidcError::Expired);
    }
    match std.iat {
        None | Some(0) => return Err(OidcError::IatMissing),
        Some(iat) if iat > now => return Err(OidcError::IatInFuture { iat, now }),
        Some(_) => {}
    }
    Ok(raw)
}

/// Checks the signature with the key the header names (RS256 or ES256, as zitadel accepts).
pub fn check_signature(token: &str, keys: &JwkSet) -> Result<(), OidcError> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| OidcError::Parse(e.to_string()))?;
    let alg = header.alg;
    if !matches!(alg, jsonwebtoken::Algorithm::RS256 | jsonwebtoken::Algorithm::ES256 | jsonwebtoken::Algorithm::PS256)
    {
        return Err(OidcError::Signature("signature algorithm not supported".into()));
    }
    let jwk = match header.kid.as_deref() {
        Some(kid) => keys.find(kid),
        None => keys.keys.first(),
    }
    .ok_or_else(|| OidcError::Signature("failed to verify id token signature".into()))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| OidcError::Signature(e.to_string()))?;
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|_| ())
        .map_err(|_| OidcError::Signature("go-jose/go-jose: error in cryptographic primitive".into()))
}

/// Fetches issuers' keys by OIDC discovery, over HTTPS, trusting the devstack's CA.
#[derive(Clone)]
pub struct Discovery {
    http: reqwest::Client,
    /// Issuer origin (`https://token.actions.githubusercontent.com`) → where it is served.
    served_at: BTreeMap<String, String>,
}

impl Discovery {
    /// A fetcher trusting `ca_pem` (and nothing else: every issuer is local).
    pub fn new(ca_pem: &[u8]) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .https_only(true)
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none());
        for cert in reqwest::Certificate::from_pem_bundle(ca_pem)? {
            builder = builder.add_root_certificate(cert);
        }
        Ok(Discovery { http: builder.build()?, served_at: BTreeMap::new() })
    }

    /// Serves the issuers under `origin` from `base` (`https://127.0.0.1:P`).
    pub fn serve(&mut self, origin: &str, base: &str) {
        self.served_at.insert(origin.trim_end_matches('/').to_string(), base.trim_end_matches('/').to_string());
    }

    /// Where `url` (under a known issuer origin) is really fetched from.
    fn locate(&self, url: &str) -> String {
        for (origin, base) in &self.served_at {
            if let Some(rest) = url.strip_prefix(origin.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
            {
                return format!("{base}{rest}");
            }
        }
        url.to_string()
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let resp = self.http.get(self.locate(url)).send().await.map_err(|e| OidcError::Discovery(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(OidcError::Discovery(format!("GET {url}: HTTP {status}")));
        }
        resp.json().await.map_err(|e| OidcError::Discovery(format!("GET {url}: {e}")))
    }

    /// The keys of `issuer`, after checking its discovery document names it.
    pub async fn keys(&self, issuer: &str) -> Result<JwkSet, OidcError> {
        #[derive(Deserialize)]
        struct Doc {
            issuer: String,
            jwks_uri: String,
        }
        let doc: Doc =
            self.get_json(&format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))).await?;
        if doc.issuer != issuer {
            return Err(OidcError::DiscoveryIssuer);
        }
        self.get_json(&doc.jwks_uri).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::sign::TokenIssuer;
    use serde_json::json;

    fn keys(issuer: &TokenIssuer) -> JwkSet {
        serde_json::from_value(crate::azure::sign::jwks(&[issuer])).unwrap()
    }

    fn claims(now: i64) -> Value {
        json!({"iss": "https://issuer.example", "sub": "repo:o/r:ref:refs/heads/main", "aud": "teleport.cluster.local",
               "iat": now, "nbf": now - 600, "exp": now + 300})
    }

    #[test]
    fn checks_run_in_zitadels_order_with_its_messages() {
        let issuer = TokenIssuer::generate().unwrap();
        let other = TokenIssuer::generate().unwrap();
        let now = 1_700_000_000;
        let good = issuer.issue(&claims(now)).unwrap();
        let v = verify(&good, "https://issuer.example", "teleport.cluster.local", &keys(&issuer), now).unwrap();
        assert_eq!(v["sub"], "repo:o/r:ref:refs/heads/main");

        let e = verify(&good, "https://issuer.example", "other", &keys(&issuer), now).unwrap_err();
        assert_eq!(e.to_string(), "audience is not valid: Audience must contain client_id \"other\"");
        let e = verify(&good, "https://elsewhere", "teleport.cluster.local", &keys(&issuer), now).unwrap_err();
        assert_eq!(e.to_string(), "issuer does not match: Expected: https://elsewhere, got: https://issuer.example");
        let e = verify(&good, "https://issuer.example", "teleport.cluster.local", &keys(&other), now).unwrap_err();
        assert!(matches!(e, OidcError::Signature(_)), "{e}");
        let e =
            verify(&good, "https://issuer.example", "teleport.cluster.local", &keys(&issuer), now + 300).unwrap_err();
        assert_eq!(e.to_string(), "token has expired");
        let e = verify("a.b", "https://issuer.example", "x", &keys(&issuer), now).unwrap_err();
        assert_eq!(e.to_string(), "parsing of request failed: token contains an invalid number of segments");
        // An expired token with the wrong audience fails on the audience first, as zitadel does.
        let e = verify(&good, "https://issuer.example", "other", &keys(&issuer), now + 900).unwrap_err();
        assert!(matches!(e, OidcError::Audience(_)));
    }
}
