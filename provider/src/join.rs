//! Native Machine ID join: with `join_method` and `join_token` (`TF_TELEPORT_JOIN_METHOD`,
//! `TF_TELEPORT_JOIN_TOKEN`) the provider joins the cluster as a bot at configure time,
//! instead of reading an identity file — the official provider's way to run in CI or on a
//! cloud VM without a long-lived secret.
//!
//! The methods are the agent's join units (`joinery_agent::join`), so a pipeline and a VM
//! prove themselves the same way: `github` (the GitHub Actions job's ID token), `azure` (the
//! runner VM's managed identity through IMDS) and `token` (a single-use secret).
//!
//! The bot's certificates live in memory only — never on disk, never in state. Delegated
//! methods (`github`, `azure`) get certificates that cannot be renewed, so when an apply
//! outlives them [`Session::client`] joins again (a fresh ID token or IMDS proof) before the
//! next call; a `token` join cannot be repeated (the token is single use), so its identity is
//! asked for the longest lifetime and an apply outliving it fails with the expiry.

use std::time::{Duration, SystemTime};

use joinery_agent::join::{Join, azure::AzureJoin, github::GithubJoin, token::TokenJoin};
use joinery_tbot_config::onboarding::azure::AzureOnboarding;
use joinery_tbot_config::{JoinMethodName, Token};
use joinery_teleport::identity::{CertInfo, pem_certs_to_der};
use joinery_teleport::join::{JoinedCerts, timestamp};
use joinery_teleport::keys::KeyPair;
use joinery_teleport::proto::legacy::UserCertsRequest;
use joinery_teleport::tls::{API_DOMAIN, TlsSettings, Trust};
use joinery_teleport::{Client, ClientConfig, Credentials, RetryPolicy};
use joinery_tfplugin::framework::Diagnostics;

use crate::config::settings::Setting;
use crate::config::{JOIN_METHOD, JOIN_TOKEN, ProviderConfig, ROOT_CA_BASE64, ROOT_CA_PATH};

/// How long the bot's certificates are asked for (Teleport caps it by the bot role's
/// `max_session_ttl`).
const CERT_TTL: Duration = Duration::from_secs(3600);
/// Joining again this long before the certificates expire.
const RENEW_MARGIN: Duration = Duration::from_secs(5 * 60);

fn attr_error(setting: &Setting, summary: &str, detail: impl Into<String>) -> Diagnostics {
    Diagnostics::attribute_error(setting.path(), summary, detail)
}

/// A configured native join: the method and where to join.
pub struct NativeJoin {
    method: Box<dyn Join>,
    token: Token,
    config: ClientConfig,
}

impl NativeJoin {
    /// The join `cfg` asks for, if it asks for one.
    pub fn from_config(
        cfg: &ProviderConfig,
        addr: &str,
        retry: RetryPolicy,
        dial_timeout: Duration,
    ) -> Result<Option<NativeJoin>, Diagnostics> {
        if cfg.join_method.is_none() && cfg.join_token.is_none() {
            return Ok(None);
        }
        let name = cfg.join_method.as_deref().unwrap_or_default();
        let method: JoinMethodName = name.parse().map_err(|_| {
            let known: Vec<&str> = JoinMethodName::ALL.iter().map(|m| m.as_str()).collect();
            attr_error(
                &JOIN_METHOD,
                "Unsupported join method",
                format!("join_method {name:?} is not one of {}.", known.join(", ")),
            )
        })?;
        let token = cfg.join_token.clone().filter(|t| !t.is_empty()).ok_or_else(|| {
            attr_error(&JOIN_TOKEN, "Missing join token", "join_method needs join_token: the name of the join token.")
        })?;
        let token = Token::new(token);
        let unit: Box<dyn Join> = match method {
            JoinMethodName::Token => Box::new(TokenJoin::new(token.clone())),
            JoinMethodName::Azure => Box::new(AzureJoin::new(token.clone(), &AzureOnboarding { client_id: None })),
            JoinMethodName::Github => Box::new(GithubJoin::new(token.clone())),
        };
        let trust = trust(cfg)?;
        let tls = TlsSettings { trust, client_auth: None, server_name: API_DOMAIN.into(), alpn: vec!["h2".into()] };
        Ok(Some(NativeJoin {
            method: unit,
            token,
            config: ClientConfig { addr: addr.to_string(), tls, retry, dial_timeout },
        }))
    }

    /// Whether the certificates it gets can be had again by joining again.
    fn repeatable(&self) -> bool {
        self.method.method() != JoinMethodName::Token
    }

    /// Joins and returns the bot's credentials (in memory) and when they expire.
    pub async fn join(&self) -> Result<(Credentials, SystemTime), Diagnostics> {
        let method = self.method.method();
        let failed = |e: String| {
            attr_error(
                &JOIN_METHOD,
                "Cannot join the Teleport cluster",
                format!("{method} join with token {}: {e}", self.token.masked()),
            )
        };
        self.method.check_available().map_err(|e| failed(e.to_string()))?;
        let anonymous = Client::connect(self.config.clone()).await.map_err(|e| failed(e.to_string()))?;
        let (key, certs) = self.method.join(&anonymous, CERT_TTL).await.map_err(|e| failed(e.to_string()))?;
        let info = CertInfo::from_pem(&certs.tls_cert_pem).map_err(|e| failed(e.to_string()))?;
        let bot = certs.into_identity(&key, &info.cluster_name);
        // As tbot's outputs: the bot's own identity only gets certificates; the provider acts
        // with a role-impersonated one (every role the bot may impersonate).
        let bot_creds = Credentials::from_identity(&bot).map_err(|e| failed(e.to_string()))?;
        let bot_client = connect_with(&self.config, bot_creds).await?;
        let key = KeyPair::generate();
        let impersonated = bot_client
            .generate_user_certs(UserCertsRequest {
                username: info.username.clone(),
                expires: Some(timestamp(info.not_after)),
                route_to_cluster: info.cluster_name.clone(),
                role_requests: vec![],
                use_role_requests: true,
                ssh_public_key: key.ssh_authorized_key().into_bytes(),
                tls_public_key: key.public_key_pkix_pem().into_bytes(),
                ..Default::default()
            })
            .await
            .map_err(|e| failed(format!("impersonating the bot's roles: {e}")))?;
        let certs = JoinedCerts::from_legacy(impersonated).map_err(|e| failed(e.to_string()))?;
        let mut identity = certs.into_identity(&key, &info.cluster_name);
        if identity.tls_ca_pems.is_empty() {
            identity.tls_ca_pems = bot.tls_ca_pems.clone();
        }
        let creds = Credentials::from_identity(&identity).map_err(|e| failed(e.to_string()))?;
        let info = identity.tls_info().map_err(|e| failed(e.to_string()))?;
        tracing::info!(%method, bot = info.bot_name.as_deref().unwrap_or_default(), roles = ?info.roles, expires = %joinery_teleport::fmt_time(info.not_after), "joined the cluster");
        Ok((creds, info.not_after))
    }
}

/// The CA the join connection trusts: `root_ca_path` / `root_ca_base64`, else the system
/// roots (a Proxy's public certificate).
fn trust(cfg: &ProviderConfig) -> Result<Trust, Diagnostics> {
    let pem = if let Some(path) = &cfg.root_ca_path {
        Some((
            std::fs::read_to_string(path)
                .map_err(|e| attr_error(&ROOT_CA_PATH, "Cannot read the root CA", format!("{path}: {e}")))?,
            &ROOT_CA_PATH,
        ))
    } else if let Some(b64) = &cfg.root_ca_base64 {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| attr_error(&ROOT_CA_BASE64, "Invalid root CA", format!("not base64: {e}")))?;
        Some((String::from_utf8_lossy(&bytes).into_owned(), &ROOT_CA_BASE64))
    } else {
        None
    };
    match pem {
        None if cfg.insecure => Ok(Trust::Insecure),
        None => Ok(Trust::System),
        Some((pem, setting)) => {
            let ders = pem_certs_to_der(&pem);
            if ders.is_empty() {
                return Err(attr_error(setting, "Invalid root CA", "no PEM certificate in it"));
            }
            Ok(Trust::Roots(ders))
        }
    }
}

/// The provider's connection to Teleport: fixed credentials, or a joined bot's that are
/// renewed by joining again.
pub struct Session {
    current: tokio::sync::Mutex<(Client, Option<SystemTime>)>,
    join: Option<NativeJoin>,
}

impl Session {
    /// A session on fixed credentials (an identity file, key and certificate).
    pub fn fixed(client: Client) -> Session {
        Session { current: tokio::sync::Mutex::new((client, None)), join: None }
    }

    /// A session of a joined bot whose certificates expire at `expires`.
    pub fn joined(client: Client, expires: SystemTime, join: NativeJoin) -> Session {
        Session { current: tokio::sync::Mutex::new((client, Some(expires))), join: Some(join) }
    }

    /// The client for the next call, joining again first if the bot's certificates are about
    /// to expire.
    pub async fn client(&self) -> Result<Client, Diagnostics> {
        let mut current = self.current.lock().await;
        let stale =
            current.1.is_some_and(|exp| exp.duration_since(SystemTime::now()).map_or(true, |left| left < RENEW_MARGIN));
        if let (true, Some(join)) = (stale, self.join.as_ref().filter(|j| j.repeatable())) {
            tracing::info!("the bot's certificates are about to expire: joining again");
            let (creds, expires) = join.join().await?;
            let client = connect_with(&join.config, creds).await?;
            *current = (client, Some(expires));
        }
        Ok(current.0.clone())
    }
}

/// An mTLS client as the joined bot, on the join's address and policies.
pub async fn connect_with(config: &ClientConfig, creds: Credentials) -> Result<Client, Diagnostics> {
    Client::connect(ClientConfig { tls: creds.tls_settings(), ..config.clone() })
        .await
        .map_err(|e| Diagnostics::error("Cannot connect to Teleport", e.to_string()))
}

impl NativeJoin {
    /// The connection settings the join uses.
    pub fn client_config(&self) -> &ClientConfig {
        &self.config
    }
}
