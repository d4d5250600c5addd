//! The devstack's persistent state: tokens, bots, users, roles, bot instances.
//!
//! Everything lives in one JSON file, `DIR/state.json`, replaced atomically
//! (temp file, fsync, rename) on every write. A write works on a copy of the
//! state and only becomes visible once it is on disk, so a failed or
//! rejected write leaves both memory and disk exactly as they were. Protobuf
//! resources are kept as base64 of their wire encoding: that is lossless for
//! every field we know, without a second schema to keep in sync.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use base64::Engine;
use joinery_teleport::proto::teleport::machineid::v1::Bot;
use joinery_teleport::proto::types::ProvisionTokenV2;
use joinery_util::fs::{SECRET_FILE_MODE, write_atomic};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tonic::Status;

/// A protobuf message stored as base64 of its wire encoding.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored<T>(pub T);

impl<T: prost::Message> Serialize for Stored<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(self.0.encode_to_vec()))
    }
}

impl<'de, T: prost::Message + Default> Deserialize<'de> for Stored<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(s).map_err(serde::de::Error::custom)?;
        T::decode(bytes.as_slice()).map(Stored).map_err(serde::de::Error::custom)
    }
}

/// A Teleport user (the devstack only has the admin and bot users).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct User {
    /// User name.
    pub name: String,
    /// Roles held.
    pub roles: Vec<String>,
    /// Traits (e.g. `logins`).
    #[serde(default)]
    pub traits: BTreeMap<String, Vec<String>>,
    /// The bot this user belongs to.
    #[serde(default)]
    pub bot_name: Option<String>,
    /// Who created it, and when (Teleport's `spec.created_by`).
    #[serde(default)]
    pub origin: Option<UserOrigin>,
    /// Changes on every write, as a Teleport resource's revision.
    #[serde(default)]
    pub revision: String,
}

/// Who created a user, and when.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct UserOrigin {
    /// The creating user's name.
    pub created_by: String,
    /// Unix time of the creation.
    pub created_unix: u64,
}

/// A Teleport role, reduced to what bots need.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Role {
    /// Role name.
    pub name: String,
    /// Roles the holder may impersonate.
    #[serde(default)]
    pub impersonate: Vec<String>,
    /// Longest certificate this role allows, in seconds.
    pub max_session_ttl_secs: u64,
}

/// One running bot (Teleport's BotInstance): created by a first join,
/// continued by every renewal and every authenticated re-join, and gone
/// once its last certificate has expired (see [`BotInstance::expiry_after`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BotInstance {
    /// Instance id (UUID).
    pub id: String,
    /// Bot name.
    pub bot_name: String,
    /// Join method of the first join.
    pub join_method: String,
    /// Current generation.
    pub generation: u64,
    /// RFC 3339 time of the last authentication.
    pub last_seen: String,
    /// Unix time after which the record is deleted; records written before
    /// instances expired have none and are deleted at the next write.
    #[serde(default)]
    pub expires_unix: u64,
}

/// Teleport's `machineidv1.ExpiryMargin`: an instance outlives its last
/// certificate by this much.
pub const BOT_INSTANCE_EXPIRY_MARGIN: std::time::Duration = std::time::Duration::from_secs(5 * 60);

impl BotInstance {
    /// The expiry of an instance whose newest certificate lives `ttl` from `now_unix`.
    pub fn expiry_after(now_unix: u64, ttl: std::time::Duration) -> u64 {
        now_unix + ttl.as_secs() + BOT_INSTANCE_EXPIRY_MARGIN.as_secs()
    }
}

/// Everything the devstack persists.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Format version of this file.
    #[serde(default)]
    pub version: u32,
    /// Provision tokens by name.
    #[serde(default)]
    pub tokens: BTreeMap<String, Stored<ProvisionTokenV2>>,
    /// Bots by name.
    #[serde(default)]
    pub bots: BTreeMap<String, Stored<Bot>>,
    /// Users by name.
    #[serde(default)]
    pub users: BTreeMap<String, User>,
    /// Roles by name.
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
    /// Bot instances by id.
    #[serde(default)]
    pub bot_instances: BTreeMap<String, BotInstance>,
}

/// The state with its file.
pub struct Store {
    path: PathBuf,
    state: Mutex<State>,
}

impl Store {
    /// Opens `dir/state.json`, or starts empty if it does not exist. A file
    /// that does not parse is an error naming it; nothing is overwritten.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join("state.json");
        let state = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).with_context(|| format!("corrupt state file {}", path.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State { version: 1, ..Default::default() },
            Err(e) => return Err(e).with_context(|| format!("cannot read state file {}", path.display())),
        };
        Ok(Store { path, state: Mutex::new(state) })
    }

    /// Reads the state.
    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        let guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    /// Changes the state: `f` works on a copy, which replaces the state only
    /// once `f` succeeded and the copy is on disk. Expired bot instances are
    /// dropped on the way, as Teleport's backend drops expired items.
    pub fn write<T>(&self, f: impl FnOnce(&mut State) -> Result<T, Status>) -> Result<T, Status> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = guard.clone();
        let out = f(&mut next)?;
        let now = super::now_secs();
        next.bot_instances.retain(|_, i| i.expires_unix > now);
        let bytes = serde_json::to_vec_pretty(&next).map_err(|e| Status::internal(e.to_string()))?;
        write_atomic(&self.path, &bytes, SECRET_FILE_MODE).map_err(|e| Status::internal(e.to_string()))?;
        *guard = next;
        Ok(out)
    }
}
