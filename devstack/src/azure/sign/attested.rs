//! Attested documents signed the way Azure signs them: PKCS#7 SignedData v1 with the JSON
//! attached as `id-data`, only the leaf embedded, no signed attributes, the digestAlgorithm set
//! to the sha256WithRSAEncryption OID (Azure's quirk) and an RSA PKCS#1 v1.5 SHA-256 signature
//! over the content.

use std::fmt;

use base64::Engine as _;
use cms::cert::x509::spki::AlgorithmIdentifierOwned;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode};
use joinery_azure::attested::AttestedData;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer as _};
use serde_json::json;
use sha2::Sha256;

use super::{SignError, cert_err, enc_err};

const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const OID_SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Signs attested documents with a leaf certificate and its RSA key.
#[derive(Clone)]
pub struct AttestedSigner {
    cert: x509_cert::Certificate,
    key: rsa::RsaPrivateKey,
}

impl fmt::Debug for AttestedSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttestedSigner").finish_non_exhaustive()
    }
}

impl AttestedSigner {
    /// From a DER certificate and a PKCS#8 DER RSA key. The key is **not** checked against the
    /// certificate (tests use a mismatch on purpose).
    pub fn from_pkcs8(cert_der: &[u8], key_pkcs8_der: &[u8]) -> Result<Self, SignError> {
        let cert = x509_cert::Certificate::from_der(cert_der).map_err(cert_err)?;
        let key = rsa::RsaPrivateKey::from_pkcs8_der(key_pkcs8_der).map_err(|e| SignError::Key(e.to_string()))?;
        Ok(AttestedSigner { cert, key })
    }

    /// DER PKCS#7 SignedData over `content`, shaped exactly like Azure's.
    pub fn sign_pkcs7(&self, content: &[u8]) -> Result<Vec<u8>, SignError> {
        let signature = rsa::pkcs1v15::SigningKey::<Sha256>::new(self.key.clone())
            .try_sign(content)
            .map_err(|e| SignError::Key(e.to_string()))?
            .to_vec();
        let null = || Some(Any::null());
        // Azure's quirk: the digest algorithm field holds the signature algorithm's OID.
        let digest_alg = AlgorithmIdentifierOwned { oid: OID_SHA256_WITH_RSA, parameters: null() };
        let mut digest_algorithms = SetOfVec::new();
        digest_algorithms.insert(digest_alg.clone()).map_err(enc_err)?;
        let econtent = Any::new(der::Tag::OctetString, content.to_vec()).map_err(enc_err)?;
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: self.cert.tbs_certificate.issuer.clone(),
                serial_number: self.cert.tbs_certificate.serial_number.clone(),
            }),
            digest_alg,
            signed_attrs: None,
            signature_algorithm: AlgorithmIdentifierOwned { oid: OID_RSA_ENCRYPTION, parameters: null() },
            signature: OctetString::new(signature).map_err(enc_err)?,
            unsigned_attrs: None,
        };
        let signed = SignedData {
            version: CmsVersion::V1,
            digest_algorithms,
            encap_content_info: EncapsulatedContentInfo { econtent_type: OID_DATA, econtent: Some(econtent) },
            certificates: Some(
                CertificateSet::try_from(vec![CertificateChoices::Certificate(self.cert.clone())]).map_err(enc_err)?,
            ),
            crls: None,
            signer_infos: SignerInfos::try_from(vec![signer_info]).map_err(enc_err)?,
        };
        ContentInfo { content_type: OID_SIGNED_DATA, content: Any::encode_from(&signed).map_err(enc_err)? }
            .to_der()
            .map_err(enc_err)
    }

    /// The IMDS response body for `data`: `{"encoding":"pkcs7","signature":"<base64>"}`.
    pub fn sign_document(&self, data: &AttestedData) -> Result<Vec<u8>, SignError> {
        let der = self.sign_pkcs7(&data.to_json())?;
        Ok(attested_body(&der))
    }
}

/// Wraps DER PKCS#7 as IMDS does (standard base64, padded).
pub fn attested_body(pkcs7_der: &[u8]) -> Vec<u8> {
    let sig = base64::engine::general_purpose::STANDARD.encode(pkcs7_der);
    let body = json!({"encoding": "pkcs7", "signature": sig});
    body.to_string().into_bytes()
}
