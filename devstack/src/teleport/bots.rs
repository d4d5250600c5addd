//! `teleport.machineid.v1.BotService`: bots and their users and roles.
//!
//! A bot is stored as the `Bot` resource plus, as in Teleport, a user and a
//! role both named `bot-<name>`: the role may impersonate the bot's roles.

use std::sync::Arc;

use joinery_teleport::proto::teleport::machineid::v1::bot_service_server::BotService;
use joinery_teleport::proto::teleport::machineid::v1::{
    Bot, BotStatus, CreateBotRequest, DeleteBotRequest, GetBotRequest, ListBotsRequest, ListBotsResponse,
    UpdateBotRequest, UpsertBotRequest,
};
use tonic::{Request, Response, Status};

use super::resources::{BOT_DEFAULT_MAX_TTL, bot_resource_name, check_bot};
use super::store::{Role, State, Stored, User};
use super::{Cluster, new_revision, require_admin};

/// The bot service.
pub struct BotApi(pub Arc<Cluster>);

fn not_found(name: &str) -> Status {
    Status::not_found(format!("bot {name:?} not found"))
}

/// Stores `bot` with its user and role, filling server-side fields.
fn put(s: &mut State, mut bot: Bot) -> Bot {
    let name = bot.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default();
    let resource = bot_resource_name(&name);
    if let Some(m) = bot.metadata.as_mut() {
        m.revision = new_revision();
        if m.namespace.is_empty() {
            m.namespace = "default".into();
        }
    }
    bot.status = Some(BotStatus { user_name: resource.clone(), role_name: resource.clone() });
    let spec = bot.spec.clone().unwrap_or_default();
    let max_ttl = spec
        .max_session_ttl
        .as_ref()
        .map(|d| d.seconds.max(0) as u64)
        .filter(|s| *s > 0)
        .unwrap_or(BOT_DEFAULT_MAX_TTL);
    s.users.insert(
        resource.clone(),
        User {
            name: resource.clone(),
            roles: vec![resource.clone()],
            traits: spec.traits.iter().map(|t| (t.name.clone(), t.values.clone())).collect(),
            bot_name: Some(name.clone()),
        },
    );
    s.roles.insert(
        resource.clone(),
        Role { name: resource, impersonate: spec.roles.clone(), max_session_ttl_secs: max_ttl },
    );
    s.bots.insert(name, Stored(bot.clone()));
    bot
}

fn remove(s: &mut State, name: &str) -> bool {
    let resource = bot_resource_name(name);
    s.users.remove(&resource);
    s.roles.remove(&resource);
    s.bot_instances.retain(|_, i| i.bot_name != name);
    s.bots.remove(name).is_some()
}

fn name_of(bot: &Bot) -> String {
    bot.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default()
}

#[tonic::async_trait]
impl BotService for BotApi {
    async fn get_bot(&self, req: Request<GetBotRequest>) -> Result<Response<Bot>, Status> {
        require_admin(&req, "read", "bot")?;
        let name = &req.get_ref().bot_name;
        if name.is_empty() {
            return Err(Status::invalid_argument("bot_name: must be non-empty"));
        }
        self.0.store.read(|s| s.bots.get(name).map(|b| b.0.clone())).map(Response::new).ok_or_else(|| not_found(name))
    }

    async fn list_bots(&self, req: Request<ListBotsRequest>) -> Result<Response<ListBotsResponse>, Status> {
        require_admin(&req, "list", "bot")?;
        let r = req.into_inner();
        let page_size = if r.page_size <= 0 { 100 } else { r.page_size.min(1000) as usize };
        let (bots, next_page_token) = self.0.store.read(|s| {
            let mut it = s.bots.range(r.page_token.clone()..).map(|(k, b)| (k.clone(), b.0.clone()));
            let bots: Vec<Bot> = it.by_ref().take(page_size).map(|(_, b)| b).collect();
            let next = it.next().map(|(k, _)| k).unwrap_or_default();
            (bots, next)
        });
        Ok(Response::new(ListBotsResponse { bots, next_page_token }))
    }

    async fn create_bot(&self, req: Request<CreateBotRequest>) -> Result<Response<Bot>, Status> {
        require_admin(&req, "create", "bot")?;
        let mut bot = req.into_inner().bot.ok_or_else(|| Status::invalid_argument("bot: must be non-nil"))?;
        check_bot(&mut bot)?;
        let name = name_of(&bot);
        let bot = self.0.store.write(|s| {
            if s.bots.contains_key(&name) {
                return Err(Status::already_exists(format!("bot {name:?} already exists")));
            }
            Ok(put(s, bot))
        })?;
        tracing::info!(bot = %name, "bot created");
        Ok(Response::new(bot))
    }

    async fn update_bot(&self, req: Request<UpdateBotRequest>) -> Result<Response<Bot>, Status> {
        require_admin(&req, "update", "bot")?;
        let r = req.into_inner();
        let new = r.bot.ok_or_else(|| Status::invalid_argument("bot: must be non-nil"))?;
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        if paths.is_empty() {
            return Err(Status::invalid_argument("update_mask: must be non-nil"));
        }
        let name = name_of(&new);
        let bot = self.0.store.write(|s| {
            let mut bot = s.bots.get(&name).map(|b| b.0.clone()).ok_or_else(|| not_found(&name))?;
            let new_spec = new.spec.clone().unwrap_or_default();
            let spec = bot.spec.get_or_insert_with(Default::default);
            for path in &paths {
                match path.as_str() {
                    "spec.roles" => spec.roles = new_spec.roles.clone(),
                    "spec.traits" => spec.traits = new_spec.traits.clone(),
                    "spec.max_session_ttl" => spec.max_session_ttl = new_spec.max_session_ttl,
                    "metadata.description" | "metadata.labels" | "metadata.expires" => {
                        let (Some(m), Some(n)) = (bot.metadata.as_mut(), new.metadata.as_ref()) else { continue };
                        match path.as_str() {
                            "metadata.description" => m.description = n.description.clone(),
                            "metadata.labels" => m.labels = n.labels.clone(),
                            _ => m.expires = n.expires,
                        }
                    }
                    other => return Err(Status::invalid_argument(format!("update_mask: unsupported path {other:?}"))),
                }
            }
            check_bot(&mut bot)?;
            Ok(put(s, bot))
        })?;
        Ok(Response::new(bot))
    }

    async fn upsert_bot(&self, req: Request<UpsertBotRequest>) -> Result<Response<Bot>, Status> {
        require_admin(&req, "update", "bot")?;
        let mut bot = req.into_inner().bot.ok_or_else(|| Status::invalid_argument("bot: must be non-nil"))?;
        check_bot(&mut bot)?;
        let bot = self.0.store.write(|s| Ok(put(s, bot)))?;
        Ok(Response::new(bot))
    }

    async fn delete_bot(&self, req: Request<DeleteBotRequest>) -> Result<Response<()>, Status> {
        require_admin(&req, "delete", "bot")?;
        let name = req.into_inner().bot_name;
        self.0.store.write(|s| if remove(s, &name) { Ok(()) } else { Err(not_found(&name)) })?;
        tracing::info!(bot = %name, "bot deleted");
        Ok(Response::new(()))
    }
}
