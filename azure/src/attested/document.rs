//! The PKCS#7 SignedData envelope of an attested document and its content signature, with
//! Azure's quirks (listed in [`super`]'s docs).

use std::fmt;

use base64::Engine as _;
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::{Decode, Encode};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier as _;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};

use serde_json::Value;

use super::data::get_ci;
use super::{AttestedData, AttestedError};

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_DATA: &str = "1.2.840.113549.1.7.1";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const OID_SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";

/// A parsed (not yet verified) attested document.
#[derive(Clone)]
pub struct AttestedDocument {
    pub(super) data: AttestedData,
    content: Vec<u8>,
    certificates: Vec<Vec<u8>>,
    parsed_certs: Vec<x509_cert::Certificate>,
    signer_info: SignerInfo,
}

impl fmt::Debug for AttestedDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttestedDocument")
            .field("data", &self.data)
            .field("certificates", &self.certificates.len())
            .finish_non_exhaustive()
    }
}

/// Decodes the base64 `signature` like Go's `pem.Decode` would: whitespace is ignored.
fn decode_signature_b64(sig: &str) -> Result<Vec<u8>, AttestedError> {
    let cleaned: String = sig.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| AttestedError::Undecodable(format!("signature is not base64: {e}")))
}

impl AttestedDocument {
    /// Parses the raw IMDS response body (`{"encoding":"pkcs7","signature":"..."}`).
    pub fn parse(body: &[u8]) -> Result<Self, AttestedError> {
        let v: Value = serde_json::from_slice(body).map_err(|e| AttestedError::MalformedEnvelope(e.to_string()))?;
        let Value::Object(map) = v else {
            return Err(AttestedError::MalformedEnvelope("not a JSON object".to_string()));
        };
        let field = |k: &str| match get_ci(&map, k) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(AttestedError::MalformedEnvelope(format!("{k:?} is not a string"))),
        };
        let encoding = field("encoding")?;
        if encoding != "pkcs7" {
            return Err(AttestedError::BadEncoding(encoding));
        }
        let der = decode_signature_b64(&field("signature")?)?;
        Self::from_pkcs7_der(&der)
    }

    /// Parses the DER PKCS#7 SignedData itself.
    pub fn from_pkcs7_der(der: &[u8]) -> Result<Self, AttestedError> {
        let undecodable = |what: &str, e: der::Error| AttestedError::Undecodable(format!("{what}: {e}"));
        let ci = ContentInfo::from_der(der).map_err(|e| undecodable("ContentInfo", e))?;
        if ci.content_type.to_string() != OID_SIGNED_DATA {
            return Err(AttestedError::Undecodable(format!("content type {} is not signedData", ci.content_type)));
        }
        let sd: SignedData = ci.content.decode_as().map_err(|e| undecodable("SignedData", e))?;
        if sd.encap_content_info.econtent_type.to_string() != OID_DATA {
            return Err(AttestedError::Undecodable(format!(
                "encapsulated content type {} is not data",
                sd.encap_content_info.econtent_type
            )));
        }
        let content = match &sd.encap_content_info.econtent {
            Some(any) => {
                any.decode_as::<der::asn1::OctetString>().map_err(|e| undecodable("eContent", e))?.into_bytes()
            }
            None => {
                return Err(AttestedError::Undecodable("content is detached".to_string()));
            }
        };
        let mut certificates = Vec::new();
        let mut parsed_certs = Vec::new();
        if let Some(set) = &sd.certificates {
            for choice in set.0.iter() {
                if let cms::cert::CertificateChoices::Certificate(cert) = choice {
                    let der = cert.to_der().map_err(|e| undecodable("certificate", e))?;
                    certificates.push(der);
                    parsed_certs.push(cert.clone());
                }
            }
        }
        let mut infos = sd.signer_infos.0.iter();
        let signer_info = match (infos.next(), infos.next()) {
            (Some(si), None) => si.clone(),
            (None, _) => {
                return Err(AttestedError::Undecodable("no SignerInfo".to_string()));
            }
            (Some(_), Some(_)) => {
                return Err(AttestedError::Undecodable("more than one SignerInfo".to_string()));
            }
        };
        let data = AttestedData::from_json(&content)?;
        Ok(AttestedDocument { data, content, certificates, parsed_certs, signer_info })
    }

    /// The signed content, parsed.
    pub fn data(&self) -> &AttestedData {
        &self.data
    }

    /// The signed content bytes (eContent), verbatim.
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    /// DER of every certificate embedded in the SignedData (Azure embeds only the leaf).
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.certificates
    }

    /// DER of the embedded certificate that matches the SignerInfo's identifier.
    pub fn signer_certificate(&self) -> Result<&[u8], AttestedError> {
        if self.certificates.is_empty() {
            return Err(AttestedError::NoCertificate);
        }
        let idx = match &self.signer_info.sid {
            SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber { issuer, serial_number }) => self
                .parsed_certs
                .iter()
                .position(|c| &c.tbs_certificate.issuer == issuer && &c.tbs_certificate.serial_number == serial_number),
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                let want = ski.0.as_bytes();
                self.certificates.iter().position(|der| {
                    X509Certificate::from_der(der).is_ok_and(|(_, c)| {
                        c.extensions().iter().any(|ext| {
                            matches!(ext.parsed_extension(),
                                ParsedExtension::SubjectKeyIdentifier(k) if k.0 == want)
                        })
                    })
                })
            }
        };
        idx.map(|i| self.certificates[i].as_slice()).ok_or(AttestedError::SignerNotFound)
    }

    /// Verifies the RSA PKCS#1 v1.5 SHA-256 signature over the content with the signer
    /// certificate's key (the digest-OID quirk accepted). Checks neither names nor chain.
    pub fn verify_content_signature(&self) -> Result<(), AttestedError> {
        let si = &self.signer_info;
        let digest_oid = si.digest_alg.oid.to_string();
        if digest_oid != OID_SHA256 && digest_oid != OID_SHA256_WITH_RSA {
            return Err(AttestedError::UnsupportedAlgorithm(format!("digest algorithm {digest_oid}")));
        }
        let sig_oid = si.signature_algorithm.oid.to_string();
        if sig_oid != OID_RSA_ENCRYPTION && sig_oid != OID_SHA256_WITH_RSA {
            return Err(AttestedError::UnsupportedAlgorithm(format!("signature algorithm {sig_oid}")));
        }
        let signer = self.signer_certificate()?;
        let (_, cert) = X509Certificate::from_der(signer)
            .map_err(|e| AttestedError::Undecodable(format!("signer certificate: {e}")))?;
        let key = rsa::RsaPublicKey::from_public_key_der(cert.public_key().raw)
            .map_err(|e| AttestedError::SignatureInvalid(format!("signer key is not RSA: {e}")))?;

        // Without signed attributes the signature covers the content itself; with them it
        // covers the DER SET OF attributes, which must carry the content's digest.
        let signed_message: Vec<u8> = match &si.signed_attrs {
            None => self.content.clone(),
            Some(attrs) => {
                let digest = Sha256::digest(&self.content);
                let md = attrs
                    .iter()
                    .find(|a| a.oid.to_string() == OID_MESSAGE_DIGEST)
                    .and_then(|a| a.values.iter().next())
                    .and_then(|v| v.decode_as::<der::asn1::OctetString>().ok())
                    .ok_or_else(|| {
                        AttestedError::SignatureInvalid("signed attributes lack a message digest".to_string())
                    })?;
                if md.as_bytes() != &digest[..] {
                    return Err(AttestedError::SignatureInvalid(
                        "message digest attribute does not match the content".to_string(),
                    ));
                }
                attrs.to_der().map_err(|e| AttestedError::Undecodable(format!("signed attributes: {e}")))?
            }
        };
        let sig = rsa::pkcs1v15::Signature::try_from(si.signature.as_bytes())
            .map_err(|e| AttestedError::SignatureInvalid(e.to_string()))?;
        rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(&signed_message, &sig).map_err(|_| {
            AttestedError::SignatureInvalid(
                "RSA PKCS#1 v1.5 SHA-256 signature does not match the content and signer key".to_string(),
            )
        })
    }
}

/// Splits concatenated DER certificates (the join request's `intermediate` field).
pub fn split_der_certificates(concatenated: &[u8]) -> Result<Vec<Vec<u8>>, AttestedError> {
    let mut rest = concatenated;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (next, _) = X509Certificate::from_der(rest)
            .map_err(|e| AttestedError::BadIntermediates(format!("certificate #{}: {e}", out.len() + 1)))?;
        let used = rest.len() - next.len();
        out.push(rest[..used].to_vec());
        rest = next;
    }
    Ok(out)
}

/// Concatenates DER certificates (the inverse of [`split_der_certificates`]).
pub fn concat_der_certificates<T: AsRef<[u8]>>(certs: &[T]) -> Vec<u8> {
    certs.iter().flat_map(|c| c.as_ref().iter().copied()).collect()
}
