//! Teleport's checks of an attested document, in Teleport's order: envelope, signature,
//! nonce, signer name, chain, validity and (optionally) freshness.

use std::time::Duration;

use rustls_pki_types::{CertificateDer, UnixTime};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::{AZURE_METADATA_HOSTS, AttestedData, AttestedDocument, AttestedError, RootStore};

/// Accepts any (well-formed) extended key usage, like Go's `x509.ExtKeyUsageAny`, which is
/// what Teleport's PKCS#7 library asks for when it verifies the chain.
struct AnyEku;

impl webpki::ExtendedKeyUsageValidator for AnyEku {
    fn validate(&self, iter: webpki::KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        for purpose in iter {
            purpose?;
        }
        Ok(())
    }
}

/// What a successful verification yields.
#[derive(Debug, Clone)]
pub struct VerifiedAttestation {
    /// The signed content.
    pub data: AttestedData,
    /// DER of the signer (leaf) certificate.
    pub signer_certificate: Vec<u8>,
}

/// Verifies attested documents the way Teleport's Auth server does.
#[derive(Debug, Clone)]
pub struct AttestedVerifier {
    roots: RootStore,
    metadata_hosts: Vec<String>,
    max_age: Option<Duration>,
}

impl AttestedVerifier {
    /// A verifier trusting `roots` (use [`RootStore::azure_default`] for real Azure) and the
    /// [`AZURE_METADATA_HOSTS`] signer names.
    pub fn new(roots: RootStore) -> Self {
        AttestedVerifier {
            roots,
            metadata_hosts: AZURE_METADATA_HOSTS.iter().map(|s| s.to_string()).collect(),
            max_age: None,
        }
    }

    /// Replaces the allowed signer host names (each also allows its subdomains).
    pub fn with_metadata_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.metadata_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Additionally requires the document's `timeStamp` to be valid: created at most
    /// `max_age` before `now` and not expired (both with 2 minutes of clock skew). Teleport
    /// does not check this; it is off by default.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Fully verifies an attested document.
    ///
    /// * `body`: the raw IMDS response, verbatim (the join request's `attested_data`);
    /// * `challenge`: the nonce the server issued; compared exactly;
    /// * `intermediates`: DER intermediates (from the join request, see
    ///   [`split_der_certificates`], or fetched); certificates embedded in the document are
    ///   used too;
    /// * `now`: the verification time for certificate validity.
    ///
    /// Order of checks (first failure wins): envelope and encoding, decoding, nonce,
    /// certificate presence, signer match, content signature, signer name, signer validity,
    /// chain to a root, then (if enabled) document freshness.
    pub fn verify(
        &self,
        body: &[u8],
        challenge: &str,
        intermediates: &[Vec<u8>],
        now: OffsetDateTime,
    ) -> Result<VerifiedAttestation, AttestedError> {
        let doc = AttestedDocument::parse(body)?;
        if challenge.is_empty() || doc.data.nonce != challenge {
            return Err(AttestedError::NonceMismatch);
        }
        let signer = doc.signer_certificate()?.to_vec();
        doc.verify_content_signature()?;
        self.check_signer_name(&signer)?;
        check_validity("signer", &signer, now)?;
        self.check_chain(&signer, &doc, intermediates, now)?;
        if let Some(max_age) = self.max_age {
            check_freshness(&doc.data, max_age, now)?;
        }
        Ok(VerifiedAttestation { data: doc.data, signer_certificate: signer })
    }

    fn check_signer_name(&self, der: &[u8]) -> Result<(), AttestedError> {
        let names = certificate_names(der)?;
        let ok = names.iter().any(|n| {
            let n = n.trim_end_matches('.').to_ascii_lowercase();
            self.metadata_hosts.iter().any(|h| {
                let h = h.trim_end_matches('.').to_ascii_lowercase();
                n == h || n.strip_suffix(&h).is_some_and(|p| p.ends_with('.') && p.len() > 1)
            })
        });
        if ok { Ok(()) } else { Err(AttestedError::SignerNotAzure { names, allowed: self.metadata_hosts.clone() }) }
    }

    fn check_chain(
        &self,
        leaf: &[u8],
        doc: &AttestedDocument,
        intermediates: &[Vec<u8>],
        now: OffsetDateTime,
    ) -> Result<(), AttestedError> {
        if self.roots.is_empty() {
            return Err(AttestedError::ChainUntrusted("no trusted roots are configured".to_string()));
        }
        let anchors: Vec<_> =
            self.roots.roots.iter().filter_map(|c| webpki::anchor_from_trusted_cert(c).ok()).collect();
        let inter: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|d| CertificateDer::from(d.as_slice()))
            .chain(
                doc.certificates().iter().filter(|d| d.as_slice() != leaf).map(|d| CertificateDer::from(d.as_slice())),
            )
            .collect();
        let leaf_der = CertificateDer::from(leaf);
        let ee = webpki::EndEntityCert::try_from(&leaf_der)
            .map_err(|e| AttestedError::ChainUntrusted(format!("signer certificate: {e:?}")))?;
        let secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        let time = UnixTime::since_unix_epoch(Duration::from_secs(secs));
        ee.verify_for_usage(webpki::ALL_VERIFICATION_ALGS, &anchors, &inter, time, AnyEku, None, None)
            .map(|_| ())
            .map_err(|e| match e {
                webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
                    AttestedError::Expired { now, detail: format!("a chain certificate: {e:?}") }
                }
                other => AttestedError::ChainUntrusted(format!("{other:?}")),
            })
    }
}

/// Subject CNs and SAN DNS names of a certificate.
fn certificate_names(der: &[u8]) -> Result<Vec<String>, AttestedError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| AttestedError::Undecodable(format!("signer certificate: {e}")))?;
    let mut names: Vec<String> =
        cert.subject().iter_common_name().filter_map(|cn| cn.as_str().ok().map(str::to_string)).collect();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for gn in &san.value.general_names {
            if let GeneralName::DNSName(d) = gn {
                names.push(d.to_string());
            }
        }
    }
    Ok(names)
}

fn check_validity(which: &str, der: &[u8], now: OffsetDateTime) -> Result<(), AttestedError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| AttestedError::Undecodable(format!("{which} certificate: {e}")))?;
    let nb = cert.validity().not_before.to_datetime();
    let na = cert.validity().not_after.to_datetime();
    if now < nb {
        return Err(AttestedError::Expired { now, detail: format!("{which} certificate is not valid before {nb}") });
    }
    if now > na {
        return Err(AttestedError::Expired { now, detail: format!("{which} certificate expired at {na}") });
    }
    Ok(())
}

fn check_freshness(data: &AttestedData, max_age: Duration, now: OffsetDateTime) -> Result<(), AttestedError> {
    let skew = time::Duration::minutes(2);
    let created = data.time_stamp.created_on().map_err(|e| AttestedError::Stale(e.to_string()))?;
    let expires = data.time_stamp.expires_on().map_err(|e| AttestedError::Stale(e.to_string()))?;
    if created > now + skew {
        return Err(AttestedError::Stale(format!("created in the future ({created})")));
    }
    if now - created > max_age + skew {
        return Err(AttestedError::Stale(format!("created at {created}, older than {max_age:?}")));
    }
    if now > expires + skew {
        return Err(AttestedError::Stale(format!("expired at {expires}")));
    }
    Ok(())
}
