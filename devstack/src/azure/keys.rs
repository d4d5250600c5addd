//! The emulator's key material, persisted in `DIR/azure/` so a restart keeps it:
//!
//! * `attestation.json`: the attested-document PKI (root, intermediate, leaf and the leaf's
//!   key). The leaf's AIA URL names the IMDS listener's port, so if that port cannot be
//!   reused the PKI is regenerated (agents do not pin it; the verifier reloads it).
//! * `token-signing-key.der`: the RSA key Entra tokens are signed with (PKCS#8).
//! * `client-certificate.pfx` / `.password` / `.pem`: a certificate registered on the first
//!   service principal, its PKCS#12 bundle (key and certificate) and the bundle's password —
//!   what a pipeline signing in with azurerm's `client_certificate_path` holds.
//! * `tls-ca.pem` / `tls-ca-key.pem`: the CA of the emulator's HTTPS endpoints; the CA
//!   certificate is what `devstack.json` names as `azure.ca_file`. The server certificate is
//!   reissued at each start for `127.0.0.1` and `localhost`.

use std::path::{Path, PathBuf};

use crate::azure::sign::{AttestedSigner, EmulatorPki, EmulatorPkiConfig, TokenIssuer, generate_rsa_key_pkcs8};
use anyhow::{Context, Result};
use base64::Engine as _;
use joinery_util::fs::{SECRET_FILE_MODE, write_atomic};
use serde::{Deserialize, Serialize};

/// The attested-document PKI as persisted.
#[derive(Clone, Serialize, Deserialize)]
pub struct AttestationPki {
    /// AIA URL the leaf names.
    pub aia_url: String,
    root: String,
    intermediate: String,
    leaf: String,
    leaf_key: String,
}

fn b64(d: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(d)
}

fn unb64(s: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).context("invalid base64 in attestation.json")
}

impl AttestationPki {
    /// Loads `dir/attestation.json` if its leaf names `aia_url`, else generates a new PKI.
    pub fn load_or_create(dir: &Path, aia_url: &str) -> Result<Self> {
        let path = dir.join("attestation.json");
        if let Ok(bytes) = std::fs::read(&path) {
            let pki: AttestationPki =
                serde_json::from_slice(&bytes).with_context(|| format!("invalid {}", path.display()))?;
            if pki.aia_url == aia_url {
                return Ok(pki);
            }
            tracing::warn!(old = %pki.aia_url, new = %aia_url, "IMDS port changed: regenerating the attestation PKI");
        }
        let pki =
            EmulatorPki::generate(&EmulatorPkiConfig { leaf_aia_url: Some(aia_url.to_string()), ..Default::default() })
                .context("cannot generate the attestation PKI")?;
        let out = AttestationPki {
            aia_url: aia_url.to_string(),
            root: b64(pki.root_der()),
            intermediate: b64(pki.intermediate_der()),
            leaf: b64(pki.leaf_der()),
            leaf_key: b64(pki.leaf_key_pkcs8_der()),
        };
        write_atomic(&path, &serde_json::to_vec_pretty(&out)?, SECRET_FILE_MODE)?;
        Ok(out)
    }

    /// Root certificate, DER.
    pub fn root_der(&self) -> Result<Vec<u8>> {
        unb64(&self.root)
    }

    /// Intermediate certificate, DER (served at the AIA URL).
    pub fn intermediate_der(&self) -> Result<Vec<u8>> {
        unb64(&self.intermediate)
    }

    /// The signer of attested documents.
    pub fn signer(&self) -> Result<AttestedSigner> {
        AttestedSigner::from_pkcs8(&unb64(&self.leaf)?, &unb64(&self.leaf_key)?).context("unusable attestation key")
    }
}

/// Loads or creates the token signing key.
pub fn token_issuer(dir: &Path) -> Result<TokenIssuer> {
    let path = dir.join("token-signing-key.der");
    let key = match std::fs::read(&path) {
        Ok(k) => k,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let k = generate_rsa_key_pkcs8().context("cannot generate the token signing key")?;
            write_atomic(&path, &k, SECRET_FILE_MODE)?;
            k
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    TokenIssuer::from_pkcs8(&key, None).with_context(|| format!("invalid {}", path.display()))
}

/// The devstack's client certificate for the first service principal, as files.
pub struct ClientCertificateFiles {
    /// The PKCS#12 bundle (0600).
    pub pfx: PathBuf,
    /// Its password.
    pub password: String,
    /// The certificate, PEM: what is registered on the app.
    pub certificate_pem: String,
}

impl ClientCertificateFiles {
    /// Loads the certificate in `dir`, or creates one (RSA 2048, valid two years) when there is
    /// none or it is no longer valid.
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        let pfx = dir.join("client-certificate.pfx");
        let password_file = dir.join("client-certificate.password");
        let pem_file = dir.join("client-certificate.pem");
        if let (Ok(bundle), Ok(password), Ok(certificate_pem)) =
            (std::fs::read(&pfx), std::fs::read_to_string(&password_file), std::fs::read_to_string(&pem_file))
        {
            let valid = joinery_azure::credential::ClientCertificate::from_pkcs12(
                &bundle,
                password.trim(),
                std::time::SystemTime::now() + std::time::Duration::from_secs(86400),
            );
            match valid {
                Ok(_) => {
                    return Ok(ClientCertificateFiles { pfx, password: password.trim().to_string(), certificate_pem });
                }
                Err(e) => tracing::warn!(file = %pfx.display(), error = %e, "regenerating the client certificate"),
            }
        }
        let key_der = generate_rsa_key_pkcs8().context("cannot generate the client certificate key")?;
        let key = rcgen::KeyPair::try_from(key_der.as_slice()).context("client certificate key")?;
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name.push(rcgen::DnType::CommonName, "joinery-provider (devstack)");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(730);
        let cert = params.self_signed(&key).context("cannot create the client certificate")?;
        let password = hex::encode(rand::random::<[u8; 12]>());
        let bundle = joinery_azure::credential::pkcs12_bundle(cert.der(), &key_der, &password)
            .context("cannot write the client certificate bundle")?;
        write_atomic(&pfx, &bundle, SECRET_FILE_MODE)?;
        write_atomic(&password_file, password.as_bytes(), SECRET_FILE_MODE)?;
        write_atomic(&pem_file, cert.pem().as_bytes(), 0o644)?;
        Ok(ClientCertificateFiles { pfx, password, certificate_pem: cert.pem() })
    }
}

/// The HTTPS CA and a server configuration signed by it.
pub struct TlsMaterial {
    /// Path of the CA certificate (PEM).
    pub ca_file: PathBuf,
    /// Server configuration for the HTTPS listeners.
    pub server_config: std::sync::Arc<rustls::ServerConfig>,
}

/// Loads or creates the HTTPS CA and issues a fresh server certificate.
pub fn tls_material(dir: &Path) -> Result<TlsMaterial> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let ca_file = dir.join("tls-ca.pem");
    let key_file = dir.join("tls-ca-key.pem");
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name.push(DnType::CommonName, "Joinery Devstack Azure HTTPS CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = match (std::fs::read_to_string(&key_file), std::fs::read_to_string(&ca_file)) {
        (Ok(k), Ok(_)) => KeyPair::from_pem(&k).with_context(|| format!("invalid {}", key_file.display()))?,
        _ => {
            let k = KeyPair::generate().context("cannot generate the HTTPS CA key")?;
            let now = time::OffsetDateTime::now_utc();
            ca_params.not_before = now - time::Duration::days(1);
            ca_params.not_after = now + time::Duration::days(3650);
            let cert = ca_params.self_signed(&k).context("cannot create the HTTPS CA")?;
            write_atomic(&key_file, k.serialize_pem().as_bytes(), SECRET_FILE_MODE)?;
            write_atomic(&ca_file, cert.pem().as_bytes(), 0o644)?;
            k
        }
    };
    let ca_pem = std::fs::read_to_string(&ca_file)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, &ca_key).context("invalid HTTPS CA certificate")?;
    let server_key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
    params.distinguished_name.push(DnType::CommonName, "joinery devstack azure");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(365);
    let cert = params.signed_by(&server_key, &issuer)?;
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsMaterial { ca_file, server_config: std::sync::Arc::new(config) })
}
