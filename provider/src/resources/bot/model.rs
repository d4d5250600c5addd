//! The model of `teleport_bot`, and its conversion from and to Teleport's
//! `Bot` (see [`crate::resources::convert`] for the *reference*).

use std::collections::BTreeMap;
use std::time::Duration;

use joinery_teleport::proto::teleport::header::v1::Metadata;
use joinery_teleport::proto::teleport::machineid::v1::{Bot, BotSpec, Trait};
use serde::{Deserialize, Serialize};

use super::schema::spec_path;
use crate::resources::convert;
use crate::resources::metadata::{MetadataModel, ProtoMetadata};
use joinery_tfplugin::framework::{Diagnostics, Maybe};

/// The whole resource (and data source); every attribute can be unknown in
/// a configuration or plan, so every field is a `Maybe`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BotModel {
    /// The bot name.
    pub id: Maybe<String>,
    /// Always `bot`.
    pub kind: Maybe<String>,
    /// Unused.
    pub sub_kind: Maybe<String>,
    /// `v1`.
    pub version: Maybe<String>,
    /// `metadata = { … }`; `name` is the bot's name.
    pub metadata: Maybe<MetadataModel>,
    /// `spec = { … }`.
    pub spec: Maybe<BotSpecModel>,
    /// What Teleport created for the bot.
    pub status: Maybe<BotStatus>,
}

/// `spec = { … }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BotSpecModel {
    /// Roles the bot may impersonate.
    pub roles: Maybe<Vec<String>>,
    /// Traits, a map of lists.
    pub traits: Maybe<BTreeMap<String, Vec<String>>>,
    /// Longest certificate the bot may get (Go duration).
    pub max_session_ttl: Maybe<String>,
}

/// `status = { … }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BotStatus {
    /// `bot-<name>`.
    pub user_name: Maybe<String>,
    /// `bot-<name>`.
    pub role_name: Maybe<String>,
}

/// Builds the bot from a plan.
pub(super) fn to_proto(m: &BotModel) -> Result<Bot, Diagnostics> {
    let meta = m.metadata.known_or_default();
    let metadata = Metadata::from_model(&meta, meta.name.known_or_default())?;
    let spec = m.spec.known_or_default();
    let max_session_ttl = match spec.max_session_ttl.known() {
        Some(d) => {
            let d = joinery_util::duration::parse(d).map_err(|e| {
                Diagnostics::attribute_error(spec_path("max_session_ttl"), "Invalid duration", e.to_string())
            })?;
            Some(prost_types::Duration { seconds: d.as_secs() as i64, nanos: d.subsec_nanos() as i32 })
        }
        None => None,
    };
    let or = |v: &Maybe<String>, default: &str| v.known().filter(|k| !k.is_empty()).cloned().unwrap_or(default.into());
    Ok(Bot {
        kind: or(&m.kind, "bot"),
        sub_kind: m.sub_kind.known_or_default(),
        version: or(&m.version, "v1"),
        metadata: Some(metadata),
        spec: Some(BotSpec {
            roles: spec.roles.known_or_default(),
            traits: spec.traits.known_or_default().into_iter().map(|(name, values)| Trait { name, values }).collect(),
            max_session_ttl,
        }),
        status: None,
        scope: String::new(),
    })
}

/// Builds state from the server's bot; `reference` is the plan, the prior
/// state, or null (the default) on import.
pub(super) fn to_state(b: &Bot, reference: &BotModel) -> BotModel {
    let m = b.metadata.clone().unwrap_or_default();
    let sp = b.spec.clone().unwrap_or_default();
    let st = b.status.clone().unwrap_or_default();
    let rs = reference.spec.known_or_default();
    // Teleport merges repeated trait names; values keep their order, without duplicates.
    let mut traits: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in &sp.traits {
        let entry = traits.entry(t.name.clone()).or_default();
        for v in &t.values {
            if !entry.contains(v) {
                entry.push(v.clone());
            }
        }
    }
    let max_ttl = sp
        .max_session_ttl
        .map(|d| convert::duration(Duration::new(d.seconds.max(0) as u64, d.nanos.max(0) as u32), &rs.max_session_ttl))
        .unwrap_or_default();
    BotModel {
        id: Maybe::Known(m.name.clone()),
        kind: Maybe::Known(b.kind.clone()),
        sub_kind: Maybe::Known(b.sub_kind.clone()),
        version: Maybe::Known(b.version.clone()),
        metadata: Maybe::Known(m.to_model(&reference.metadata.known_or_default())),
        spec: Maybe::Known(BotSpecModel {
            roles: convert::string_list(&sp.roles, &rs.roles),
            traits: convert::map_of_lists(&traits, &rs.traits),
            max_session_ttl: max_ttl,
        }),
        status: Maybe::Known(BotStatus {
            user_name: Maybe::Known(st.user_name),
            role_name: Maybe::Known(st.role_name),
        }),
    }
}
