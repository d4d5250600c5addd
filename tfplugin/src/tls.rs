//! go-plugin AutoMTLS: each side pins the exact certificate the other generated.
//!
//! Terraform passes its freshly generated client certificate in
//! `PLUGIN_CLIENT_CERT` and reads ours from the handshake line. Its
//! certificate is a self-signed CA:TRUE P-521 certificate, which rules out
//! rustls' webpki verifier (it rejects a CA used as a leaf) and the ring
//! backend (no P-521), hence a pinning verifier on aws-lc-rs. grpc-go
//! rejects TLS without ALPN, so we offer `h2`.

use std::sync::Arc;

use base64::Engine as _;
use rustls::DistinguishedName;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::PluginError;

/// A TLS server configuration plus the certificate to announce in the handshake.
pub struct AutoMtls {
    /// The rustls configuration for accepted connections.
    pub server_config: Arc<rustls::ServerConfig>,
    /// The server certificate's DER, base64 standard alphabet **without
    /// padding** (go-plugin decodes with `RawStdEncoding`).
    pub handshake_cert: String,
}

/// Builds the TLS configuration from the PEM in `PLUGIN_CLIENT_CERT`.
pub fn auto_mtls(client_cert_pem: &str) -> Result<AutoMtls, PluginError> {
    let expected = rustls_pemfile::certs(&mut client_cert_pem.as_bytes())
        .next()
        .ok_or_else(|| PluginError::ClientCert("PLUGIN_CLIENT_CERT holds no PEM certificate".into()))?
        .map_err(|e| PluginError::ClientCert(e.to_string()))?;

    let (server_der, key_der) = server_certificate()?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedClientCert { expected: expected.to_vec(), provider: provider.clone() };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![CertificateDer::from(server_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der)),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(AutoMtls {
        server_config: Arc::new(config),
        handshake_cert: base64::engine::general_purpose::STANDARD_NO_PAD.encode(&server_der),
    })
}

/// A self-signed certificate for `localhost`, shaped like go-plugin's own
/// (CA:TRUE, server+client auth). Terraform trusts it because it is the one
/// we announce, and verifies it for the name `localhost`.
fn server_certificate() -> Result<(Vec<u8>, Vec<u8>), PluginError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Joinery");
    dn.push(DnType::CommonName, "localhost");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::ServerAuth];
    // Like go-plugin: valid from 30 s ago (clock skew) for about 30 years.
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::seconds(30);
    params.not_after = now + time::Duration::hours(262_980);
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)?;
    let cert = params.self_signed(&key)?;
    Ok((cert.der().to_vec(), key.serialize_der()))
}

/// Accepts exactly one client certificate, byte for byte.
#[derive(Debug)]
struct PinnedClientCert {
    expected: Vec<u8>,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hints: Go's client then offers its only certificate.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_cert_is_unpadded_der_for_localhost() {
        // A P-521 CA:TRUE client certificate, like Terraform's.
        let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let client = params.self_signed(&key).unwrap();
        let tls = auto_mtls(&client.pem()).unwrap();
        assert!(!tls.handshake_cert.ends_with('='));
        let der = base64::engine::general_purpose::STANDARD_NO_PAD.decode(&tls.handshake_cert).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
        let san = parsed.subject_alternative_name().unwrap().unwrap();
        assert!(format!("{:?}", san.value).contains("localhost"));
        assert_eq!(tls.server_config.alpn_protocols, vec![b"h2".to_vec()]);
    }

    #[test]
    fn rejects_garbage_client_cert() {
        assert!(auto_mtls("not a pem").is_err());
    }
}
