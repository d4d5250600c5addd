//! Between the model and Teleport's `Bot`, in either of the resource's two
//! layouts (see [`super::schema::is_legacy`]): the official provider's
//! `ToProto` and `botFromProto`. The spec and status convert by their
//! generated [`ProtoModel`]s; `traits` by the two functions here, which the
//! generated spec calls (Teleport has a list of traits, Terraform a map).

use std::collections::BTreeMap;

use joinery_teleport::proto::teleport::header::v1::Metadata;
use joinery_teleport::proto::teleport::machineid::v1::{Bot, BotSpec, Trait};

use super::model::{BotModel, BotSpecModel, BotStatusModel};
use super::schema::{SPEC, is_legacy};
use crate::resources::convert::{self, ProtoModel};
use crate::resources::metadata::{MetadataModel, ProtoMetadata};
use joinery_tfplugin::framework::{AttributePath, Diagnostics, Maybe};

/// The traits of a plan, one `Trait` per name.
pub(super) fn traits_to_proto(traits: &Maybe<BTreeMap<String, Vec<String>>>) -> Vec<Trait> {
    traits.known_or_default().into_iter().map(|(name, values)| Trait { name, values }).collect()
}

/// The server's traits as a map: Teleport merges repeated names; values keep
/// their order, without duplicates.
pub(super) fn traits_to_state(
    server: &[Trait],
    reference: &Maybe<BTreeMap<String, Vec<String>>>,
) -> Maybe<BTreeMap<String, Vec<String>>> {
    let mut traits: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in server {
        let entry = traits.entry(t.name.clone()).or_default();
        for v in &t.values {
            if !entry.contains(v) {
                entry.push(v.clone());
            }
        }
    }
    convert::map_of_lists(&traits, reference)
}

/// Builds the bot from a plan.
pub(super) fn to_proto(m: &BotModel) -> Result<Bot, Diagnostics> {
    let (metadata, spec) = if is_legacy(m) {
        let name = m.name.known_or_default();
        let spec =
            BotSpec { roles: m.roles.known_or_default(), traits: traits_to_proto(&m.traits), ..Default::default() };
        (Metadata { name, ..Default::default() }, spec)
    } else {
        let meta = m.metadata.known_or_default();
        let metadata = Metadata::from_model(&meta, meta.name.known_or_default())?;
        (metadata, m.spec.known_or_default().to_proto(&AttributePath::root(SPEC))?)
    };
    let or = |v: &Maybe<String>, default: &str| v.known().filter(|k| !k.is_empty()).cloned().unwrap_or(default.into());
    Ok(Bot {
        kind: or(&m.kind, "bot"),
        sub_kind: m.sub_kind.known_or_default(),
        version: or(&m.version, "v1"),
        metadata: Some(metadata),
        spec: Some(spec),
        status: None,
        scope: String::new(),
    })
}

/// Builds state from the server's bot; `reference` is the plan, the prior
/// state, or null (the default) on import, which reads the current layout.
pub(super) fn to_state(b: &Bot, reference: &BotModel) -> BotModel {
    let m = b.metadata.clone().unwrap_or_default();
    let spec = b.spec.clone().unwrap_or_default();
    let status = BotStatusModel::to_state(&b.status.clone().unwrap_or_default(), &BotStatusModel::default());
    let legacy = is_legacy(reference);
    BotModel {
        id: Maybe::Known(m.name.clone()),
        kind: Maybe::Known(b.kind.clone()),
        sub_kind: Maybe::Known(b.sub_kind.clone()),
        version: Maybe::Known(b.version.clone()),
        name: if legacy { Maybe::Known(m.name.clone()) } else { Maybe::Null },
        roles: if legacy { convert::string_list(&spec.roles, &reference.roles) } else { Maybe::Null },
        traits: if legacy { traits_to_state(&spec.traits, &reference.traits) } else { Maybe::Null },
        // The deprecated token attributes have no effect: whatever was written stays.
        token_id: known_or_null(&reference.token_id),
        token_ttl: known_or_null(&reference.token_ttl),
        user_name: status.user_name.clone(),
        role_name: status.role_name.clone(),
        metadata: if legacy { Maybe::Null } else { Maybe::Known(m.to_model(&reference.metadata)) },
        spec: if legacy {
            Maybe::Null
        } else {
            Maybe::Known(BotSpecModel::to_state(&spec, &reference.spec.known_or_default()))
        },
        status: Maybe::Known(status),
    }
}

/// A deprecated attribute with no effect: what was written stays, and one
/// not known yet (a computed `token_ttl` the user left out) becomes null.
fn known_or_null<T: Clone>(m: &Maybe<T>) -> Maybe<T> {
    if m.is_unknown() { Maybe::Null } else { m.clone() }
}

/// The bot's name in either layout.
pub(super) fn name_of(m: &BotModel) -> String {
    if is_legacy(m) { m.name.known_or_default() } else { MetadataModel::name_of(&m.metadata) }
}
