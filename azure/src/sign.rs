//! The emulator's side: producing what Azure produces, byte-for-byte in shape.
//!
//! `joinery-devstack` stands in for Azure, so it must sign attested documents and issue
//! managed-identity tokens that real verifiers (Teleport's, and [`crate::attested`] /
//! [`crate::jwt`] here) accept, and that carry the same quirks real ones do, or the tests would
//! prove nothing about interop:
//!
//! * [`EmulatorPki`]: a root CA → intermediate CA → RSA-2048 leaf named
//!   `*.metadata.azure.com` (CN and SAN), whose AIA `caIssuers` URL points where the caller
//!   serves the intermediate — the shape of Azure's own chain, under a private root;
//! * [`AttestedSigner`]: PKCS#7 SignedData v1 with the JSON attached as `id-data`, only the
//!   leaf embedded, **no signed attributes**, the digestAlgorithm set to the
//!   **sha256WithRSAEncryption** OID (Azure's quirk) and an RSA PKCS#1 v1.5 SHA-256
//!   signature over the content; wrapped as `{"encoding":"pkcs7","signature":"<base64>"}`;
//! * [`TokenIssuer`]: RS256 JWTs with the v1 claim set of an ARM managed-identity token, the
//!   JWKS and the OIDC discovery document that verify them, and the IMDS token response with
//!   its numbers-as-strings.
//!
//! RSA keys are generated with aws-lc-rs (through rcgen), which is fast; the `rsa` crate is
//! used for the PKCS#7 signature and key conversions. Private keys never appear in `Debug`.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use cms::cert::x509::spki::AlgorithmIdentifierOwned;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, Ia5String, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::signature::{SignatureEncoding, Signer as _};
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};

use crate::attested::{AttestedData, RootStore};

const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const OID_SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");
const OID_AIA_EXT: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];

/// Failures while creating emulator material.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// Key generation or certificate creation failed.
    #[error("certificate generation failed: {0}")]
    Certificate(String),
    /// A key could not be read or converted.
    #[error("invalid key: {0}")]
    Key(String),
    /// ASN.1 encoding failed.
    #[error("encoding failed: {0}")]
    Encoding(String),
    /// JWT signing failed.
    #[error("token signing failed: {0}")]
    Token(String),
}

fn cert_err(e: impl fmt::Display) -> SignError {
    SignError::Certificate(e.to_string())
}
fn enc_err(e: impl fmt::Display) -> SignError {
    SignError::Encoding(e.to_string())
}

/// Generates an RSA-2048 key, returned as PKCS#8 DER.
pub fn generate_rsa_key_pkcs8() -> Result<Vec<u8>, SignError> {
    let kp = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(cert_err)?;
    Ok(kp.serialize_der())
}

// ---------------------------------------------------------------------------------------------
// PKI
// ---------------------------------------------------------------------------------------------

/// What [`EmulatorPki::generate`] builds.
#[derive(Debug, Clone)]
pub struct EmulatorPkiConfig {
    /// Leaf DNS names; the first is also the subject CN. Default
    /// `["eastus.metadata.azure.com", "metadata.azure.com"]`, like Azure's SAN.
    pub leaf_dns_names: Vec<String>,
    /// AIA `caIssuers` URL of the leaf: where the intermediate's DER will be served.
    pub leaf_aia_url: Option<String>,
    /// AIA `caIssuers` URL of the intermediate: where the root's DER will be served.
    pub intermediate_aia_url: Option<String>,
    /// Validity of the root and intermediate.
    pub ca_not_before: OffsetDateTime,
    /// Validity of the root and intermediate.
    pub ca_not_after: OffsetDateTime,
    /// Validity of the leaf.
    pub leaf_not_before: OffsetDateTime,
    /// Validity of the leaf.
    pub leaf_not_after: OffsetDateTime,
}

impl Default for EmulatorPkiConfig {
    fn default() -> Self {
        let now = OffsetDateTime::now_utc();
        EmulatorPkiConfig {
            leaf_dns_names: vec!["eastus.metadata.azure.com".to_string(), "metadata.azure.com".to_string()],
            leaf_aia_url: None,
            intermediate_aia_url: None,
            ca_not_before: now - time::Duration::days(1),
            ca_not_after: now + time::Duration::days(3650),
            leaf_not_before: now - time::Duration::hours(1),
            leaf_not_after: now + time::Duration::days(365),
        }
    }
}

/// An emulated Azure attestation PKI: root → intermediate → leaf, all RSA-2048.
#[derive(Clone)]
pub struct EmulatorPki {
    root_der: Vec<u8>,
    intermediate_der: Vec<u8>,
    leaf_der: Vec<u8>,
    leaf_key_pkcs8: Vec<u8>,
}

impl fmt::Debug for EmulatorPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorPki").finish_non_exhaustive()
    }
}

fn aia_extension(url: &str) -> Result<CustomExtension, SignError> {
    let aia = AuthorityInfoAccessSyntax(vec![AccessDescription {
        access_method: OID_CA_ISSUERS,
        access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(url).map_err(enc_err)?),
    }]);
    Ok(CustomExtension::from_oid_content(OID_AIA_EXT, aia.to_der().map_err(enc_err)?))
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::OrganizationName, "Joinery Emulated Azure");
    dn.push(DnType::CommonName, cn);
    dn
}

impl EmulatorPki {
    /// Generates a fresh PKI.
    pub fn generate(cfg: &EmulatorPkiConfig) -> Result<Self, SignError> {
        let rsa = &rcgen::PKCS_RSA_SHA256;
        let root_key = KeyPair::generate_for(rsa).map_err(cert_err)?;
        let mut root = CertificateParams::default();
        root.distinguished_name = dn("Joinery Emulated Azure Root CA");
        root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        root.not_before = cfg.ca_not_before;
        root.not_after = cfg.ca_not_after;
        let root_cert = root.self_signed(&root_key).map_err(cert_err)?;
        let root_issuer = Issuer::from_params(&root, &root_key);

        let inter_key = KeyPair::generate_for(rsa).map_err(cert_err)?;
        let mut inter = CertificateParams::default();
        inter.distinguished_name = dn("Joinery Emulated Azure RSA TLS Issuing CA 01");
        inter.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        inter.key_usages = root.key_usages.clone();
        inter.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        inter.use_authority_key_identifier_extension = true;
        inter.not_before = cfg.ca_not_before;
        inter.not_after = cfg.ca_not_after;
        if let Some(url) = &cfg.intermediate_aia_url {
            inter.custom_extensions.push(aia_extension(url)?);
        }
        let inter_cert = inter.signed_by(&inter_key, &root_issuer).map_err(cert_err)?;
        let inter_issuer = Issuer::from_params(&inter, &inter_key);

        let leaf_key = KeyPair::generate_for(rsa).map_err(cert_err)?;
        let mut leaf = CertificateParams::new(cfg.leaf_dns_names.clone()).map_err(cert_err)?;
        let cn = cfg.leaf_dns_names.first().cloned().unwrap_or_else(|| "metadata.azure.com".to_string());
        leaf.distinguished_name = dn(&cn);
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        leaf.use_authority_key_identifier_extension = true;
        leaf.not_before = cfg.leaf_not_before;
        leaf.not_after = cfg.leaf_not_after;
        if let Some(url) = &cfg.leaf_aia_url {
            leaf.custom_extensions.push(aia_extension(url)?);
        }
        let leaf_cert = leaf.signed_by(&leaf_key, &inter_issuer).map_err(cert_err)?;

        Ok(EmulatorPki {
            root_der: root_cert.der().to_vec(),
            intermediate_der: inter_cert.der().to_vec(),
            leaf_der: leaf_cert.der().to_vec(),
            leaf_key_pkcs8: leaf_key.serialize_der(),
        })
    }

    /// Root certificate, DER.
    pub fn root_der(&self) -> &[u8] {
        &self.root_der
    }

    /// Root certificate, PEM.
    pub fn root_pem(&self) -> String {
        pem_cert(&self.root_der)
    }

    /// Intermediate certificate, DER (what the leaf's AIA URL must serve).
    pub fn intermediate_der(&self) -> &[u8] {
        &self.intermediate_der
    }

    /// Leaf (signing) certificate, DER.
    pub fn leaf_der(&self) -> &[u8] {
        &self.leaf_der
    }

    /// Leaf private key, PKCS#8 DER (for persisting; never log it).
    pub fn leaf_key_pkcs8_der(&self) -> &[u8] {
        &self.leaf_key_pkcs8
    }

    /// A root store holding only this PKI's root.
    pub fn root_store(&self) -> Result<RootStore, SignError> {
        RootStore::empty().with_der(&self.root_der).map_err(cert_err)
    }

    /// The attested-document signer of this PKI (leaf cert + key).
    pub fn signer(&self) -> Result<AttestedSigner, SignError> {
        AttestedSigner::from_pkcs8(&self.leaf_der, &self.leaf_key_pkcs8)
    }
}

fn pem_cert(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

// ---------------------------------------------------------------------------------------------
// Attested documents
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

/// What an emulated managed-identity token says.
#[derive(Debug, Clone)]
pub struct ManagedIdentityTokenSpec {
    /// Tenant id (`tid`).
    pub tenant_id: String,
    /// Principal (object) id of the identity (`oid` and `sub`).
    pub principal_id: String,
    /// Client (application) id of the identity (`appid`).
    pub client_id: String,
    /// The requested resource, verbatim: becomes `aud`.
    pub resource: String,
    /// `xms_mirid`: the VM id (system-assigned) or the UAMI id (user-assigned).
    pub mi_resource_id: String,
    /// `xms_az_rid`: the VM id, for user-assigned identities only.
    pub vm_resource_id: Option<String>,
    /// Issue time (`iat`, `nbf`).
    pub issued_at: OffsetDateTime,
    /// Lifetime (`exp` - `iat`); real MI tokens live about 24 h.
    pub lifetime: Duration,
}

fn random_b64url(n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The full v1 claim set of an ARM managed-identity token.
pub fn managed_identity_claims(spec: &ManagedIdentityTokenSpec) -> Value {
    let iss = crate::jwt::issuer_for_tenant(&spec.tenant_id);
    let iat = spec.issued_at.unix_timestamp();
    let exp = iat + i64::try_from(spec.lifetime.as_secs()).unwrap_or(86_400);
    let mut claims = json!({
        "aud": spec.resource,
        "iss": iss,
        "iat": iat,
        "nbf": iat,
        "exp": exp,
        "aio": random_b64url(48),
        "appid": spec.client_id,
        "appidacr": "2",
        "idp": iss,
        "idtyp": "app",
        "oid": spec.principal_id,
        "rh": format!("0.{}.", random_b64url(36)),
        "sub": spec.principal_id,
        "tid": spec.tenant_id,
        "uti": random_b64url(16),
        "ver": "1.0",
        "xms_mirid": spec.mi_resource_id,
        "xms_tcdt": 1_600_000_000i64,
    });
    if let (Some(vm), Some(obj)) = (&spec.vm_resource_id, claims.as_object_mut()) {
        obj.insert("xms_az_rid".to_string(), Value::String(vm.clone()));
    }
    claims
}

/// Issues RS256 tokens under one key, like an Entra signing key.
#[derive(Clone)]
pub struct TokenIssuer {
    kid: String,
    encoding_key: jsonwebtoken::EncodingKey,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// A fresh RSA-2048 signing key.
    pub fn generate() -> Result<Self, SignError> {
        Self::from_pkcs8(&generate_rsa_key_pkcs8()?, None)
    }

    /// From a PKCS#8 DER RSA key. `kid` defaults to a thumbprint-like value derived from the
    /// public key (27 base64url characters, the shape of Entra's `x5t`).
    pub fn from_pkcs8(key_pkcs8_der: &[u8], kid: Option<String>) -> Result<Self, SignError> {
        let key = rsa::RsaPrivateKey::from_pkcs8_der(key_pkcs8_der).map_err(|e| SignError::Key(e.to_string()))?;
        let pkcs1 = key.to_pkcs1_der().map_err(|e| SignError::Key(e.to_string()))?;
        let public = key.to_public_key();
        let kid = match kid {
            Some(k) => k,
            None => {
                let spki = public.to_public_key_der().map_err(|e| SignError::Key(e.to_string()))?;
                let digest = Sha256::digest(spki.as_bytes());
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..20])
            }
        };
        Ok(TokenIssuer {
            kid,
            encoding_key: jsonwebtoken::EncodingKey::from_rsa_der(pkcs1.as_bytes()),
            n: public.n().to_bytes_be(),
            e: public.e().to_bytes_be(),
        })
    }

    /// The key id (`kid`, also used as `x5t`).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs arbitrary claims with header `{"typ":"JWT","alg":"RS256","x5t":kid,"kid":kid}`.
    pub fn issue<T: Serialize>(&self, claims: &T) -> Result<String, SignError> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.typ = Some("JWT".to_string());
        header.kid = Some(self.kid.clone());
        header.x5t = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding_key).map_err(|e| SignError::Token(e.to_string()))
    }

    /// Issues a managed-identity token with [`managed_identity_claims`].
    pub fn issue_managed_identity(&self, spec: &ManagedIdentityTokenSpec) -> Result<String, SignError> {
        self.issue(&managed_identity_claims(spec))
    }

    /// This key as a JWK (`kty, use, kid, x5t, n, e`).
    pub fn jwk(&self) -> Value {
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": b64(&self.n),
            "e": b64(&self.e),
        })
    }
}

/// A JWKS document (`{"keys":[...]}`) holding the given issuers' keys.
pub fn jwks(issuers: &[&TokenIssuer]) -> Value {
    json!({ "keys": issuers.iter().map(|i| i.jwk()).collect::<Vec<_>>() })
}

/// The v1 OIDC discovery document of tenant `tid`, with keys at `jwks_uri`.
/// `authority` is the Entra base the emulator serves (e.g. `https://127.0.0.1:8443`).
pub fn openid_configuration(tid: &str, jwks_uri: &str, authority: &str) -> Value {
    let authority = authority.trim_end_matches('/');
    json!({
        "token_endpoint": format!("{authority}/{tid}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": jwks_uri,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": crate::jwt::issuer_for_tenant(tid),
        "authorization_endpoint": format!("{authority}/{tid}/oauth2/authorize"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"],
        "tenant_region_scope": "NA",
    })
}

/// The IMDS `/metadata/identity/oauth2/token` success body for `token` issued from `spec`:
/// every number is a JSON string, as IMDS sends it.
pub fn imds_token_response(token: &str, spec: &ManagedIdentityTokenSpec) -> Value {
    let iat = spec.issued_at.unix_timestamp();
    let life = spec.lifetime.as_secs();
    json!({
        "access_token": token,
        "refresh_token": "",
        "expires_in": life.to_string(),
        "expires_on": (iat + i64::try_from(life).unwrap_or(0)).to_string(),
        "ext_expires_in": life.to_string(),
        "not_before": iat.to_string(),
        "resource": spec.resource,
        "token_type": "Bearer",
        "client_id": spec.client_id,
    })
}
