//! A gRPC client for Teleport's auth API.
//!
//! One [`Client`] holds one HTTP/2 connection (tonic multiplexes calls on
//! it). TLS is done by us rather than by tonic so that the server name, the
//! ALPN list and the trust rules can follow Teleport's conventions (see
//! [`crate::tls`]). Every typed call retries `Unavailable` with the client's
//! [`RetryPolicy`] and maps gRPC statuses into [`Error`].

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::Error;
use crate::proto::legacy::auth_service_client::AuthServiceClient;
use crate::proto::legacy::join_service_client::JoinServiceClient;
use crate::proto::legacy::{
    Certs, CreateTokenV2Request, PingRequest, PingResponse, UpsertTokenV2Request, UserCertsRequest,
    create_token_v2_request, upsert_token_v2_request,
};
use crate::proto::teleport::join::v1::join_service_client::JoinServiceClient as JoinV1Client;
use crate::proto::teleport::machineid::v1::bot_service_client::BotServiceClient;
use crate::proto::teleport::machineid::v1::{
    Bot, CreateBotRequest, DeleteBotRequest, GetBotRequest, ListBotsRequest, UpdateBotRequest, UpsertBotRequest,
};
use crate::proto::teleport::trust::v1::trust_service_client::TrustServiceClient;
use crate::proto::teleport::trust::v1::{GetCertAuthoritiesRequest, GetCertAuthorityRequest};
use crate::proto::teleport::users::v1::GetUserRequest;
use crate::proto::teleport::users::v1::users_service_client::UsersServiceClient;
use crate::proto::types::{CertAuthorityV2, ProvisionTokenV2, ResourceRequest, UserV2};
use crate::retry::RetryPolicy;
use crate::tls::TlsSettings;

/// Largest message we send or accept (Teleport's own limit is 4 MiB by default).
pub const MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// How long one unary call may wait for its answer unless the caller says
/// otherwise ([`Client::with_call_timeout`]): a server that accepted the
/// connection but stopped answering must not hang the caller.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How to reach a Teleport server.
#[derive(Clone)]
pub struct ClientConfig {
    /// `host:port` of the Auth server (or proxy, for joins).
    pub addr: String,
    /// TLS settings (trust, client identity, server name, ALPN).
    pub tls: TlsSettings,
    /// Retries for `Unavailable`.
    pub retry: RetryPolicy,
    /// How long one TCP + TLS dial may take.
    pub dial_timeout: Duration,
}

/// A connected Teleport client.
#[derive(Clone)]
pub struct Client {
    channel: Channel,
    retry: RetryPolicy,
    call_timeout: Duration,
    addr: String,
}

impl Client {
    /// Dials the server and completes the TLS handshake, retrying
    /// connection failures with the configured policy.
    pub async fn connect(config: ClientConfig) -> Result<Self, Error> {
        let tls = config.tls.client_config().map_err(|e| Error::Credentials(e.to_string()))?;
        let tls = Arc::new(tls);
        let server_name = rustls::pki_types::ServerName::try_from(config.tls.server_name.clone())
            .map_err(|e| Error::Credentials(format!("invalid TLS server name: {e}")))?;
        let addr = config.addr.clone();
        // The URI is only a label: the connector below decides where to dial.
        let endpoint = Endpoint::from_shared(format!("http://{}", crate::tls::API_DOMAIN))
            .map_err(|e| Error::Credentials(e.to_string()))?
            .connect_timeout(config.dial_timeout)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true);
        let connector = {
            let addr = addr.clone();
            tower::service_fn(move |_: Uri| {
                let addr = addr.clone();
                let tls = tls.clone();
                let server_name = server_name.clone();
                async move {
                    let tcp = tokio::net::TcpStream::connect(&addr).await?;
                    tcp.set_nodelay(true)?;
                    let stream = tokio_rustls::TlsConnector::from(tls).connect(server_name, tcp).await?;
                    Ok::<_, std::io::Error>(TokioIo::new(stream))
                }
            })
        };
        let channel = config
            .retry
            .run(|| {
                let endpoint = endpoint.clone();
                let connector = connector.clone();
                let addr = addr.clone();
                async move { endpoint.connect_with_connector(connector).await.map_err(|e| connect_error(&addr, &e)) }
            })
            .await?;
        Ok(Client { channel, retry: config.retry, call_timeout: DEFAULT_CALL_TIMEOUT, addr })
    }

    /// The same client with another per-call timeout (each try of a retried
    /// call gets the whole timeout).
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Runs an idempotent unary call with retries, each try within the call timeout.
    async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        self.retry.run(|| self.timed(op())).await
    }

    /// Runs a create (see [`RetryPolicy::run_create`]), each try within the call timeout.
    async fn run_create<T, F, Fut>(&self, mut op: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        self.retry.run_create(|| self.timed(op())).await
    }

    async fn timed<T>(&self, call: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, Error> {
        tokio::time::timeout(self.call_timeout, call)
            .await
            .unwrap_or_else(|_| Err(Error::Timeout { addr: self.addr.clone(), after: self.call_timeout }))
    }

    /// The address this client dialled.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The raw channel, for services this type has no wrapper for.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    fn auth(&self) -> AuthServiceClient<Channel> {
        AuthServiceClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }

    fn bots(&self) -> BotServiceClient<Channel> {
        BotServiceClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }

    fn trust(&self) -> TrustServiceClient<Channel> {
        TrustServiceClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }

    fn users(&self) -> UsersServiceClient<Channel> {
        UsersServiceClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE)
    }

    /// The legacy join service (`proto.JoinService`).
    pub fn legacy_join(&self) -> JoinServiceClient<Channel> {
        JoinServiceClient::new(self.channel.clone())
    }

    /// The `teleport.join.v1.JoinService`.
    pub fn join_v1(&self) -> JoinV1Client<Channel> {
        JoinV1Client::new(self.channel.clone())
    }

    /// `Ping`: cluster name and server version.
    pub async fn ping(&self) -> Result<PingResponse, Error> {
        self.run(|| async { Ok(self.auth().ping(PingRequest {}).await?.into_inner()) }).await
    }

    /// `GetToken`.
    pub async fn get_token(&self, name: &str) -> Result<ProvisionTokenV2, Error> {
        let req = ResourceRequest { name: name.to_string() };
        self.run(|| async { Ok(self.auth().get_token(req.clone()).await?.into_inner()) }).await
    }

    /// `GetTokens`.
    pub async fn get_tokens(&self) -> Result<Vec<ProvisionTokenV2>, Error> {
        self.run(|| async { Ok(self.auth().get_tokens(()).await?.into_inner().provision_tokens) }).await
    }

    /// `CreateTokenV2`: fails with [`Error::AlreadyExists`] if the name is
    /// taken, or [`Error::MaybeCreated`] if a retried attempt may have taken it.
    pub async fn create_token(&self, token: ProvisionTokenV2) -> Result<(), Error> {
        let req = CreateTokenV2Request { token: Some(create_token_v2_request::Token::V2(token)) };
        self.run_create(|| async { Ok(self.auth().create_token_v2(req.clone()).await.map(|_| ())?) }).await
    }

    /// `UpsertTokenV2`.
    pub async fn upsert_token(&self, token: ProvisionTokenV2) -> Result<(), Error> {
        let req = UpsertTokenV2Request { token: Some(upsert_token_v2_request::Token::V2(token)) };
        self.run(|| async { Ok(self.auth().upsert_token_v2(req.clone()).await.map(|_| ())?) }).await
    }

    /// `DeleteToken`.
    pub async fn delete_token(&self, name: &str) -> Result<(), Error> {
        let req = ResourceRequest { name: name.to_string() };
        self.run(|| async { Ok(self.auth().delete_token(req.clone()).await.map(|_| ())?) }).await
    }

    /// `GenerateUserCerts`, e.g. for role-impersonated output certificates.
    pub async fn generate_user_certs(&self, req: UserCertsRequest) -> Result<Certs, Error> {
        self.run(|| async { Ok(self.auth().generate_user_certs(req.clone()).await?.into_inner()) }).await
    }

    /// `GenerateUserCerts` renewing the caller's own renewable certificate.
    /// Tried once: the server moves the bot's generation on with each
    /// renewal, so a retry after a lost answer would present the generation
    /// it has moved past, which Teleport refuses (and locks the bot for).
    pub async fn renew_user_certs(&self, req: UserCertsRequest) -> Result<Certs, Error> {
        self.timed(async { Ok(self.auth().generate_user_certs(req).await?.into_inner()) }).await
    }

    /// `GetClusterCACert`: the PEM of the cluster's TLS host CA.
    pub async fn get_cluster_ca_cert(&self) -> Result<Vec<u8>, Error> {
        self.run(|| async { Ok(self.auth().get_cluster_ca_cert(()).await?.into_inner().tlsca) }).await
    }

    /// `TrustService.GetCertAuthorities` without private keys: every CA of
    /// `ca_type` (`host`, `user`, `db`, …) the cluster trusts. Any
    /// authenticated identity may read them (Teleport's implicit
    /// `cert_authority: [list, readnosecrets]` rule), a bot's included.
    pub async fn get_cert_authorities(&self, ca_type: &str) -> Result<Vec<CertAuthorityV2>, Error> {
        let req = GetCertAuthoritiesRequest { r#type: ca_type.to_string(), include_key: false };
        self.run(|| async {
            Ok(self.trust().get_cert_authorities(req.clone()).await?.into_inner().cert_authorities_v2)
        })
        .await
    }

    /// `TrustService.GetCertAuthority` without private keys: the CA of
    /// `ca_type` for the cluster `domain`.
    pub async fn get_cert_authority(&self, ca_type: &str, domain: &str) -> Result<CertAuthorityV2, Error> {
        let req =
            GetCertAuthorityRequest { r#type: ca_type.to_string(), domain: domain.to_string(), include_key: false };
        self.run(|| async { Ok(self.trust().get_cert_authority(req.clone()).await?.into_inner()) }).await
    }

    /// `UsersService.GetUser` without secrets.
    pub async fn get_user(&self, name: &str) -> Result<UserV2, Error> {
        let req = GetUserRequest { name: name.to_string(), current_user: false, with_secrets: false };
        self.run(|| async {
            self.users()
                .get_user(req.clone())
                .await?
                .into_inner()
                .user
                .ok_or_else(|| Error::Protocol("GetUser answered without a user".into()))
        })
        .await
    }

    /// `BotService.CreateBot`: fails with [`Error::AlreadyExists`] if the name
    /// is taken, or [`Error::MaybeCreated`] if a retried attempt may have taken it.
    pub async fn create_bot(&self, bot: Bot) -> Result<Bot, Error> {
        let req = CreateBotRequest { bot: Some(bot) };
        self.run_create(|| async { Ok(self.bots().create_bot(req.clone()).await?.into_inner()) }).await
    }

    /// `BotService.GetBot`.
    pub async fn get_bot(&self, name: &str) -> Result<Bot, Error> {
        let req = GetBotRequest { bot_name: name.to_string() };
        self.run(|| async { Ok(self.bots().get_bot(req.clone()).await?.into_inner()) }).await
    }

    /// `BotService.UpdateBot` with a field mask (paths such as `spec.roles`).
    pub async fn update_bot(&self, bot: Bot, paths: Vec<String>) -> Result<Bot, Error> {
        let req = UpdateBotRequest { bot: Some(bot), update_mask: Some(prost_types::FieldMask { paths }) };
        self.run(|| async { Ok(self.bots().update_bot(req.clone()).await?.into_inner()) }).await
    }

    /// `BotService.UpsertBot`.
    pub async fn upsert_bot(&self, bot: Bot) -> Result<Bot, Error> {
        let req = UpsertBotRequest { bot: Some(bot) };
        self.run(|| async { Ok(self.bots().upsert_bot(req.clone()).await?.into_inner()) }).await
    }

    /// `BotService.DeleteBot`.
    pub async fn delete_bot(&self, name: &str) -> Result<(), Error> {
        let req = DeleteBotRequest { bot_name: name.to_string() };
        self.run(|| async { Ok(self.bots().delete_bot(req.clone()).await.map(|_| ())?) }).await
    }

    /// `BotService.ListBots`, following every page.
    pub async fn list_bots(&self) -> Result<Vec<Bot>, Error> {
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let req = ListBotsRequest { page_size: 100, page_token: page_token.clone() };
            let page = self.run(|| async { Ok(self.bots().list_bots(req.clone()).await?.into_inner()) }).await?;
            all.extend(page.bots);
            if page.next_page_token.is_empty() {
                return Ok(all);
            }
            page_token = page.next_page_token;
        }
    }
}

/// Turns a dial failure into an error a user can act on.
fn connect_error(addr: &str, err: &tonic::transport::Error) -> Error {
    let mut chain = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        chain.push(e.to_string());
        source = e.source();
    }
    let detail = chain.last().cloned().unwrap_or_else(|| err.to_string());
    let untrusted = chain.iter().any(|m| {
        m.contains("invalid peer certificate") || m.contains("UnknownIssuer") || m.contains("NotValidForName")
    });
    if untrusted {
        Error::UntrustedServer { addr: addr.to_string(), detail }
    } else if chain.iter().any(|m| m.contains("certificate") || m.contains("alert")) {
        // A TLS alert from the server: usually our client certificate was refused.
        Error::AccessDenied(format!("TLS handshake with {addr} failed: {detail}"))
    } else {
        Error::Connect { addr: addr.to_string(), detail }
    }
}
