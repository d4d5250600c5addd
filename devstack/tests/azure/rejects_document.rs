//! The verifier's rejection corpus for the attested document: nonce, signature, signer name,
//! chain, validity, intermediates.

use base64::Engine as _;
use joinery_azure::attested::concat_der_certificates;
use joinery_devstack::azure::sign::{AttestedSigner, EmulatorPkiConfig, attested_body, generate_rsa_key_pkcs8};
use serde_json::Value;
use time::OffsetDateTime;

use crate::support::{assert_rejected, finish_v1, material, open_v1, real_solution, stack_with_token};

#[tokio::test]
async fn rejects_wrong_nonce() {
    assert_rejected(&[], "challenge is missing or does not match", |f| {
        let signer = f.material.signer();
        f.sign(&signer, |d| d.nonce = "other".into());
    })
    .await;
}

#[tokio::test]
async fn rejects_replayed_document() {
    let stack = stack_with_token(&[]).await;
    let (stream, first) = open_v1(&stack, "az-token").await;
    let old = real_solution(&stack, "vm-1", &first).await;
    finish_v1(stream, old.clone()).await.unwrap();
    let reason = crate::support::rejected(&stack, |f| f.solution.attested_data = old.attested_data.clone()).await;
    crate::support::assert_reason(&reason, "challenge is missing or does not match");
}

#[tokio::test]
async fn rejects_tampered_content() {
    assert_rejected(&[], "attested data signature is invalid", |f| {
        let body: Value = serde_json::from_slice(&f.solution.attested_data).unwrap();
        let mut der = base64::engine::general_purpose::STANDARD.decode(body["signature"].as_str().unwrap()).unwrap();
        // Change one character of the signed vmId.
        let pos = der.windows(6).position(|w| w == b"\"vmId\"").unwrap() + 9;
        der[pos] = if der[pos] == b'a' { b'b' } else { b'a' };
        f.solution.attested_data = attested_body(&der);
    })
    .await;
}

#[tokio::test]
async fn rejects_signature_by_another_key() {
    assert_rejected(&[], "attested data signature is invalid", |f| {
        let signer = AttestedSigner::from_pkcs8(&f.material.leaf, &generate_rsa_key_pkcs8().unwrap()).unwrap();
        f.sign(&signer, |_| {});
    })
    .await;
}

#[tokio::test]
async fn rejects_leaf_with_a_non_azure_name() {
    assert_rejected(&[], "is not an Azure metadata certificate", |f| {
        f.sign_with_pki(EmulatorPkiConfig {
            leaf_dns_names: vec!["metadata.evil.example.com".into()],
            ..Default::default()
        })
    })
    .await;
}

#[tokio::test]
async fn rejects_chain_to_an_unknown_root() {
    assert_rejected(&[], "does not chain to a trusted Azure root", |f| f.sign_with_pki(EmulatorPkiConfig::default()))
        .await;
}

#[tokio::test]
async fn rejects_an_expired_leaf() {
    let now = OffsetDateTime::now_utc();
    let expired = EmulatorPkiConfig {
        leaf_not_before: now - time::Duration::days(10),
        leaf_not_after: now - time::Duration::days(1),
        ..Default::default()
    };
    assert_rejected(&[], "expired", |f| f.sign_with_pki(expired)).await;
}

#[tokio::test]
async fn rejects_missing_intermediates_on_join_v1() {
    assert_rejected(&[], "client did not send intermediate CAs", |f| f.solution.intermediate.clear()).await;
}

#[tokio::test]
async fn accepts_intermediates_with_the_root_appended() {
    let stack = stack_with_token(&[]).await;
    let (stream, challenge) = open_v1(&stack, "az-token").await;
    let mut solution = real_solution(&stack, "vm-1", &challenge).await;
    let m = material(&stack);
    solution.intermediate = concat_der_certificates(&[m.intermediate.clone(), m.root.clone()]);
    finish_v1(stream, solution).await.unwrap();
}
