//! What the emulator issues as Entra would (managed-identity tokens, JWKS, OIDC discovery,
//! IMDS token responses), verified by `joinery_azure::jwt`: valid tokens pass, every forgery
//! and mismatch is refused, discovery fetches and caches keys.

use std::time::Duration;

use base64::Engine as _;
use joinery_azure::jwt::{self, ARM_AUDIENCE, AccessTokenVerifier, TokenError, VerifierOptions, verify_with_keys};
use joinery_devstack::azure::http::{bytes, json};
use joinery_devstack::azure::sign::{self, ManagedIdentityTokenSpec, TokenIssuer};
use jsonwebtoken::jwk::JwkSet;
use time::OffsetDateTime;

use crate::test_server::TestServer;

const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const VM: &str = "/subscriptions/sub-1/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1";
const UAMI: &str =
    "/subscriptions/sub-1/resourcegroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/agent";

fn spec() -> ManagedIdentityTokenSpec {
    ManagedIdentityTokenSpec {
        tenant_id: TID.into(),
        principal_id: "11111111-2222-3333-4444-555555555555".into(),
        client_id: "66666666-7777-8888-9999-000000000000".into(),
        resource: ARM_AUDIENCE.into(),
        mi_resource_id: UAMI.into(),
        vm_resource_id: Some(VM.into()),
        issued_at: OffsetDateTime::now_utc(),
        lifetime: Duration::from_secs(86_400),
    }
}

fn keys(issuers: &[&TokenIssuer]) -> JwkSet {
    serde_json::from_value(sign::jwks(issuers)).unwrap()
}

fn verify(token: &str, keys: &JwkSet) -> Result<jwt::AccessTokenClaims, TokenError> {
    verify_with_keys(token, keys, None, OffsetDateTime::now_utc(), jwt::DEFAULT_LEEWAY)
}

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[test]
fn valid_token_and_fast_path() {
    let issuer = TokenIssuer::generate().unwrap();
    let token = issuer.issue_managed_identity(&spec()).unwrap();
    let c = verify(&token, &keys(&[&issuer])).unwrap();
    assert_eq!(c.tid, TID);
    assert_eq!(c.ver.as_deref(), Some("1.0"));
    assert_eq!(c.iss, format!("https://sts.windows.net/{TID}/"));
    let vm = c.vm_resource_id().unwrap();
    assert_eq!(vm.subscription.as_deref(), Some("sub-1"));
    assert_eq!(vm.resource_group.as_deref(), Some("rg1"));
    assert_eq!(c.identity_resource_id().unwrap().name(), Some("agent"));
    // System-assigned: xms_mirid is the VM, no xms_az_rid.
    let mut s = spec();
    s.mi_resource_id = VM.into();
    s.vm_resource_id = None;
    let c = verify(&issuer.issue_managed_identity(&s).unwrap(), &keys(&[&issuer])).unwrap();
    assert_eq!(c.vm_resource_id().unwrap().name(), Some("vm1"));
    // User-assigned without xms_az_rid: fast path unavailable.
    let mut s = spec();
    s.vm_resource_id = None;
    let c = verify(&issuer.issue_managed_identity(&s).unwrap(), &keys(&[&issuer])).unwrap();
    assert!(c.vm_resource_id().is_none());
}

#[test]
fn header_shape() {
    let issuer = TokenIssuer::generate().unwrap();
    let token = issuer.issue_managed_identity(&spec()).unwrap();
    let h = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(h.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(h.kid.as_deref(), Some(issuer.kid()));
    assert_eq!(h.x5t.as_deref(), Some(issuer.kid()));
    assert_eq!(issuer.kid().len(), 27);
}

#[test]
fn rejects_alg_none() {
    let issuer = TokenIssuer::generate().unwrap();
    let claims = sign::managed_identity_claims(&spec());
    let token = format!("{}.{}.", b64(&serde_json::json!({"alg":"none","typ":"JWT","kid":issuer.kid()})), b64(&claims));
    let err = verify(&token, &keys(&[&issuer])).unwrap_err();
    assert!(matches!(&err, TokenError::UnsupportedAlgorithm(a) if a == "none"), "{err}");
    assert!(err.to_string().contains("only RS256"));
}

#[test]
fn rejects_hs256() {
    let issuer = TokenIssuer::generate().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(issuer.kid().to_string());
    let token = jsonwebtoken::encode(
        &header,
        &sign::managed_identity_claims(&spec()),
        &jsonwebtoken::EncodingKey::from_secret(b"secret").unwrap(),
    )
    .unwrap();
    let err = verify(&token, &keys(&[&issuer])).unwrap_err();
    assert!(matches!(&err, TokenError::UnsupportedAlgorithm(a) if a == "HS256"), "{err}");
}

#[test]
fn rejects_unknown_kid() {
    let known = TokenIssuer::generate().unwrap();
    let other = TokenIssuer::generate().unwrap();
    let token = other.issue_managed_identity(&spec()).unwrap();
    let err = verify(&token, &keys(&[&known])).unwrap_err();
    assert!(matches!(err, TokenError::UnknownKid(_)), "{err}");
}

#[test]
fn rejects_forged_signature_with_known_kid() {
    let known = TokenIssuer::generate().unwrap();
    let key = sign::generate_rsa_key_pkcs8().unwrap();
    let forger = TokenIssuer::from_pkcs8(&key, Some(known.kid().to_string())).unwrap();
    let token = forger.issue_managed_identity(&spec()).unwrap();
    let err = verify(&token, &keys(&[&known])).unwrap_err();
    assert!(matches!(err, TokenError::SignatureInvalid(_)), "{err}");
}

#[test]
fn rejects_wrong_audience() {
    let issuer = TokenIssuer::generate().unwrap();
    let mut s = spec();
    s.resource = "https://vault.azure.net".into();
    let err = verify(&issuer.issue_managed_identity(&s).unwrap(), &keys(&[&issuer])).unwrap_err();
    assert!(matches!(err, TokenError::WrongAudience { .. }), "{err}");
}

#[test]
fn rejects_slashless_audience_with_hint() {
    let issuer = TokenIssuer::generate().unwrap();
    let mut s = spec();
    s.resource = "https://management.azure.com".into();
    let err = verify(&issuer.issue_managed_identity(&s).unwrap(), &keys(&[&issuer])).unwrap_err();
    assert!(matches!(err, TokenError::AudienceMissingSlash), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("\"https://management.azure.com/\"") && msg.contains("trailing slash"), "{msg}");
}

#[test]
fn rejects_wrong_issuer() {
    let issuer = TokenIssuer::generate().unwrap();
    for iss in [
        format!("https://login.microsoftonline.com/{TID}/v2.0"),
        format!("https://sts.windows.net/{TID}"),
        "https://sts.windows.net/00000000-0000-0000-0000-000000000000/".to_string(),
    ] {
        let mut claims = sign::managed_identity_claims(&spec());
        claims["iss"] = iss.into();
        let err = verify(&issuer.issue(&claims).unwrap(), &keys(&[&issuer])).unwrap_err();
        assert!(matches!(err, TokenError::WrongIssuer { .. }), "{err}");
    }
}

#[test]
fn rejects_expired_but_honours_leeway() {
    let issuer = TokenIssuer::generate().unwrap();
    let mut s = spec();
    s.issued_at = OffsetDateTime::now_utc() - time::Duration::days(2);
    let err = verify(&issuer.issue_managed_identity(&s).unwrap(), &keys(&[&issuer])).unwrap_err();
    assert!(matches!(err, TokenError::Expired { .. }), "{err}");
    // Expired 30 s ago: within the 60 s leeway.
    s.issued_at = OffsetDateTime::now_utc() - time::Duration::seconds(3630);
    s.lifetime = Duration::from_secs(3600);
    verify(&issuer.issue_managed_identity(&s).unwrap(), &keys(&[&issuer])).unwrap();
    // Not yet valid (nbf 10 min ahead).
    s.issued_at = OffsetDateTime::now_utc() + time::Duration::minutes(10);
    let err = verify(&issuer.issue_managed_identity(&s).unwrap(), &keys(&[&issuer])).unwrap_err();
    assert!(matches!(err, TokenError::NotYetValid { .. }), "{err}");
}

#[test]
fn rejects_wrong_tenant() {
    let issuer = TokenIssuer::generate().unwrap();
    let token = issuer.issue_managed_identity(&spec()).unwrap();
    let err = verify_with_keys(
        &token,
        &keys(&[&issuer]),
        Some("another-tenant"),
        OffsetDateTime::now_utc(),
        jwt::DEFAULT_LEEWAY,
    )
    .unwrap_err();
    assert!(matches!(err, TokenError::WrongTenant { .. }), "{err}");
    // A tid that is not URL-safe never reaches discovery.
    let mut claims = sign::managed_identity_claims(&spec());
    claims["tid"] = "../../evil".into();
    let err = verify(&issuer.issue(&claims).unwrap(), &keys(&[&issuer])).unwrap_err();
    assert!(matches!(err, TokenError::BadTenant(_)), "{err}");
}

#[tokio::test]
async fn discovery_fetches_and_caches_keys() {
    let issuer = TokenIssuer::generate().unwrap();
    let jwks = sign::jwks(&[&issuer]);
    let port_slot: std::sync::Arc<std::sync::OnceLock<String>> = Default::default();
    let ps = port_slot.clone();
    let server = TestServer::start(move |req| {
        let base = ps.get().unwrap();
        match req.path.as_str() {
            p if p == format!("/{TID}/.well-known/openid-configuration") => json(
                hyper::StatusCode::OK,
                &sign::openid_configuration(TID, &format!("{base}/common/discovery/keys"), base),
            ),
            "/common/discovery/keys" => json(hyper::StatusCode::OK, &jwks),
            _ => bytes(hyper::StatusCode::NOT_FOUND, "application/json", b"{}".to_vec()),
        }
    })
    .await;
    port_slot.set(server.base.clone()).unwrap();
    let verifier =
        AccessTokenVerifier::new(VerifierOptions { discovery_base: Some(server.base.clone()), ..Default::default() })
            .unwrap();
    let now = OffsetDateTime::now_utc();
    let token = issuer.issue_managed_identity(&spec()).unwrap();
    verifier.verify(&token, now).await.unwrap();
    verifier.verify(&token, now).await.unwrap();
    assert_eq!(server.count("/common/discovery/keys"), 1);

    let other = TokenIssuer::generate().unwrap();
    let err = verifier.verify(&other.issue_managed_identity(&spec()).unwrap(), now).await.unwrap_err();
    assert!(matches!(err, TokenError::UnknownKid(_)), "{err}");

    // Unknown tenant: discovery 404 is reported with the URL.
    let mut s = spec();
    s.tenant_id = "00000000-0000-0000-0000-000000000000".into();
    let err = verifier.verify(&issuer.issue_managed_identity(&s).unwrap(), now).await.unwrap_err();
    assert!(matches!(err, TokenError::Discovery { .. }) && err.to_string().contains("404"), "{err}");

    // Expected tenant is enforced before any fetch.
    let strict = AccessTokenVerifier::new(VerifierOptions {
        discovery_base: Some(server.base.clone()),
        expected_tenant: Some("someone-else".into()),
        ..Default::default()
    })
    .unwrap();
    let before = server.requests();
    assert!(matches!(strict.verify(&token, now).await.unwrap_err(), TokenError::WrongTenant { .. }));
    assert_eq!(server.requests(), before);
}

#[test]
fn imds_token_response_uses_string_numbers() {
    let issuer = TokenIssuer::generate().unwrap();
    let s = spec();
    let token = issuer.issue_managed_identity(&s).unwrap();
    let v = sign::imds_token_response(&token, &s);
    assert_eq!(v["expires_in"], "86400");
    assert!(v["expires_on"].is_string() && v["not_before"].is_string());
    assert_eq!(v["resource"], ARM_AUDIENCE);
}
