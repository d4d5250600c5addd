//! Delegated join methods: every method other than `token`, where the client proves who it is
//! with material a third party vouches for (Azure's attested document and managed-identity
//! token, a CI provider's OIDC token, …), and the registry that maps a method's name to its
//! verifier.
//!
//! The join services ([`super::join`]) do what every method shares (token look-up, the
//! `ClientInit`/`ServerInit` handshake, Teleport's common checks, certificate issuance); a
//! [`DelegatedJoin`] does the rest of its method's `teleport.join.v1` exchange through an
//! [`Exchange`] and hands back the bot's keys. Adding a method is one verifier implementing
//! [`DelegatedJoin`] and one [`JoinMethods::register`] where the devstack starts (the Azure
//! emulator registers `azure` in `crate::azure::start`).

use std::collections::BTreeMap;
use std::sync::Arc;

use joinery_teleport::proto::teleport::join::v1;
use joinery_teleport::proto::types::ProvisionTokenV2;
use tokio::sync::mpsc;
use tonic::{Status, Streaming};

/// The bot's public keys and requested expiry, validated.
#[derive(Debug, Clone)]
pub struct BotKeys {
    /// TLS public key, PKIX DER.
    pub tls_der: Vec<u8>,
    /// SSH public key.
    pub ssh: ssh_key::PublicKey,
    /// Requested certificate expiry.
    pub expires: Option<prost_types::Timestamp>,
}

/// Validates bot parameters as `lib/join/internal/messages` does and decodes the keys.
pub fn bot_params(params: Option<v1::ClientParams>) -> Result<BotKeys, Status> {
    let bot = match params.and_then(|p| p.payload) {
        Some(v1::client_params::Payload::BotParams(b)) => b,
        Some(v1::client_params::Payload::HostParams(_)) => {
            return Err(Status::invalid_argument("the devstack joins bots only: expected BotParams"));
        }
        None => return Err(Status::invalid_argument("ClientParams: BotParams is required")),
    };
    let keys = bot.public_keys.unwrap_or_default();
    if bot.expires.is_none() {
        return Err(Status::invalid_argument("BotParams: Expires is required"));
    }
    if keys.public_tls_key.is_empty() {
        return Err(Status::invalid_argument("PublicKeys: PublicTlsKey is required"));
    }
    if keys.public_ssh_key.is_empty() {
        return Err(Status::invalid_argument("PublicKeys: PublicSshKey is required"));
    }
    super::join::check_spki(&keys.public_tls_key)?;
    let ssh = ssh_key::PublicKey::from_bytes(&keys.public_ssh_key)
        .map_err(|_| Status::invalid_argument("PublicKeys: PublicSshKey is not SSH wire format"))?;
    Ok(BotKeys { tls_der: keys.public_tls_key, ssh, expires: bot.expires })
}

/// The status for a message the join method does not expect (or a method nobody verifies).
pub fn unexpected_message(method: &str) -> Status {
    Status::invalid_argument(format!(
        "unexpected message for the {method:?} join method (unsupported join method or message type)"
    ))
}

/// One `teleport.join.v1` stream, as a method's verifier talks on it.
pub struct Exchange<'a> {
    inbound: &'a mut Streaming<v1::JoinRequest>,
    tx: &'a mpsc::Sender<Result<v1::JoinResponse, Status>>,
}

impl<'a> Exchange<'a> {
    /// Wraps a stream's two directions.
    pub fn new(
        inbound: &'a mut Streaming<v1::JoinRequest>,
        tx: &'a mpsc::Sender<Result<v1::JoinResponse, Status>>,
    ) -> Self {
        Exchange { inbound, tx }
    }

    /// Sends a message to the client.
    pub async fn send(&self, payload: v1::join_response::Payload) -> Result<(), Status> {
        let msg = v1::JoinResponse { payload: Some(payload) };
        self.tx.send(Ok(msg)).await.map_err(|_| Status::cancelled("client went away"))
    }

    /// The client's next message (a client giving up or closing the stream is an error).
    pub async fn next(&mut self) -> Result<v1::join_request::Payload, Status> {
        match self.inbound.message().await? {
            Some(v1::JoinRequest { payload: Some(v1::join_request::Payload::GivingUp(g)) }) => {
                Err(Status::aborted(format!("client gave up: {}", g.msg)))
            }
            Some(v1::JoinRequest { payload: Some(p) }) => Ok(p),
            Some(_) => Err(Status::invalid_argument("empty or unsupported join request message")),
            None => Err(Status::invalid_argument("join stream closed by the client")),
        }
    }
}

/// What a client sent on a challenge RPC to prove a delegated identity (Azure's shape).
#[derive(Debug, Clone)]
pub struct ChallengeSolution {
    /// Raw IMDS attested-document body.
    pub attested_data: Vec<u8>,
    /// Issuer chain, concatenated DER (`teleport.join.v1` only).
    pub intermediate: Option<Vec<u8>>,
    /// Raw managed-identity access token.
    pub access_token: String,
}

/// A method proven by answering a challenge the server speaks first, as on the legacy
/// `RegisterUsingAzureMethod` stream.
#[tonic::async_trait]
pub trait ChallengeJoin: Send + Sync {
    /// A fresh challenge for the client.
    fn challenge(&self) -> String;
    /// Checks the solution against the token's rules; the message of an error says which
    /// check failed.
    async fn verify(
        &self,
        token: &ProvisionTokenV2,
        challenge: &str,
        solution: ChallengeSolution,
    ) -> Result<(), Status>;
}

/// A method proven by one OIDC ID token, as on the legacy `RegisterUsingToken` (its
/// `IDToken` field): `github`, and Teleport's other CI methods.
#[tonic::async_trait]
pub trait IdTokenJoin: Send + Sync {
    /// Checks `id_token` against the token's rules; the message of an error says which check
    /// failed, as Teleport words it.
    async fn verify(&self, token: &ProvisionTokenV2, id_token: &str) -> Result<(), Status>;
}

/// The server side of a delegated join method.
#[tonic::async_trait]
pub trait DelegatedJoin: Send + Sync {
    /// The method's name in tokens (`azure`): its key in [`JoinMethods`].
    fn method(&self) -> &'static str;

    /// `teleport.join.v1`: the method's part of the exchange, from its first message after
    /// `ServerInit` (`first`) to the proof; returns the bot's validated keys. A message of
    /// another method is [`unexpected_message`].
    async fn join_v1(
        &self,
        token: &ProvisionTokenV2,
        first: v1::join_request::Payload,
        exchange: &mut Exchange<'_>,
    ) -> Result<BotKeys, Status>;

    /// The method's legacy challenge RPC, if it has one (`azure`: `RegisterUsingAzureMethod`).
    fn legacy_challenge(&self) -> Option<&dyn ChallengeJoin> {
        None
    }

    /// The method's check of a legacy `RegisterUsingToken` carrying an ID token, if it takes
    /// one (`github`).
    fn legacy_id_token(&self) -> Option<&dyn IdTokenJoin> {
        None
    }
}

/// The delegated join methods the cluster verifies, by name.
#[derive(Default, Clone)]
pub struct JoinMethods(BTreeMap<&'static str, Arc<dyn DelegatedJoin>>);

impl JoinMethods {
    /// Adds (or replaces) the verifier of `join.method()`.
    pub fn register(&mut self, join: Arc<dyn DelegatedJoin>) {
        self.0.insert(join.method(), join);
    }

    /// The verifier of `method`, if one is registered.
    pub fn get(&self, method: &str) -> Option<Arc<dyn DelegatedJoin>> {
        self.0.get(method).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A method with no legacy RPC that refuses everything.
    struct Refuse;

    #[tonic::async_trait]
    impl DelegatedJoin for Refuse {
        fn method(&self) -> &'static str {
            "github"
        }

        async fn join_v1(
            &self,
            _: &ProvisionTokenV2,
            _: v1::join_request::Payload,
            _: &mut Exchange<'_>,
        ) -> Result<BotKeys, Status> {
            Err(Status::permission_denied("no"))
        }
    }

    #[test]
    fn methods_are_found_by_name() {
        let mut joins = JoinMethods::default();
        assert!(joins.get("github").is_none());
        joins.register(Arc::new(Refuse));
        let found = joins.get("github").unwrap();
        assert_eq!(found.method(), "github");
        assert!(found.legacy_challenge().is_none());
        assert!(found.legacy_id_token().is_none());
        assert!(joins.get("azure").is_none());
        assert_eq!(unexpected_message("github").code(), tonic::Code::InvalidArgument);
    }
}
