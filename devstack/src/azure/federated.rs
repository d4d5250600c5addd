//! Workload identity federation in the emulated Entra: a client-credentials grant whose
//! `client_assertion` (type `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`) is a
//! token from an external issuer — GitHub Actions, Azure DevOps, Kubernetes — that one of the
//! app's federated identity credentials trusts.
//!
//! Checks, each with Entra's code and message (`AADSTS…`, HTTP 401 `invalid_client`):
//!
//! 1. the assertion is a JWT (`AADSTS50027`);
//! 2. now lies within its `nbf`..`exp`, with Entra's five minutes of clock skew
//!    (`AADSTS700024` "Client assertion is not within its valid time range");
//! 3. some credential names its `iss` (`AADSTS700211`), then one of those lists one of its
//!    audiences (`AADSTS700212`), then one of those has its `sub` exactly — Entra compares
//!    subjects case-sensitively since 2024 (`AADSTS700213`);
//! 4. its signature verifies under the issuer's keys, discovered from the issuer's
//!    `.well-known/openid-configuration` ([`crate::oidc::Discovery`]; `AADSTS700027`).

use super::assertion::{Refusal, check_time_range, malformed, refuse};
use super::fixture::FederatedCredential;
use crate::oidc::{Discovery, peek};

/// Where Entra's FIC messages send the reader.
const FIC_DOCS: &str = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

fn no_match(what: &str, value: &str) -> String {
    format!(
        "No matching federated identity record found for presented assertion {what} '{value}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. {FIC_DOCS}"
    )
}

/// Checks `assertion` against `credentials` at Unix time `now`; `Ok` means the app is signed
/// in.
pub async fn authenticate(
    credentials: &[FederatedCredential],
    assertion: &str,
    discovery: &Discovery,
    now: i64,
) -> Result<(), Refusal> {
    let Ok((claims, _)) = peek(assertion) else {
        return Err(malformed());
    };
    check_time_range(&claims, now)?;
    let by_issuer: Vec<&FederatedCredential> = credentials.iter().filter(|c| c.issuer == claims.iss).collect();
    if by_issuer.is_empty() {
        return Err(refuse(700211, no_match("issuer", &claims.iss)));
    }
    let by_audience: Vec<&&FederatedCredential> =
        by_issuer.iter().filter(|c| c.audiences.iter().any(|a| claims.aud.contains(a))).collect();
    if by_audience.is_empty() {
        return Err(refuse(700212, no_match("audience", &claims.aud.join(","))));
    }
    if !by_audience.iter().any(|c| c.subject == claims.sub) {
        return Err(refuse(700213, no_match("subject", &claims.sub)));
    }
    let signature = async {
        let keys = discovery.keys(&claims.iss).await?;
        crate::oidc::check_signature(assertion, &keys)
    };
    if let Err(e) = signature.await {
        tracing::warn!(issuer = %claims.iss, error = %e, "federated assertion signature not verified");
        return Err(refuse(700027, "Client assertion failed signature validation.".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::sign::TokenIssuer;
    use hyper::StatusCode;
    use serde_json::json;

    fn creds() -> Vec<FederatedCredential> {
        vec![FederatedCredential {
            name: "gh".into(),
            issuer: "https://token.actions.githubusercontent.com".into(),
            subject: "repo:o/r:ref:refs/heads/main".into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
        }]
    }

    async fn code(claims: serde_json::Value, now: i64) -> Result<(), u32> {
        let issuer = TokenIssuer::generate().unwrap();
        let token = issuer.issue(&claims).unwrap();
        // No issuer is served: every check before the signature is what is under test.
        let discovery = Discovery::new(b"").unwrap();
        authenticate(&creds(), &token, &discovery, now).await.map_err(|r| {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert!(r.message.starts_with("No matching") || r.message.starts_with("Client assertion"), "{}", r.message);
            r.code
        })
    }

    #[tokio::test]
    async fn each_mismatch_has_its_code() {
        let now = 1_700_000_000;
        let good = json!({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r:ref:refs/heads/main",
            "aud": "api://AzureADTokenExchange", "iat": now, "nbf": now - 600, "exp": now + 300});
        let with = |k: &str, v: serde_json::Value| {
            let mut c = good.clone();
            c[k] = v;
            c
        };
        assert_eq!(code(with("iss", json!("https://elsewhere")), now).await, Err(700211));
        assert_eq!(code(with("aud", json!("teleport.cluster.local")), now).await, Err(700212));
        assert_eq!(code(with("sub", json!("repo:O/r:ref:refs/heads/main")), now).await, Err(700213));
        assert_eq!(code(good.clone(), now + 3600).await, Err(700024));
        // Everything matches: only the signature is left, and no issuer serves keys here.
        assert_eq!(code(good, now).await, Err(700027));
    }
}
