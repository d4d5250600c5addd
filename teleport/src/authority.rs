//! What a certificate authority resource (`types.CertAuthorityV2`) holds that
//! a client needs: the certificates and public keys to trust.
//!
//! A CA keeps its current keys in `active_keys` and, during a rotation, the
//! keys still trusted in `additional_trusted_keys`; a client trusts both, as
//! Teleport's `services.GetTLSCerts` and tbot's CA files do.

use crate::proto::types::{CaKeySet, CertAuthorityV2};

/// Teleport's CA types that an identity output writes (`types.CertAuthType`).
pub mod ca_type {
    /// The host CA: signs the cluster's server certificates.
    pub const HOST: &str = "host";
    /// The user CA: signs user (and bot) certificates.
    pub const USER: &str = "user";
    /// The database CA: signs certificates databases present to Teleport.
    pub const DATABASE: &str = "db";
}

fn key_sets(ca: &CertAuthorityV2) -> impl Iterator<Item = &CaKeySet> {
    let spec = ca.spec.as_ref();
    spec.and_then(|s| s.active_keys.as_ref()).into_iter().chain(spec.and_then(|s| s.additional_trusted_keys.as_ref()))
}

/// The TLS certificates (PEM, as Teleport stores them) of `cas`, active first.
pub fn tls_certificates(cas: &[CertAuthorityV2]) -> Vec<&[u8]> {
    cas.iter()
        .flat_map(key_sets)
        .flat_map(|k| k.tls.iter())
        .map(|p| p.cert.as_slice())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The SSH public keys (authorized_keys lines) of `cas`, active first.
pub fn ssh_public_keys(cas: &[CertAuthorityV2]) -> Vec<&[u8]> {
    cas.iter()
        .flat_map(key_sets)
        .flat_map(|k| k.ssh.iter())
        .map(|p| p.public_key.as_slice())
        .filter(|k| !k.is_empty())
        .collect()
}

/// tbot's CA file: the TLS certificates of `cas` concatenated as they are
/// (`concatCACerts` in `lib/tbot`).
pub fn concat_tls_certificates(cas: &[CertAuthorityV2]) -> Vec<u8> {
    tls_certificates(cas).concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::types::{CertAuthoritySpecV2, SshKeyPair, TlsKeyPair};

    fn set(tls: &str, ssh: &str) -> CaKeySet {
        CaKeySet {
            tls: vec![TlsKeyPair { cert: tls.as_bytes().to_vec(), ..Default::default() }],
            ssh: vec![SshKeyPair { public_key: ssh.as_bytes().to_vec(), ..Default::default() }],
            jwt: vec![],
        }
    }

    #[test]
    fn trusts_active_and_additional_keys_in_that_order() {
        let ca = CertAuthorityV2 {
            spec: Some(CertAuthoritySpecV2 {
                active_keys: Some(set("A\n", "ssh-ed25519 a")),
                additional_trusted_keys: Some(set("B\n", "ssh-ed25519 b")),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(concat_tls_certificates(std::slice::from_ref(&ca)), b"A\nB\n");
        assert_eq!(ssh_public_keys(&[ca]), vec![b"ssh-ed25519 a".as_slice(), b"ssh-ed25519 b".as_slice()]);
        assert!(tls_certificates(&[CertAuthorityV2::default()]).is_empty());
    }
}
