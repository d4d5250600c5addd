//! The attested-document parser and verifier on Azure's documented test vector (no
//! signing needed; what the emulator signs is tested in `joinery-devstack`).

use joinery_azure::attested::{
    AttestedData, AttestedDocument, AttestedError, AttestedVerifier, Plan, RootStore, parse_azure_date,
    split_der_certificates,
};
use time::OffsetDateTime;
use time::macros::datetime;

const DOCS_NONCE: &str = "1234566766";

fn docs_body() -> Vec<u8> {
    let b64 = include_str!("../data/azure-docs-attested-example.b64");
    let sig: String = b64.split_whitespace().collect();
    serde_json::json!({"encoding": "pkcs7", "signature": sig}).to_string().into_bytes()
}

#[test]
fn docs_vector_parses() {
    let doc = AttestedDocument::parse(&docs_body()).unwrap();
    let d = doc.data();
    assert_eq!(d.nonce, DOCS_NONCE);
    assert_eq!(d.vm_id, "");
    assert_eq!(d.plan, Plan::default());
    assert_eq!(d.time_stamp.created_on, "11/20/18 22:07:39 -0000");
    assert_eq!(d.time_stamp.created_on().unwrap(), datetime!(2018-11-20 22:07:39 UTC));
    assert_eq!(d.time_stamp.expires_on().unwrap(), datetime!(2018-11-20 22:08:24 UTC));
    assert_eq!(doc.certificates().len(), 1);
    assert!(doc.content().starts_with(b"{\"nonce\":\"1234566766\""));
    // Serializing the parsed content reproduces the signed bytes (same key order as Azure).
    assert_eq!(d.to_json(), doc.content());
}

#[test]
fn docs_vector_content_signature_verifies_with_digest_oid_quirk() {
    let doc = AttestedDocument::parse(&docs_body()).unwrap();
    assert_eq!(doc.signer_certificate().unwrap(), doc.certificates()[0].as_slice());
    doc.verify_content_signature().unwrap();
}

#[test]
fn docs_vector_full_verification_fails_on_dates_and_chain() {
    let v = AttestedVerifier::new(RootStore::azure_default());
    let now = OffsetDateTime::now_utc();
    let err = v.verify(&docs_body(), DOCS_NONCE, &[], now).unwrap_err();
    assert!(matches!(err, AttestedError::Expired { .. }), "{err}");
    // Inside the cert's validity window the chain is what fails.
    let then = datetime!(2018-11-25 00:00 UTC);
    let err = v.verify(&docs_body(), DOCS_NONCE, &[], then).unwrap_err();
    assert!(matches!(err, AttestedError::ChainUntrusted(_)), "{err}");
}

#[test]
fn default_roots_load() {
    assert_eq!(RootStore::azure_default().len(), 7);
}

#[test]
fn azure_dates() {
    assert_eq!(parse_azure_date("11/30/20 21:19:19 -0000").unwrap(), datetime!(2020-11-30 21:19:19 UTC));
    assert_eq!(
        joinery_azure::attested::format_azure_date(datetime!(2020-01-02 03:04:05 UTC)),
        "01/02/20 03:04:05 -0000"
    );
    for bad in ["", "2020-11-30", "13/30/20 21:19:19 -0000", "11/30/2020 21:19:19 -0000", "11/30/20 21:19:19"] {
        assert!(parse_azure_date(bad).is_err(), "{bad}");
    }
}

#[test]
fn content_keys_are_case_insensitive() {
    let d = AttestedData::from_json(
        br#"{"Nonce":"n","timestamp":{"createdon":"11/30/20 21:19:19 -0000","expiresOn":"11/30/20 21:19:24 -0000"},"VMID":"v","subscriptionid":"s"}"#,
    )
    .unwrap();
    assert_eq!(d.nonce, "n");
    assert_eq!(d.vm_id, "v");
    assert_eq!(d.subscription_id.as_deref(), Some("s"));
    assert_eq!(d.time_stamp.created_on, "11/30/20 21:19:19 -0000");
}

#[test]
fn rejects_bad_envelopes() {
    let v = AttestedVerifier::new(RootStore::azure_default());
    let now = OffsetDateTime::now_utc();
    let e = v.verify(b"not json", "n", &[], now).unwrap_err();
    assert!(matches!(e, AttestedError::MalformedEnvelope(_)));
    let e = v.verify(br#"{"encoding":"base64","signature":"AA=="}"#, "n", &[], now).unwrap_err();
    assert!(matches!(e, AttestedError::BadEncoding(_)));
    let e = v.verify(br#"{"encoding":"pkcs7","signature":"!!!"}"#, "n", &[], now).unwrap_err();
    assert!(e.to_string().starts_with("unable to decode attested data document"), "{e}");
    let e = v.verify(br#"{"encoding":"pkcs7","signature":"MAMCAQE="}"#, "n", &[], now).unwrap_err();
    assert!(matches!(e, AttestedError::Undecodable(_)));
    assert!(split_der_certificates(b"\x30\x03garbage").is_err());
}
