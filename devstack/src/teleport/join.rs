//! The join services: legacy `proto.JoinService` and `teleport.join.v1`.
//!
//! Both end in [`issue_bot_certs`], which applies Teleport's common checks
//! (token live, role allowed, bot exists), records a bot instance and signs
//! certificates. The legacy service speaks PEM / authorized_keys; the new
//! one DER / SSH wire format. Methods other than `token` are looked up by
//! name in the cluster's [`JoinMethods`](super::delegated::JoinMethods)
//! (see [`super::delegated`]).

use std::sync::Arc;
use std::time::SystemTime;

use joinery_teleport::identity::der_to_pem;
use joinery_teleport::proto::legacy::Certs;
use joinery_teleport::proto::legacy::join_service_server::JoinService as LegacyJoinService;
use joinery_teleport::proto::teleport::join::v1;
use joinery_teleport::proto::teleport::join::v1::join_service_server::JoinService as JoinServiceV1;
use joinery_teleport::proto::types::{ProvisionTokenV2, RegisterUsingTokenRequest};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::ca::{IssuedCerts, UserCertRequest};
use super::delegated::{BotKeys, ChallengeSolution, Exchange, bot_params, unexpected_message};
use super::resources::{bot_resource_name, mask};
use super::store::BotInstance;
use super::{Cluster, JoinV1Mode, bot_ttl, caller};
use joinery_teleport::CertInfo;

/// The key suite the devstack advertises (ECDSA P-256 for bots).
pub const SIGNATURE_ALGORITHM_SUITE: &str = "balanced-v1";

/// Parses a PEM `PUBLIC KEY` (PKIX) into DER.
pub fn tls_key_from_pem(pem: &[u8]) -> Result<Vec<u8>, Status> {
    use base64::Engine;
    let bad = || Status::invalid_argument("invalid TLS public key: expected a PEM PUBLIC KEY");
    let text = std::str::from_utf8(pem).map_err(|_| bad())?;
    let (_, rest) = text.split_once("-----BEGIN PUBLIC KEY-----").ok_or_else(bad)?;
    let (body, _) = rest.split_once("-----END PUBLIC KEY-----").ok_or_else(bad)?;
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).map_err(|_| bad())?;
    check_spki(&der)?;
    Ok(der)
}

/// Checks DER is a PKIX SubjectPublicKeyInfo.
pub(super) fn check_spki(der: &[u8]) -> Result<(), Status> {
    use x509_parser::prelude::FromDer;
    x509_parser::x509::SubjectPublicKeyInfo::from_der(der)
        .map(|_| ())
        .map_err(|_| Status::invalid_argument("invalid TLS public key: not a PKIX SubjectPublicKeyInfo"))
}

/// Parses an authorized_keys SSH public key.
pub fn ssh_key_from_authorized(line: &[u8]) -> Result<ssh_key::PublicKey, Status> {
    let text = std::str::from_utf8(line).map_err(|_| Status::invalid_argument("invalid SSH public key"))?;
    ssh_key::PublicKey::from_openssh(text.trim()).map_err(|_| Status::invalid_argument("invalid SSH public key"))
}

/// Teleport's message for a token used on the wrong endpoint.
fn wrong_method(method: &str) -> Status {
    Status::permission_denied(format!(
        "this token is only valid for the {method:?} join method but the node has connected to the wrong endpoint, make sure your node is configured to use the correct join method"
    ))
}

/// Teleport's answer to a renewable certificate of another generation (it
/// also locks the bot; the devstack only refuses).
pub(super) fn generation_mismatch(stored: u64, presented: u64) -> Status {
    Status::permission_denied(format!("renewable cert generation mismatch: stored={stored}, presented={presented}"))
}

/// Looks up a live token for a join.
fn join_token(cluster: &Cluster, name: &str) -> Result<ProvisionTokenV2, Status> {
    cluster.live_token(name).ok_or_else(|| {
        tracing::warn!(token = %mask(name), "join with an unknown or expired token");
        Status::permission_denied("token expired or not found")
    })
}

/// Common checks and certificate issuance for a bot join. `rejoin` is the
/// caller's certificate when the join came over mTLS (Teleport's
/// `setBotParameters`): a bot joining again with it continues its bot
/// instance (the next generation) instead of starting a new one.
pub fn issue_bot_certs(
    cluster: &Cluster,
    token: &ProvisionTokenV2,
    role: &str,
    tls_key_der: &[u8],
    ssh_key: &ssh_key::PublicKey,
    expires: Option<&prost_types::Timestamp>,
    rejoin: Option<&CertInfo>,
) -> Result<IssuedCerts, Status> {
    let spec = token.spec.clone().unwrap_or_default();
    let token_name = token.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default();
    if !spec.roles.iter().any(|r| r.eq_ignore_ascii_case(role)) {
        return Err(Status::invalid_argument(format!(
            "can not join the cluster with role {role}, the token does not allow {role:?} role"
        )));
    }
    if role != "Bot" {
        return Err(Status::invalid_argument("the devstack joins bots only (role \"Bot\")"));
    }
    let bot_name = spec.bot_name.clone();
    let resource = bot_resource_name(&bot_name);
    let (bot_role, user) = cluster.store.read(|s| (s.roles.get(&resource).cloned(), s.users.get(&resource).cloned()));
    let (Some(bot_role), Some(user)) = (bot_role, user) else {
        return Err(Status::permission_denied(format!("bot {bot_name:?} not found")));
    };
    let renewable = spec.join_method == "token";
    // Teleport's updateBotInstance: an authenticated re-join of the same bot
    // continues its instance; a generation that does not match is enforced
    // only for renewable joins, and merely logged otherwise.
    let continued = rejoin
        .filter(|c| c.bot_name.as_deref() == Some(bot_name.as_str()))
        .and_then(|c| c.bot_instance_id.clone().map(|id| (id, c.generation.unwrap_or(0))))
        .and_then(|(id, presented)| cluster.store.read(|s| s.bot_instances.get(&id).cloned()).map(|i| (i, presented)));
    let (instance_id, generation) = match continued {
        Some((instance, presented)) => {
            if presented != instance.generation {
                if renewable {
                    return Err(generation_mismatch(instance.generation, presented));
                }
                tracing::warn!(bot = %bot_name, instance = %instance.id, stored = instance.generation, presented, "bot instance generation mismatch");
            }
            (instance.id, instance.generation + 1)
        }
        None => (uuid::Uuid::new_v4().to_string(), 1),
    };
    let ttl = bot_ttl(expires, bot_role.max_session_ttl_secs);
    let req = UserCertRequest {
        username: resource.clone(),
        roles: vec![resource],
        logins: user.traits.get("logins").cloned().unwrap_or_default(),
        bot_name: Some(bot_name.clone()),
        bot_instance_id: Some(instance_id.clone()),
        generation: Some(generation),
        renewable,
        ttl,
    };
    let issued =
        cluster.ca.issue_user(&req, Some(tls_key_der), Some(ssh_key)).map_err(|e| Status::internal(e.to_string()))?;
    cluster.store.write(|s| {
        // Token-method join tokens are single use; delegated ones are not.
        if renewable {
            s.tokens.remove(&token_name);
        }
        let join_method = s.bot_instances.get(&instance_id).map(|i| i.join_method.clone());
        s.bot_instances.insert(
            instance_id.clone(),
            BotInstance {
                id: instance_id.clone(),
                bot_name: bot_name.clone(),
                join_method: join_method.unwrap_or_else(|| spec.join_method.clone()),
                generation,
                last_seen: joinery_teleport::fmt_time(SystemTime::now()),
                expires_unix: BotInstance::expiry_after(super::now_secs(), ttl),
            },
        );
        Ok(())
    })?;
    tracing::info!(bot = %bot_name, method = %spec.join_method, instance = %instance_id, generation, "bot joined");
    Ok(issued)
}

/// The legacy join service.
pub struct LegacyJoinApi(pub Arc<Cluster>);

type AzureStream = tonic::codegen::BoxStream<joinery_teleport::proto::legacy::RegisterUsingAzureMethodResponse>;

#[tonic::async_trait]
impl LegacyJoinService for LegacyJoinApi {
    async fn register_using_token(&self, req: Request<RegisterUsingTokenRequest>) -> Result<Response<Certs>, Status> {
        let rejoin = caller(&req);
        let r = req.into_inner();
        if r.token.is_empty() {
            return Err(Status::invalid_argument("missing parameter Token"));
        }
        if r.role.is_empty() {
            return Err(Status::invalid_argument("missing parameter Role"));
        }
        let token = join_token(&self.0, &r.token)?;
        let method = token.spec.as_ref().map(|s| s.join_method.clone()).unwrap_or_default();
        if method != "token" {
            // OIDC methods (`github`) come this way too, with the ID token in `IDToken`.
            let delegated = self.0.joins.get(&method).filter(|j| j.legacy_id_token().is_some());
            match delegated.as_ref().and_then(|j| j.legacy_id_token()) {
                Some(oidc) => oidc.verify(&token, &r.id_token).await?,
                None => return Err(wrong_method(&method)),
            }
        }
        let tls = tls_key_from_pem(&r.public_tls_key)?;
        let ssh = ssh_key_from_authorized(&r.public_ssh_key)?;
        let issued = issue_bot_certs(&self.0, &token, &r.role, &tls, &ssh, r.expires.as_ref(), rejoin.as_ref())?;
        Ok(Response::new(legacy_certs(&self.0, issued)))
    }

    async fn register_using_azure_method(
        &self,
        req: Request<Streaming<joinery_teleport::proto::legacy::RegisterUsingAzureMethodRequest>>,
    ) -> Result<Response<AzureStream>, Status> {
        let delegated = self
            .0
            .joins
            .get("azure")
            .filter(|j| j.legacy_challenge().is_some())
            .ok_or_else(|| Status::unimplemented("azure join is not enabled"))?;
        let cluster = self.0.clone();
        let rejoin = caller(&req);
        let mut inbound = req.into_inner();
        let (tx, rx) = mpsc::channel(2);
        tokio::spawn(async move {
            use joinery_teleport::proto::legacy::RegisterUsingAzureMethodResponse as Resp;
            // Present: checked before the stream was accepted.
            let Some(azure) = delegated.legacy_challenge() else { return };
            let challenge = azure.challenge();
            // The server speaks first on this stream.
            if tx.send(Ok(Resp { challenge: challenge.clone(), certs: None })).await.is_err() {
                return;
            }
            let result = async {
                let msg = inbound
                    .message()
                    .await?
                    .ok_or_else(|| Status::invalid_argument("stream closed before the challenge response"))?;
                let r = msg.register_using_token_request.unwrap_or_default();
                if msg.attested_data.is_empty() {
                    return Err(Status::invalid_argument("missing parameter AttestedData"));
                }
                if msg.access_token.is_empty() {
                    return Err(Status::invalid_argument("missing parameter AccessToken"));
                }
                let token = join_token(&cluster, &r.token)?;
                let method = token.spec.as_ref().map(|s| s.join_method.clone()).unwrap_or_default();
                if method != delegated.method() {
                    return Err(Status::permission_denied("this token does not support the Azure join method"));
                }
                azure
                    .verify(
                        &token,
                        &challenge,
                        ChallengeSolution {
                            attested_data: msg.attested_data,
                            intermediate: None,
                            access_token: msg.access_token,
                        },
                    )
                    .await?;
                let tls = tls_key_from_pem(&r.public_tls_key)?;
                let ssh = ssh_key_from_authorized(&r.public_ssh_key)?;
                let issued =
                    issue_bot_certs(&cluster, &token, &r.role, &tls, &ssh, r.expires.as_ref(), rejoin.as_ref())?;
                Ok(legacy_certs(&cluster, issued))
            }
            .await;
            let _ = tx.send(result.map(|c| Resp { challenge: String::new(), certs: Some(c) })).await;
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

fn legacy_certs(cluster: &Cluster, issued: IssuedCerts) -> Certs {
    Certs {
        ssh: format!("{}\n", issued.ssh_line).into_bytes(),
        tls: der_to_pem(&issued.tls_der).into_bytes(),
        tlsca_certs: vec![cluster.ca.tls_host_ca_pem().as_bytes().to_vec()],
        sshca_certs: vec![format!("{}\n", cluster.ca.ssh_host_ca_authorized_key()).into_bytes()],
    }
}

/// The `teleport.join.v1` join service.
pub struct JoinApiV1(pub Arc<Cluster>);

type JoinStream = tonic::codegen::BoxStream<v1::JoinResponse>;

impl JoinApiV1 {
    async fn run(
        cluster: Arc<Cluster>,
        rejoin: Option<CertInfo>,
        mut inbound: Streaming<v1::JoinRequest>,
        tx: mpsc::Sender<Result<v1::JoinResponse, Status>>,
    ) -> Result<v1::Certificates, Status> {
        let mut exchange = Exchange::new(&mut inbound, &tx);
        let init = match exchange.next().await? {
            v1::join_request::Payload::ClientInit(i) => i,
            _ => return Err(Status::invalid_argument("expected ClientInit as the first message")),
        };
        if init.token_name.is_empty() {
            return Err(Status::invalid_argument("ClientInit: TokenName is required"));
        }
        if init.system_role.is_empty() {
            return Err(Status::invalid_argument("ClientInit: SystemRole is required"));
        }
        let token = join_token(&cluster, &init.token_name)?;
        let method = token.spec.as_ref().map(|s| s.join_method.clone()).unwrap_or_default();
        if let Some(requested) = init.join_method.as_deref().filter(|m| !m.is_empty())
            && requested != method
        {
            return Err(wrong_method(&method));
        }
        exchange
            .send(v1::join_response::Payload::Init(v1::ServerInit {
                join_method: method.clone(),
                signature_algorithm_suite: SIGNATURE_ALGORITHM_SUITE.into(),
            }))
            .await?;
        if method == "azure" {
            match cluster.join_v1 {
                JoinV1Mode::WithoutAzure => {
                    // Teleport's `handleJoinMethod` default, after its ServerInit.
                    return Err(Status::unimplemented(format!(
                        "join method {method} is not yet implemented by the new join service"
                    )));
                }
                JoinV1Mode::RenumberedAzure => return renumbered_azure(&mut exchange).await,
                JoinV1Mode::Full | JoinV1Mode::Absent => {}
            }
        }
        let first = exchange.next().await?;
        let keys: BotKeys = match (method.as_str(), first) {
            ("token", v1::join_request::Payload::TokenInit(t)) => bot_params(t.client_params)?,
            (m, first) => match cluster.joins.get(m) {
                Some(delegated) => delegated.join_v1(&token, first, &mut exchange).await?,
                None => return Err(unexpected_message(m)),
            },
        };
        let issued = issue_bot_certs(
            &cluster,
            &token,
            &init.system_role,
            &keys.tls_der,
            &keys.ssh,
            keys.expires.as_ref(),
            rejoin.as_ref(),
        )?;
        Ok(v1::Certificates {
            tls_cert: issued.tls_der,
            tls_ca_certs: vec![cluster.ca.tls_host_ca_der().to_vec()],
            ssh_cert: issued.ssh_wire,
            ssh_ca_keys: vec![cluster.ca.ssh_host_ca_wire()],
        })
    }
}

/// A server whose Azure messages are numbered otherwise: its challenge is a
/// payload this client does not know, and a solution it sends back is one the
/// server does not know (Teleport's `challengeSolutionToMessage` default).
async fn renumbered_azure(exchange: &mut Exchange<'_>) -> Result<v1::Certificates, Status> {
    exchange.next().await?;
    exchange.send(v1::join_response::Payload::Challenge(v1::Challenge { payload: None })).await?;
    exchange.next().await?;
    Err(Status::invalid_argument("unrecognized challenge solution message type <nil>"))
}

#[tonic::async_trait]
impl JoinServiceV1 for JoinApiV1 {
    async fn join(&self, req: Request<Streaming<v1::JoinRequest>>) -> Result<Response<JoinStream>, Status> {
        if self.0.join_v1 == JoinV1Mode::Absent {
            return Err(Status::unimplemented("unknown service teleport.join.v1.JoinService"));
        }
        let cluster = self.0.clone();
        let rejoin = caller(&req);
        let inbound = req.into_inner();
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            let result = JoinApiV1::run(cluster, rejoin, inbound, tx.clone()).await;
            let msg = result.map(|certs| {
                let result = v1::Result {
                    payload: Some(v1::result::Payload::BotResult(v1::BotResult { certificates: Some(certs) })),
                };
                v1::JoinResponse { payload: Some(v1::join_response::Payload::Result(result)) }
            });
            if let Err(e) = &msg {
                tracing::warn!(code = ?e.code(), reason = %e.message(), "join rejected");
            }
            let _ = tx.send(msg).await;
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
