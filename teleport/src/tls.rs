//! TLS client settings for the three ways Joinery reaches Teleport.
//!
//! * The auth API: mTLS, SNI `teleport.cluster.local` (every Auth server
//!   certificate carries that DNS name), ALPN `h2`, trusting the cluster's
//!   TLS host CA.
//! * An unauthenticated join through the proxy: ALPN `teleport-proxy-grpc`
//!   then `h2`, SNI the proxy host, trusting the system roots (or a CA file,
//!   or nothing with `insecure`).
//! * A bootstrap connection that trusts nothing, used only to fetch the
//!   cluster CA and check it against a pin before any secret is sent.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Teleport's API domain, the TLS server name of every Auth server.
pub const API_DOMAIN: &str = "teleport.cluster.local";
/// ALPN for an unauthenticated join through the proxy.
pub const ALPN_PROXY_GRPC: &str = "teleport-proxy-grpc";
/// ALPN prefix for reaching Auth through the proxy with TLS routing.
pub const ALPN_AUTH_PREFIX: &str = "teleport-auth@";

/// Which certificates the client accepts from the server.
#[derive(Clone)]
pub enum Trust {
    /// These CA certificates (DER), e.g. the cluster's TLS host CAs.
    Roots(Vec<Vec<u8>>),
    /// The platform's roots (honouring `SSL_CERT_FILE` / `SSL_CERT_DIR`).
    System,
    /// Anything. Only for `insecure` or a bootstrap followed by a pin check.
    Insecure,
}

/// A TLS setting that could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A CA certificate was rejected.
    #[error("invalid CA certificate: {0}")]
    BadCa(String),
    /// The client key or certificate was rejected.
    #[error("invalid client certificate or key: {0}")]
    BadClientCert(String),
    /// No usable root certificates.
    #[error("no trusted root certificates could be loaded")]
    NoRoots,
}

/// Everything needed to build a rustls client configuration.
#[derive(Clone)]
pub struct TlsSettings {
    /// Server certificates we accept.
    pub trust: Trust,
    /// Client certificate chain (DER) and PKCS#8 key (DER) for mTLS.
    pub client_auth: Option<(Vec<Vec<u8>>, Vec<u8>)>,
    /// TLS server name (SNI and verification name).
    pub server_name: String,
    /// ALPN protocols, in preference order.
    pub alpn: Vec<String>,
}

impl TlsSettings {
    /// Settings for the auth API with a client identity.
    pub fn auth_api(ca_ders: Vec<Vec<u8>>, cert_ders: Vec<Vec<u8>>, key_pkcs8_der: Vec<u8>) -> Self {
        TlsSettings {
            trust: Trust::Roots(ca_ders),
            client_auth: Some((cert_ders, key_pkcs8_der)),
            server_name: API_DOMAIN.to_string(),
            alpn: vec!["h2".to_string()],
        }
    }

    /// Builds the rustls configuration.
    pub fn client_config(&self) -> Result<rustls::ClientConfig, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::BadCa(e.to_string()))?;
        let builder = match &self.trust {
            Trust::Roots(ders) => {
                let mut roots = rustls::RootCertStore::empty();
                for der in ders {
                    roots.add(CertificateDer::from(der.clone())).map_err(|e| TlsError::BadCa(e.to_string()))?;
                }
                if roots.is_empty() {
                    return Err(TlsError::NoRoots);
                }
                builder.with_root_certificates(roots)
            }
            Trust::System => {
                let mut roots = rustls::RootCertStore::empty();
                let loaded = rustls_native_certs::load_native_certs();
                for cert in loaded.certs {
                    let _ = roots.add(cert);
                }
                if roots.is_empty() {
                    return Err(TlsError::NoRoots);
                }
                builder.with_root_certificates(roots)
            }
            Trust::Insecure => {
                builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAnything(provider.clone())))
            }
        };
        let mut config = match &self.client_auth {
            Some((chain, key)) => builder
                .with_client_auth_cert(
                    chain.iter().map(|c| CertificateDer::from(c.clone())).collect(),
                    PrivateKeyDer::Pkcs8(key.clone().into()),
                )
                .map_err(|e| TlsError::BadClientCert(e.to_string()))?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = self.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        Ok(config)
    }
}

/// Accepts any server certificate while still checking the handshake
/// signature, so the session key belongs to whoever sent the certificate
/// (which a later pin check then inspects).
#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
