//! A service principal's client certificate, as azurerm takes it (`client_certificate_path` or
//! `client_certificate`: a PKCS#12 bundle; `client_certificate_password`), signing the client
//! assertion Entra expects (OpenID Connect `private_key_jwt`) for `azure_identity`'s
//! `ClientAssertionCredential`.
//!
//! Why not `azure_identity`'s `ClientCertificateCredential`: it sits behind the crate's
//! `client_certificate` feature, which links OpenSSL to parse PKCS#12 and sign; the provider is
//! a static rustls / aws-lc-rs binary. So only the assertion is ours: the bundle is read with
//! `p12-keystore` (pure Rust), the JWT signed with `jsonwebtoken` (aws-lc-rs), and the token
//! request is still the crate's.
//!
//! The assertion follows Microsoft's current format
//! (<https://learn.microsoft.com/entra/identity-platform/certificate-credentials>): header
//! `alg: PS256`, `typ: JWT`, `x5t#S256` (base64url SHA-256 of the certificate's DER); claims
//! `aud` = the tenant's v2.0 token endpoint (where the credential posts), `iss` = `sub` = the
//! client id, a fresh `jti`, `iat` = `nbf` = now and `exp` ten minutes later. Each token
//! request signs a new one.
//!
//! What Entra would refuse late is refused here first, with the reason: a wrong password, a
//! bundle without a private key, a key that is not RSA (Entra's application key credentials
//! are RSA), a key that does not belong to the certificate, an expired certificate.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use azure_core::http::{ClientMethodOptions, Url};
use azure_identity::ClientAssertion;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePrivateKey;
use sha2::{Digest, Sha256};

/// How long a signed assertion is valid: Microsoft asks for "5-10 minutes after nbf".
const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// Why a PKCS#12 bundle cannot sign in (never carrying the password or the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The MAC does not verify: the password is wrong (or the file was altered).
    #[error("the password does not open the PKCS#12 bundle (wrong client_certificate_password?)")]
    WrongPassword,
    /// Not a PKCS#12 bundle this reader understands.
    #[error("not a PKCS#12 (.pfx/.p12) bundle: {0}")]
    NotPkcs12(String),
    /// The bundle holds certificates only.
    #[error("the PKCS#12 bundle holds no private key")]
    NoPrivateKey,
    /// The private key is not RSA (or not readable as PKCS#8).
    #[error("the private key is not an RSA key: Entra ID application certificates are RSA ({0})")]
    NotRsa(String),
    /// The key is not the one of the bundle's certificate.
    #[error("the private key does not belong to the certificate {subject}")]
    KeyMismatch {
        /// The certificate's subject.
        subject: String,
    },
    /// The certificate is outside its validity period; Entra refuses expired keys.
    #[error(
        "the certificate {subject} (thumbprint {thumbprint}) is not valid now: valid from {not_before} to {not_after}"
    )]
    NotValidNow {
        /// The certificate's subject.
        subject: String,
        /// SHA-1 thumbprint, upper-case hex (as the Azure portal shows it).
        thumbprint: String,
        /// Start of validity (RFC 2822, as x509-parser prints it).
        not_before: String,
        /// End of validity.
        not_after: String,
    },
}

/// A client certificate and its private key, ready to sign assertions.
#[derive(Clone)]
pub struct ClientCertificate {
    key: EncodingKey,
    /// `x5t#S256`: base64url SHA-256 of the certificate's DER.
    x5t_s256: String,
    /// SHA-1 thumbprint, upper-case hex: what the portal and Entra's messages show.
    thumbprint: String,
    subject: String,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("subject", &self.subject)
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// Reads a PKCS#12 bundle (the leaf certificate of its key chain, and the key) and checks it
    /// can sign in at time `now`.
    pub fn from_pkcs12(der: &[u8], password: &str, now: SystemTime) -> Result<ClientCertificate, CertificateError> {
        let store = p12_keystore::KeyStore::from_pkcs12(der, password).map_err(|e| match e {
            p12_keystore::error::Error::MacError(_) => CertificateError::WrongPassword,
            other => CertificateError::NotPkcs12(other.to_string()),
        })?;
        let (_, chain) = store.private_key_chain().ok_or(CertificateError::NoPrivateKey)?;
        let cert_der = chain.chain().first().ok_or(CertificateError::NoPrivateKey)?.as_der().to_vec();
        let key =
            rsa::RsaPrivateKey::from_pkcs8_der(chain.key()).map_err(|e| CertificateError::NotRsa(e.to_string()))?;
        let (_, cert) = x509_parser::parse_x509_certificate(&cert_der)
            .map_err(|e| CertificateError::NotPkcs12(format!("its certificate cannot be parsed: {e}")))?;
        let subject = cert.subject().to_string();
        let public = key.to_public_key().to_pkcs1_der().map_err(|e| CertificateError::NotRsa(e.to_string()))?;
        if cert.public_key().subject_public_key.data.as_ref() != public.as_bytes() {
            return Err(CertificateError::KeyMismatch { subject });
        }
        let thumbprint = thumbprint(&cert_der);
        let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let validity = cert.validity();
        if now < validity.not_before.timestamp() || now > validity.not_after.timestamp() {
            return Err(CertificateError::NotValidNow {
                subject,
                thumbprint,
                not_before: validity.not_before.to_string(),
                not_after: validity.not_after.to_string(),
            });
        }
        let pkcs1 = key.to_pkcs1_der().map_err(|e| CertificateError::NotRsa(e.to_string()))?;
        Ok(ClientCertificate {
            key: EncodingKey::from_rsa_der(pkcs1.as_bytes()),
            x5t_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(&cert_der)),
            thumbprint,
            subject,
        })
    }

    /// The certificate's subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The certificate's SHA-1 thumbprint, upper-case hex, as the Azure portal lists it.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A signed client assertion for `client_id` at the token endpoint `audience`.
    pub fn assertion(&self, client_id: &str, audience: &str, now: SystemTime) -> Result<String, String> {
        let mut header = Header::new(Algorithm::PS256);
        header.typ = Some("JWT".into());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        let iat = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": iat,
            "nbf": iat,
            "exp": iat + ASSERTION_LIFETIME.as_secs(),
        });
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| format!("cannot sign the client assertion: {e}"))
    }
}

/// The SHA-1 thumbprint of a certificate (DER), upper-case hex: how the Azure portal and
/// Entra's messages name a certificate. An identifier only, never a security decision.
pub fn thumbprint(cert_der: &[u8]) -> String {
    hex::encode_upper(sha1(cert_der))
}

/// SHA-1 of a certificate: its thumbprint, and the PKCS#12 `localKeyId` tying key and certificate.
fn sha1(cert_der: &[u8]) -> aws_lc_rs::digest::Digest {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der)
}

/// A PKCS#12 bundle of a certificate (DER) and its PKCS#8 private key, encrypted with
/// `password` as OpenSSL 3 does by default (PBES2, AES-256-CBC, HMAC-SHA256): what the
/// devstack hands out for its service principal, and what tests build wrong ones with.
pub fn pkcs12_bundle(cert_der: &[u8], key_pkcs8_der: &[u8], password: &str) -> Result<Vec<u8>, CertificateError> {
    let cert = p12_keystore::Certificate::from_der(cert_der).map_err(|e| CertificateError::NotPkcs12(e.to_string()))?;
    let chain = p12_keystore::PrivateKeyChain::new(key_pkcs8_der, sha1(cert_der).as_ref(), [cert]);
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry("client", p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    store.writer(password).write().map_err(|e| CertificateError::NotPkcs12(e.to_string()))
}

/// The token endpoint `azure_identity`'s `ClientAssertionCredential` posts to, built the way it
/// builds it (an absolute path joined to the authority host): the assertion's `aud`.
pub(super) fn token_endpoint(authority_host: &str, tenant_id: &str) -> Result<String, String> {
    let base = Url::parse(authority_host).map_err(|e| format!("invalid authority host {authority_host}: {e}"))?;
    base.join(&format!("/{tenant_id}/oauth2/v2.0/token"))
        .map(String::from)
        .map_err(|e| format!("tenant_id {tenant_id} cannot be put in a URL: {e}"))
}

/// The client assertion of a certificate sign-in: signed anew for each token request.
pub(super) struct CertificateAssertion {
    pub(super) certificate: ClientCertificate,
    pub(super) client_id: String,
    pub(super) token_endpoint: String,
}

impl fmt::Debug for CertificateAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAssertion")
            .field("certificate", &self.certificate)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.certificate
            .assertion(&self.client_id, &self.token_endpoint, SystemTime::now())
            .map_err(|e| azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    /// A self-signed certificate valid from `from` for `days`, with a fresh key of `alg`.
    fn cert(alg: &'static rcgen::SignatureAlgorithm, days: i64) -> (Vec<u8>, Vec<u8>) {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "joinery-test");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(days);
        let cert = params.self_signed(&key).unwrap();
        (cert.der().to_vec(), key.serialize_der())
    }

    #[test]
    fn a_bundle_signs_assertions_entra_can_verify() {
        let (cert_der, key_der) = cert(&rcgen::PKCS_RSA_SHA256, 30);
        let pfx = pkcs12_bundle(&cert_der, &key_der, "pa55").unwrap();
        let c = ClientCertificate::from_pkcs12(&pfx, "pa55", SystemTime::now()).unwrap();
        assert_eq!(c.thumbprint(), thumbprint(&cert_der));
        assert!(!format!("{c:?}").contains("key:"), "{c:?}");
        let aud = token_endpoint("https://login.microsoftonline.us/", "tid").unwrap();
        assert_eq!(aud, "https://login.microsoftonline.us/tid/oauth2/v2.0/token");
        let jwt = c.assertion("app", &aud, SystemTime::now()).unwrap();

        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::PS256);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(header.x5t_s256.unwrap(), URL_SAFE_NO_PAD.encode(Sha256::digest(&cert_der)));
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert_der).unwrap();
        let public = DecodingKey::from_rsa_der(&parsed.public_key().subject_public_key.data);
        let mut v = Validation::new(Algorithm::PS256);
        v.set_audience(&[aud.as_str()]);
        v.set_issuer(&["app"]);
        v.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(&jwt, &public, &v).unwrap().claims;
        assert_eq!(claims["sub"], "app");
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["nbf"].as_u64().unwrap(), 600);
        let again = c.assertion("app", &aud, SystemTime::now()).unwrap();
        let jti = |t: &str| jsonwebtoken::decode::<serde_json::Value>(t, &public, &v).unwrap().claims["jti"].clone();
        assert_ne!(jti(&jwt), jti(&again), "each assertion has its own jti");
    }

    #[test]
    fn bad_bundles_are_refused_with_their_reason() {
        let (cert_der, key_der) = cert(&rcgen::PKCS_RSA_SHA256, 30);
        let pfx = pkcs12_bundle(&cert_der, &key_der, "pa55").unwrap();
        let now = SystemTime::now();
        assert_eq!(ClientCertificate::from_pkcs12(&pfx, "wrong", now).unwrap_err(), CertificateError::WrongPassword);
        assert!(matches!(
            ClientCertificate::from_pkcs12(b"-----BEGIN CERTIFICATE-----", "", now),
            Err(CertificateError::NotPkcs12(_))
        ));
        let (_, other_key) = cert(&rcgen::PKCS_RSA_SHA256, 30);
        let mismatched = pkcs12_bundle(&cert_der, &other_key, "pa55").unwrap();
        assert!(matches!(
            ClientCertificate::from_pkcs12(&mismatched, "pa55", now),
            Err(CertificateError::KeyMismatch { .. })
        ));
        let (ec_cert, ec_key) = cert(&rcgen::PKCS_ECDSA_P256_SHA256, 30);
        let ec = pkcs12_bundle(&ec_cert, &ec_key, "pa55").unwrap();
        assert!(matches!(ClientCertificate::from_pkcs12(&ec, "pa55", now), Err(CertificateError::NotRsa(_))));
        let later = now + Duration::from_secs(40 * 86400);
        let e = ClientCertificate::from_pkcs12(&pfx, "pa55", later).unwrap_err();
        assert!(matches!(e, CertificateError::NotValidNow { .. }), "{e}");
        assert!(e.to_string().contains(&thumbprint(&cert_der)), "{e}");
    }
}
