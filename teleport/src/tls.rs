//! TLS client settings for the three ways Joinery reaches Teleport.
//!
//! * The auth API: mTLS, SNI `teleport.cluster.local` (every Auth server
//!   certificate carries that DNS name), ALPN `h2`, trusting the cluster's
//!   TLS host CA.
//! * An unauthenticated join through the proxy: ALPN `teleport-proxy-grpc`
//!   then `h2`, SNI the proxy host, trusting the system roots (or a CA file,
//!   or nothing with `insecure`).
//! * A bootstrap connection that trusts nothing, used only to fetch the
//!   cluster CA and check it against a pin before any secret is sent. With
//!   [`Trust::Pinned`] the same connection then carries the join: the
//!   certificate the server presented is checked against the pinned CA
//!   before anything else is sent (one handshake, not two, on a VM's first
//!   boot).

use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
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
    /// Decided after the handshake by a pin check: see [`PinnedTrust`].
    Pinned(PinnedTrust),
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
    /// The server's certificate does not chain to the pinned CA.
    #[error("the server's certificate is not issued by the pinned cluster CA: {0}")]
    NotPinned(String),
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
            Trust::Pinned(pinned) => builder.dangerous().with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                pinned: pinned.clone(),
                signatures: AcceptAnything(provider),
            })),
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

/// Trust decided after the handshake, for a pinned bootstrap that goes on
/// to join over the same connection.
///
/// Until [`PinnedTrust::confirm`], any server certificate is accepted (the
/// handshake signature is still checked, so the session belongs to whoever
/// holds that certificate's key) and recorded; the caller may only fetch
/// public data (the cluster CA) meanwhile. `confirm` checks every recorded
/// certificate against CA certificates that matched a pin, exactly as a
/// handshake trusting them would have; from then on each new handshake (a
/// reconnect) is verified against those CAs during the handshake.
#[derive(Clone, Default)]
pub struct PinnedTrust(Arc<Mutex<PinState>>);

enum PinState {
    /// Before the pin check: the chains seen, with the name each was for.
    Pending(Vec<SeenChain>),
    /// After it: the verifier every handshake must pass.
    Confirmed(Arc<WebPkiServerVerifier>),
}

impl Default for PinState {
    fn default() -> Self {
        PinState::Pending(Vec::new())
    }
}

struct SeenChain {
    end_entity: CertificateDer<'static>,
    intermediates: Vec<CertificateDer<'static>>,
    server_name: ServerName<'static>,
}

impl PinnedTrust {
    fn state(&self) -> std::sync::MutexGuard<'_, PinState> {
        // The state is replaced whole under the lock, so a poisoned lock holds a valid one.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks every certificate the server presented so far against `cas`
    /// (DER CA certificates that matched a pin) and trusts only them from now on.
    pub fn confirm(&self, cas: &[Vec<u8>]) -> Result<(), TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for der in cas {
            roots.add(CertificateDer::from(der.clone())).map_err(|e| TlsError::BadCa(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(TlsError::NoRoots);
        }
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| TlsError::BadCa(e.to_string()))?;
        let mut state = self.state();
        if let PinState::Pending(chains) = &*state {
            for c in chains {
                verifier
                    .verify_server_cert(&c.end_entity, &c.intermediates, &c.server_name, &[], UnixTime::now())
                    .map_err(|e| TlsError::NotPinned(e.to_string()))?;
            }
        }
        *state = PinState::Confirmed(verifier);
        Ok(())
    }
}

impl std::fmt::Debug for PinnedTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let confirmed = matches!(*self.state(), PinState::Confirmed(_));
        f.debug_struct("PinnedTrust").field("confirmed", &confirmed).finish()
    }
}

/// The rustls side of [`PinnedTrust`]. Handshake signatures are checked as
/// [`AcceptAnything`] checks them, whatever the state.
#[derive(Debug)]
struct PinnedVerifier {
    pinned: PinnedTrust,
    signatures: AcceptAnything,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut state = self.pinned.state();
        match &mut *state {
            PinState::Confirmed(verifier) => {
                verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            }
            PinState::Pending(chains) => {
                chains.push(SeenChain {
                    end_entity: end_entity.clone().into_owned(),
                    intermediates: intermediates.iter().map(|c| c.clone().into_owned()).collect(),
                    server_name: server_name.to_owned(),
                });
                Ok(ServerCertVerified::assertion())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signatures.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

    /// A CA and a server certificate for `teleport.cluster.local` it issued (DER).
    fn ca_and_server() -> (Vec<u8>, Vec<u8>) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, &ca_key);
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec![API_DOMAIN.to_string()]).unwrap();
        let server_cert = server.signed_by(&server_key, &issuer).unwrap();
        (ca_cert.der().to_vec(), server_cert.der().to_vec())
    }

    fn present(verifier: &PinnedVerifier, server: &[u8]) -> Result<ServerCertVerified, rustls::Error> {
        let name = ServerName::try_from(API_DOMAIN).unwrap();
        verifier.verify_server_cert(&CertificateDer::from(server.to_vec()), &[], &name, &[], UnixTime::now())
    }

    fn verifier(pinned: &PinnedTrust) -> PinnedVerifier {
        PinnedVerifier {
            pinned: pinned.clone(),
            signatures: AcceptAnything(Arc::new(rustls::crypto::aws_lc_rs::default_provider())),
        }
    }

    #[test]
    fn a_bootstrap_connection_is_trusted_only_if_its_certificate_chains_to_the_pinned_ca() {
        let (ca, server) = ca_and_server();
        let (other_ca, other_server) = ca_and_server();

        // The right CA: confirmed, and later handshakes are checked against it.
        let pinned = PinnedTrust::default();
        let v = verifier(&pinned);
        assert!(present(&v, &server).is_ok(), "accepted and recorded before the pin check");
        pinned.confirm(std::slice::from_ref(&ca)).unwrap();
        assert!(present(&v, &server).is_ok());
        assert!(present(&v, &other_server).is_err(), "a reconnect to another server is refused");

        // A server whose certificate another CA issued: the pin check of the CA is not enough.
        let pinned = PinnedTrust::default();
        let v = verifier(&pinned);
        present(&v, &other_server).unwrap();
        let err = pinned.confirm(std::slice::from_ref(&ca)).unwrap_err();
        assert!(matches!(err, TlsError::NotPinned(_)), "{err}");
        assert!(format!("{pinned:?}").contains("confirmed: false"));
        pinned.confirm(&[other_ca]).unwrap();
    }
}
