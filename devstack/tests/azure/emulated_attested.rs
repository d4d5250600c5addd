//! What the emulator signs as Azure would, verified by `joinery_azure::attested`: round trips,
//! the PKCS#7 shape compared with Azure's documented vector, tampering and every rejection of
//! the verifier, and the AIA walk to the intermediate.

use std::time::Duration;

use base64::Engine as _;
use hyper::StatusCode;
use joinery_azure::aia::{AiaError, AiaFetcher};
use joinery_azure::attested::{
    AttestedData, AttestedDocument, AttestedError, AttestedVerifier, Plan, RootStore, TimeStamp,
    concat_der_certificates, split_der_certificates,
};
use joinery_devstack::azure::http::bytes;
use joinery_devstack::azure::sign::{
    AttestedSigner, EmulatorPki, EmulatorPkiConfig, attested_body, generate_rsa_key_pkcs8,
};
use time::OffsetDateTime;

use crate::test_server::TestServer;

/// Azure's documented attested document (kept with the verifier's tests in `joinery-azure`).
fn docs_der() -> Vec<u8> {
    let b64 = include_str!("../../../azure/tests/data/azure-docs-attested-example.b64");
    let sig: String = b64.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(sig).unwrap()
}

fn octets(body: impl Into<Vec<u8>>) -> joinery_devstack::azure::http::Resp {
    bytes(StatusCode::OK, "application/octet-stream", body.into())
}

fn not_found() -> joinery_devstack::azure::http::Resp {
    bytes(StatusCode::NOT_FOUND, "text/plain", b"nope".to_vec())
}

fn sample_data(nonce: &str) -> AttestedData {
    AttestedData {
        license_type: None,
        nonce: nonce.to_string(),
        plan: Plan::default(),
        sku: Some("22_04-lts-gen2".to_string()),
        subscription_id: Some("aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e".to_string()),
        time_stamp: TimeStamp::new(OffsetDateTime::now_utc(), Duration::from_secs(6 * 3600)),
        vm_id: "02aab8a4-74ef-476e-8182-f6d2ba4166a6".to_string(),
    }
}

const NONCE: &str = "q3Xk-9_abcdefghijklmnopqrstuvwxy"; // 32 chars, base64url like Teleport's

fn pki(cfg: EmulatorPkiConfig) -> EmulatorPki {
    EmulatorPki::generate(&cfg).unwrap()
}

#[test]
fn round_trip_sign_verify() {
    let pki = pki(EmulatorPkiConfig::default());
    let data = sample_data(NONCE);
    let body = pki.signer().unwrap().sign_document(&data).unwrap();
    let v = AttestedVerifier::new(pki.root_store().unwrap()).with_max_age(Duration::from_secs(300));
    let inter = split_der_certificates(&concat_der_certificates(&[pki.intermediate_der()])).unwrap();
    let ok = v.verify(&body, NONCE, &inter, OffsetDateTime::now_utc()).unwrap();
    assert_eq!(ok.data, data);
    assert_eq!(ok.signer_certificate, pki.leaf_der());
}

#[test]
fn emulated_document_has_azure_shape() {
    use cms::content_info::ContentInfo;
    use cms::signed_data::SignedData;
    use der::Decode;
    let pki = pki(EmulatorPkiConfig::default());
    let der = pki.signer().unwrap().sign_pkcs7(&sample_data(NONCE).to_json()).unwrap();
    for der in [der, docs_der()] {
        let ci = ContentInfo::from_der(&der).unwrap();
        assert_eq!(ci.content_type.to_string(), "1.2.840.113549.1.7.2");
        let sd: SignedData = ci.content.decode_as().unwrap();
        assert_eq!(sd.version, cms::content_info::CmsVersion::V1);
        let digests: Vec<String> = sd.digest_algorithms.iter().map(|a| a.oid.to_string()).collect();
        assert_eq!(digests, vec!["1.2.840.113549.1.1.11"]);
        assert_eq!(sd.encap_content_info.econtent_type.to_string(), "1.2.840.113549.1.7.1");
        assert_eq!(sd.certificates.as_ref().unwrap().0.len(), 1);
        let si = sd.signer_infos.0.iter().next().unwrap();
        assert_eq!(si.digest_alg.oid.to_string(), "1.2.840.113549.1.1.11");
        assert!(si.signed_attrs.is_none());
        assert!(matches!(si.sid, cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(_)));
    }
}

#[test]
fn rejects_wrong_nonce() {
    let pki = pki(EmulatorPkiConfig::default());
    let body = pki.signer().unwrap().sign_document(&sample_data(NONCE)).unwrap();
    let v = AttestedVerifier::new(pki.root_store().unwrap());
    let err = v
        .verify(&body, "some-other-challenge", &[pki.intermediate_der().to_vec()], OffsetDateTime::now_utc())
        .unwrap_err();
    assert!(matches!(err, AttestedError::NonceMismatch));
    assert_eq!(err.to_string(), "challenge is missing or does not match");
    let err = v.verify(&body, "", &[], OffsetDateTime::now_utc()).unwrap_err();
    assert!(matches!(err, AttestedError::NonceMismatch));
}

#[test]
fn rejects_tampered_content() {
    let pki = pki(EmulatorPkiConfig::default());
    let der = pki.signer().unwrap().sign_pkcs7(&sample_data(NONCE).to_json()).unwrap();
    // Change one character of the vmId inside the signed content.
    let needle = b"02aab8a4";
    let pos = der.windows(needle.len()).position(|w| w == needle).unwrap();
    let mut tampered = der.clone();
    tampered[pos] = b'1';
    let body = attested_body(&tampered);
    let v = AttestedVerifier::new(pki.root_store().unwrap());
    let err = v.verify(&body, NONCE, &[pki.intermediate_der().to_vec()], OffsetDateTime::now_utc()).unwrap_err();
    assert!(matches!(err, AttestedError::SignatureInvalid(_)), "{err}");
}

#[test]
fn rejects_signature_by_other_key() {
    let pki = pki(EmulatorPkiConfig::default());
    let other_key = generate_rsa_key_pkcs8().unwrap();
    let signer = AttestedSigner::from_pkcs8(pki.leaf_der(), &other_key).unwrap();
    let body = signer.sign_document(&sample_data(NONCE)).unwrap();
    let v = AttestedVerifier::new(pki.root_store().unwrap());
    let err = v.verify(&body, NONCE, &[pki.intermediate_der().to_vec()], OffsetDateTime::now_utc()).unwrap_err();
    assert!(matches!(err, AttestedError::SignatureInvalid(_)), "{err}");
}

#[test]
fn rejects_non_azure_signer_name() {
    let pki = pki(EmulatorPkiConfig {
        leaf_dns_names: vec!["metadata.azure.com.evil.example".into(), "evilmetadata.azure.com".into()],
        ..Default::default()
    });
    let body = pki.signer().unwrap().sign_document(&sample_data(NONCE)).unwrap();
    let v = AttestedVerifier::new(pki.root_store().unwrap());
    let err = v.verify(&body, NONCE, &[pki.intermediate_der().to_vec()], OffsetDateTime::now_utc()).unwrap_err();
    assert!(matches!(err, AttestedError::SignerNotAzure { .. }), "{err}");
}

#[test]
fn accepts_sovereign_cloud_names() {
    let pki =
        pki(EmulatorPkiConfig { leaf_dns_names: vec!["usgovvirginia.metadata.azure.us".into()], ..Default::default() });
    let body = pki.signer().unwrap().sign_document(&sample_data(NONCE)).unwrap();
    let v = AttestedVerifier::new(pki.root_store().unwrap());
    v.verify(&body, NONCE, &[pki.intermediate_der().to_vec()], OffsetDateTime::now_utc()).unwrap();
}

#[test]
fn rejects_chain_to_unknown_root() {
    let pki_a = pki(EmulatorPkiConfig::default());
    let pki_b = pki(EmulatorPkiConfig::default());
    let body = pki_a.signer().unwrap().sign_document(&sample_data(NONCE)).unwrap();
    let now = OffsetDateTime::now_utc();
    for roots in [pki_b.root_store().unwrap(), RootStore::azure_default(), RootStore::empty()] {
        let err =
            AttestedVerifier::new(roots).verify(&body, NONCE, &[pki_a.intermediate_der().to_vec()], now).unwrap_err();
        assert!(matches!(err, AttestedError::ChainUntrusted(_)), "{err}");
    }
    // Right root, missing intermediate.
    let err = AttestedVerifier::new(pki_a.root_store().unwrap()).verify(&body, NONCE, &[], now).unwrap_err();
    assert!(matches!(err, AttestedError::ChainUntrusted(_)), "{err}");
}

#[test]
fn rejects_expired_leaf() {
    let now = OffsetDateTime::now_utc();
    let pki = pki(EmulatorPkiConfig {
        leaf_not_before: now - time::Duration::days(30),
        leaf_not_after: now - time::Duration::days(1),
        ..Default::default()
    });
    let body = pki.signer().unwrap().sign_document(&sample_data(NONCE)).unwrap();
    let err = AttestedVerifier::new(pki.root_store().unwrap())
        .verify(&body, NONCE, &[pki.intermediate_der().to_vec()], now)
        .unwrap_err();
    assert!(matches!(err, AttestedError::Expired { .. }), "{err}");
}

#[test]
fn rejects_stale_document_when_max_age_set() {
    let pki = pki(EmulatorPkiConfig::default());
    let mut data = sample_data(NONCE);
    data.time_stamp = TimeStamp::new(OffsetDateTime::now_utc() - time::Duration::hours(1), Duration::from_secs(5));
    let body = pki.signer().unwrap().sign_document(&data).unwrap();
    let inter = [pki.intermediate_der().to_vec()];
    let now = OffsetDateTime::now_utc();
    let v = AttestedVerifier::new(pki.root_store().unwrap());
    v.verify(&body, NONCE, &inter, now).unwrap(); // Teleport ignores timeStamp
    let err = v.with_max_age(Duration::from_secs(300)).verify(&body, NONCE, &inter, now).unwrap_err();
    assert!(matches!(err, AttestedError::Stale(_)), "{err}");
}

#[tokio::test]
async fn aia_fetch_then_verify() {
    // Serve intermediate and root; the PKI's AIA URLs point at the server.
    type Served = Option<(Vec<u8>, Vec<u8>)>;
    let slot: std::sync::Arc<std::sync::Mutex<Served>> = Default::default();
    let s2 = slot.clone();
    let server = TestServer::start(move |req| {
        let certs = s2.lock().unwrap().clone().unwrap();
        match req.path.as_str() {
            "/pki/inter.crt" => octets(certs.0),
            "/pki/root.crt" => octets(certs.1),
            _ => not_found(),
        }
    })
    .await;
    let pki = pki(EmulatorPkiConfig {
        leaf_aia_url: Some(format!("{}/pki/inter.crt", server.base)),
        intermediate_aia_url: Some(format!("{}/pki/root.crt", server.base)),
        ..Default::default()
    });
    *slot.lock().unwrap() = Some((pki.intermediate_der().to_vec(), pki.root_der().to_vec()));

    // Not allowed by default.
    let default = AiaFetcher::new().unwrap();
    let err = default.fetch_intermediates(pki.leaf_der()).await.unwrap_err();
    assert!(matches!(err, AiaError::UrlNotAllowed(_)), "{err}");
    assert_eq!(server.requests(), 0);

    let fetcher = AiaFetcher::new().unwrap().allow_host(format!("127.0.0.1:{}", server.port));
    let inter = fetcher.fetch_intermediates(pki.leaf_der()).await.unwrap();
    assert_eq!(inter, vec![pki.intermediate_der().to_vec()]); // root excluded
    // Cached: a second walk makes no new request for the intermediate.
    fetcher.fetch_intermediates(pki.leaf_der()).await.unwrap();
    assert_eq!(server.count("/pki/inter.crt"), 1);

    let body = pki.signer().unwrap().sign_document(&sample_data(NONCE)).unwrap();
    let doc = AttestedDocument::parse(&body).unwrap();
    let inter2 = fetcher.fetch_intermediates(doc.signer_certificate().unwrap()).await.unwrap();
    AttestedVerifier::new(pki.root_store().unwrap()).verify(&body, NONCE, &inter2, OffsetDateTime::now_utc()).unwrap();

    // Wrong port is not allowed either.
    let other = AiaFetcher::new().unwrap().allow_host("127.0.0.1:1");
    assert!(!other.is_allowed(&format!("{}/pki/inter.crt", server.base)));
    assert!(!other.is_allowed("http://user@127.0.0.1:1/x"));
    assert!(!other.is_allowed("file:///etc/passwd"));
    assert!(fetcher.is_allowed("http://www.microsoft.com/pkiops/certs/x.crt"));
}

#[tokio::test]
async fn aia_rejects_oversized_and_wrong_issuer() {
    let server = TestServer::start(|req| match req.path.as_str() {
        "/big" => octets(vec![0u8; 100 * 1024]),
        _ => octets(b"junk".to_vec()),
    })
    .await;
    let big = pki(EmulatorPkiConfig { leaf_aia_url: Some(format!("{}/big", server.base)), ..Default::default() });
    let fetcher = AiaFetcher::new().unwrap().allow_host(format!("127.0.0.1:{}", server.port));
    let err = fetcher.fetch_intermediates(big.leaf_der()).await.unwrap_err();
    assert!(matches!(err, AiaError::Fetch { .. }) && err.to_string().contains("limit"), "{err}");
    let junk = pki(EmulatorPkiConfig { leaf_aia_url: Some(format!("{}/junk", server.base)), ..Default::default() });
    let err = fetcher.fetch_intermediates(junk.leaf_der()).await.unwrap_err();
    assert!(matches!(err, AiaError::Fetch { .. }), "{err}");
    let none = pki(EmulatorPkiConfig::default());
    assert!(matches!(fetcher.fetch_intermediates(none.leaf_der()).await.unwrap_err(), AiaError::NoAia));
}
