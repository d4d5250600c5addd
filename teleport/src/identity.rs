//! Teleport identities: the identity file format and what a certificate says.
//!
//! An identity file (`tctl auth sign --format=file`, tbot's `identity`
//! output) is concatenated text in a fixed order: the private key PEM, the
//! SSH certificate line, the TLS certificate PEM, `@cert-authority` lines for
//! the SSH CAs, then the TLS CA PEMs. Teleport's parser goes by shape rather
//! than position for the SSH parts, and so do we.

use std::time::SystemTime;

use x509_parser::prelude::*;

/// Teleport's X.509 subject OIDs (`lib/tlsca/ca.go`).
pub mod oid {
    /// Renewable = "true" (token-joined bots only).
    pub const RENEWABLE: &str = "1.3.9999.1.13";
    /// Certificate generation counter, decimal.
    pub const GENERATION: &str = "1.3.9999.1.14";
    /// Cluster the identity belongs to.
    pub const TELEPORT_CLUSTER: &str = "1.3.9999.1.7";
    /// Bot name.
    pub const BOT_NAME: &str = "1.3.9999.2.18";
    /// Bot instance id.
    pub const BOT_INSTANCE_ID: &str = "1.3.9999.2.20";
    /// Join attributes (protojson).
    pub const JOIN_ATTRIBUTES: &str = "1.3.9999.2.21";
}

/// An identity file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// No PEM private key at the start.
    #[error("identity file has no private key")]
    MissingKey,
    /// No SSH certificate line.
    #[error("identity file has no SSH certificate")]
    MissingSshCert,
    /// No TLS certificate PEM after the key.
    #[error("identity file has no TLS certificate")]
    MissingTlsCert,
    /// A PEM block did not end.
    #[error("identity file has an unterminated PEM block ({0})")]
    UnterminatedPem(String),
    /// The TLS certificate is not X.509.
    #[error("TLS certificate is not a valid X.509 certificate: {0}")]
    BadCertificate(String),
}

/// A Teleport identity: a key with its SSH and TLS certificates and the CAs
/// that vouch for the cluster.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// Private key PEM. Never log it.
    pub private_key_pem: String,
    /// SSH certificate, one authorized_keys line without newline.
    pub ssh_cert: String,
    /// TLS client certificate PEM.
    pub tls_cert_pem: String,
    /// SSH CA lines in known_hosts format (`@cert-authority ...`).
    pub ssh_ca_lines: Vec<String>,
    /// TLS CA certificates PEM, one per entry.
    pub tls_ca_pems: Vec<String>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

impl Identity {
    /// Parses Teleport's identity file format.
    pub fn parse(text: &str) -> Result<Self, IdentityError> {
        let mut pems: Vec<String> = Vec::new();
        let mut ssh_cert = None;
        let mut ssh_ca_lines = Vec::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let trimmed = line.trim();
            if trimmed.starts_with("-----BEGIN ") {
                let label = trimmed.trim_start_matches("-----BEGIN ").trim_end_matches("-----").to_string();
                let mut block = String::from(trimmed);
                block.push('\n');
                let mut ended = false;
                for inner in lines.by_ref() {
                    let inner = inner.trim();
                    block.push_str(inner);
                    block.push('\n');
                    if inner.starts_with("-----END ") {
                        ended = true;
                        break;
                    }
                }
                if !ended {
                    return Err(IdentityError::UnterminatedPem(label));
                }
                pems.push(block);
            } else if trimmed.starts_with("@cert-authority") {
                ssh_ca_lines.push(trimmed.to_string());
            } else if trimmed.split_whitespace().next().is_some_and(|t| t.ends_with("-cert-v01@openssh.com")) {
                ssh_cert = Some(trimmed.to_string());
            }
        }
        let mut pems = pems.into_iter();
        let private_key_pem = pems.next().ok_or(IdentityError::MissingKey)?;
        if !private_key_pem.contains("PRIVATE KEY") {
            return Err(IdentityError::MissingKey);
        }
        let tls_cert_pem = pems.next().ok_or(IdentityError::MissingTlsCert)?;
        let ssh_cert = ssh_cert.ok_or(IdentityError::MissingSshCert)?;
        let identity = Identity { private_key_pem, ssh_cert, tls_cert_pem, ssh_ca_lines, tls_ca_pems: pems.collect() };
        identity.tls_info()?;
        Ok(identity)
    }

    /// Encodes in Teleport's identity file order.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        push_block(&mut out, &self.private_key_pem);
        push_block(&mut out, &self.ssh_cert);
        push_block(&mut out, &self.tls_cert_pem);
        for line in &self.ssh_ca_lines {
            push_block(&mut out, line);
        }
        for pem in &self.tls_ca_pems {
            push_block(&mut out, pem);
        }
        out
    }

    /// What the TLS certificate says about this identity.
    pub fn tls_info(&self) -> Result<CertInfo, IdentityError> {
        CertInfo::from_pem(&self.tls_cert_pem)
    }
}

fn push_block(out: &mut String, block: &str) {
    out.push_str(block.trim_end());
    out.push('\n');
}

/// The Teleport identity encoded in an X.509 certificate's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject CN: the Teleport user (`bot-<name>` for bots).
    pub username: String,
    /// Subject O values: the roles.
    pub roles: Vec<String>,
    /// Issuer O: the cluster name (how tbot reads it).
    pub cluster_name: String,
    /// Bot name, when the certificate is a bot's.
    pub bot_name: Option<String>,
    /// Bot instance id, when present.
    pub bot_instance_id: Option<String>,
    /// Certificate generation, when present.
    pub generation: Option<u64>,
    /// Whether the certificate may be renewed with `GenerateUserCerts`.
    pub renewable: bool,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
}

impl CertInfo {
    /// Reads a PEM certificate.
    pub fn from_pem(pem: &str) -> Result<Self, IdentityError> {
        let der = pem_to_der(pem).ok_or_else(|| IdentityError::BadCertificate("not PEM".into()))?;
        Self::from_der(&der)
    }

    /// Reads a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, IdentityError> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| IdentityError::BadCertificate(e.to_string()))?;
        let subject = cert.subject();
        let mut info = CertInfo {
            username: String::new(),
            roles: Vec::new(),
            cluster_name: cert
                .issuer()
                .iter_organization()
                .next()
                .and_then(|a| a.as_str().ok())
                .unwrap_or_default()
                .to_string(),
            bot_name: None,
            bot_instance_id: None,
            generation: None,
            renewable: false,
            not_before: to_system_time(cert.validity().not_before),
            not_after: to_system_time(cert.validity().not_after),
        };
        for rdn in subject.iter() {
            for attr in rdn.iter() {
                let Ok(value) = attr.as_str() else { continue };
                let oid = attr.attr_type().to_id_string();
                match oid.as_str() {
                    "2.5.4.3" => info.username = value.to_string(),
                    "2.5.4.10" => info.roles.push(value.to_string()),
                    oid::BOT_NAME => info.bot_name = Some(value.to_string()),
                    oid::BOT_INSTANCE_ID => info.bot_instance_id = Some(value.to_string()),
                    oid::GENERATION => info.generation = value.parse().ok(),
                    oid::RENEWABLE => info.renewable = value == "true",
                    _ => {}
                }
            }
        }
        Ok(info)
    }

    /// Whether the certificate has expired at `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        now >= self.not_after
    }
}

fn to_system_time(t: ASN1Time) -> SystemTime {
    let secs = t.timestamp();
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64)
    } else {
        SystemTime::UNIX_EPOCH
    }
}

/// Decodes the first PEM block of `pem` into DER.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let mut reader = std::io::Cursor::new(pem.as_bytes());
    match rustls_pemfile::read_one(&mut reader).ok()?? {
        rustls_pemfile::Item::X509Certificate(der) => Some(der.to_vec()),
        _ => None,
    }
}

/// Decodes every `CERTIFICATE` PEM block in `pem`.
pub fn pem_certs_to_der(pem: &str) -> Vec<Vec<u8>> {
    let mut reader = std::io::Cursor::new(pem.as_bytes());
    rustls_pemfile::certs(&mut reader).filter_map(|c| c.ok()).map(|c| c.to_vec()).collect()
}

/// Encodes DER as a `CERTIFICATE` PEM block.
pub fn der_to_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // base64 output is ASCII.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Teleport's CA pin format: `sha256:<hex of the SubjectPublicKeyInfo DER>`.
pub fn ca_pin(cert_der: &[u8]) -> Result<String, IdentityError> {
    use sha2::Digest;
    let (_, cert) = X509Certificate::from_der(cert_der).map_err(|e| IdentityError::BadCertificate(e.to_string()))?;
    let spki = cert.tbs_certificate.subject_pki.raw;
    Ok(format!("sha256:{}", hex::encode(sha2::Sha256::digest(spki))))
}
