//! Where a client's identity comes from.
//!
//! The official provider accepts an identity file (path, contents, base64)
//! or separate key / certificate / CA (paths or base64). All of them reduce
//! to the same thing: a key, a client certificate and the CAs to trust.

use std::path::Path;
use std::time::SystemTime;

use base64::Engine;

use crate::Error;
use crate::identity::{CertInfo, Identity, pem_certs_to_der};
use crate::keys::KeyPair;
use crate::tls::TlsSettings;

/// A client identity for the auth API.
#[derive(Clone)]
pub struct Credentials {
    key_pkcs8_der: Vec<u8>,
    cert_ders: Vec<Vec<u8>>,
    ca_ders: Vec<Vec<u8>>,
    info: CertInfo,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.info.username).finish_non_exhaustive()
    }
}

impl Credentials {
    /// From an identity (as parsed from an identity file).
    pub fn from_identity(identity: &Identity) -> Result<Self, Error> {
        Self::from_pems(
            &identity.private_key_pem,
            &identity.tls_cert_pem,
            &identity.tls_ca_pems.join(""),
            "identity file",
        )
    }

    /// From an identity file on disk.
    pub fn from_identity_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Credentials(format!("cannot read identity file {}: {e}", path.display())))?;
        let identity =
            Identity::parse(&text).map_err(|e| Error::Credentials(format!("identity file {}: {e}", path.display())))?;
        Self::from_identity(&identity)
    }

    /// From identity file contents.
    pub fn from_identity_str(text: &str) -> Result<Self, Error> {
        let identity = Identity::parse(text).map_err(|e| Error::Credentials(format!("identity_file: {e}")))?;
        Self::from_identity(&identity)
    }

    /// From base64 (standard alphabet) identity file contents.
    pub fn from_identity_base64(b64: &str) -> Result<Self, Error> {
        let text = decode_b64(b64, "identity_file_base64")?;
        let identity = Identity::parse(&text).map_err(|e| Error::Credentials(format!("identity_file_base64: {e}")))?;
        Self::from_identity(&identity)
    }

    /// From key, certificate and CA files.
    pub fn from_files(key: &Path, cert: &Path, ca: &Path) -> Result<Self, Error> {
        let read = |p: &Path, what: &str| {
            std::fs::read_to_string(p)
                .map_err(|e| Error::Credentials(format!("cannot read {what} {}: {e}", p.display())))
        };
        Self::from_pems(&read(key, "key file")?, &read(cert, "certificate file")?, &read(ca, "root CA file")?, "files")
    }

    /// From base64 key, certificate and CA PEMs.
    pub fn from_base64(key: &str, cert: &str, ca: &str) -> Result<Self, Error> {
        Self::from_pems(
            &decode_b64(key, "key_base64")?,
            &decode_b64(cert, "cert_base64")?,
            &decode_b64(ca, "root_ca_base64")?,
            "base64 credentials",
        )
    }

    /// From PEM strings.
    pub fn from_pems(key_pem: &str, cert_pem: &str, ca_pem: &str, source: &str) -> Result<Self, Error> {
        let key = KeyPair::from_pem(key_pem).map_err(|e| Error::Credentials(format!("{source}: {e}")))?;
        let cert_ders = pem_certs_to_der(cert_pem);
        let first =
            cert_ders.first().ok_or_else(|| Error::Credentials(format!("{source}: no TLS certificate found")))?;
        let info = CertInfo::from_der(first).map_err(|e| Error::Credentials(format!("{source}: {e}")))?;
        let ca_ders = pem_certs_to_der(ca_pem);
        if ca_ders.is_empty() {
            return Err(Error::Credentials(format!("{source}: no TLS CA certificate found")));
        }
        Ok(Credentials { key_pkcs8_der: key.private_key_pkcs8_der(), cert_ders, ca_ders, info })
    }

    /// What the certificate says (user, roles, expiry).
    pub fn info(&self) -> &CertInfo {
        &self.info
    }

    /// Fails with [`Error::Expired`] when the certificate has expired.
    pub fn check_not_expired(&self, now: SystemTime) -> Result<(), Error> {
        if self.info.is_expired_at(now) {
            return Err(Error::Expired { expired_at: self.info.not_after });
        }
        Ok(())
    }

    /// TLS settings for the auth API.
    pub fn tls_settings(&self) -> TlsSettings {
        TlsSettings::auth_api(self.ca_ders.clone(), self.cert_ders.clone(), self.key_pkcs8_der.clone())
    }
}

fn decode_b64(b64: &str, what: &str) -> Result<String, Error> {
    let cleaned: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .map_err(|e| Error::Credentials(format!("{what} is not valid base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| Error::Credentials(format!("{what} does not decode to text")))
}
