//! Key pairs for certificate requests.
//!
//! Teleport issues an SSH and a TLS certificate for the *same* key pair
//! (tbot uses one `crypto.Signer`), so a [`KeyPair`] can present its public
//! half in every encoding the join and certificate APIs ask for: PKIX DER or
//! PEM for TLS, authorized_keys or SSH wire format for SSH. We use ECDSA
//! P-256, the key type of Teleport's `balanced-v1` suite for bot identities.

use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use ssh_key::public::{EcdsaPublicKey, KeyData};

/// A key that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The PEM is not a PKCS#8 or SEC1 ECDSA P-256 private key.
    #[error("private key is not a PEM ECDSA P-256 key (PKCS#8 or SEC1)")]
    Unsupported,
}

/// An ECDSA P-256 key pair.
#[derive(Clone)]
pub struct KeyPair {
    secret: p256::SecretKey,
    /// Derived once: each derivation is a scalar multiplication, and a join asks for the
    /// public half in four encodings.
    public: p256::PublicKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("KeyPair(ecdsa-p256)")
    }
}

impl KeyPair {
    /// Generates a fresh key from the OS random source.
    pub fn generate() -> Self {
        loop {
            let bytes: [u8; 32] = rand::random();
            // A random 32-byte string is a valid scalar except with
            // probability ~2^-32; retry in that case.
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                return KeyPair::from_secret(secret);
            }
        }
    }

    /// Reads a PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) PEM.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        if let Ok(secret) = p256::SecretKey::from_pkcs8_pem(pem) {
            return Ok(KeyPair::from_secret(secret));
        }
        p256::SecretKey::from_sec1_pem(pem).map(KeyPair::from_secret).map_err(|_| KeyError::Unsupported)
    }

    fn from_secret(secret: p256::SecretKey) -> Self {
        let public = secret.public_key();
        KeyPair { secret, public }
    }

    /// The private key as PKCS#8 PEM. Handle with care: never log it.
    pub fn private_key_pem(&self) -> String {
        self.secret
            .to_pkcs8_pem(LineEnding::LF)
            .map(|z| z.to_string())
            // Encoding a valid P-256 key into PKCS#8 cannot fail.
            .unwrap_or_default()
    }

    /// The private key as PKCS#8 DER.
    pub fn private_key_pkcs8_der(&self) -> Vec<u8> {
        self.secret.to_pkcs8_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The public key as PKIX (SubjectPublicKeyInfo) DER, as `teleport.join.v1` wants.
    pub fn public_key_pkix_der(&self) -> Vec<u8> {
        self.public.to_public_key_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The public key as PKIX PEM, as the legacy join and `GenerateUserCerts` want.
    pub fn public_key_pkix_pem(&self) -> String {
        self.public.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    /// The SSH public key.
    pub fn ssh_public_key(&self) -> ssh_key::PublicKey {
        let verifying = p256::ecdsa::VerifyingKey::from(self.public);
        ssh_key::PublicKey::new(KeyData::Ecdsa(EcdsaPublicKey::from(&verifying)), "")
    }

    /// The SSH public key as one authorized_keys line (no comment).
    pub fn ssh_authorized_key(&self) -> String {
        self.ssh_public_key().to_openssh().unwrap_or_default()
    }

    /// The SSH public key in SSH wire format.
    pub fn ssh_wire(&self) -> Vec<u8> {
        self.ssh_public_key().to_bytes().unwrap_or_default()
    }
}

/// Encodes an SSH public key from wire format into an authorized_keys line.
pub fn ssh_wire_to_authorized_key(wire: &[u8]) -> Option<String> {
    let key = ssh_key::PublicKey::from_bytes(wire).ok()?;
    key.to_openssh().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip() {
        let k = KeyPair::generate();
        let again = KeyPair::from_pem(&k.private_key_pem()).unwrap();
        assert_eq!(k.public_key_pkix_der(), again.public_key_pkix_der());
        assert!(k.ssh_authorized_key().starts_with("ecdsa-sha2-nistp256 "));
        let line = ssh_wire_to_authorized_key(&k.ssh_wire()).unwrap();
        assert_eq!(line, k.ssh_authorized_key());
        assert!(k.public_key_pkix_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
        assert!(format!("{k:?}").contains("ecdsa"));
    }
}
