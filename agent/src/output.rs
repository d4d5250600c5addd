//! `type: identity` outputs: role-impersonated credentials for other programs.
//!
//! Like tbot (`lib/tbot/identity/generator.go`), the agent never hands out
//! its own bot identity: each output gets a certificate issued by
//! `GenerateUserCerts` with `use_role_requests` and the output's roles (or,
//! when none are listed, every role the bot may impersonate), for a fresh
//! key. Such a certificate cannot be used to get more certificates.
//!
//! Files are tbot's (§13.1): `identity`, `key`, `key.pub`, `tlscert`,
//! `key-cert.pub`, `teleport-host-ca.crt`, `known_hosts` and `ssh_config`.
//! Each is replaced atomically (temp file, fsync, rename) with mode 0600 in a
//! 0700 directory, so a reader sees the old file or the new one, never a
//! torn one. `teleport-user-ca.crt` is not written: the API the agent uses
//! does not return the user CA (tbot gets it from `GetCertAuthority`, which
//! a bot may not call on every cluster).

use std::path::Path;
use std::time::{Duration, SystemTime};

use joinery_teleport::identity::pem_certs_to_der;
use joinery_teleport::join::{JoinedCerts, timestamp};
use joinery_teleport::keys::KeyPair;
use joinery_teleport::proto::legacy::UserCertsRequest;
use joinery_teleport::{Client, Identity};
use joinery_util::fs::{SECRET_FILE_MODE, ensure_private_dir, write_atomic};

use crate::config::{Config, Destination, IdentityOutput, Server};

/// Why an output could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Teleport refused the certificate request.
    #[error("cannot issue certificates for output {dest}: {source}")]
    Issue {
        /// The output's destination.
        dest: String,
        /// The server's answer.
        source: joinery_teleport::Error,
    },
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] joinery_util::fs::FsError),
}

impl IdentityOutput {
    /// A short name for logs: the directory, or `memory`.
    pub fn describe(&self) -> String {
        match &self.destination {
            Destination::Directory(p) => p.display().to_string(),
            Destination::Memory => "memory".into(),
        }
    }
}

/// Issues and writes every output of `cfg` with the bot's authenticated client.
pub async fn write_all(cfg: &Config, client: &Client, bot: &Identity) -> Result<(), OutputError> {
    if cfg.outputs.is_empty() {
        return Ok(());
    }
    let info = bot.tls_info().map_err(|e| OutputError::Issue {
        dest: "(all)".into(),
        source: joinery_teleport::Error::Credentials(e.to_string()),
    })?;
    // The host CAs are fetched once per renewal, as tbot appends them to every output.
    let host_ca = client.get_cluster_ca_cert().await.map(|p| String::from_utf8_lossy(&p).into_owned());
    for output in &cfg.outputs {
        let dest = output.describe();
        let issue = |source| OutputError::Issue { dest: dest.clone(), source };
        let key = KeyPair::generate();
        let certs = client
            .generate_user_certs(UserCertsRequest {
                username: info.username.clone(),
                expires: Some(timestamp(SystemTime::now() + cfg.credential_ttl)),
                route_to_cluster: output.cluster.clone().unwrap_or_else(|| info.cluster_name.clone()),
                role_requests: output.roles.clone(),
                use_role_requests: true,
                ssh_public_key: key.ssh_authorized_key().into_bytes(),
                tls_public_key: key.public_key_pkix_pem().into_bytes(),
                ..Default::default()
            })
            .await
            .map_err(issue)?;
        let certs = JoinedCerts::from_legacy(certs).map_err(issue)?;
        let mut identity = certs.into_identity(&key, &info.cluster_name);
        match &host_ca {
            Ok(pem) if !pem_certs_to_der(pem).is_empty() => identity.tls_ca_pems = split_pems(pem),
            _ => {}
        }
        // SSH CAs come from the bot identity, as in tbot.
        if !bot.ssh_ca_lines.is_empty() {
            identity.ssh_ca_lines = bot.ssh_ca_lines.clone();
        }
        if let Destination::Directory(dir) = &output.destination {
            write_identity_dir(dir, &identity, &key, output, cfg, &info.cluster_name)?;
        }
        let cert = identity.tls_info().ok();
        tracing::info!(
            output = %dest,
            roles = ?cert.as_ref().map(|c| c.roles.clone()).unwrap_or_default(),
            expires = %cert.map(|c| joinery_teleport::fmt_time(c.not_after)).unwrap_or_default(),
            "wrote identity output"
        );
    }
    Ok(())
}

/// Splits concatenated PEM certificates into one string each.
fn split_pems(pem: &str) -> Vec<String> {
    pem_certs_to_der(pem).iter().map(|d| joinery_teleport::identity::der_to_pem(d)).collect()
}

/// Writes tbot's identity files into `dir`.
fn write_identity_dir(
    dir: &Path,
    identity: &Identity,
    key: &KeyPair,
    output: &IdentityOutput,
    cfg: &Config,
    cluster: &str,
) -> Result<(), OutputError> {
    ensure_private_dir(dir)?;
    let write = |name: &str, contents: &str| write_atomic(&dir.join(name), contents.as_bytes(), SECRET_FILE_MODE);
    write("key", &identity.private_key_pem)?;
    write("key.pub", &format!("{}\n", key.ssh_authorized_key()))?;
    write("tlscert", &identity.tls_cert_pem)?;
    write("key-cert.pub", &format!("{}\n", identity.ssh_cert.trim()))?;
    write("teleport-host-ca.crt", &identity.tls_ca_pems.concat())?;
    write("known_hosts", &known_hosts(identity, cfg, cluster))?;
    if output.ssh_config {
        write("ssh_config", &ssh_config(dir, cfg, cluster))?;
    }
    // Last, so a reader of `identity` sees a file at least as new as the others.
    write("identity", &identity.encode())?;
    Ok(())
}

/// `@cert-authority <proxy>,<cluster>,*.<cluster> <key> type=host` lines.
fn known_hosts(identity: &Identity, cfg: &Config, cluster: &str) -> String {
    let mut names = Vec::new();
    if let Server::Proxy(_) = cfg.server {
        names.push(cfg.server.host().to_string());
    }
    names.push(cluster.to_string());
    names.push(format!("*.{cluster}"));
    let names = names.join(",");
    let mut out = String::new();
    for line in &identity.ssh_ca_lines {
        // `@cert-authority <names> <type> <base64> [type=host]`
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() >= 4 {
            out.push_str(&format!("@cert-authority {names} {} {} type=host\n", parts[2], parts[3]));
        }
    }
    out
}

/// An OpenSSH client configuration for nodes of `cluster`, using this output's files.
fn ssh_config(dir: &Path, cfg: &Config, cluster: &str) -> String {
    let d = dir.display();
    let mut out = format!(
        "# Generated by joinery-agent for cluster {cluster}.\n\
         Host *.{cluster}\n    \
         UserKnownHostsFile \"{d}/known_hosts\"\n    \
         IdentityFile \"{d}/key\"\n    \
         CertificateFile \"{d}/key-cert.pub\"\n    \
         Port 3022\n"
    );
    if let Server::Proxy(addr) = &cfg.server {
        out.push_str(&format!(
            "    ProxyCommand tsh -i \"{d}/identity\" --proxy={addr} proxy ssh --cluster={cluster} %r@%h:%p\n"
        ));
    }
    out.push_str("# End generated configuration.\n");
    out
}

/// How long until `identity` expires (zero if it has).
pub fn remaining(identity: &Identity) -> Duration {
    identity.tls_info().ok().and_then(|i| i.not_after.duration_since(SystemTime::now()).ok()).unwrap_or(Duration::ZERO)
}
