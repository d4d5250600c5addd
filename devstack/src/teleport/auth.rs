//! `proto.AuthService`: ping, tokens and user certificates.

use std::sync::Arc;

use joinery_teleport::identity::der_to_pem;
use joinery_teleport::proto::legacy::auth_service_server::AuthService;
use joinery_teleport::proto::legacy::{
    Certs, CreateTokenV2Request, GetClusterCaCertResponse, PingRequest, PingResponse, UpsertTokenV2Request,
    UserCertsRequest, create_token_v2_request, upsert_token_v2_request,
};
use joinery_teleport::proto::types::{ProvisionTokenV2, ProvisionTokenV2List, ResourceRequest};
use tonic::{Request, Response, Status};

use super::ca::UserCertRequest;
use super::resources::{bot_resource_name, check_token, mask};
use super::store::{BotInstance, Stored};
use super::{Cluster, SERVER_VERSION, caller, new_revision, now_secs, require_admin, token_expired};

/// The auth service.
pub struct AuthApi(pub Arc<Cluster>);

fn token_not_found(name: &str) -> Status {
    Status::not_found(format!("provisioning token({}) not found", mask(name)))
}

impl AuthApi {
    fn write_token(&self, token: Option<ProvisionTokenV2>, create: bool) -> Result<(), Status> {
        let mut token = token.ok_or_else(|| Status::invalid_argument("missing token"))?;
        check_token(&mut token)?;
        let name = token.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default();
        if token_expired(&token) {
            return Err(Status::invalid_argument("token expiry must be in the future"));
        }
        if let Some(m) = token.metadata.as_mut() {
            m.revision = new_revision();
        }
        self.0.store.write(|s| {
            let exists = s.tokens.get(&name).is_some_and(|t| !token_expired(&t.0));
            if create && exists {
                return Err(Status::already_exists(format!("token {} already exists", mask(&name))));
            }
            s.tokens.insert(name.clone(), Stored(token));
            Ok(())
        })?;
        tracing::info!(token = %mask(&name), create, "token written");
        Ok(())
    }
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn ping(&self, req: Request<PingRequest>) -> Result<Response<PingResponse>, Status> {
        let remote = req.remote_addr().map(|a| a.ip().to_string()).unwrap_or_default();
        Ok(Response::new(PingResponse {
            cluster_name: self.0.name().to_string(),
            server_version: SERVER_VERSION.to_string(),
            server_features: Some(Default::default()),
            proxy_public_addr: String::new(),
            is_boring: false,
            remote_addr: remote,
            load_all_c_as: false,
            license_expiry: None,
        }))
    }

    async fn get_token(&self, req: Request<ResourceRequest>) -> Result<Response<ProvisionTokenV2>, Status> {
        require_admin(&req, "read", "token")?;
        let name = &req.get_ref().name;
        if name.is_empty() {
            return Err(Status::invalid_argument("missing parameter name"));
        }
        self.0.live_token(name).map(Response::new).ok_or_else(|| token_not_found(name))
    }

    async fn get_tokens(&self, req: Request<()>) -> Result<Response<ProvisionTokenV2List>, Status> {
        require_admin(&req, "list", "token")?;
        let provision_tokens =
            self.0.store.read(|s| s.tokens.values().map(|t| t.0.clone()).filter(|t| !token_expired(t)).collect());
        Ok(Response::new(ProvisionTokenV2List { provision_tokens }))
    }

    async fn create_token_v2(&self, req: Request<CreateTokenV2Request>) -> Result<Response<()>, Status> {
        require_admin(&req, "create", "token")?;
        let create_token_v2_request::Token::V2(t) =
            req.into_inner().token.ok_or_else(|| Status::invalid_argument("missing token"))?;
        self.write_token(Some(t), true)?;
        Ok(Response::new(()))
    }

    async fn upsert_token_v2(&self, req: Request<UpsertTokenV2Request>) -> Result<Response<()>, Status> {
        require_admin(&req, "update", "token")?;
        let upsert_token_v2_request::Token::V2(t) =
            req.into_inner().token.ok_or_else(|| Status::invalid_argument("missing token"))?;
        self.write_token(Some(t), false)?;
        Ok(Response::new(()))
    }

    async fn delete_token(&self, req: Request<ResourceRequest>) -> Result<Response<()>, Status> {
        require_admin(&req, "delete", "token")?;
        let name = req.into_inner().name;
        self.0.store.write(|s| match s.tokens.remove(&name) {
            Some(t) if !token_expired(&t.0) => Ok(()),
            _ => Err(token_not_found(&name)),
        })?;
        Ok(Response::new(()))
    }

    async fn generate_user_certs(&self, req: Request<UserCertsRequest>) -> Result<Response<Certs>, Status> {
        let who = caller(&req).ok_or_else(|| Status::unauthenticated("client certificate required"))?;
        let r = req.into_inner();
        if r.username != who.username {
            return Err(Status::permission_denied(format!(
                "user {:?} is not allowed to generate certificates for user {:?}",
                who.username, r.username
            )));
        }
        let bot_name = who
            .bot_name
            .clone()
            .ok_or_else(|| Status::permission_denied("the devstack issues user certificates to bots only"))?;
        let bot_role = bot_resource_name(&bot_name);
        // An impersonated certificate cannot be used to get more certificates.
        if !who.roles.contains(&bot_role) {
            return Err(Status::permission_denied("role impersonated certificates cannot be reissued"));
        }
        let (role, user) = self.0.store.read(|s| (s.roles.get(&bot_role).cloned(), s.users.get(&bot_role).cloned()));
        let (role, user) = match (role, user) {
            (Some(r), Some(u)) => (r, u),
            _ => return Err(Status::permission_denied(format!("bot {bot_name:?} no longer exists"))),
        };
        let tls_key =
            if r.tls_public_key.is_empty() { None } else { Some(super::join::tls_key_from_pem(&r.tls_public_key)?) };
        let ssh_key = if r.ssh_public_key.is_empty() {
            None
        } else {
            Some(super::join::ssh_key_from_authorized(&r.ssh_public_key)?)
        };
        if tls_key.is_none() && ssh_key.is_none() {
            return Err(Status::invalid_argument("at least one of SSHPublicKey and TLSPublicKey is required"));
        }
        let remaining = who.not_after.duration_since(std::time::SystemTime::now()).map(|d| d.as_secs()).unwrap_or(0);
        let impersonate = r.use_role_requests || !r.role_requests.is_empty();
        let logins = user.traits.get("logins").cloned().unwrap_or_default();
        let cert_req = if impersonate {
            let roles = if r.role_requests.is_empty() { role.impersonate.clone() } else { r.role_requests.clone() };
            if let Some(bad) = roles.iter().find(|x| !role.impersonate.contains(x)) {
                return Err(Status::permission_denied(format!(
                    "user {:?} is not allowed to impersonate role {bad:?}",
                    who.username
                )));
            }
            UserCertRequest {
                username: who.username.clone(),
                roles,
                logins,
                bot_name: Some(bot_name.clone()),
                bot_instance_id: who.bot_instance_id.clone(),
                generation: None,
                renewable: false,
                // Impersonated certificates never outlive the bot's own.
                ttl: super::bot_ttl(r.expires.as_ref(), role.max_session_ttl_secs.min(remaining)),
            }
        } else {
            if !who.renewable {
                return Err(Status::permission_denied(
                    "the bot certificate is not renewable: join again to get new certificates",
                ));
            }
            let presented = who.generation.unwrap_or(0);
            let generation = presented + 1;
            let ttl = super::bot_ttl(r.expires.as_ref(), role.max_session_ttl_secs);
            if let Some(id) = &who.bot_instance_id {
                let id = id.clone();
                self.0.store.write(|s| {
                    if let Some(i) = s.bot_instances.get_mut(&id) {
                        // Teleport refuses (and locks) a renewal with a stale generation:
                        // the certificate was renewed already, by someone else or by a lost answer.
                        if i.generation != presented {
                            return Err(super::join::generation_mismatch(i.generation, presented));
                        }
                        i.generation = generation;
                        i.last_seen = joinery_teleport::fmt_time(std::time::SystemTime::now());
                        i.expires_unix = BotInstance::expiry_after(super::now_secs(), ttl);
                    }
                    Ok(())
                })?;
            }
            UserCertRequest {
                username: who.username.clone(),
                roles: vec![bot_role.clone()],
                logins,
                bot_name: Some(bot_name.clone()),
                bot_instance_id: who.bot_instance_id.clone(),
                generation: Some(generation),
                renewable: true,
                ttl,
            }
        };
        let issued = self
            .0
            .ca
            .issue_user(&cert_req, tls_key.as_deref(), ssh_key.as_ref())
            .map_err(|e| Status::internal(e.to_string()))?;
        tracing::info!(user = %who.username, impersonate, at = now_secs(), "issued user certificates");
        Ok(Response::new(Certs {
            ssh: if issued.ssh_line.is_empty() { Vec::new() } else { format!("{}\n", issued.ssh_line).into_bytes() },
            tls: if issued.tls_der.is_empty() { Vec::new() } else { der_to_pem(&issued.tls_der).into_bytes() },
            tlsca_certs: vec![self.0.ca.tls_host_ca_pem().as_bytes().to_vec()],
            sshca_certs: vec![self.0.ca.ssh_host_ca_authorized_key().into_bytes()],
        }))
    }

    async fn get_cluster_ca_cert(&self, _req: Request<()>) -> Result<Response<GetClusterCaCertResponse>, Status> {
        Ok(Response::new(GetClusterCaCertResponse { tlsca: self.0.ca.tls_host_ca_pem().as_bytes().to_vec() }))
    }
}
