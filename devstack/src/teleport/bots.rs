//! `teleport.machineid.v1.BotService`: bots and their users and roles.
//!
//! As in Teleport (`lib/auth/machineid/machineidv1/bot_service.go`), a bot
//! is kept as a user and a role, both named `bot-<name>`: the role may
//! impersonate the bot's roles and carries its `max_session_ttl`, the user
//! carries its traits. Every answer is rebuilt from them
//! ([`bot_from_user_and_role`]), so what a client reads is what Teleport
//! keeps: `max_session_ttl` always set (12h unless given; a zero duration is
//! a role's default of 30h), no namespace, revision or sub-kind, traits
//! without empty values. The devstack also keeps the bot as written, for the
//! labels, description and expiry Teleport keeps on the user.

use std::sync::Arc;

use joinery_teleport::proto::teleport::header::v1::Metadata;
use joinery_teleport::proto::teleport::machineid::v1::bot_service_server::BotService;
use joinery_teleport::proto::teleport::machineid::v1::{
    Bot, BotSpec, BotStatus, CreateBotRequest, DeleteBotRequest, GetBotRequest, ListBotsRequest, ListBotsResponse,
    Trait, UpdateBotRequest, UpsertBotRequest,
};
use tonic::{Request, Response, Status};

use super::resources::{BOT_DEFAULT_MAX_TTL, ROLE_DEFAULT_MAX_TTL, bot_resource_name, check_bot, set_kind_and_version};
use super::store::{Role, State, Stored, User, UserOrigin};
use super::{Cluster, now_secs, require_admin};

/// The bot service.
pub struct BotApi(pub Arc<Cluster>);

/// Teleport's answer for a bot whose user is missing: the user look-up's
/// `NotFound`, wrapped by the call (`trace.Wrap(err, "fetching bot user")`).
fn user_not_found(context: Option<&str>, name: &str) -> Status {
    let missing = super::users::not_found(&bot_resource_name(name));
    match context {
        Some(c) => Status::not_found(format!("{c}\n\t{}", missing.message())),
        None => missing,
    }
}

/// The bot named `name`, rebuilt from its user and role as Teleport's
/// `botFromUserAndRole` does; `None` if its user or role is missing.
pub fn bot_from_user_and_role(s: &State, name: &str) -> Option<Bot> {
    let resource = bot_resource_name(name);
    let (user, role) = (s.users.get(&resource)?, s.roles.get(&resource)?);
    let written = s.bots.get(name).map(|b| b.0.metadata.clone().unwrap_or_default()).unwrap_or_default();
    Some(Bot {
        kind: "bot".into(),
        version: "v1".into(),
        metadata: Some(Metadata {
            name: name.to_string(),
            description: written.description,
            labels: written.labels,
            expires: written.expires.filter(|e| e.seconds != 0),
            ..Default::default()
        }),
        spec: Some(BotSpec {
            roles: role.impersonate.clone(),
            traits: user
                .traits
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(name, values)| Trait { name: name.clone(), values: values.clone() })
                .collect(),
            max_session_ttl: Some(prost_types::Duration { seconds: role.max_session_ttl_secs as i64, nanos: 0 }),
        }),
        status: Some(BotStatus { user_name: resource.clone(), role_name: resource }),
        ..Default::default()
    })
}

/// Stores `bot` as its user and role (Teleport's `botToUserAndRole`);
/// `created_by` is who wrote it (kept as it was by an update).
fn put(s: &mut State, bot: Bot, created_by: Option<String>) -> Bot {
    let name = bot.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default();
    let resource = bot_resource_name(&name);
    let spec = bot.spec.clone().unwrap_or_default();
    // Unset: the legacy bot default (12h); zero: a role's default (30h).
    let max_ttl = match &spec.max_session_ttl {
        None => BOT_DEFAULT_MAX_TTL,
        Some(d) if d.seconds <= 0 && d.nanos <= 0 => ROLE_DEFAULT_MAX_TTL,
        Some(d) => d.seconds.max(0) as u64,
    };
    let mut traits = std::collections::BTreeMap::<String, Vec<String>>::new();
    for t in spec.traits.iter().filter(|t| !t.values.is_empty()) {
        traits.entry(t.name.clone()).or_default().extend(t.values.iter().cloned());
    }
    let origin = match created_by {
        Some(by) => Some(UserOrigin { created_by: by, created_unix: now_secs() }),
        None => s.users.get(&resource).and_then(|u| u.origin.clone()),
    };
    s.users.insert(
        resource.clone(),
        User {
            name: resource.clone(),
            roles: vec![resource.clone()],
            traits,
            bot_name: Some(name.clone()),
            origin,
            revision: super::new_revision(),
        },
    );
    s.roles.insert(
        resource.clone(),
        Role { name: resource, impersonate: spec.roles.clone(), max_session_ttl_secs: max_ttl },
    );
    s.bots.insert(name.clone(), Stored(bot));
    // Proven invariant: the user and role were inserted just above.
    bot_from_user_and_role(s, &name).unwrap_or_default()
}

fn remove(s: &mut State, name: &str) -> bool {
    let resource = bot_resource_name(name);
    let had_user = s.users.remove(&resource).is_some();
    s.roles.remove(&resource);
    s.bot_instances.retain(|_, i| i.bot_name != name);
    s.bots.remove(name);
    had_user
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
        self.0
            .store
            .read(|s| bot_from_user_and_role(s, name))
            .map(Response::new)
            .ok_or_else(|| user_not_found(Some("fetching bot user"), name))
    }

    async fn list_bots(&self, req: Request<ListBotsRequest>) -> Result<Response<ListBotsResponse>, Status> {
        require_admin(&req, "list", "bot")?;
        let r = req.into_inner();
        let page_size = if r.page_size <= 0 { 100 } else { r.page_size.min(1000) as usize };
        let (bots, next_page_token) = self.0.store.read(|s| {
            let mut names = s.bots.range(r.page_token.clone()..).map(|(k, _)| k.clone());
            let page: Vec<String> = names.by_ref().take(page_size).collect();
            let bots = page.iter().filter_map(|n| bot_from_user_and_role(s, n)).collect();
            (bots, names.next().unwrap_or_default())
        });
        Ok(Response::new(ListBotsResponse { bots, next_page_token }))
    }

    async fn create_bot(&self, req: Request<CreateBotRequest>) -> Result<Response<Bot>, Status> {
        let who = require_admin(&req, "create", "bot")?;
        let mut bot = set_kind_and_version(req.into_inner().bot)?;
        check_bot(&mut bot)?;
        let name = name_of(&bot);
        let bot = self.0.store.write(|s| {
            let resource = bot_resource_name(&name);
            if s.users.contains_key(&resource) {
                return Err(Status::already_exists(format!(
                    "creating bot user\n\tuser {resource:?} already registered"
                )));
            }
            Ok(put(s, bot, Some(who.username.clone())))
        })?;
        tracing::info!(bot = %name, "bot created");
        Ok(Response::new(bot))
    }

    async fn update_bot(&self, req: Request<UpdateBotRequest>) -> Result<Response<Bot>, Status> {
        let r = req.get_ref().clone();
        let new = set_kind_and_version(r.bot)?;
        require_admin(&req, "update", "bot")?;
        let (meta, new_spec) = match (&new.metadata, &new.spec) {
            (None, _) => return Err(Status::invalid_argument("bot.metadata: must be non-nil")),
            (Some(m), _) if m.name.is_empty() => {
                return Err(Status::invalid_argument("bot.metadata.name: must be non-empty"));
            }
            (_, None) => return Err(Status::invalid_argument("bot.spec: must be non-nil")),
            (Some(m), Some(s)) => (m.clone(), s.clone()),
        };
        let paths = match r.update_mask {
            None => return Err(Status::invalid_argument("update_mask: must be non-nil")),
            Some(m) if m.paths.is_empty() => {
                return Err(Status::invalid_argument("update_mask.paths: must be non-empty"));
            }
            Some(m) => m.paths,
        };
        let name = meta.name.clone();
        let bot = self.0.store.write(|s| {
            let mut bot = s
                .bots
                .get(&name)
                .filter(|_| s.users.contains_key(&bot_resource_name(&name)))
                .map(|b| b.0.clone())
                .ok_or_else(|| user_not_found(Some("getting bot user"), &name))?;
            // What the bot's role and user hold now, for the paths not updated.
            let current = bot_from_user_and_role(s, &name).and_then(|b| b.spec).unwrap_or_default();
            let mut spec = BotSpec { max_session_ttl: current.max_session_ttl, ..bot.spec.take().unwrap_or_default() };
            spec.roles = current.roles;
            spec.traits = current.traits;
            for path in &paths {
                match path.as_str() {
                    "spec.roles" => {
                        if new_spec.roles.iter().any(String::is_empty) {
                            return Err(Status::invalid_argument("spec.roles: must not contain empty strings"));
                        }
                        spec.roles = new_spec.roles.clone();
                    }
                    "spec.traits" => spec.traits = new_spec.traits.clone(),
                    // Teleport sets the role's option from the duration, unset being zero.
                    "spec.max_session_ttl" => {
                        spec.max_session_ttl = Some(new_spec.max_session_ttl.unwrap_or_default());
                    }
                    "metadata.description" => {
                        bot.metadata.get_or_insert_with(Default::default).description = meta.description.clone();
                    }
                    other => return Err(Status::invalid_argument(format!("update_mask: unsupported path {other:?}"))),
                }
            }
            bot.spec = Some(spec);
            Ok(put(s, bot, None))
        })?;
        Ok(Response::new(bot))
    }

    async fn upsert_bot(&self, req: Request<UpsertBotRequest>) -> Result<Response<Bot>, Status> {
        let who = require_admin(&req, "update", "bot")?;
        let mut bot = set_kind_and_version(req.into_inner().bot)?;
        check_bot(&mut bot)?;
        let bot = self.0.store.write(|s| Ok(put(s, bot, Some(who.username.clone()))))?;
        Ok(Response::new(bot))
    }

    async fn delete_bot(&self, req: Request<DeleteBotRequest>) -> Result<Response<()>, Status> {
        require_admin(&req, "delete", "bot")?;
        let name = req.into_inner().bot_name;
        if name.is_empty() {
            return Err(Status::invalid_argument("bot_name: must be non-empty"));
        }
        self.0.store.write(|s| if remove(s, &name) { Ok(()) } else { Err(user_not_found(None, &name)) })?;
        tracing::info!(bot = %name, "bot deleted");
        Ok(Response::new(()))
    }
}
