//! The cluster's certificate authorities.
//!
//! Like Teleport, the devstack keeps a host CA (TLS: signs the server
//! certificate clients check; SSH: signs host certificates), a user CA (TLS:
//! signs client certificates the server checks; SSH: signs user
//! certificates) and a database CA (TLS only). They are generated on first
//! start and kept in `DIR/ca/` (0600 files in a 0700 directory), so a
//! restart keeps every identity issued before it valid; a state directory
//! from before the database CA gets one at its next start.
//!
//! [`Authority::cert_authority`] shows each as Teleport's `CertAuthorityV2`
//! resource without its private keys, as `teleport.trust.v1` serves it.
//! Teleport's other CA types (`db_client`, `openssh`, `jwt`, `saml_idp`,
//! `oidc_idp`, `spiffe`, `okta`, …) are not kept: the devstack answers for
//! them as for a CA that does not exist.

use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use joinery_teleport::identity::oid;
use joinery_teleport::proto::types::{
    CaKeySet, CertAuthoritySpecV2, CertAuthorityV2, Metadata, PrivateKeyType, SshKeyPair, TlsKeyPair,
};
use joinery_util::fs::{SECRET_FILE_MODE, ensure_private_dir, write_atomic};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, SubjectPublicKeyInfo,
};
use sha2::Digest;
use ssh_key::certificate::{Builder as SshCertBuilder, CertType};
use ssh_key::private::Ed25519Keypair;

/// Teleport's SSH certificate extension naming the roles.
const SSH_EXT_ROLES: &str = "teleport-roles";
/// Teleport's SSH certificate extension naming the cluster to route to.
const SSH_EXT_ROUTE: &str = "teleport-route-to-cluster";

/// One X.509 CA: its certificate and key.
struct TlsCa {
    cert_der: Vec<u8>,
    cert_pem: String,
    key: KeyPair,
}

impl TlsCa {
    fn issuer(&self) -> Result<Issuer<'_, &KeyPair>> {
        Ok(Issuer::from_ca_cert_der(&self.cert_der.clone().into(), &self.key)?)
    }
}

/// The cluster CAs.
pub struct Authority {
    cluster_name: String,
    tls_host: TlsCa,
    tls_user: TlsCa,
    tls_db: TlsCa,
    ssh_user: ssh_key::PrivateKey,
    ssh_host: ssh_key::PrivateKey,
}

/// Who a user certificate is for.
#[derive(Debug, Clone)]
pub struct UserCertRequest {
    /// Teleport user (`bot-<name>` for bots).
    pub username: String,
    /// Roles encoded in the certificate.
    pub roles: Vec<String>,
    /// SSH logins.
    pub logins: Vec<String>,
    /// Bot name, for bot certificates.
    pub bot_name: Option<String>,
    /// Bot instance id.
    pub bot_instance_id: Option<String>,
    /// Generation counter.
    pub generation: Option<u64>,
    /// Whether `GenerateUserCerts` may renew it.
    pub renewable: bool,
    /// Validity.
    pub ttl: Duration,
}

/// Certificates issued to a user, in DER and SSH wire formats.
pub struct IssuedCerts {
    /// TLS certificate, DER.
    pub tls_der: Vec<u8>,
    /// SSH certificate, wire format.
    pub ssh_wire: Vec<u8>,
    /// SSH certificate, authorized_keys line.
    pub ssh_line: String,
}

impl Authority {
    /// Loads the CAs from `dir/ca`, creating them on first start for
    /// `cluster_name`. A loaded authority keeps the name it was created with.
    pub fn load_or_create(dir: &Path, cluster_name: &str) -> Result<Self> {
        let ca_dir = dir.join("ca");
        if ca_dir.join("tls-user.key").exists() {
            return Self::load(&ca_dir);
        }
        ensure_private_dir(&ca_dir)?;
        let tls_host = new_tls_ca(cluster_name, "host")?;
        let tls_user = new_tls_ca(cluster_name, "user")?;
        let tls_db = new_tls_ca(cluster_name, "db")?;
        let ssh_user = new_ssh_ca()?;
        let ssh_host = new_ssh_ca()?;
        for (name, ca) in [("tls-host", &tls_host), ("tls-user", &tls_user), ("tls-db", &tls_db)] {
            save_tls_ca(&ca_dir, name, ca)?;
        }
        for (name, key) in [("ssh-user", &ssh_user), ("ssh-host", &ssh_host)] {
            let pem = key.to_openssh(ssh_key::LineEnding::LF)?;
            write_atomic(&ca_dir.join(format!("{name}.key")), pem.as_bytes(), SECRET_FILE_MODE)?;
        }
        Ok(Authority { cluster_name: cluster_name.to_string(), tls_host, tls_user, tls_db, ssh_user, ssh_host })
    }

    fn load(ca_dir: &Path) -> Result<Self> {
        let read = |name: &str| {
            let p = ca_dir.join(name);
            std::fs::read_to_string(&p).with_context(|| format!("cannot read CA file {}", p.display()))
        };
        let tls = |name: &str| -> Result<TlsCa> {
            let cert_pem = read(&format!("{name}.crt"))?;
            let key = KeyPair::from_pem(&read(&format!("{name}.key"))?)
                .with_context(|| format!("CA key {}/{name}.key is corrupt", ca_dir.display()))?;
            let cert_der = joinery_teleport::identity::pem_to_der(&cert_pem)
                .with_context(|| format!("CA certificate {}/{name}.crt is corrupt", ca_dir.display()))?;
            Ok(TlsCa { cert_der, cert_pem, key })
        };
        let ssh = |name: &str| -> Result<ssh_key::PrivateKey> {
            ssh_key::PrivateKey::from_openssh(read(&format!("{name}.key"))?)
                .with_context(|| format!("SSH CA key {}/{name}.key is corrupt", ca_dir.display()))
        };
        let tls_host = tls("tls-host")?;
        let cluster_name = joinery_teleport::CertInfo::from_der(&tls_host.cert_der)
            .map(|i| i.cluster_name)
            .with_context(|| format!("CA certificate {}/tls-host.crt is corrupt", ca_dir.display()))?;
        // State directories from before the database CA get one now.
        let tls_db = if ca_dir.join("tls-db.key").exists() {
            tls("tls-db")?
        } else {
            let ca = new_tls_ca(&cluster_name, "db")?;
            save_tls_ca(ca_dir, "tls-db", &ca)?;
            ca
        };
        Ok(Authority {
            cluster_name,
            tls_host,
            tls_user: tls("tls-user")?,
            tls_db,
            ssh_user: ssh("ssh-user")?,
            ssh_host: ssh("ssh-host")?,
        })
    }

    /// The CA of `ca_type` (`host`, `user`, `db`) as Teleport's resource,
    /// without private keys; `None` for a type the devstack does not keep.
    pub fn cert_authority(&self, ca_type: &str) -> Option<CertAuthorityV2> {
        use joinery_teleport::authority::ca_type as t;
        let (tls, ssh) = match ca_type {
            t::HOST => (&self.tls_host, Some(&self.ssh_host)),
            t::USER => (&self.tls_user, Some(&self.ssh_user)),
            t::DATABASE => (&self.tls_db, None),
            _ => return None,
        };
        // Teleport stores an SSH CA key as an authorized_keys line (`ssh.MarshalAuthorizedKey`).
        let ssh = ssh.map(|k| SshKeyPair {
            public_key: format!("{}\n", k.public_key().to_openssh().unwrap_or_default()).into_bytes(),
            private_key: Vec::new(),
            private_key_type: PrivateKeyType::Raw as i32,
        });
        let tls = TlsKeyPair {
            cert: tls.cert_pem.clone().into_bytes(),
            key: Vec::new(),
            key_type: PrivateKeyType::Raw as i32,
        };
        // A revision that changes only with the keys (they never rotate here).
        let digest = sha2::Sha256::digest(&tls.cert);
        let revision = uuid::Uuid::from_slice(&digest[..16]).map(|u| u.to_string()).unwrap_or_default();
        Some(CertAuthorityV2 {
            kind: "cert_authority".into(),
            sub_kind: ca_type.into(),
            version: "v2".into(),
            metadata: Some(Metadata {
                name: self.cluster_name.clone(),
                namespace: "default".into(),
                revision,
                ..Default::default()
            }),
            spec: Some(CertAuthoritySpecV2 {
                r#type: ca_type.into(),
                cluster_name: self.cluster_name.clone(),
                active_keys: Some(CaKeySet { ssh: ssh.into_iter().collect(), tls: vec![tls], jwt: Vec::new() }),
                additional_trusted_keys: Some(CaKeySet::default()),
                ..Default::default()
            }),
        })
    }

    /// The cluster name.
    pub fn cluster_name(&self) -> &str {
        &self.cluster_name
    }

    /// The TLS host CA certificate (what clients trust), DER.
    pub fn tls_host_ca_der(&self) -> &[u8] {
        &self.tls_host.cert_der
    }

    /// PEM of the TLS CAs clients need: the host CA.
    pub fn tls_host_ca_pem(&self) -> &str {
        &self.tls_host.cert_pem
    }

    /// The TLS user CA (what the server checks client certificates with), DER.
    pub fn tls_user_ca_der(&self) -> &[u8] {
        &self.tls_user.cert_der
    }

    /// The SSH host CA public key, authorized_keys format.
    pub fn ssh_host_ca_authorized_key(&self) -> String {
        self.ssh_host.public_key().to_openssh().unwrap_or_default()
    }

    /// The SSH host CA public key, wire format.
    pub fn ssh_host_ca_wire(&self) -> Vec<u8> {
        self.ssh_host.public_key().to_bytes().unwrap_or_default()
    }

    /// Issues the Auth server's TLS certificate (`teleport.cluster.local`,
    /// `localhost`, 127.0.0.1) and returns (cert DER, key PKCS#8 DER).
    pub fn issue_server_cert(&self) -> Result<(Vec<u8>, Vec<u8>)> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(vec![
            joinery_teleport::tls::API_DOMAIN.to_string(),
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])?;
        params.distinguished_name.push(DnType::CommonName, "auth");
        params.distinguished_name.push(DnType::OrganizationName, "Auth");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        let now = SystemTime::now();
        params.not_before = (now - Duration::from_secs(60)).into();
        params.not_after = (now + Duration::from_secs(365 * 24 * 3600)).into();
        let cert = params.signed_by(&key, &self.tls_host.issuer()?)?;
        Ok((cert.der().to_vec(), key.serialize_der()))
    }

    /// Issues a user's TLS and SSH certificates for `tls_public_key_der`
    /// (PKIX) and `ssh_public_key`.
    pub fn issue_user(
        &self,
        req: &UserCertRequest,
        tls_public_key_der: Option<&[u8]>,
        ssh_public_key: Option<&ssh_key::PublicKey>,
    ) -> Result<IssuedCerts> {
        let now = SystemTime::now();
        let not_after = now + req.ttl;
        let tls_der = match tls_public_key_der {
            Some(der) => {
                let spki = SubjectPublicKeyInfo::from_der(der).context("TLS public key is not a PKIX key")?;
                let mut params = CertificateParams::default();
                params.distinguished_name.push(DnType::CommonName, req.username.clone());
                for role in &req.roles {
                    params.distinguished_name.push(DnType::OrganizationName, role.clone());
                }
                for login in &req.logins {
                    params.distinguished_name.push(DnType::LocalityName, login.clone());
                }
                params.distinguished_name.push(custom(oid::TELEPORT_CLUSTER), self.cluster_name.clone());
                if req.renewable {
                    params.distinguished_name.push(custom(oid::RENEWABLE), "true");
                }
                if let Some(g) = req.generation {
                    params.distinguished_name.push(custom(oid::GENERATION), g.to_string());
                }
                if let Some(b) = &req.bot_name {
                    params.distinguished_name.push(custom(oid::BOT_NAME), b.clone());
                }
                if let Some(i) = &req.bot_instance_id {
                    params.distinguished_name.push(custom(oid::BOT_INSTANCE_ID), i.clone());
                }
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
                params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
                params.not_before = (now - Duration::from_secs(60)).into();
                params.not_after = not_after.into();
                params.serial_number = Some(rand::random::<[u8; 16]>().to_vec().into());
                Some(params.signed_by(&spki, &self.tls_user.issuer()?)?.der().to_vec())
            }
            None => None,
        };
        let (ssh_wire, ssh_line) = match ssh_public_key {
            Some(pk) => {
                let secs = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
                let nonce: [u8; 32] = rand::random();
                let mut b =
                    SshCertBuilder::new(nonce.to_vec(), pk.key_data().clone(), secs(now) - 60, secs(not_after))?;
                b.serial(rand::random())?;
                b.cert_type(CertType::User)?;
                b.key_id(req.username.clone())?;
                for login in &req.logins {
                    b.valid_principal(login.clone())?;
                }
                b.valid_principal("-teleport-internal-join")?;
                b.extension("permit-agent-forwarding", "")?;
                b.extension("permit-port-forwarding", "")?;
                b.extension("permit-pty", "")?;
                b.extension(SSH_EXT_ROLES, serde_json::json!({"version": "v1", "roles": req.roles}).to_string())?;
                b.extension(SSH_EXT_ROUTE, self.cluster_name.clone())?;
                let cert = b.sign(&self.ssh_user)?;
                (cert.to_bytes()?, cert.to_openssh()?)
            }
            None => (Vec::new(), String::new()),
        };
        Ok(IssuedCerts { tls_der: tls_der.unwrap_or_default(), ssh_wire, ssh_line })
    }
}

fn custom(oid: &str) -> DnType {
    DnType::CustomDnType(oid.split('.').filter_map(|p| p.parse().ok()).collect())
}

fn new_tls_ca(cluster_name: &str, kind: &str) -> Result<TlsCa> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, cluster_name);
    params.distinguished_name.push(DnType::OrganizationName, cluster_name);
    params.distinguished_name.push(DnType::OrganizationalUnitName, format!("{kind} CA"));
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let now = SystemTime::now();
    params.not_before = (now - Duration::from_secs(60)).into();
    params.not_after = (now + Duration::from_secs(10 * 365 * 24 * 3600)).into();
    let cert = params.self_signed(&key)?;
    Ok(TlsCa { cert_der: cert.der().to_vec(), cert_pem: cert.pem(), key })
}

fn save_tls_ca(ca_dir: &Path, name: &str, ca: &TlsCa) -> Result<()> {
    write_atomic(&ca_dir.join(format!("{name}.crt")), ca.cert_pem.as_bytes(), SECRET_FILE_MODE)?;
    write_atomic(&ca_dir.join(format!("{name}.key")), ca.key.serialize_pem().as_bytes(), SECRET_FILE_MODE)?;
    Ok(())
}

fn new_ssh_ca() -> Result<ssh_key::PrivateKey> {
    let seed: [u8; 32] = rand::random();
    Ok(ssh_key::PrivateKey::from(Ed25519Keypair::from_seed(&seed)))
}
