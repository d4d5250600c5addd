//! The Teleport side of the devstack: an Auth server that speaks Teleport's
//! gRPC API (auth, bots, both join services) on one TLS port.
//!
//! * [`ca`]: the cluster's certificate authorities.
//! * [`store`]: persisted tokens, bots, users, roles and bot instances.
//! * [`resources`], [`token_methods`]: Teleport's validation rules for
//!   tokens (each join method's part) and bots.
//! * [`auth`], [`bots`], [`users`], [`trust`], [`join`]: the gRPC
//!   services; [`delegated`]: the
//!   registry of join methods other than `token` (Azure's is registered by
//!   the Azure emulator).
//! * [`faults`]: faults a test injects into the API.
//! * [`listener`]: the TLS listener shared by authenticated API clients
//!   (mTLS, ALPN `h2`) and unauthenticated join clients (ALPN
//!   `teleport-proxy-grpc`).

pub mod auth;
pub mod bots;
pub mod ca;
pub mod delegated;
pub mod faults;
pub mod github;
pub mod join;
pub mod listener;
pub mod resources;
pub mod store;
pub mod token_methods;
pub mod trace;
pub mod trust;
pub mod users;

use std::time::{Duration, SystemTime};

use joinery_teleport::CertInfo;
use joinery_teleport::proto::types::ProvisionTokenV2;
use tonic::{Request, Status};

use ca::Authority;
use store::Store;

/// The version the devstack reports in `Ping`: a Teleport 18 server.
pub const SERVER_VERSION: &str = "18.2.0";
/// The role that may manage tokens and bots (Teleport's preset `editor`).
pub const ADMIN_ROLE: &str = "editor";
/// The admin user whose identity `devstack.json` names.
pub const ADMIN_USER: &str = "admin";

/// The cluster state every service shares.
pub struct Cluster {
    /// Certificate authorities.
    pub ca: Authority,
    /// Persisted resources.
    pub store: Store,
    /// Verifiers of the join methods other than `token`, by name.
    pub joins: delegated::JoinMethods,
    /// Faults tests inject ([`faults`]).
    pub faults: faults::Faults,
    /// Which Teleport's `teleport.join.v1` service the devstack plays.
    pub join_v1: JoinV1Mode,
}

/// What the `teleport.join.v1` service offers (`joinery-devstack up
/// --join-v1`): today's Teleport, or an older or different one, so that a
/// client's fallback to the legacy join service can be proven.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum JoinV1Mode {
    /// Every join method the devstack verifies (Teleport 18 with Azure on `join.v1`).
    #[default]
    Full,
    /// A Teleport whose `join.v1` has no Azure: after `ServerInit` it answers
    /// `Unimplemented` "join method azure is not yet implemented by the new
    /// join service" (its `handleJoinMethod` default).
    WithoutAzure,
    /// A Teleport without `join.v1` (before 18): every call is `Unimplemented`
    /// "unknown service teleport.join.v1.JoinService", as gRPC-Go answers.
    Absent,
    /// A Teleport whose Azure messages carry other field numbers than
    /// Joinery's: its Azure challenge reaches the client as a `Challenge`
    /// without a payload it knows.
    RenumberedAzure,
}

impl Cluster {
    /// The cluster name.
    pub fn name(&self) -> &str {
        self.ca.cluster_name()
    }

    /// Looks a token up, treating an expired token as absent (Teleport
    /// deletes expired tokens; a read never returns one).
    pub fn live_token(&self, name: &str) -> Option<ProvisionTokenV2> {
        self.store.read(|s| s.tokens.get(name).map(|t| t.0.clone())).filter(|t| !token_expired(t))
    }
}

/// Whether a token's `metadata.expires` has passed.
pub fn token_expired(t: &ProvisionTokenV2) -> bool {
    t.metadata.as_ref().and_then(|m| m.expires.as_ref()).is_some_and(|e| e.seconds < now_secs() as i64)
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A fresh resource revision.
pub fn new_revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The authenticated caller, if the request came with a client certificate
/// (rustls has already checked it against the user CA and its validity).
pub fn caller<T>(req: &Request<T>) -> Option<CertInfo> {
    let certs = req.peer_certs()?;
    let first = certs.first()?;
    CertInfo::from_der(first.as_ref()).ok()
}

/// Requires an authenticated caller holding the admin role.
pub fn require_admin<T>(req: &Request<T>, verb: &str, resource: &str) -> Result<CertInfo, Status> {
    let who = caller(req).ok_or_else(|| Status::unauthenticated("client certificate required"))?;
    if who.roles.iter().any(|r| r == ADMIN_ROLE) {
        Ok(who)
    } else {
        Err(Status::permission_denied(format!("access denied to perform action {verb:?} on {resource:?}")))
    }
}

/// The TTL for a bot certificate: the requested expiry, capped by the
/// bot role's `max_session_ttl` and the cluster maximum.
pub fn bot_ttl(requested: Option<&prost_types::Timestamp>, role_max_secs: u64) -> Duration {
    let now = now_secs() as i64;
    let wanted = match requested {
        Some(t) if t.seconds > now => (t.seconds - now) as u64,
        Some(_) => 60,
        None => 3600,
    };
    Duration::from_secs(wanted.min(role_max_secs).clamp(60, resources::BOT_MAX_TTL))
}
