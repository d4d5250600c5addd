//! `type: identity` outputs: role-impersonated credentials for other programs.
//!
//! Like tbot (`lib/tbot/identity/generator.go`), the agent never hands out
//! its own bot identity: each output gets a certificate issued by
//! `GenerateUserCerts` with `use_role_requests` and the output's roles (or,
//! when none are listed, every role the bot may impersonate), for a fresh
//! key. Such a certificate cannot be used to get more certificates.
//!
//! Files are tbot's (§13.1): `identity`, `key`, `key.pub`, `tlscert`,
//! `key-cert.pub`, the CA files `teleport-host-ca.crt`,
//! `teleport-user-ca.crt` and `teleport-database-ca.crt` ([`super::CaFiles`],
//! read with the bot's identity as tbot's `writeTLSCAs` does; a program
//! checks `tlscert` against the user CA), `known_hosts` and `ssh_config`,
//! mode 0600 in a directory opened without following symlinks
//! ([`crate::destination`]). All of a renewal's files are published as one
//! generation that replaces the previous one at a single instant
//! ([`joinery_util::fs::SecureDir::publish`]): a reader never sees a torn
//! file, and never a `key` of one renewal beside a `tlscert` of another
//! //! once it has resolved the live generation. tbot's `tlscacerts` and
//! `sshcacerts` are not output files: tbot keeps them in its own storage
//! only (`KindBotInternal` in `lib/tbot/identity/artifact.go`), as the agent
//! keeps them in its storage ([`crate::storage`]).

use std::path::Path;
use std::time::SystemTime;

use async_trait::async_trait;
use joinery_tbot_config::{Destination, IdentityOutput, Server, SymlinkPolicy};
use joinery_teleport::Identity;
use joinery_teleport::join::{JoinedCerts, timestamp};
use joinery_teleport::keys::KeyPair;
use joinery_teleport::proto::legacy::UserCertsRequest;
use joinery_util::fs::SECRET_FILE_MODE;

use super::{Context, Output, OutputError};

#[async_trait]
impl Output for IdentityOutput {
    fn describe(&self) -> String {
        self.destination.describe()
    }

    fn summary(&self) -> String {
        let roles = if self.roles.is_empty() { "all impersonable roles".to_string() } else { self.roles.join(",") };
        format!("identity -> {} (roles: {roles})", self.describe())
    }

    async fn write(&self, ctx: &Context<'_>) -> Result<SystemTime, OutputError> {
        let dest = self.describe();
        let issue = |source| OutputError::Issue { dest: dest.clone(), source };
        let cluster = &ctx.bot_info.cluster_name;
        let key = KeyPair::generate();
        let certs = ctx
            .client
            .generate_user_certs(UserCertsRequest {
                username: ctx.bot_info.username.clone(),
                expires: Some(timestamp(SystemTime::now() + ctx.credential_ttl)),
                route_to_cluster: self.cluster.clone().unwrap_or_else(|| cluster.clone()),
                role_requests: self.roles.clone(),
                use_role_requests: true,
                ssh_public_key: key.ssh_authorized_key().into_bytes(),
                tls_public_key: key.public_key_pkix_pem().into_bytes(),
                ..Default::default()
            })
            .await
            .map_err(issue)?;
        let certs = JoinedCerts::from_legacy(certs).map_err(issue)?;
        let mut identity = certs.into_identity(&key, cluster);
        if let Some(cas) = &ctx.host_cas {
            identity.tls_ca_pems = cas.clone();
        }
        // SSH CAs come from the bot identity, as in tbot.
        if !ctx.bot.ssh_ca_lines.is_empty() {
            identity.ssh_ca_lines = ctx.bot.ssh_ca_lines.clone();
        }
        if let Destination::Directory { path, symlinks } = &self.destination {
            write_dir(path, *symlinks, &identity, &key, self.ssh_config, ctx, cluster)?;
        }
        let cert = identity.tls_info().map_err(|e| issue(joinery_teleport::Error::Protocol(e.to_string())))?;
        tracing::info!(
            output = %dest,
            roles = ?cert.roles,
            expires = %joinery_teleport::fmt_time(cert.not_after),
            "wrote identity output"
        );
        Ok(cert.not_after)
    }
}

/// Writes tbot's identity files into `dir`, as one generation.
fn write_dir(
    dir: &Path,
    symlinks: SymlinkPolicy,
    identity: &Identity,
    key: &KeyPair,
    with_ssh_config: bool,
    ctx: &Context<'_>,
    cluster: &str,
) -> Result<(), OutputError> {
    let server = ctx.server;
    let mut files = vec![
        ("key", identity.private_key_pem.clone().into_bytes()),
        ("key.pub", format!("{}\n", key.ssh_authorized_key()).into_bytes()),
        ("tlscert", identity.tls_cert_pem.clone().into_bytes()),
        ("key-cert.pub", format!("{}\n", identity.ssh_cert.trim()).into_bytes()),
        ("teleport-host-ca.crt", ctx.ca_files.host.clone()),
        ("teleport-user-ca.crt", ctx.ca_files.user.clone()),
        ("teleport-database-ca.crt", ctx.ca_files.database.clone()),
        ("known_hosts", known_hosts(identity, server, cluster).into_bytes()),
        ("identity", identity.encode().into_bytes()),
    ];
    if with_ssh_config {
        files.push(("ssh_config", ssh_config(dir, server, cluster).into_bytes()));
    }
    let files: Vec<(&str, &[u8])> = files.iter().map(|(name, bytes)| (*name, bytes.as_slice())).collect();
    crate::destination::open(dir, symlinks)?.publish(&files, SECRET_FILE_MODE)?;
    Ok(())
}

/// `@cert-authority <proxy>,<cluster>,*.<cluster> <key> type=host` lines.
fn known_hosts(identity: &Identity, server: &Server, cluster: &str) -> String {
    let mut names = Vec::new();
    if let Server::Proxy(_) = server {
        names.push(server.host().to_string());
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
fn ssh_config(dir: &Path, server: &Server, cluster: &str) -> String {
    let d = dir.display();
    let mut out = format!(
        "# Generated by joinery-agent for cluster {cluster}.\n\
         Host *.{cluster}\n    \
         UserKnownHostsFile \"{d}/known_hosts\"\n    \
         IdentityFile \"{d}/key\"\n    \
         CertificateFile \"{d}/key-cert.pub\"\n    \
         Port 3022\n"
    );
    if let Server::Proxy(addr) = server {
        out.push_str(&format!(
            "    ProxyCommand tsh -i \"{d}/identity\" --proxy={addr} proxy ssh --cluster={cluster} %r@%h:%p\n"
        ));
    }
    out.push_str("# End generated configuration.\n");
    out
}
