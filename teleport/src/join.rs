//! The client side of joining a Teleport cluster as a bot.
//!
//! Two services exist. `teleport.join.v1.JoinService/Join` (Teleport 18+)
//! is one bidirectional stream for every method: the client introduces
//! itself, the server answers with the join method and the key suite it
//! wants, the client sends its public keys (and solves a challenge for the
//! delegated methods), and the server returns certificates in DER and SSH
//! wire format. Older servers answer `Unimplemented`; the client then falls
//! back to the legacy `proto.JoinService`, whose messages carry PEM and
//! authorized_keys encodings instead. [`JoinedCerts`] hides the difference.
//!
//! Delegated methods (Azure) reuse [`JoinStream`] and bring their own
//! challenge solver; this module implements the `token` method.

use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;

use crate::identity::{Identity, der_to_pem};
use crate::keys::{KeyPair, ssh_wire_to_authorized_key};
use crate::proto::legacy::Certs;
use crate::proto::teleport::join::v1;
use crate::proto::types::RegisterUsingTokenRequest;
use crate::{Client, Error};

/// The role bots join with.
pub const BOT_ROLE: &str = "Bot";

/// Certificates a join returned, in the legacy (PEM / authorized_keys) encodings.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinedCerts {
    /// TLS certificate PEM.
    pub tls_cert_pem: String,
    /// SSH certificate, authorized_keys line.
    pub ssh_cert: String,
    /// TLS CA certificates, PEM each.
    pub tls_ca_pems: Vec<String>,
    /// SSH CA public keys, authorized_keys line each.
    pub ssh_ca_keys: Vec<String>,
}

impl std::fmt::Debug for JoinedCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Certificates are not secret, but they are long and useless in logs.
        f.debug_struct("JoinedCerts").finish_non_exhaustive()
    }
}

impl JoinedCerts {
    /// From the legacy `Certs` message.
    pub fn from_legacy(certs: Certs) -> Result<Self, Error> {
        let text =
            |b: Vec<u8>, what: &str| String::from_utf8(b).map_err(|_| Error::Protocol(format!("{what} is not text")));
        Ok(JoinedCerts {
            tls_cert_pem: text(certs.tls, "TLS certificate")?,
            ssh_cert: text(certs.ssh, "SSH certificate")?.trim().to_string(),
            tls_ca_pems: certs.tlsca_certs.into_iter().map(|c| text(c, "TLS CA")).collect::<Result<_, _>>()?,
            ssh_ca_keys: certs
                .sshca_certs
                .into_iter()
                .map(|c| text(c, "SSH CA").map(|s| s.trim().to_string()))
                .collect::<Result<_, _>>()?,
        })
    }

    /// From `teleport.join.v1` certificates (DER / SSH wire format).
    pub fn from_v1(certs: v1::Certificates) -> Result<Self, Error> {
        let ssh = |wire: &[u8], what: &str| {
            ssh_wire_to_authorized_key(wire).ok_or_else(|| Error::Protocol(format!("{what} is not SSH wire format")))
        };
        Ok(JoinedCerts {
            tls_cert_pem: der_to_pem(&certs.tls_cert),
            ssh_cert: ssh_cert_wire_to_line(&certs.ssh_cert)
                .ok_or_else(|| Error::Protocol("SSH certificate is not SSH wire format".into()))?,
            tls_ca_pems: certs.tls_ca_certs.iter().map(|d| der_to_pem(d)).collect(),
            ssh_ca_keys: certs.ssh_ca_keys.iter().map(|k| ssh(k, "SSH CA key")).collect::<Result<_, _>>()?,
        })
    }

    /// Combines with the key into a Teleport identity.
    pub fn into_identity(self, key: &KeyPair, cluster_name: &str) -> Identity {
        Identity {
            private_key_pem: key.private_key_pem(),
            ssh_cert: self.ssh_cert,
            tls_cert_pem: self.tls_cert_pem,
            ssh_ca_lines: self
                .ssh_ca_keys
                .iter()
                .map(|k| format!("@cert-authority {cluster_name},*.{cluster_name} {k} type=host"))
                .collect(),
            tls_ca_pems: self.tls_ca_pems,
        }
    }
}

/// Encodes an SSH certificate from wire format as an authorized_keys line.
pub fn ssh_cert_wire_to_line(wire: &[u8]) -> Option<String> {
    let cert = ssh_key::Certificate::from_bytes(wire).ok()?;
    cert.to_openssh().ok()
}

/// An open `teleport.join.v1.JoinService/Join` stream.
pub struct JoinStream {
    tx: mpsc::Sender<v1::JoinRequest>,
    rx: Streaming<v1::JoinResponse>,
}

impl JoinStream {
    /// Opens the stream and sends `ClientInit`.
    pub async fn open(client: &Client, init: v1::ClientInit) -> Result<Self, Error> {
        let (tx, rx_req) = mpsc::channel(4);
        tx.send(v1::JoinRequest { payload: Some(v1::join_request::Payload::ClientInit(init)) })
            .await
            .map_err(|_| Error::Protocol("join stream closed".into()))?;
        let rx = client.join_v1().join(ReceiverStream::new(rx_req)).await?.into_inner();
        Ok(JoinStream { tx, rx })
    }

    /// Sends one request. If the server has already ended the call, its
    /// status (the reason it ended it) is the error.
    pub async fn send(&mut self, payload: v1::join_request::Payload) -> Result<(), Error> {
        if self.tx.send(v1::JoinRequest { payload: Some(payload) }).await.is_ok() {
            return Ok(());
        }
        match self.rx.message().await {
            Err(status) => Err(status.into()),
            Ok(_) => Err(Error::Protocol("join stream closed by the server".into())),
        }
    }

    /// Receives one response; a gRPC status becomes an [`Error`].
    pub async fn recv(&mut self) -> Result<v1::join_response::Payload, Error> {
        match self.rx.message().await? {
            Some(v1::JoinResponse { payload: Some(p) }) => Ok(p),
            Some(_) => Err(Error::Protocol("empty join response".into())),
            None => Err(Error::Protocol("join stream ended without a result".into())),
        }
    }

    /// Receives `ServerInit`.
    pub async fn recv_server_init(&mut self) -> Result<v1::ServerInit, Error> {
        match self.recv().await? {
            v1::join_response::Payload::Init(init) => Ok(init),
            other => Err(Error::Protocol(format!("expected ServerInit, got {other:?}"))),
        }
    }

    /// Receives the final bot result.
    pub async fn recv_bot_result(&mut self) -> Result<JoinedCerts, Error> {
        match self.recv().await? {
            v1::join_response::Payload::Result(v1::Result {
                payload: Some(v1::result::Payload::BotResult(v1::BotResult { certificates: Some(c) })),
            }) => JoinedCerts::from_v1(c),
            other => Err(Error::Protocol(format!("expected a bot result, got {other:?}"))),
        }
    }
}

/// Bot parameters for `teleport.join.v1`: public keys and requested expiry.
pub fn bot_params(key: &KeyPair, expires: SystemTime) -> v1::ClientParams {
    v1::ClientParams {
        payload: Some(v1::client_params::Payload::BotParams(v1::BotParams {
            public_keys: Some(v1::PublicKeys {
                public_tls_key: key.public_key_pkix_der(),
                public_ssh_key: key.ssh_wire(),
            }),
            expires: Some(timestamp(expires)),
        })),
    }
}

/// The legacy join request for a bot.
pub fn legacy_bot_request(token: &str, key: &KeyPair, expires: SystemTime) -> RegisterUsingTokenRequest {
    RegisterUsingTokenRequest {
        token: token.to_string(),
        role: BOT_ROLE.to_string(),
        public_tls_key: key.public_key_pkix_pem().into_bytes(),
        public_ssh_key: key.ssh_authorized_key().into_bytes(),
        expires: Some(timestamp(expires)),
        ..Default::default()
    }
}

/// Converts a time to a protobuf timestamp.
pub fn timestamp(t: SystemTime) -> prost_types::Timestamp {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO);
    prost_types::Timestamp { seconds: d.as_secs() as i64, nanos: d.subsec_nanos() as i32 }
}

/// Which service a join went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinService {
    /// `teleport.join.v1.JoinService/Join`.
    V1,
    /// `proto.JoinService` (pre-v18).
    Legacy,
}

/// Joins with the `token` method: the new service first, the legacy one on
/// `Unimplemented`. A fresh key is generated for every join.
pub async fn join_with_token(
    client: &Client,
    token: &str,
    ttl: Duration,
) -> Result<(KeyPair, JoinedCerts, JoinService), Error> {
    let init = |params| {
        v1::join_request::Payload::TokenInit(v1::TokenInit { client_params: Some(params), secret: String::new() })
    };
    join_static(client, token, "token", init, String::new(), ttl).await
}

/// Joins with an OIDC join method (`github`): the CI provider's ID token in `OIDCInit` on
/// `teleport.join.v1`, or in the legacy `RegisterUsingToken`'s `IDToken` on `Unimplemented`
/// (as Teleport's `joinclient` does). `method` is the token's join method. A fresh key is
/// generated for every join.
pub async fn join_with_id_token(
    client: &Client,
    token: &str,
    method: &str,
    id_token: &str,
    ttl: Duration,
) -> Result<(KeyPair, JoinedCerts, JoinService), Error> {
    let init = |params| {
        v1::join_request::Payload::OidcInit(v1::OidcInit {
            client_params: Some(params),
            id_token: id_token.as_bytes().to_vec(),
        })
    };
    join_static(client, token, method, init, id_token.to_string(), ttl).await
}

/// A join whose proof is one message (no challenge): `ClientInit`, `ServerInit`, then `init`
/// of the bot parameters, then the result on `teleport.join.v1`; on `Unimplemented`, the
/// legacy `RegisterUsingToken` carrying `id_token` (empty for `token`).
async fn join_static(
    client: &Client,
    token: &str,
    method: &str,
    init: impl FnOnce(v1::ClientParams) -> v1::join_request::Payload,
    id_token: String,
    ttl: Duration,
) -> Result<(KeyPair, JoinedCerts, JoinService), Error> {
    let v1 = async {
        let mut stream = JoinStream::open(
            client,
            v1::ClientInit {
                join_method: Some(method.to_string()),
                token_name: token.to_string(),
                system_role: BOT_ROLE.to_string(),
                ..Default::default()
            },
        )
        .await?;
        let _init = stream.recv_server_init().await?;
        // Keys are generated only after ServerInit, as the server names the suite.
        let key = KeyPair::generate();
        stream.send(init(bot_params(&key, SystemTime::now() + ttl))).await?;
        let certs = stream.recv_bot_result().await?;
        Ok::<_, Error>((key, certs))
    };
    match v1.await {
        Err(Error::NotImplemented(_)) => {
            let key = KeyPair::generate();
            let req =
                RegisterUsingTokenRequest { id_token, ..legacy_bot_request(token, &key, SystemTime::now() + ttl) };
            let certs = client.legacy_join().register_using_token(req).await?.into_inner();
            Ok((key, JoinedCerts::from_legacy(certs)?, JoinService::Legacy))
        }
        Ok((key, certs)) => Ok((key, certs, JoinService::V1)),
        Err(e) => Err(e),
    }
}
