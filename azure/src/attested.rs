//! The IMDS **attested data document**: parsing and verification.
//!
//! IMDS answers `GET /metadata/attested/document?nonce=N` with
//! `{"encoding":"pkcs7","signature":"<base64 DER PKCS#7 SignedData>"}`. The SignedData carries
//! the JSON content (`nonce`, `vmId`, `subscriptionId`, `timeStamp`, ...) attached, signed
//! by an Azure certificate whose name is a subdomain of `metadata.azure.com` (or a sovereign
//! cloud's equivalent). The verifier proves that the VM holding the challenge is the VM named
//! inside, which is why every step here mirrors what Teleport's Auth server does
//! (`lib/join/azurejoin/azure.go`), in the same order and, where Teleport has a fixed
//! wording, with the same error messages.
//!
//! Azure's document has quirks that off-the-shelf PKCS#7 verifiers reject, which is why the
//! signature check is done by hand here:
//! * the SignerInfo `digestAlgorithm` holds the **sha256WithRSAEncryption** OID
//!   (1.2.840.113549.1.1.11) instead of SHA-256; it is treated as SHA-256;
//! * there are **no signed attributes**: the RSA PKCS#1 v1.5 signature is directly over the
//!   eContent bytes (signed attributes are still handled, as Go's library would);
//! * only the **leaf** certificate is embedded, so the intermediates come from the caller
//!   (the join request's `intermediate` field, see [`split_der_certificates`], or
//!   [`crate::aia::AiaFetcher`]);
//! * the JSON key is `timeStamp` and dates look like `11/30/20 21:19:19 -0000`; like Go's
//!   decoder, keys are matched case-insensitively.
//!
//! The chain is built with `rustls-webpki` against a [`RootStore`]; by default the Azure CA
//! roots listed in Microsoft's "Azure Certificate Authority details" (embedded PEMs).

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::{Decode, Encode};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};

/// Host names an attested-data signer may be named after (it may also be a subdomain of
/// one): public Azure, Azure Government, Azure China and (legacy) Azure Germany.
pub const AZURE_METADATA_HOSTS: &[&str] =
    &["metadata.azure.com", "metadata.azure.us", "metadata.azure.cn", "metadata.microsoftazure.de"];

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_DATA: &str = "1.2.840.113549.1.7.1";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const OID_SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";

/// Everything that can make an attested document unacceptable. Display texts follow
/// Teleport's wording where Teleport has one.
#[derive(Debug, thiserror::Error)]
pub enum AttestedError {
    /// The body is not the `{"encoding","signature"}` JSON object IMDS returns.
    #[error("attested data is not an IMDS attested document: {0}")]
    MalformedEnvelope(String),
    /// `encoding` is something other than `pkcs7`.
    #[error("unsupported attested data encoding {0:?}, expected \"pkcs7\"")]
    BadEncoding(String),
    /// The signature is not base64 of a PKCS#7 SignedData we can read.
    #[error("unable to decode attested data document: {0}")]
    Undecodable(String),
    /// The signed content is not the JSON object IMDS signs.
    #[error("unable to parse attested data content: {0}")]
    BadContent(String),
    /// The signed nonce differs from the challenge the server issued.
    #[error("challenge is missing or does not match")]
    NonceMismatch,
    /// The SignedData embeds no certificate.
    #[error("attested data document contains no certificates")]
    NoCertificate,
    /// A digest or signature algorithm other than RSA with SHA-256.
    #[error("unsupported algorithm in attested data signature: {0}")]
    UnsupportedAlgorithm(String),
    /// No embedded certificate matches the SignerInfo's issuer+serial / key identifier.
    #[error("no embedded certificate matches the attested data signer")]
    SignerNotFound,
    /// The RSA signature over the content does not verify with the signer's key.
    #[error("attested data signature is invalid: {0}")]
    SignatureInvalid(String),
    /// The signer certificate is not named after an Azure metadata host.
    #[error(
        "attested data signer certificate (names {names:?}) is not an Azure metadata certificate; expected a subdomain of one of {allowed:?}"
    )]
    SignerNotAzure {
        /// Subject CN and SAN DNS names found in the signer certificate.
        names: Vec<String>,
        /// The allowed metadata hosts.
        allowed: Vec<String>,
    },
    /// The signer certificate (or a chain certificate) is not valid at the verification time.
    #[error("attested data signer certificate is expired or not yet valid at {now}: {detail}")]
    Expired {
        /// The verification time.
        now: OffsetDateTime,
        /// Which certificate and which bound.
        detail: String,
    },
    /// The signer certificate does not chain to a trusted root through the intermediates.
    #[error("attested data signer certificate does not chain to a trusted Azure root: {0}")]
    ChainUntrusted(String),
    /// The document's own `timeStamp` window excludes the verification time (only checked
    /// when [`AttestedVerifier::with_max_age`] is set; Teleport does not check it).
    #[error("attested data document is stale: {0}")]
    Stale(String),
    /// The intermediates supplied with the join request are not concatenated DER certificates.
    #[error("invalid intermediate certificates: {0}")]
    BadIntermediates(String),
    /// A root certificate given to [`RootStore`] cannot be used.
    #[error("invalid root certificate: {0}")]
    BadRoot(String),
}

// ---------------------------------------------------------------------------------------------
// Signed content
// ---------------------------------------------------------------------------------------------

/// The marketplace plan of the VM image (empty strings when none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Plan name.
    pub name: String,
    /// Plan product.
    pub product: String,
    /// Plan publisher.
    pub publisher: String,
}

/// The `timeStamp` object, dates kept verbatim (`MM/dd/yy HH:mm:ss -0000`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TimeStamp {
    /// When the document was created.
    #[serde(rename = "createdOn")]
    pub created_on: String,
    /// When the document expires.
    #[serde(rename = "expiresOn")]
    pub expires_on: String,
}

impl TimeStamp {
    /// A time stamp for `created_on .. created_on + lifetime`, formatted as Azure does.
    pub fn new(created_on: OffsetDateTime, lifetime: Duration) -> Self {
        TimeStamp { created_on: format_azure_date(created_on), expires_on: format_azure_date(created_on + lifetime) }
    }

    /// `createdOn`, parsed.
    pub fn created_on(&self) -> Result<OffsetDateTime, AttestedError> {
        parse_azure_date(&self.created_on)
    }

    /// `expiresOn`, parsed.
    pub fn expires_on(&self) -> Result<OffsetDateTime, AttestedError> {
        parse_azure_date(&self.expires_on)
    }
}

/// The JSON content Azure signs. Field order in serialization is the one Azure emits
/// (alphabetical); optional fields are omitted when absent, as older api-versions do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AttestedData {
    /// Only for Azure Hybrid Benefit VMs (api-version ≥ 2020-09-01).
    #[serde(rename = "licenseType", skip_serializing_if = "Option::is_none")]
    pub license_type: Option<String>,
    /// The request nonce echoed back (or a `yyyyMMdd-HHmmss` time stamp when none was given).
    pub nonce: String,
    /// Marketplace plan.
    pub plan: Plan,
    /// Image SKU (api-version ≥ 2019-11-01).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Subscription GUID (api-version ≥ 2019-04-30).
    #[serde(rename = "subscriptionId", skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Validity window of the document.
    #[serde(rename = "timeStamp")]
    pub time_stamp: TimeStamp,
    /// The VM's unique id (lower-case GUID).
    #[serde(rename = "vmId")]
    pub vm_id: String,
}

/// Looks a key up the way Go's `encoding/json` does: exact match first, then the first
/// case-insensitive match.
fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn string_field(map: &Map<String, Value>, key: &str) -> Result<Option<String>, AttestedError> {
    match get_ci(map, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(AttestedError::BadContent(format!("field {key:?} is not a string: {other}"))),
    }
}

fn object_field<'a>(map: &'a Map<String, Value>, key: &str) -> Result<Option<&'a Map<String, Value>>, AttestedError> {
    match get_ci(map, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(AttestedError::BadContent(format!("field {key:?} is not an object: {other}"))),
    }
}

impl AttestedData {
    /// Parses the signed JSON content. Keys match case-insensitively (`timestamp` is accepted
    /// for `timeStamp`), absent strings become empty, as with Go's decoder.
    pub fn from_json(bytes: &[u8]) -> Result<Self, AttestedError> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| AttestedError::BadContent(e.to_string()))?;
        let Value::Object(map) = v else {
            return Err(AttestedError::BadContent("content is not a JSON object".to_string()));
        };
        let plan = match object_field(&map, "plan")? {
            Some(p) => Plan {
                name: string_field(p, "name")?.unwrap_or_default(),
                product: string_field(p, "product")?.unwrap_or_default(),
                publisher: string_field(p, "publisher")?.unwrap_or_default(),
            },
            None => Plan::default(),
        };
        let time_stamp = match object_field(&map, "timeStamp")? {
            Some(t) => TimeStamp {
                created_on: string_field(t, "createdOn")?.unwrap_or_default(),
                expires_on: string_field(t, "expiresOn")?.unwrap_or_default(),
            },
            None => TimeStamp::default(),
        };
        Ok(AttestedData {
            license_type: string_field(&map, "licenseType")?,
            nonce: string_field(&map, "nonce")?.unwrap_or_default(),
            plan,
            sku: string_field(&map, "sku")?,
            subscription_id: string_field(&map, "subscriptionId")?,
            time_stamp,
            vm_id: string_field(&map, "vmId")?.unwrap_or_default(),
        })
    }

    /// Compact JSON, as Azure signs it.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing a struct of strings cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Parses Azure's `MM/dd/yy HH:mm:ss -0000` date (two-digit years are 20yy).
pub fn parse_azure_date(s: &str) -> Result<OffsetDateTime, AttestedError> {
    let bad = || AttestedError::BadContent(format!("invalid Azure date {s:?}"));
    let parts: Vec<&str> = s.split(' ').collect();
    let [date, clock, offset] = parts.as_slice() else {
        return Err(bad());
    };
    let num = |t: &str| -> Result<u32, AttestedError> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        t.parse().map_err(|_| bad())
    };
    let d: Vec<&str> = date.split('/').collect();
    let c: Vec<&str> = clock.split(':').collect();
    let ([mo, da, yy], [hh, mi, ss]) = (d.as_slice(), c.as_slice()) else {
        return Err(bad());
    };
    if yy.len() != 2 || offset.len() != 5 {
        return Err(bad());
    }
    let month = time::Month::try_from(u8::try_from(num(mo)?).map_err(|_| bad())?).map_err(|_| bad())?;
    let date =
        time::Date::from_calendar_date(2000 + num(yy)? as i32, month, u8::try_from(num(da)?).map_err(|_| bad())?)
            .map_err(|_| bad())?;
    let clock = time::Time::from_hms(
        u8::try_from(num(hh)?).map_err(|_| bad())?,
        u8::try_from(num(mi)?).map_err(|_| bad())?,
        u8::try_from(num(ss)?).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let sign = match &offset[..1] {
        "+" => 1i32,
        "-" => -1i32,
        _ => return Err(bad()),
    };
    let oh = num(&offset[1..3])? as i32;
    let om = num(&offset[3..5])? as i32;
    let off = time::UtcOffset::from_whole_seconds(sign * (oh * 3600 + om * 60)).map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, clock).assume_offset(off).to_offset(time::UtcOffset::UTC))
}

/// Formats a time the way Azure does in `timeStamp`: `MM/dd/yy HH:mm:ss -0000` (UTC).
pub fn format_azure_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02} -0000",
        u8::from(t.month()),
        t.day(),
        t.year().rem_euclid(100),
        t.hour(),
        t.minute(),
        t.second()
    )
}

// ---------------------------------------------------------------------------------------------
// PKCS#7 document
// ---------------------------------------------------------------------------------------------

/// A parsed (not yet verified) attested document.
#[derive(Clone)]
pub struct AttestedDocument {
    data: AttestedData,
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

// ---------------------------------------------------------------------------------------------
// Trust roots
// ---------------------------------------------------------------------------------------------

const AZURE_ROOT_PEMS: &[&str] = &[
    include_str!("../roots/DigiCert_Global_Root_CA.pem"),
    include_str!("../roots/DigiCert_Global_Root_G2.pem"),
    include_str!("../roots/DigiCert_Global_Root_G3.pem"),
    include_str!("../roots/DigiCert_TLS_ECC_P384_Root_G5.pem"),
    include_str!("../roots/DigiCert_TLS_RSA4096_Root_G5.pem"),
    include_str!("../roots/Microsoft_ECC_Root_Certificate_Authority_2017.pem"),
    include_str!("../roots/Microsoft_RSA_Root_Certificate_Authority_2017.pem"),
];

/// The set of root certificates an attested document's chain must end in.
#[derive(Clone, Default)]
pub struct RootStore {
    roots: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for RootStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootStore").field("roots", &self.roots.len()).finish()
    }
}

impl RootStore {
    /// An empty store: nothing verifies until roots are added.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The roots Microsoft lists for Azure services (azure-CA-details): DigiCert Global Root
    /// CA/G2/G3, DigiCert TLS ECC P384 Root G5, DigiCert TLS RSA4096 Root G5, Microsoft ECC
    /// Root CA 2017 and Microsoft RSA Root CA 2017. Embedded in the binary.
    pub fn azure_default() -> Self {
        let mut store = Self::empty();
        for pem in AZURE_ROOT_PEMS {
            // The embedded PEMs are fixed and tested (`default_roots_load`); a bad one would be
            // skipped rather than abort.
            let _ = store.add_pem(pem.as_bytes());
        }
        store
    }

    /// Adds every certificate of a PEM bundle.
    pub fn add_pem(&mut self, pem: &[u8]) -> Result<(), AttestedError> {
        let mut n = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| AttestedError::BadRoot(e.to_string()))?;
            self.add_der(cert.as_ref())?;
            n += 1;
        }
        if n == 0 {
            return Err(AttestedError::BadRoot("PEM holds no CERTIFICATE block".to_string()));
        }
        Ok(())
    }

    /// Adds one DER certificate.
    pub fn add_der(&mut self, der: &[u8]) -> Result<(), AttestedError> {
        let cert = CertificateDer::from(der.to_vec());
        webpki::anchor_from_trusted_cert(&cert).map_err(|e| AttestedError::BadRoot(format!("{e:?}")))?;
        self.roots.push(cert);
        Ok(())
    }

    /// Builder-style [`RootStore::add_der`].
    pub fn with_der(mut self, der: &[u8]) -> Result<Self, AttestedError> {
        self.add_der(der)?;
        Ok(self)
    }

    /// Number of roots.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Whether the store has no roots.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

/// Accepts any (well-formed) extended key usage, like Go's `x509.ExtKeyUsageAny`, which is
/// what Teleport's PKCS#7 library asks for when it verifies the chain.
struct AnyEku;

impl webpki::ExtendedKeyUsageValidator for AnyEku {
    fn validate(&self, iter: webpki::KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        for purpose in iter {
            purpose?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Verifier
// ---------------------------------------------------------------------------------------------

/// What a successful verification yields.
#[derive(Debug, Clone)]
pub struct VerifiedAttestation {
    /// The signed content.
    pub data: AttestedData,
    /// DER of the signer (leaf) certificate.
    pub signer_certificate: Vec<u8>,
}

/// Verifies attested documents the way Teleport's Auth server does.
#[derive(Debug, Clone)]
pub struct AttestedVerifier {
    roots: RootStore,
    metadata_hosts: Vec<String>,
    max_age: Option<Duration>,
}

impl AttestedVerifier {
    /// A verifier trusting `roots` (use [`RootStore::azure_default`] for real Azure) and the
    /// [`AZURE_METADATA_HOSTS`] signer names.
    pub fn new(roots: RootStore) -> Self {
        AttestedVerifier {
            roots,
            metadata_hosts: AZURE_METADATA_HOSTS.iter().map(|s| s.to_string()).collect(),
            max_age: None,
        }
    }

    /// Replaces the allowed signer host names (each also allows its subdomains).
    pub fn with_metadata_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.metadata_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Additionally requires the document's `timeStamp` to be valid: created at most
    /// `max_age` before `now` and not expired (both with 2 minutes of clock skew). Teleport
    /// does not check this; it is off by default.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Fully verifies an attested document.
    ///
    /// * `body`: the raw IMDS response, verbatim (the join request's `attested_data`);
    /// * `challenge`: the nonce the server issued; compared exactly;
    /// * `intermediates`: DER intermediates (from the join request, see
    ///   [`split_der_certificates`], or fetched); certificates embedded in the document are
    ///   used too;
    /// * `now`: the verification time for certificate validity.
    ///
    /// Order of checks (first failure wins): envelope and encoding, decoding, nonce,
    /// certificate presence, signer match, content signature, signer name, signer validity,
    /// chain to a root, then (if enabled) document freshness.
    pub fn verify(
        &self,
        body: &[u8],
        challenge: &str,
        intermediates: &[Vec<u8>],
        now: OffsetDateTime,
    ) -> Result<VerifiedAttestation, AttestedError> {
        let doc = AttestedDocument::parse(body)?;
        if challenge.is_empty() || doc.data.nonce != challenge {
            return Err(AttestedError::NonceMismatch);
        }
        let signer = doc.signer_certificate()?.to_vec();
        doc.verify_content_signature()?;
        self.check_signer_name(&signer)?;
        check_validity("signer", &signer, now)?;
        self.check_chain(&signer, &doc, intermediates, now)?;
        if let Some(max_age) = self.max_age {
            check_freshness(&doc.data, max_age, now)?;
        }
        Ok(VerifiedAttestation { data: doc.data, signer_certificate: signer })
    }

    fn check_signer_name(&self, der: &[u8]) -> Result<(), AttestedError> {
        let names = certificate_names(der)?;
        let ok = names.iter().any(|n| {
            let n = n.trim_end_matches('.').to_ascii_lowercase();
            self.metadata_hosts.iter().any(|h| {
                let h = h.trim_end_matches('.').to_ascii_lowercase();
                n == h || n.strip_suffix(&h).is_some_and(|p| p.ends_with('.') && p.len() > 1)
            })
        });
        if ok { Ok(()) } else { Err(AttestedError::SignerNotAzure { names, allowed: self.metadata_hosts.clone() }) }
    }

    fn check_chain(
        &self,
        leaf: &[u8],
        doc: &AttestedDocument,
        intermediates: &[Vec<u8>],
        now: OffsetDateTime,
    ) -> Result<(), AttestedError> {
        if self.roots.is_empty() {
            return Err(AttestedError::ChainUntrusted("no trusted roots are configured".to_string()));
        }
        let anchors: Vec<_> =
            self.roots.roots.iter().filter_map(|c| webpki::anchor_from_trusted_cert(c).ok()).collect();
        let inter: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|d| CertificateDer::from(d.as_slice()))
            .chain(doc.certificates.iter().filter(|d| d.as_slice() != leaf).map(|d| CertificateDer::from(d.as_slice())))
            .collect();
        let leaf_der = CertificateDer::from(leaf);
        let ee = webpki::EndEntityCert::try_from(&leaf_der)
            .map_err(|e| AttestedError::ChainUntrusted(format!("signer certificate: {e:?}")))?;
        let secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        let time = UnixTime::since_unix_epoch(Duration::from_secs(secs));
        ee.verify_for_usage(webpki::ALL_VERIFICATION_ALGS, &anchors, &inter, time, AnyEku, None, None)
            .map(|_| ())
            .map_err(|e| match e {
                webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
                    AttestedError::Expired { now, detail: format!("a chain certificate: {e:?}") }
                }
                other => AttestedError::ChainUntrusted(format!("{other:?}")),
            })
    }
}

/// Subject CNs and SAN DNS names of a certificate.
fn certificate_names(der: &[u8]) -> Result<Vec<String>, AttestedError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| AttestedError::Undecodable(format!("signer certificate: {e}")))?;
    let mut names: Vec<String> =
        cert.subject().iter_common_name().filter_map(|cn| cn.as_str().ok().map(str::to_string)).collect();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for gn in &san.value.general_names {
            if let GeneralName::DNSName(d) = gn {
                names.push(d.to_string());
            }
        }
    }
    Ok(names)
}

fn check_validity(which: &str, der: &[u8], now: OffsetDateTime) -> Result<(), AttestedError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| AttestedError::Undecodable(format!("{which} certificate: {e}")))?;
    let nb = cert.validity().not_before.to_datetime();
    let na = cert.validity().not_after.to_datetime();
    if now < nb {
        return Err(AttestedError::Expired { now, detail: format!("{which} certificate is not valid before {nb}") });
    }
    if now > na {
        return Err(AttestedError::Expired { now, detail: format!("{which} certificate expired at {na}") });
    }
    Ok(())
}

fn check_freshness(data: &AttestedData, max_age: Duration, now: OffsetDateTime) -> Result<(), AttestedError> {
    let skew = time::Duration::minutes(2);
    let created = data.time_stamp.created_on().map_err(|e| AttestedError::Stale(e.to_string()))?;
    let expires = data.time_stamp.expires_on().map_err(|e| AttestedError::Stale(e.to_string()))?;
    if created > now + skew {
        return Err(AttestedError::Stale(format!("created in the future ({created})")));
    }
    if now - created > max_age + skew {
        return Err(AttestedError::Stale(format!("created at {created}, older than {max_age:?}")));
    }
    if now > expires + skew {
        return Err(AttestedError::Stale(format!("expired at {expires}")));
    }
    Ok(())
}
