//! The IMDS **attested data document**: parsing and verification.
//!
//! IMDS answers `GET /metadata/attested/document?nonce=N` with
//! `{"encoding":"pkcs7","signature":"<base64 DER PKCS#7 SignedData>"}`. The SignedData carries
//! the JSON content (`nonce`, `vmId`, `subscriptionId`, `timeStamp`, ...) attached, signed
//! by an Azure certificate whose name is a subdomain of `metadata.azure.com` (or a sovereign
//! cloud's equivalent). The verifier proves that the VM holding the challenge is the VM named
//! inside, which is why every step here mirrors what Teleport's Auth server does
//! (`lib/join/azurejoin/azure.go`), in the same order and, where Teleport has a fixed
//! wording, with the same error messages.
//!
//! Azure's document has quirks that off-the-shelf PKCS#7 verifiers reject, which is why the
//! signature check is done by hand here:
//! * the SignerInfo `digestAlgorithm` holds the **sha256WithRSAEncryption** OID
//!   (1.2.840.113549.1.1.11) instead of SHA-256; it is treated as SHA-256;
//! * there are **no signed attributes**: the RSA PKCS#1 v1.5 signature is directly over the
//!   eContent bytes (signed attributes are still handled, as Go's library would);
//! * only the **leaf** certificate is embedded, so the intermediates come from the caller
//!   (the join request's `intermediate` field, see [`split_der_certificates`], or
//!   [`crate::aia::AiaFetcher`]);
//! * the JSON key is `timeStamp` and dates look like `11/30/20 21:19:19 -0000`; like Go's
//!   decoder, keys are matched case-insensitively.
//!
//! The chain is built with `rustls-webpki` against a [`RootStore`]; by default the Azure CA
//! roots listed in Microsoft's "Azure Certificate Authority details" (embedded PEMs).
//!
//! One module per concern: [`data`] (the signed JSON), [`document`] (the PKCS#7 envelope and
//! its signature), [`roots`] (trust anchors), [`verifier`] (Teleport's checks in order).

use time::OffsetDateTime;

mod data;
mod document;
mod roots;
mod verifier;

pub use data::{AttestedData, Plan, TimeStamp, format_azure_date, parse_azure_date};
pub use document::{AttestedDocument, concat_der_certificates, split_der_certificates};
pub use roots::RootStore;
pub use verifier::{AttestedVerifier, VerifiedAttestation};

/// Host names an attested-data signer may be named after (it may also be a subdomain of
/// one): public Azure, Azure Government, Azure China and (legacy) Azure Germany.
pub const AZURE_METADATA_HOSTS: &[&str] =
    &["metadata.azure.com", "metadata.azure.us", "metadata.azure.cn", "metadata.microsoftazure.de"];

/// Everything that can make an attested document unacceptable. Display texts follow
/// Teleport's wording where Teleport has one.
#[derive(Debug, thiserror::Error)]
pub enum AttestedError {
    /// The body is not the `{"encoding","signature"}` JSON object IMDS returns.
    #[error("attested data is not an IMDS attested document: {0}")]
    MalformedEnvelope(String),
    /// `encoding` is something other than `pkcs7`.
    #[error("unsupported attested data encoding {0:?}, expected \"pkcs7\"")]
    BadEncoding(String),
    /// The signature is not base64 of a PKCS#7 SignedData we can read.
    #[error("unable to decode attested data document: {0}")]
    Undecodable(String),
    /// The signed content is not the JSON object IMDS signs.
    #[error("unable to parse attested data content: {0}")]
    BadContent(String),
    /// The signed nonce differs from the challenge the server issued.
    #[error("challenge is missing or does not match")]
    NonceMismatch,
    /// The SignedData embeds no certificate.
    #[error("attested data document contains no certificates")]
    NoCertificate,
    /// A digest or signature algorithm other than RSA with SHA-256.
    #[error("unsupported algorithm in attested data signature: {0}")]
    UnsupportedAlgorithm(String),
    /// No embedded certificate matches the SignerInfo's issuer+serial / key identifier.
    #[error("no embedded certificate matches the attested data signer")]
    SignerNotFound,
    /// The RSA signature over the content does not verify with the signer's key.
    #[error("attested data signature is invalid: {0}")]
    SignatureInvalid(String),
    /// The signer certificate is not named after an Azure metadata host.
    #[error(
        "attested data signer certificate (names {names:?}) is not an Azure metadata certificate; expected a subdomain of one of {allowed:?}"
    )]
    SignerNotAzure {
        /// Subject CN and SAN DNS names found in the signer certificate.
        names: Vec<String>,
        /// The allowed metadata hosts.
        allowed: Vec<String>,
    },
    /// The signer certificate (or a chain certificate) is not valid at the verification time.
    #[error("attested data signer certificate is expired or not yet valid at {now}: {detail}")]
    Expired {
        /// The verification time.
        now: OffsetDateTime,
        /// Which certificate and which bound.
        detail: String,
    },
    /// The signer certificate does not chain to a trusted root through the intermediates.
    #[error("attested data signer certificate does not chain to a trusted Azure root: {0}")]
    ChainUntrusted(String),
    /// The document's own `timeStamp` window excludes the verification time (only checked
    /// when [`AttestedVerifier::with_max_age`] is set; Teleport does not check it).
    #[error("attested data document is stale: {0}")]
    Stale(String),
    /// The intermediates supplied with the join request are not concatenated DER certificates.
    #[error("invalid intermediate certificates: {0}")]
    BadIntermediates(String),
    /// A root certificate given to [`RootStore`] cannot be used.
    #[error("invalid root certificate: {0}")]
    BadRoot(String),
}
