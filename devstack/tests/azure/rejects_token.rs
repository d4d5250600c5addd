//! The verifier's rejection corpus for the managed-identity access token: algorithm, key,
//! audience, issuer, expiry, tenant.

use base64::Engine as _;
use joinery_devstack::azure::sign::TokenIssuer;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::support::{assert_reason, assert_rejected, rejected, stack_with_token, vm1_claims};

fn unsigned_token(header: &Value, claims: &Value, sig: &str) -> String {
    let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{sig}", b(header), b(claims))
}

#[tokio::test]
async fn rejects_alg_none() {
    assert_rejected(&[], "only RS256 is accepted", |f| {
        f.solution.access_token = unsigned_token(&json!({"alg": "none", "typ": "JWT"}), &vm1_claims(f.stack), "");
    })
    .await;
}

#[tokio::test]
async fn rejects_hs256() {
    assert_rejected(&[], "only RS256 is accepted", |f| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(f.material.issuer.kid().to_string());
        let key = jsonwebtoken::EncodingKey::from_secret(&[7u8; 32]).unwrap();
        f.solution.access_token = jsonwebtoken::encode(&header, &vm1_claims(f.stack), &key).unwrap();
    })
    .await;
}

#[tokio::test]
async fn rejects_unknown_kid() {
    assert_rejected(&[], "unknown key id", |f| {
        f.solution.access_token = TokenIssuer::generate().unwrap().issue(&vm1_claims(f.stack)).unwrap();
    })
    .await;
}

/// Rejection of vm-1's token with `claims` changed by `edit`.
async fn reason_for_claims(stack: &joinery_testkit::Devstack, edit: impl FnOnce(&mut Value)) -> String {
    rejected(stack, |f| {
        let mut claims = vm1_claims(f.stack);
        edit(&mut claims);
        f.issue(&claims);
    })
    .await
}

#[tokio::test]
async fn rejects_wrong_audience() {
    let stack = stack_with_token(&[]).await;
    let reason = reason_for_claims(&stack, |c| c["aud"] = json!("https://graph.microsoft.com/")).await;
    assert_reason(&reason, "audience");
    // The slash-less ARM audience gets a precise hint.
    let reason = reason_for_claims(&stack, |c| c["aud"] = json!("https://management.azure.com")).await;
    assert_reason(&reason, "trailing slash");
}

#[tokio::test]
async fn rejects_wrong_issuer() {
    let stack = stack_with_token(&[]).await;
    let reason = reason_for_claims(&stack, |c| c["iss"] = json!("https://login.evil.example.com/tenant/")).await;
    assert_reason(&reason, "issuer");
}

#[tokio::test]
async fn rejects_expired_access_token() {
    let stack = stack_with_token(&[]).await;
    let past = OffsetDateTime::now_utc().unix_timestamp() - 7200;
    let reason = reason_for_claims(&stack, |c| {
        c["iat"] = json!(past);
        c["nbf"] = json!(past);
        c["exp"] = json!(past + 600);
    })
    .await;
    assert_reason(&reason, "access token expired");
}

#[tokio::test]
async fn rejects_wrong_tenant() {
    let stack = stack_with_token(&[]).await;
    let other = "11111111-2222-4333-8444-555555555555";
    let reason = reason_for_claims(&stack, |c| {
        c["tid"] = json!(other);
        c["iss"] = json!(format!("https://sts.windows.net/{other}/"));
    })
    .await;
    assert_reason(&reason, "fetching signing keys");
    assert_reason(&reason, other);
}
