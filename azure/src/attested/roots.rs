//! Trust anchors of the certificate chain: Azure's published CA roots, or the emulator's.

use std::fmt;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::AttestedError;

const AZURE_ROOT_PEMS: &[&str] = &[
    include_str!("../../roots/DigiCert_Global_Root_CA.pem"),
    include_str!("../../roots/DigiCert_Global_Root_G2.pem"),
    include_str!("../../roots/DigiCert_Global_Root_G3.pem"),
    include_str!("../../roots/DigiCert_TLS_ECC_P384_Root_G5.pem"),
    include_str!("../../roots/DigiCert_TLS_RSA4096_Root_G5.pem"),
    include_str!("../../roots/Microsoft_ECC_Root_Certificate_Authority_2017.pem"),
    include_str!("../../roots/Microsoft_RSA_Root_Certificate_Authority_2017.pem"),
];

/// The set of root certificates an attested document's chain must end in.
#[derive(Clone, Default)]
pub struct RootStore {
    pub(super) roots: Vec<CertificateDer<'static>>,
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
