//! From the provider configuration to a connected Teleport client.
//!
//! Credential sources are tried in the official provider's order (key and
//! certificate paths, their base64 forms, then the identity file as a path,
//! contents or base64). The first source that is configured decides: a
//! broken or expired credential is an error that names the attribute, not
//! a silent fall-through to another source. After connecting we `Ping` the
//! cluster, require Teleport ≥ 15 as the official provider does, and log
//! the server version.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use joinery_teleport::{Client, ClientConfig, Credentials, Error as TeleportError, RetryPolicy};

use crate::azure::AzureContext;
use crate::config::settings::Setting;
use crate::config::{
    ADDR, CERT_BASE64, CERT_PATH, DIAL_TIMEOUT_DURATION, IDENTITY_FILE, IDENTITY_FILE_BASE64, IDENTITY_FILE_PATH,
    KEY_BASE64, KEY_PATH, PROFILE_NAME, ProviderConfig, RETRY_BASE_DURATION, RETRY_CAP_DURATION, RETRY_MAX_TRIES,
    ROOT_CA_BASE64, ROOT_CA_PATH,
};
use crate::join::{NativeJoin, Session, connect_with};
use joinery_tfplugin::framework::Diagnostics;

/// Oldest Teleport major version the provider talks to.
const MIN_SERVER_MAJOR: u64 = 15;

/// A configured provider: the client and what the cluster said about itself.
#[derive(Clone)]
pub struct TeleportClient {
    /// The connection: fixed credentials, or a joined bot's renewed by joining again.
    session: Arc<Session>,
    /// The cluster name from `Ping`.
    pub cluster_name: String,
    /// The retry policy from the provider configuration (also used to wait
    /// for writes to become visible).
    pub retry: RetryPolicy,
    /// Azure settings and the lazily built ARM client.
    pub azure: Arc<AzureContext>,
}

impl TeleportClient {
    /// The gRPC client for the next call (a joined bot joins again first when its
    /// certificates are about to expire).
    pub async fn client(&self) -> Result<Client, Diagnostics> {
        self.session.client().await
    }
}

fn attr_error(setting: &Setting, summary: &str, detail: impl Into<String>) -> Diagnostics {
    Diagnostics::attribute_error(setting.path(), summary, detail)
}

fn duration(cfg_value: &str, setting: &Setting) -> Result<Duration, Diagnostics> {
    joinery_util::duration::parse(cfg_value).map_err(|e| {
        let name = setting.name;
        attr_error(setting, "Invalid duration", format!("{name}: {e} (use a Go duration such as \"1s\" or \"500ms\")"))
    })
}

/// The values of a certificate, key and CA trio, or an error at the first one missing.
fn all_set<'a>(parts: [(&'a Option<String>, &Setting); 3], detail: &str) -> Result<[&'a str; 3], Diagnostics> {
    match parts.iter().find(|(value, _)| value.is_none()) {
        Some((_, missing)) => Err(attr_error(missing, "Incomplete Teleport credentials", detail)),
        None => Ok(parts.map(|(value, _)| value.as_deref().unwrap_or_default())),
    }
}

/// Which credential source is configured, in the official order; `None` when the provider
/// is to join the cluster itself ([`crate::join`]).
fn credentials(cfg: &ProviderConfig) -> Result<Option<(Credentials, &'static Setting)>, Diagnostics> {
    let cred_err = |attr: &Setting, e: TeleportError| attr_error(attr, "Invalid Teleport credentials", e.to_string());
    if cfg.cert_path.is_some() || cfg.key_path.is_some() {
        let [cert, key, ca] = all_set(
            [(&cfg.cert_path, &CERT_PATH), (&cfg.key_path, &KEY_PATH), (&cfg.root_ca_path, &ROOT_CA_PATH)],
            "cert_path, key_path and root_ca_path must all be set to use key and certificate files.",
        )?;
        let creds = Credentials::from_files(Path::new(key), Path::new(cert), Path::new(ca))
            .map_err(|e| cred_err(&CERT_PATH, e))?;
        return Ok(Some((creds, &CERT_PATH)));
    }
    if cfg.cert_base64.is_some() || cfg.key_base64.is_some() {
        let [cert, key, ca] = all_set(
            [(&cfg.cert_base64, &CERT_BASE64), (&cfg.key_base64, &KEY_BASE64), (&cfg.root_ca_base64, &ROOT_CA_BASE64)],
            "cert_base64, key_base64 and root_ca_base64 must all be set to use base64 credentials.",
        )?;
        let creds = Credentials::from_base64(key, cert, ca).map_err(|e| cred_err(&CERT_BASE64, e))?;
        return Ok(Some((creds, &CERT_BASE64)));
    }
    if let Some(path) = &cfg.identity_file_path {
        let creds = Credentials::from_identity_file(Path::new(path)).map_err(|e| cred_err(&IDENTITY_FILE_PATH, e))?;
        return Ok(Some((creds, &IDENTITY_FILE_PATH)));
    }
    if let Some(text) = &cfg.identity_file {
        let creds = Credentials::from_identity_str(text).map_err(|e| cred_err(&IDENTITY_FILE, e))?;
        return Ok(Some((creds, &IDENTITY_FILE)));
    }
    if let Some(b64) = &cfg.identity_file_base64 {
        let creds = Credentials::from_identity_base64(b64).map_err(|e| cred_err(&IDENTITY_FILE_BASE64, e))?;
        return Ok(Some((creds, &IDENTITY_FILE_BASE64)));
    }
    if cfg.join_method.is_some() || cfg.join_token.is_some() {
        return Ok(None);
    }
    if cfg.profile_name.is_some() || cfg.profile_dir.is_some() {
        return Err(attr_error(
            &PROFILE_NAME,
            "tsh profiles are not supported",
            "Use identity_file_path (for example from `tctl auth sign --format=file` or joinery-agent) instead.",
        ));
    }
    Err(Diagnostics::error(
        "No Teleport credentials",
        "Set identity_file_path, identity_file, identity_file_base64, cert_path/key_path/root_ca_path, or \
         join_method and join_token to join as a bot (or their TF_TELEPORT_* environment variables).",
    ))
}

/// Connects and pings the cluster.
pub async fn connect(cfg: &ProviderConfig) -> Result<TeleportClient, Diagnostics> {
    let addr = cfg.addr.clone().filter(|a| !a.is_empty()).ok_or_else(|| {
        attr_error(
            &ADDR,
            "Teleport address is empty",
            "Set addr (or TF_TELEPORT_ADDR) to host:port of the Teleport Auth service.",
        )
    })?;
    if addr.rsplit_once(':').is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err()) {
        return Err(attr_error(&ADDR, "Invalid Teleport address", format!("addr must be host:port, got {addr:?}")));
    }
    let retry = RetryPolicy {
        base: duration(&cfg.retry_base_duration, &RETRY_BASE_DURATION)?,
        cap: duration(&cfg.retry_cap_duration, &RETRY_CAP_DURATION)?,
        max_tries: cfg.retry_max_tries.trim().parse::<u32>().map_err(|_| {
            attr_error(
                &RETRY_MAX_TRIES,
                "Invalid number",
                format!("retry_max_tries must be a whole number, got {:?}", cfg.retry_max_tries),
            )
        })?,
    };
    let dial_timeout = duration(&cfg.dial_timeout_duration, &DIAL_TIMEOUT_DURATION)?;
    let (client, session, user) = match credentials(cfg)? {
        Some((creds, source)) => {
            creds
                .check_not_expired(SystemTime::now())
                .map_err(|e| attr_error(source, "Teleport identity expired", e.to_string()))?;
            let client =
                Client::connect(ClientConfig { addr: addr.clone(), tls: creds.tls_settings(), retry, dial_timeout })
                    .await
                    .map_err(|e| Diagnostics::error("Cannot connect to Teleport", e.to_string()))?;
            (client.clone(), Session::fixed(client), creds.info().username.clone())
        }
        None => {
            let Some(join) = NativeJoin::from_config(cfg, &addr, retry, dial_timeout)? else {
                return Err(Diagnostics::error(
                    "No Teleport credentials",
                    "join_method and join_token are both needed.",
                ));
            };
            let (creds, expires) = join.join().await?;
            let user = creds.info().username.clone();
            let client = connect_with(join.client_config(), creds).await?;
            (client.clone(), Session::joined(client, expires, join), user)
        }
    };
    let pong = client.ping().await.map_err(|e| match e {
        TeleportError::NotImplemented(_) => Diagnostics::error("Teleport version is too old!", e.to_string()),
        e => Diagnostics::error("Cannot connect to Teleport", e.to_string()),
    })?;
    let major = pong.server_version.split('.').next().and_then(|m| m.parse::<u64>().ok()).unwrap_or(0);
    if major < MIN_SERVER_MAJOR {
        return Err(Diagnostics::error(
            "Teleport version is too old!",
            format!("Server version {} is older than {MIN_SERVER_MAJOR}.0.0.", pong.server_version),
        ));
    }
    tracing::info!(
        cluster = %pong.cluster_name,
        server_version = %pong.server_version,
        user = %user,
        "connected to Teleport"
    );
    Ok(TeleportClient {
        session: Arc::new(session),
        cluster_name: pong.cluster_name,
        retry,
        azure: Arc::new(AzureContext::new(cfg.azure.clone())),
    })
}
