//! The Azure emulator and the Azure join, end to end against a real devstack process: the
//! client library (`joinery_agent::join::azure`) joining through both join services, the
//! verifier's rejection corpus, IMDS request checks and faults, ARM (RBAC, identities, role
//! assignments and definitions, VM identity patches) and persistence.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use joinery_agent::join::azure::{JoinError, join_with_azure, join_with_azure_legacy, join_with_azure_v1};
use joinery_azure::aia::AiaFetcher;
use joinery_azure::arm::{ArmClient, ArmOptions};
use joinery_azure::attested::{AttestedData, Plan, TimeStamp, concat_der_certificates};
use joinery_azure::imds::{ARM_RESOURCE, IdentitySelector, ImdsClient, RetryPolicy};
use joinery_azure::sign::{
    AttestedSigner, EmulatorPki, EmulatorPkiConfig, ManagedIdentityTokenSpec, TokenIssuer, generate_rsa_key_pkcs8,
    managed_identity_claims,
};
use joinery_teleport::identity::{CertInfo, pem_certs_to_der};
use joinery_teleport::join::{JoinService, JoinStream, JoinedCerts, bot_params};
use joinery_teleport::proto::teleport::header::v1::Metadata as HeaderMetadata;
use joinery_teleport::proto::teleport::join::v1;
use joinery_teleport::proto::teleport::machineid::v1::{Bot, BotSpec};
use joinery_teleport::proto::types::{
    Metadata, ProvisionTokenSpecV2, ProvisionTokenSpecV2Azure, ProvisionTokenV2, provision_token_spec_v2_azure,
};
use joinery_teleport::{Error, keys::KeyPair};
use joinery_testkit::{Devstack, binary};
use serde_json::{Value, json};
use time::OffsetDateTime;

const TTL: Duration = Duration::from_secs(3600);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn az(stack: &Devstack) -> &Value {
    &stack.info["azure"]
}

fn vm<'a>(stack: &'a Devstack, name: &str) -> &'a Value {
    az(stack)["vms"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap()
}

fn imds(stack: &Devstack, vm_name: &str) -> ImdsClient {
    ImdsClient::new(vm(stack, vm_name)["imds_endpoint"].as_str().unwrap())
        .unwrap()
        .with_retry_policy(RetryPolicy::none())
}

fn aia(stack: &Devstack) -> AiaFetcher {
    let host = vm(stack, "vm-1")["agent_env"]["JOINERY_AZURE_AIA_ALLOW"].as_str().unwrap().to_string();
    AiaFetcher::new().unwrap().allow_host(host)
}

fn subscription(stack: &Devstack) -> String {
    az(stack)["subscription_id"].as_str().unwrap().to_string()
}

fn azure_token(name: &str, bot: &str, subscription: &str, groups: &[&str]) -> ProvisionTokenV2 {
    ProvisionTokenV2 {
        kind: "token".into(),
        version: "v2".into(),
        metadata: Some(Metadata { name: name.into(), ..Default::default() }),
        spec: Some(ProvisionTokenSpecV2 {
            roles: vec!["Bot".into()],
            join_method: "azure".into(),
            bot_name: bot.into(),
            azure: Some(ProvisionTokenSpecV2Azure {
                allow: vec![provision_token_spec_v2_azure::Rule {
                    subscription: subscription.into(),
                    resource_groups: groups.iter().map(|g| g.to_string()).collect(),
                }],
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn bot(name: &str) -> Bot {
    Bot {
        kind: "bot".into(),
        version: "v1".into(),
        metadata: Some(HeaderMetadata { name: name.into(), ..Default::default() }),
        spec: Some(BotSpec { roles: vec!["access".into()], traits: vec![], max_session_ttl: None }),
        ..Default::default()
    }
}

/// A bot `robot` and an azure token `az-token` allowing the default subscription
/// (optionally only `groups`).
async fn setup(stack: &Devstack, groups: &[&str]) {
    let admin = stack.admin().await;
    admin.create_bot(bot("robot")).await.unwrap();
    admin.create_token(azure_token("az-token", "robot", &subscription(stack), groups)).await.unwrap();
}

fn verify_bot_cert(stack: &Devstack, certs: &JoinedCerts, key: &KeyPair) -> CertInfo {
    let user_ca = std::fs::read_to_string(stack.dir.join("ca/tls-user.crt")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for der in pem_certs_to_der(&user_ca) {
        roots.add(der.into()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
    let der = pem_certs_to_der(&certs.tls_cert_pem).remove(0);
    verifier
        .verify_client_cert(&der.clone().into(), &[], rustls::pki_types::UnixTime::now())
        .expect("chains to the user CA");
    let ssh = ssh_key::Certificate::from_openssh(&certs.ssh_cert).unwrap();
    assert_eq!(ssh.public_key(), key.ssh_public_key().key_data());
    CertInfo::from_der(&der).unwrap()
}

/// The emulator's attestation material, read from the state directory.
struct Material {
    root: Vec<u8>,
    intermediate: Vec<u8>,
    leaf: Vec<u8>,
    leaf_key: Vec<u8>,
    issuer: TokenIssuer,
}

fn material(stack: &Devstack) -> Material {
    let pki: Value = serde_json::from_slice(&std::fs::read(stack.dir.join("azure/attestation.json")).unwrap()).unwrap();
    let d = |k: &str| base64::engine::general_purpose::STANDARD.decode(pki[k].as_str().unwrap()).unwrap();
    let key = std::fs::read(stack.dir.join("azure/token-signing-key.der")).unwrap();
    Material {
        root: d("root"),
        intermediate: d("intermediate"),
        leaf: d("leaf"),
        leaf_key: d("leaf_key"),
        issuer: TokenIssuer::from_pkcs8(&key, None).unwrap(),
    }
}

impl Material {
    fn signer(&self) -> AttestedSigner {
        AttestedSigner::from_pkcs8(&self.leaf, &self.leaf_key).unwrap()
    }
}

fn document(stack: &Devstack, vm_name: &str, nonce: &str, subscription: Option<&str>) -> AttestedData {
    AttestedData {
        license_type: None,
        nonce: nonce.into(),
        plan: Plan::default(),
        sku: None,
        subscription_id: Some(subscription.map(str::to_string).unwrap_or_else(|| self::subscription(stack))),
        time_stamp: TimeStamp::new(OffsetDateTime::now_utc(), Duration::from_secs(300)),
        vm_id: vm(stack, vm_name)["vm_id"].as_str().unwrap().into(),
    }
}

/// Claims of a managed-identity token for the user-assigned identity of vm-1.
fn vm1_claims(stack: &Devstack) -> Value {
    let v = vm(stack, "vm-1");
    let id = &v["identities"][0];
    managed_identity_claims(&ManagedIdentityTokenSpec {
        tenant_id: az(stack)["tenant_id"].as_str().unwrap().into(),
        principal_id: id["principal_id"].as_str().unwrap().into(),
        client_id: id["client_id"].as_str().unwrap().into(),
        resource: ARM_RESOURCE.into(),
        mi_resource_id: id["id"].as_str().unwrap().into(),
        vm_resource_id: Some(v["id"].as_str().unwrap().into()),
        issued_at: OffsetDateTime::now_utc(),
        lifetime: Duration::from_secs(3600),
    })
}

/// Opens a `teleport.join.v1` Azure join up to the challenge.
async fn open_v1(stack: &Devstack, token: &str) -> (JoinStream, String) {
    let client = stack.anonymous().await;
    let mut stream = JoinStream::open(
        &client,
        v1::ClientInit {
            join_method: Some("azure".into()),
            token_name: token.into(),
            system_role: "Bot".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    stream.recv_server_init().await.unwrap();
    let key = KeyPair::generate();
    stream
        .send(v1::join_request::Payload::AzureInit(v1::AzureInit {
            client_params: Some(bot_params(&key, SystemTime::now() + TTL)),
        }))
        .await
        .unwrap();
    let challenge = match stream.recv().await.unwrap() {
        v1::join_response::Payload::Challenge(v1::Challenge {
            payload: Some(v1::challenge::Payload::AzureChallenge(c)),
        }) => c.challenge,
        other => panic!("expected a challenge, got {other:?}"),
    };
    (stream, challenge)
}

async fn finish_v1(mut stream: JoinStream, solution: v1::AzureChallengeSolution) -> Result<JoinedCerts, Error> {
    stream
        .send(v1::join_request::Payload::Solution(v1::ChallengeSolution {
            payload: Some(v1::challenge_solution::Payload::AzureChallengeSolution(solution)),
        }))
        .await?;
    stream.recv_bot_result().await
}

/// A genuine solution from vm's IMDS for `challenge`, with the emulator's intermediate.
async fn real_solution(stack: &Devstack, vm_name: &str, challenge: &str) -> v1::AzureChallengeSolution {
    let client = imds(stack, vm_name);
    v1::AzureChallengeSolution {
        attested_data: client.attested_document(challenge).await.unwrap(),
        intermediate: material(stack).intermediate,
        access_token: client.access_token(ARM_RESOURCE, None).await.unwrap().access_token,
    }
}

/// Runs a v1 join for `az-token` whose solution `tweak` alters; returns the server's reason.
async fn rejected(stack: &Devstack, tweak: impl FnOnce(&Material, &str, &mut v1::AzureChallengeSolution)) -> String {
    let (stream, challenge) = open_v1(stack, "az-token").await;
    let mut solution = real_solution(stack, "vm-1", &challenge).await;
    tweak(&material(stack), &challenge, &mut solution);
    match finish_v1(stream, solution).await {
        Ok(_) => panic!("join unexpectedly succeeded"),
        Err(Error::AccessDenied(m)) | Err(Error::BadParameter(m)) => m,
        Err(e) => panic!("unexpected error kind: {e:?}"),
    }
}

fn assert_reason(reason: &str, expected: &str) {
    assert!(reason.contains(expected), "reason {reason:?} does not contain {expected:?}");
}

fn sign_body(signer: &AttestedSigner, data: &AttestedData) -> Vec<u8> {
    signer.sign_document(data).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Full joins through the client library
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn vm1_user_assigned_joins_through_join_v1() {
    let stack = Devstack::start();
    setup(&stack, &["GROUP1"]).await;
    let (key, certs, service) =
        join_with_azure(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-1"), None, &aia(&stack))
            .await
            .unwrap();
    assert_eq!(service, JoinService::V1);
    let info = verify_bot_cert(&stack, &certs, &key);
    assert_eq!(info.bot_name.as_deref(), Some("robot"));
    assert_eq!(info.username, "bot-robot");
    assert!(!info.renewable, "delegated joins are not renewable");
    // Azure tokens are reusable: a second join works.
    let admin = stack.admin().await;
    admin.get_token("az-token").await.unwrap();
    let sel = IdentitySelector::ClientId(vm(&stack, "vm-1")["identities"][0]["client_id"].as_str().unwrap().into());
    join_with_azure(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-1"), Some(sel), &aia(&stack))
        .await
        .unwrap();
}

#[tokio::test]
async fn vm2_system_assigned_joins_through_join_v1() {
    let stack = Devstack::start();
    setup(&stack, &["group2"]).await;
    let (key, certs, service) =
        join_with_azure(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-2"), None, &aia(&stack))
            .await
            .unwrap();
    assert_eq!(service, JoinService::V1);
    assert_eq!(verify_bot_cert(&stack, &certs, &key).bot_name.as_deref(), Some("robot"));
}

#[tokio::test]
async fn both_vms_join_through_the_legacy_service() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    for name in ["vm-1", "vm-2"] {
        let (key, certs) =
            join_with_azure_legacy(&stack.anonymous().await, "az-token", TTL, &imds(&stack, name), None).await.unwrap();
        assert!(certs.tls_cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(verify_bot_cert(&stack, &certs, &key).bot_name.as_deref(), Some("robot"), "{name}");
    }
}

#[tokio::test]
async fn legacy_rejection_carries_the_reason() {
    let stack = Devstack::start();
    setup(&stack, &["group1"]).await;
    let err = join_with_azure_legacy(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-2"), None)
        .await
        .unwrap_err();
    let vm_id = vm(&stack, "vm-2")["vm_id"].as_str().unwrap().to_string();
    assert!(
        matches!(&err, JoinError::Teleport(Error::AccessDenied(m))
            if m.contains(&format!("instance {vm_id} did not match any allow rules in token az-token"))),
        "{err}"
    );
}

#[tokio::test]
async fn vm_without_identity_cannot_join() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let err = join_with_azure_v1(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-3"), None, &aia(&stack))
        .await
        .unwrap_err();
    assert!(matches!(&err, JoinError::Imds(e) if e.to_string().contains("Identity not found")), "{err}");
}

#[tokio::test]
async fn arm_fallback_joins_with_read_permission_and_refuses_without() {
    let stack = Devstack::start();
    setup(&stack, &["group1"]).await;
    // A token without xms_az_rid (xms_mirid names the identity, not a VM) forces the ARM path;
    // vm1-identity is Reader on group1, so listing finds vm-1.
    let (stream, challenge) = open_v1(&stack, "az-token").await;
    let mut solution = real_solution(&stack, "vm-1", &challenge).await;
    let mut claims = vm1_claims(&stack);
    claims.as_object_mut().unwrap().remove("xms_az_rid");
    solution.access_token = material(&stack).issuer.issue(&claims).unwrap();
    finish_v1(stream, solution).await.unwrap();

    // tbot-identity has no role assignment: ARM says 403 and the join is refused.
    let tbot =
        az(&stack)["identities"].as_array().unwrap().iter().find(|i| i["name"] == "tbot-identity").unwrap().clone();
    let reason = rejected(&stack, |m, _, s| {
        let mut c = vm1_claims(&stack);
        c["xms_mirid"] = tbot["id"].clone();
        c["oid"] = tbot["principal_id"].clone();
        c["sub"] = tbot["principal_id"].clone();
        c["appid"] = tbot["client_id"].clone();
        c.as_object_mut().unwrap().remove("xms_az_rid");
        s.access_token = m.issuer.issue(&c).unwrap();
    })
    .await;
    assert_reason(&reason, "failed to look up the VM through ARM");
    assert_reason(&reason, "AuthorizationFailed");
}

// ---------------------------------------------------------------------------------------------
// Rejection corpus: attested document
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rejects_wrong_nonce() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let reason =
        rejected(&stack, |m, _, s| s.attested_data = sign_body(&m.signer(), &document(&stack, "vm-1", "other", None)))
            .await;
    assert_reason(&reason, "challenge is missing or does not match");
}

#[tokio::test]
async fn rejects_replayed_document() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let (stream, first) = open_v1(&stack, "az-token").await;
    let old = real_solution(&stack, "vm-1", &first).await;
    finish_v1(stream, old.clone()).await.unwrap();
    let reason = rejected(&stack, |_, _, s| s.attested_data = old.attested_data.clone()).await;
    assert_reason(&reason, "challenge is missing or does not match");
}

#[tokio::test]
async fn rejects_tampered_content() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let reason = rejected(&stack, |_, _, s| {
        let body: Value = serde_json::from_slice(&s.attested_data).unwrap();
        let mut der = base64::engine::general_purpose::STANDARD.decode(body["signature"].as_str().unwrap()).unwrap();
        // Change one character of the signed vmId.
        let pos = der.windows(6).position(|w| w == b"\"vmId\"").unwrap() + 9;
        der[pos] = if der[pos] == b'a' { b'b' } else { b'a' };
        s.attested_data = joinery_azure::sign::attested_body(&der);
    })
    .await;
    assert_reason(&reason, "attested data signature is invalid");
}

#[tokio::test]
async fn rejects_signature_by_another_key() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let reason = rejected(&stack, |m, c, s| {
        let signer = AttestedSigner::from_pkcs8(&m.leaf, &generate_rsa_key_pkcs8().unwrap()).unwrap();
        s.attested_data = sign_body(&signer, &document(&stack, "vm-1", c, None));
    })
    .await;
    assert_reason(&reason, "attested data signature is invalid");
}

#[tokio::test]
async fn rejects_leaf_with_a_non_azure_name() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let reason = rejected(&stack, |_, c, s| {
        let pki = EmulatorPki::generate(&EmulatorPkiConfig {
            leaf_dns_names: vec!["metadata.evil.example.com".into()],
            ..Default::default()
        })
        .unwrap();
        s.attested_data = sign_body(&pki.signer().unwrap(), &document(&stack, "vm-1", c, None));
        s.intermediate = pki.intermediate_der().to_vec();
    })
    .await;
    assert_reason(&reason, "is not an Azure metadata certificate");
}

#[tokio::test]
async fn rejects_chain_to_an_unknown_root() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let reason = rejected(&stack, |_, c, s| {
        let pki = EmulatorPki::generate(&EmulatorPkiConfig::default()).unwrap();
        s.attested_data = sign_body(&pki.signer().unwrap(), &document(&stack, "vm-1", c, None));
        s.intermediate = pki.intermediate_der().to_vec();
    })
    .await;
    assert_reason(&reason, "does not chain to a trusted Azure root");
}

#[tokio::test]
async fn rejects_an_expired_leaf() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let reason = rejected(&stack, |_, c, s| {
        let now = OffsetDateTime::now_utc();
        let pki = EmulatorPki::generate(&EmulatorPkiConfig {
            leaf_not_before: now - time::Duration::days(10),
            leaf_not_after: now - time::Duration::days(1),
            ..Default::default()
        })
        .unwrap();
        s.attested_data = sign_body(&pki.signer().unwrap(), &document(&stack, "vm-1", c, None));
        s.intermediate = pki.intermediate_der().to_vec();
    })
    .await;
    assert_reason(&reason, "expired");
}

#[tokio::test]
async fn rejects_missing_intermediates_on_join_v1() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let reason = rejected(&stack, |_, _, s| s.intermediate.clear()).await;
    assert_reason(&reason, "client did not send intermediate CAs");
}

#[tokio::test]
async fn accepts_intermediates_with_the_root_appended() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let (stream, challenge) = open_v1(&stack, "az-token").await;
    let mut solution = real_solution(&stack, "vm-1", &challenge).await;
    let m = material(&stack);
    solution.intermediate = concat_der_certificates(&[m.intermediate.clone(), m.root.clone()]);
    finish_v1(stream, solution).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Rejection corpus: access token
// ---------------------------------------------------------------------------------------------

fn unsigned_token(header: &Value, claims: &Value, sig: &str) -> String {
    let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{sig}", b(header), b(claims))
}

#[tokio::test]
async fn rejects_alg_none() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let claims = vm1_claims(&stack);
    let reason =
        rejected(&stack, |_, _, s| s.access_token = unsigned_token(&json!({"alg": "none", "typ": "JWT"}), &claims, ""))
            .await;
    assert_reason(&reason, "only RS256 is accepted");
}

#[tokio::test]
async fn rejects_hs256() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let claims = vm1_claims(&stack);
    let reason = rejected(&stack, |m, _, s| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(m.issuer.kid().to_string());
        s.access_token =
            jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(&[7u8; 32]).unwrap())
                .unwrap();
    })
    .await;
    assert_reason(&reason, "only RS256 is accepted");
}

#[tokio::test]
async fn rejects_unknown_kid() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let claims = vm1_claims(&stack);
    let reason =
        rejected(&stack, |_, _, s| s.access_token = TokenIssuer::generate().unwrap().issue(&claims).unwrap()).await;
    assert_reason(&reason, "unknown key id");
}

#[tokio::test]
async fn rejects_wrong_audience() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let mut claims = vm1_claims(&stack);
    claims["aud"] = json!("https://graph.microsoft.com/");
    let reason = rejected(&stack, |m, _, s| s.access_token = m.issuer.issue(&claims).unwrap()).await;
    assert_reason(&reason, "audience");
    // The slash-less ARM audience gets a precise hint.
    let mut claims = vm1_claims(&stack);
    claims["aud"] = json!("https://management.azure.com");
    let reason = rejected(&stack, |m, _, s| s.access_token = m.issuer.issue(&claims).unwrap()).await;
    assert_reason(&reason, "trailing slash");
}

#[tokio::test]
async fn rejects_wrong_issuer() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let mut claims = vm1_claims(&stack);
    claims["iss"] = json!("https://login.evil.example.com/tenant/");
    let reason = rejected(&stack, |m, _, s| s.access_token = m.issuer.issue(&claims).unwrap()).await;
    assert_reason(&reason, "issuer");
}

#[tokio::test]
async fn rejects_expired_access_token() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let mut claims = vm1_claims(&stack);
    let past = OffsetDateTime::now_utc().unix_timestamp() - 7200;
    claims["iat"] = json!(past);
    claims["nbf"] = json!(past);
    claims["exp"] = json!(past + 600);
    let reason = rejected(&stack, |m, _, s| s.access_token = m.issuer.issue(&claims).unwrap()).await;
    assert_reason(&reason, "access token expired");
}

#[tokio::test]
async fn rejects_wrong_tenant() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let mut claims = vm1_claims(&stack);
    let other = "11111111-2222-4333-8444-555555555555";
    claims["tid"] = json!(other);
    claims["iss"] = json!(format!("https://sts.windows.net/{other}/"));
    let reason = rejected(&stack, |m, _, s| s.access_token = m.issuer.issue(&claims).unwrap()).await;
    assert_reason(&reason, "fetching signing keys");
    assert_reason(&reason, other);
}

// ---------------------------------------------------------------------------------------------
// Rejection corpus: identity resolution, allow rules and tokens
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rejects_subscription_mismatch() {
    let stack = Devstack::start();
    setup(&stack, &[]).await;
    let other = "99999999-8888-4777-8666-555555555555";
    let reason = rejected(&stack, |m, c, s| {
        s.attested_data = sign_body(&m.signer(), &document(&stack, "vm-1", c, Some(other)));
    })
    .await;
    assert_reason(&reason, "does not match subscription");
}

#[tokio::test]
async fn rejects_resource_group_not_allowed() {
    let stack = Devstack::start();
    setup(&stack, &["group2"]).await;
    let vm_id = vm(&stack, "vm-1")["vm_id"].as_str().unwrap().to_string();
    let reason = rejected(&stack, |_, _, _| {}).await;
    assert_reason(&reason, &format!("instance {vm_id} did not match any allow rules in token az-token"));
}

#[tokio::test]
async fn rejects_token_of_another_join_method() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    admin.create_bot(bot("robot")).await.unwrap();
    let mut t = azure_token("plain", "robot", &subscription(&stack), &[]);
    let spec = t.spec.as_mut().unwrap();
    spec.join_method = "token".into();
    spec.azure = None;
    admin.create_token(t).await.unwrap();
    let err = join_with_azure(&stack.anonymous().await, "plain", TTL, &imds(&stack, "vm-1"), None, &aia(&stack))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, JoinError::Teleport(Error::AccessDenied(m)) if m.contains("\"token\" join method")),
        "{err}"
    );
    // On the legacy stream too.
    let err =
        join_with_azure_legacy(&stack.anonymous().await, "plain", TTL, &imds(&stack, "vm-1"), None).await.unwrap_err();
    assert!(
        matches!(&err, JoinError::Teleport(Error::AccessDenied(m)) if m.contains("does not support the Azure join method")),
        "{err}"
    );
}

#[tokio::test]
async fn rejects_expired_token() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    admin.create_bot(bot("robot")).await.unwrap();
    let mut t = azure_token("short", "robot", &subscription(&stack), &[]);
    let expires = SystemTime::now() + Duration::from_secs(1);
    t.metadata.as_mut().unwrap().expires = Some(joinery_teleport::join::timestamp(expires));
    admin.create_token(t).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let err = join_with_azure(&stack.anonymous().await, "short", TTL, &imds(&stack, "vm-1"), None, &aia(&stack))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, JoinError::Teleport(Error::AccessDenied(m)) if m.contains("token expired or not found")),
        "{err}"
    );
}

#[tokio::test]
async fn rejects_token_for_a_missing_bot() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    admin.create_token(azure_token("ghostly", "ghost", &subscription(&stack), &[])).await.unwrap();
    let err = join_with_azure(&stack.anonymous().await, "ghostly", TTL, &imds(&stack, "vm-1"), None, &aia(&stack))
        .await
        .unwrap_err();
    assert!(matches!(&err, JoinError::Teleport(Error::AccessDenied(m)) if m.contains("ghost")), "{err}");
}

// ---------------------------------------------------------------------------------------------
// IMDS
// ---------------------------------------------------------------------------------------------

async fn raw_get(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = reqwest::Client::builder().no_proxy().build().unwrap().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn imds_request_checks() {
    let stack = Devstack::start();
    let base = vm(&stack, "vm-1")["imds_endpoint"].as_str().unwrap().to_string();
    let doc = format!("{base}/metadata/attested/document?api-version=2021-02-01&nonce=abc");
    let md = [("Metadata", "true")];
    let (s, b) = raw_get(&doc, &[]).await;
    assert_eq!((s, b["error"].as_str().unwrap()), (400, "Bad request. Required metadata header not specified"));
    let (s, b) =
        raw_get(&format!("{base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x"), &[]).await;
    assert_eq!((s, b["error"].as_str().unwrap()), (400, "invalid_request"));
    let (s, b) = raw_get(&format!("{base}/metadata/attested/document?nonce=abc"), &md).await;
    assert_eq!(s, 400);
    assert!(b["error"].as_str().unwrap().contains("api-version is invalid"));
    assert!(b["newest-versions"].is_array());
    let (s, _) =
        raw_get(&format!("{base}/metadata/attested/document?api-version=2021-02-01&nonce={}", "a".repeat(33)), &md)
            .await;
    assert_eq!(s, 400);
    let (s, _) = raw_get(&doc, &[("Metadata", "True"), ("X-Forwarded-For", "10.0.0.1")]).await;
    assert_eq!(s, 400);
    let (s, _) = raw_get(&format!("{doc}&nonce=def"), &md).await;
    assert_eq!(s, 400, "duplicate parameters are rejected");
    let (s, b) = raw_get(&doc, &[("Metadata", "True")]).await;
    assert_eq!((s, b["encoding"].as_str().unwrap()), (200, "pkcs7"));
    let (s, b) = raw_get(
        &format!("{base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com"),
        &md,
    )
    .await;
    assert_eq!(s, 200);
    assert!(b["expires_in"].is_string() && b["expires_on"].is_string(), "numbers are strings: {b}");
    assert_eq!(b["resource"], "https://management.azure.com");
    let (s, b) = raw_get(&format!("{base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x&client_id=00000000-0000-4000-8000-000000000000"), &md).await;
    assert_eq!((s, b["error_description"].as_str().unwrap()), (400, "Identity not found"));
}

#[tokio::test]
async fn imds_faults_are_retried_by_the_client() {
    let stack = Devstack::start();
    let v = vm(&stack, "vm-2");
    let faults = v["faults_endpoint"].as_str().unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = http.post(faults).json(&json!({"status": 429, "count": 2})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let client = ImdsClient::new(v["imds_endpoint"].as_str().unwrap()).unwrap().with_retry_policy(RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    });
    client.access_token(ARM_RESOURCE, None).await.unwrap();
    // Without retries the fault is visible.
    http.post(faults).json(&json!({"status": 410})).send().await.unwrap();
    let err = imds(&stack, "vm-2").access_token(ARM_RESOURCE, None).await.unwrap_err();
    assert!(err.to_string().contains("410"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Fixture, devstack.json and persistence
// ---------------------------------------------------------------------------------------------

#[test]
fn devstack_json_has_the_azure_keys() {
    let stack = Devstack::start();
    let a = az(&stack);
    for k in ["tenant_id", "subscription_id", "arm_endpoint", "authority_host", "client_id", "client_secret"] {
        assert!(a[k].as_str().is_some_and(|s| !s.is_empty()), "{k}");
    }
    assert!(std::fs::read_to_string(a["ca_file"].as_str().unwrap()).unwrap().contains("BEGIN CERTIFICATE"));
    assert_eq!(a["identities"].as_array().unwrap().len(), 2);
    let names: Vec<&str> = a["vms"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["vm-1", "vm-2", "vm-3"]);
    assert!(vm(&stack, "vm-1")["agent_env"]["JOINERY_IMDS_ENDPOINT"].as_str().unwrap().ends_with("/vms/vm-1"));
    assert_eq!(vm(&stack, "vm-2")["identities"][0]["kind"], "SystemAssigned");
    assert!(vm(&stack, "vm-3")["identities"].as_array().unwrap().is_empty());
    let env = &stack.info["provider_env"];
    for k in [
        "ARM_TENANT_ID",
        "ARM_SUBSCRIPTION_ID",
        "ARM_CLIENT_ID",
        "ARM_CLIENT_SECRET",
        "JOINERY_ARM_ENDPOINT",
        "JOINERY_AZURE_AUTHORITY_HOST",
        "JOINERY_AZURE_CA_FILE",
        "TF_TELEPORT_ADDR",
    ] {
        assert!(env[k].is_string(), "{k}");
        if k.starts_with("JOINERY") || k.starts_with("ARM") {
            assert!(a["env_vars"][k].is_string(), "{k} is documented");
        }
    }
}

#[test]
fn malformed_fixture_fails_with_one_line_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.yaml");
    std::fs::write(
        &path,
        "azure:\n  tenant_id: not-a-guid\n  subscriptions: [{id: 0c2a6e58-9b1f-4d3e-a7c4-5e8f1b2d3a90}]\n",
    )
    .unwrap();
    let out = std::process::Command::new(binary("joinery-devstack"))
        .args(["up", "--dir"])
        .arg(tmp.path().join("stack"))
        .arg("--fixture")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| l.contains("joinery-devstack:")).unwrap();
    assert!(line.contains("bad.yaml") && line.contains("tenant_id"), "{err}");
    std::fs::write(&path, "azure: [1, 2\n").unwrap();
    let out = std::process::Command::new(binary("joinery-devstack"))
        .args(["up", "--dir"])
        .arg(tmp.path().join("stack"))
        .arg("--fixture")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().filter(|l| l.contains("bad.yaml")).count(), 1, "{err}");
}

#[tokio::test]
async fn custom_fixture_with_two_identities_needs_a_selector() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("fixture.yaml");
    std::fs::write(
        &path,
        r#"
cluster_name: custom.example
azure:
  tenant_id: 0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e
  subscriptions: [{id: 1a1a1a1a-2b2b-4c3c-8d4d-5e5e5e5e5e5e}]
  resource_groups: [{name: rg}]
  identities:
    - {name: one, resource_group: rg, client_id: 2a2a2a2a-0001-4c3c-8d4d-5e5e5e5e5e5e, principal_id: 3a3a3a3a-0001-4c3c-8d4d-5e5e5e5e5e5e}
    - {name: two, resource_group: rg, client_id: 2a2a2a2a-0002-4c3c-8d4d-5e5e5e5e5e5e, principal_id: 3a3a3a3a-0002-4c3c-8d4d-5e5e5e5e5e5e}
  vms:
    - {name: box, resource_group: rg, vm_id: 4a4a4a4a-0001-4c3c-8d4d-5e5e5e5e5e5e, user_assigned: [one, two]}
"#,
    )
    .unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &["--fixture", path.to_str().unwrap()]);
    assert_eq!(az(&stack)["tenant_id"], "0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e");
    let client = imds(&stack, "box");
    let err = client.access_token(ARM_RESOURCE, None).await.unwrap_err();
    assert!(err.to_string().contains("Multiple user assigned identities"), "{err}");
    let t = client
        .access_token(ARM_RESOURCE, Some(&IdentitySelector::ClientId("2a2a2a2a-0002-4c3c-8d4d-5e5e5e5e5e5e".into())))
        .await
        .unwrap();
    let claims = joinery_azure::jwt::AccessTokenVerifier::new(joinery_azure::jwt::VerifierOptions {
        discovery_base: Some(format!("{}/", az(&stack)["authority_host"].as_str().unwrap())),
        extra_ca_pem: Some(std::fs::read(az(&stack)["ca_file"].as_str().unwrap()).unwrap()),
        ..Default::default()
    })
    .unwrap()
    .verify(&t.access_token, OffsetDateTime::now_utc())
    .await
    .unwrap();
    assert_eq!(claims.oid.as_deref(), Some("3a3a3a3a-0002-4c3c-8d4d-5e5e5e5e5e5e"));
    assert!(claims.xms_mirid.unwrap().ends_with("/userAssignedIdentities/two"));
    assert!(claims.xms_az_rid.unwrap().ends_with("/virtualMachines/box"));
}

// ---------------------------------------------------------------------------------------------
// ARM
// ---------------------------------------------------------------------------------------------

/// A client-credentials token for the provider's service principal.
async fn provider_token(stack: &Devstack) -> String {
    let a = az(stack);
    let http = https(stack);
    let url =
        format!("{}/{}/oauth2/v2.0/token", a["authority_host"].as_str().unwrap(), a["tenant_id"].as_str().unwrap());
    let resp: Value = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "client_credentials"),
            ("client_id", a["client_id"].as_str().unwrap()),
            ("client_secret", a["client_secret"].as_str().unwrap()),
            ("scope", "https://management.azure.com/.default"),
        ]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(resp["expires_in"].is_number());
    resp["access_token"].as_str().unwrap().to_string()
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn https(stack: &Devstack) -> reqwest::Client {
    let pem = std::fs::read(az(stack)["ca_file"].as_str().unwrap()).unwrap();
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
        .build()
        .unwrap()
}

fn arm_client(stack: &Devstack, token: &str) -> ArmClient {
    ArmClient::new(
        token,
        ArmOptions {
            base_url: Some(az(stack)["arm_endpoint"].as_str().unwrap().into()),
            extra_ca_pem: Some(std::fs::read(az(stack)["ca_file"].as_str().unwrap()).unwrap()),
        },
    )
    .unwrap()
}

async fn arm(
    stack: &Devstack,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let url = format!("{}{path}", az(stack)["arm_endpoint"].as_str().unwrap());
    let mut req = https(stack).request(method.parse().unwrap(), url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test]
async fn arm_refuses_a_vm_identity_without_read_permission() {
    let stack = Devstack::start();
    let vm2_token = imds(&stack, "vm-2").access_token(ARM_RESOURCE, None).await.unwrap().access_token;
    let err = arm_client(&stack, &vm2_token).get_vm(vm(&stack, "vm-1")["id"].as_str().unwrap()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("AuthorizationFailed") && text.contains("Microsoft.Compute/virtualMachines/read"), "{text}");
    // vm-1's identity reads group1 but not group2.
    let vm1_token = imds(&stack, "vm-1").access_token(ARM_RESOURCE, None).await.unwrap().access_token;
    let c = arm_client(&stack, &vm1_token);
    assert_eq!(
        c.get_vm(vm(&stack, "vm-1")["id"].as_str().unwrap()).await.unwrap().properties.vm_id.as_deref(),
        vm(&stack, "vm-1")["vm_id"].as_str()
    );
    assert!(
        c.get_vm(vm(&stack, "vm-2")["id"].as_str().unwrap())
            .await
            .unwrap_err()
            .to_string()
            .contains("AuthorizationFailed")
    );
    let listed: Vec<String> = c.list_vms(&subscription(&stack)).await.unwrap().into_iter().map(|v| v.name).collect();
    assert_eq!(listed, ["vm-1", "vm-3"], "the list is filtered to what the caller may read");
    // No token, garbage token.
    let (s, b, _) = arm(&stack, "garbage", "GET", "/subscriptions/x?api-version=2022-01-01", None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (401, "InvalidAuthenticationToken"));
    let url = format!("{}/subscriptions/x?api-version=2022-01-01", az(&stack)["arm_endpoint"].as_str().unwrap());
    let b: Value = https(&stack).get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(b["error"]["code"], "AuthenticationFailed");
}

#[tokio::test]
async fn arm_lists_vms_with_paging_for_the_provider() {
    let stack = Devstack::start();
    let token = provider_token(&stack).await;
    let vms = arm_client(&stack, &token).list_vms(&subscription(&stack)).await.unwrap();
    assert_eq!(vms.len(), 3);
    let (s, b, _) = arm(
        &stack,
        &token,
        "GET",
        &format!("/subscriptions/{}/providers/Microsoft.Compute/virtualMachines", subscription(&stack)),
        None,
    )
    .await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (400, "MissingApiVersionParameter"));
    let (s, b, _) = arm(&stack, &token, "GET", &format!("/subscriptions/{}/resourceGroups/nope/providers/Microsoft.Compute/virtualMachines/x?api-version=2024-11-01", subscription(&stack)), None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (404, "ResourceGroupNotFound"));
    let (s, b, _) = arm(&stack, &token, "GET", &format!("/subscriptions/{}/resourcegroups/GROUP1/providers/Microsoft.Compute/virtualMachines/nope?api-version=2024-11-01", subscription(&stack)), None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (404, "ResourceNotFound"));
}

#[tokio::test]
async fn arm_identity_role_and_vm_lifecycle_survives_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stack");
    let mut stack = Devstack::start_in(&dir, &[]);
    let token = provider_token(&stack).await;
    let sub = subscription(&stack);
    let rg = format!("/subscriptions/{sub}/resourceGroups/group2");
    let uami = format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/agent-id");
    let v = "api-version=2023-01-31";

    // User-assigned identity: create, idempotent update, get.
    let (s, b, _) =
        arm(&stack, &token, "PUT", &format!("{uami}?{v}"), Some(json!({"location": "eastus", "tags": {"a": "b"}})))
            .await;
    assert_eq!(s, 201, "{b}");
    let principal = b["properties"]["principalId"].as_str().unwrap().to_string();
    let client_id = b["properties"]["clientId"].as_str().unwrap().to_string();
    let (s, _, _) = arm(&stack, &token, "PUT", &format!("{uami}?{v}"), Some(json!({"location": "eastus"}))).await;
    assert_eq!(s, 200);
    let (s, b, _) = arm(
        &stack,
        &token,
        "PUT",
        &format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x?{v}"),
        Some(json!({})),
    )
    .await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (400, "LocationRequired"));

    // Custom role definition and a role assignment of it.
    let role = "5d0b3c2e-1111-4222-8333-444455556666";
    let rdp =
        format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}?api-version=2022-04-01");
    let (s, b, _) = arm(&stack, &token, "PUT", &rdp, Some(json!({"properties": {
        "roleName": "VM Reader (agent verifier)", "description": "Read VMs only", "type": "CustomRole",
        "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/read"], "notActions": [], "dataActions": [], "notDataActions": []}],
        "assignableScopes": [format!("/subscriptions/{sub}")]}}))).await;
    assert_eq!(s, 201, "{b}");
    let (s, b, _) = arm(&stack, &token, "GET", &format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName%20eq%20'Reader'"), None).await;
    assert_eq!(s, 200);
    assert_eq!(b["value"][0]["name"], "acdd72a7-3385-48ef-bd42-f606fba81ae7");
    let ra_name = "7e1f2a3b-aaaa-4bbb-8ccc-dddddddddddd";
    let rap = format!("{rg}/providers/Microsoft.Authorization/roleAssignments/{ra_name}?api-version=2022-04-01");
    let body = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"), "principalId": principal, "principalType": "ServicePrincipal"}});
    let (s, b, _) = arm(&stack, &token, "PUT", &rap, Some(body.clone())).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["properties"]["scope"], rg);
    let other = format!(
        "{rg}/providers/Microsoft.Authorization/roleAssignments/8e1f2a3b-aaaa-4bbb-8ccc-dddddddddddd?api-version=2022-04-01"
    );
    let (s, b, _) = arm(&stack, &token, "PUT", &other, Some(body)).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (409, "RoleAssignmentExists"));
    let (s, b, _) = arm(&stack, &token, "PUT", &rap, Some(json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": principal}}))).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (409, "RoleAssignmentUpdateNotPermitted"));
    let (s, b, _) = arm(&stack, &token, "PUT", &other, Some(json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": "00000000-0000-4000-8000-000000000000"}}))).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (400, "PrincipalNotFound"));
    let (s, b, _) = arm(&stack, &token, "GET", &format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId%20eq%20'{principal}'"), None).await;
    assert_eq!((s, b["value"].as_array().unwrap().len()), (200, 1));
    // The role definition is in use.
    let (s, b, _) = arm(&stack, &token, "DELETE", &rdp, None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (409, "RoleDefinitionHasAssignments"));

    // Attach the identity to vm-2 (202 + Azure-AsyncOperation), then vm-2's IMDS serves it.
    let vm2 = vm(&stack, "vm-2")["id"].as_str().unwrap().to_string();
    let (s, b, h) = arm(
        &stack,
        &token,
        "PATCH",
        &format!("{vm2}?api-version=2024-11-01"),
        Some(
            json!({"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uami.clone(): {}}}}),
        ),
    )
    .await;
    assert_eq!(s, 202, "{b}");
    let op = h.get("azure-asyncoperation").unwrap().to_str().unwrap().to_string();
    let status: Value = https(&stack).get(&op).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "Succeeded");
    let t = imds(&stack, "vm-2")
        .access_token(ARM_RESOURCE, Some(&IdentitySelector::ClientId(client_id.clone())))
        .await
        .unwrap();
    // It can read VMs in group2 now (custom role), but only there.
    let c = arm_client(&stack, &t.access_token);
    c.get_vm(&vm2).await.unwrap();
    assert!(c.get_vm(vm(&stack, "vm-1")["id"].as_str().unwrap()).await.is_err());

    // Restart: ARM state, identities and the PKI survive.
    let root_before = material(&stack).root;
    stack.stop();
    let stack = Devstack::start_in(&dir, &[]);
    assert_eq!(material(&stack).root, root_before);
    let token = provider_token(&stack).await;
    let (s, b, _) = arm(&stack, &token, "GET", &format!("{uami}?{v}"), None).await;
    assert_eq!((s, b["properties"]["clientId"].as_str().unwrap()), (200, client_id.as_str()));
    let (s, _, _) = arm(&stack, &token, "GET", &rap, None).await;
    assert_eq!(s, 200);
    // Old tokens still verify (same signing key).
    arm_client(&stack, &t.access_token).get_vm(&vm2).await.unwrap();

    // Deletes.
    let (s, _, _) = arm(&stack, &token, "DELETE", &rap, None).await;
    assert_eq!(s, 200);
    let (s, _, _) = arm(&stack, &token, "DELETE", &rap, None).await;
    assert_eq!(s, 204);
    let (s, b, _) = arm(&stack, &token, "GET", &rap, None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (404, "RoleAssignmentNotFound"));
    let (s, _, _) = arm(&stack, &token, "DELETE", &rdp, None).await;
    assert_eq!(s, 200);
    let (s, _, _) = arm(&stack, &token, "DELETE", &format!("{uami}?{v}"), None).await;
    assert_eq!(s, 200);
    let (s, b, _) = arm(&stack, &token, "GET", &format!("{uami}?{v}"), None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (404, "ResourceNotFound"));
}

#[tokio::test]
async fn entra_client_credentials_errors() {
    let stack = Devstack::start();
    let a = az(&stack);
    let url =
        format!("{}/{}/oauth2/v2.0/token", a["authority_host"].as_str().unwrap(), a["tenant_id"].as_str().unwrap());
    let resp = https(&stack)
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "client_credentials"),
            ("client_id", a["client_id"].as_str().unwrap()),
            ("client_secret", "wrong"),
            ("scope", "https://management.azure.com/.default"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let b: Value = resp.json().await.unwrap();
    assert_eq!(b["error"], "invalid_client");
    assert_eq!(b["error_codes"][0], 7000215);
}
