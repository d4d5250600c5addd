//! The emulator's side: producing what Azure produces, byte-for-byte in shape.
//!
//! The devstack stands in for Azure, so it must sign attested documents and issue
//! managed-identity tokens that real verifiers (Teleport's, and `joinery_azure::attested` /
//! `joinery_azure::jwt`) accept, and that carry the same quirks real ones do, or the tests
//! would prove nothing about interop:
//!
//! * [`EmulatorPki`] ([`pki`]): a root CA → intermediate CA → RSA-2048 leaf named
//!   `*.metadata.azure.com` (CN and SAN), whose AIA `caIssuers` URL points where the caller
//!   serves the intermediate — the shape of Azure's own chain, under a private root;
//! * [`AttestedSigner`] ([`attested`]): PKCS#7 SignedData v1 with the JSON attached as
//!   `id-data`, only the leaf embedded, **no signed attributes**, the digestAlgorithm set to
//!   the **sha256WithRSAEncryption** OID (Azure's quirk) and an RSA PKCS#1 v1.5 SHA-256
//!   signature over the content; wrapped as `{"encoding":"pkcs7","signature":"<base64>"}`;
//! * [`TokenIssuer`] ([`tokens`]): RS256 JWTs with the v1 claim set of an ARM managed-identity
//!   token, the JWKS and the OIDC discovery document that verify them, and the IMDS token
//!   response with its numbers-as-strings.
//!
//! RSA keys are generated with aws-lc-rs (through rcgen), which is fast; the `rsa` crate is
//! used for the PKCS#7 signature and key conversions. Private keys never appear in `Debug`.
//!
//! Only the devstack and its tests link this: no shipped binary carries the emulator's
//! signing code.

pub mod attested;
pub mod pki;
pub mod tokens;

use std::fmt;

pub use attested::{AttestedSigner, attested_body};
pub use pki::{EmulatorPki, EmulatorPkiConfig};
pub use tokens::{
    ManagedIdentityTokenSpec, TokenIssuer, imds_token_response, jwks, jwks_v2, managed_identity_claims,
    openid_configuration, openid_configuration_v2, v2_issuer,
};

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

pub(crate) fn cert_err(e: impl fmt::Display) -> SignError {
    SignError::Certificate(e.to_string())
}
pub(crate) fn enc_err(e: impl fmt::Display) -> SignError {
    SignError::Encoding(e.to_string())
}

/// Generates an RSA-2048 key, returned as PKCS#8 DER.
pub fn generate_rsa_key_pkcs8() -> Result<Vec<u8>, SignError> {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(cert_err)?;
    Ok(kp.serialize_der())
}
