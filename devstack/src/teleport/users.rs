//! `teleport.users.v1.UsersService`: `GetUser`, as Teleport's
//! `lib/auth/users/usersv1` answers it.
//!
//! The devstack's users are the admin and one user per bot (`bot-<name>`,
//! see [`super::bots`]). A user is shown as Teleport keeps it: the bot's
//! labels plus `teleport.internal/bot` and `teleport.internal/bot-generation`,
//! its roles and traits, who created it and when, and the zero times and
//! password state Teleport's (gogoproto, non-nullable) fields always carry.
//! Secrets are never served: only Teleport's built-in `Admin` role may ask
//! for them, and no devstack identity holds it.

use std::collections::HashMap;
use std::sync::Arc;

use joinery_teleport::proto::teleport::users::v1::users_service_server::UsersService;
use joinery_teleport::proto::teleport::users::v1::{GetUserRequest, GetUserResponse};
use joinery_teleport::proto::types::{
    CreatedBy, LoginStatus, Metadata, PasswordState, UserRef, UserSpecV2, UserStatusV2, UserV2,
};
use joinery_teleport::proto::wrappers::{LabelValues, StringValues};
use tonic::{Request, Response, Status};

use super::store::{State, User};
use super::{ADMIN_ROLE, ADMIN_USER, Cluster, caller};

/// Teleport's label naming a bot user's bot.
pub const BOT_LABEL: &str = "teleport.internal/bot";
/// Teleport's (legacy) label holding a bot user's generation.
pub const BOT_GENERATION_LABEL: &str = "teleport.internal/bot-generation";

/// How Go's zero `time.Time` goes on the wire in a non-nullable gogoproto
/// timestamp: 0001-01-01T00:00:00Z.
const GO_ZERO_TIME: prost_types::Timestamp = prost_types::Timestamp { seconds: -62_135_596_800, nanos: 0 };

/// The users service.
pub struct UsersApi(pub Arc<Cluster>);

/// Teleport's answer for a user that does not exist.
pub fn not_found(name: &str) -> Status {
    Status::not_found(format!("user {name:?} is not found"))
}

/// `name` as Teleport's `UserV2`, if the devstack has such a user.
pub fn user_resource(s: &State, name: &str) -> Option<UserV2> {
    let admin;
    let user = match s.users.get(name) {
        Some(u) => u,
        None if name == ADMIN_USER => {
            admin = User {
                name: ADMIN_USER.into(),
                roles: vec![ADMIN_ROLE.into()],
                traits: Default::default(),
                bot_name: None,
                origin: None,
                revision: String::new(),
            };
            &admin
        }
        None => return None,
    };
    let bot = user.bot_name.as_ref().and_then(|b| s.bots.get(b)).and_then(|b| b.0.metadata.clone());
    let mut labels: HashMap<String, String> = bot.as_ref().map(|m| m.labels.clone()).unwrap_or_default();
    if let Some(b) = &user.bot_name {
        labels.insert(BOT_LABEL.into(), b.clone());
        labels.insert(BOT_GENERATION_LABEL.into(), "0".into());
    }
    let created_by = user.origin.as_ref().map(|o| CreatedBy {
        connector: None,
        time: Some(prost_types::Timestamp { seconds: o.created_unix as i64, nanos: 0 }),
        user: Some(UserRef { name: o.created_by.clone() }),
    });
    Some(UserV2 {
        kind: "user".into(),
        sub_kind: String::new(),
        version: "v2".into(),
        metadata: Some(Metadata {
            name: user.name.clone(),
            namespace: "default".into(),
            description: bot.as_ref().map(|m| m.description.clone()).unwrap_or_default(),
            labels,
            expires: bot.and_then(|m| m.expires).filter(|e| e.seconds != 0),
            revision: user.revision.clone(),
        }),
        spec: Some(UserSpecV2 {
            roles: user.roles.clone(),
            traits: Some(LabelValues {
                values: user.traits.iter().map(|(k, v)| (k.clone(), StringValues { values: v.clone() })).collect(),
            }),
            status: Some(LoginStatus {
                locked_time: Some(GO_ZERO_TIME),
                lock_expires: Some(GO_ZERO_TIME),
                ..Default::default()
            }),
            expires: Some(GO_ZERO_TIME),
            created_by: Some(created_by.unwrap_or(CreatedBy {
                connector: None,
                time: Some(GO_ZERO_TIME),
                user: Some(UserRef::default()),
            })),
            ..Default::default()
        }),
        status: Some(UserStatusV2 { password_state: PasswordState::Unset as i32, mfa_weakest_device: 0 }),
    })
}

#[tonic::async_trait]
impl UsersService for UsersApi {
    async fn get_user(&self, req: Request<GetUserRequest>) -> Result<Response<GetUserResponse>, Status> {
        let who = caller(&req).ok_or_else(|| Status::unauthenticated("client certificate required"))?;
        let r = req.into_inner();
        if r.name.is_empty() && r.current_user {
            let user =
                self.0.store.read(|s| user_resource(s, &who.username)).ok_or_else(|| not_found(&who.username))?;
            return Ok(Response::new(GetUserResponse { user: Some(user) }));
        }
        let name = r.name;
        if r.with_secrets {
            return Err(Status::permission_denied("this request can be only executed by an admin"));
        }
        // Anyone may read their own user; reading another needs `user: read`.
        if name != who.username && !who.roles.iter().any(|r| r == ADMIN_ROLE) {
            return Err(Status::permission_denied("access denied to perform action \"read\" on \"user\""));
        }
        if name.is_empty() {
            return Err(Status::invalid_argument("missing user name"));
        }
        let user = self.0.store.read(|s| user_resource(s, &name)).ok_or_else(|| not_found(&name))?;
        Ok(Response::new(GetUserResponse { user: Some(user) }))
    }
}
