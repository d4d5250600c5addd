//! GENERATED from Teleport's `teleport.machineid.v1.Bot` and the overlay in `overlay.rs` by
//! `crate::resources::protogen`; do not edit. `cargo test -p terraform-provider-teleport
//! generated` fails when this file is stale, and rewrites it with `JOINERY_REGENERATE=1`.
//!
//! The model of `teleport_bot`: one struct per message, a `Maybe` per attribute, the
//! attributes with their descriptions, and (for nested messages) the conversion
//! from and to the message by the rules of [`crate::resources::convert`]. It is as
//! long as Teleport's messages are; every line comes from them.

// The messages' literals end in `..Default::default()`, needed or not: a field
// added to the protos then still compiles, and the staleness test says to regenerate.
#![allow(clippy::needless_update)]

use std::collections::BTreeMap;

use joinery_teleport::proto::teleport::machineid::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::resources::convert::{self as c, ProtoModel};
use joinery_tfplugin::cty::Type;
use joinery_tfplugin::framework::{Attribute, AttributePath, Diagnostics, Maybe, validators};

/// The whole resource (`teleport.machineid.v1.Bot`).
///
/// Not carried: `scope` (scoped bots are newer than Teleport v18's teleport_bot, which has no `scope`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BotModel {
    /// The bot name.
    pub id: Maybe<String>,
    /// The name of the bot, i.e. the unprefixed User name
    pub name: Maybe<String>,
    /// A list of roles the created bot should be allowed to assume via role impersonation.
    pub roles: Maybe<Vec<String>>,
    /// Deprecated. Use `spec.traits` instead.
    pub traits: Maybe<BTreeMap<String, Vec<String>>>,
    /// Deprecated. This field is not required anymore and has no effect.
    pub token_id: Maybe<String>,
    /// Deprecated. This field is not required anymore and has no effect.
    pub token_ttl: Maybe<String>,
    /// The name of the generated bot user
    pub user_name: Maybe<String>,
    /// The name of the generated bot role
    pub role_name: Maybe<String>,
    /// The kind of resource represented.
    pub kind: Maybe<String>,
    /// Differentiates variations of the same kind. All resources should contain one, even if it is never populated.
    pub sub_kind: Maybe<String>,
    /// The version of the resource being represented.
    pub version: Maybe<String>,
    /// Common metadata that all resources share
    pub metadata: Maybe<crate::resources::metadata::MetadataModel>,
    /// The configured properties of a bot.
    pub spec: Maybe<BotSpecModel>,
    /// Fields that are set by the server as results of operations. These should not be modified by users.
    pub status: Maybe<BotStatusModel>,
}

impl BotModel {
    /// The attributes of the resource.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("id").computed().use_state_for_unknown().description("The bot name."),
            Attribute::string("name")
                .optional()
                .requires_replace()
                .deprecated("Deprecated. Used `metadata.name` instead.")
                .description("The name of the bot, i.e. the unprefixed User name"),
            Attribute::list("roles", Type::String)
                .optional()
                .deprecated("Deprecated. Use `spec.roles` instead.")
                .description(concat!(
                    "A list of roles the created bot should be allowed to assume via role ",
                    "impersonation."
                )),
            Attribute::map("traits", Type::list(Type::String))
                .optional()
                .deprecated("Deprecated. Use `spec.traits` instead.")
                .description("Deprecated. Use `spec.traits` instead."),
            Attribute::string("token_id")
                .optional()
                .sensitive()
                .deprecated("Deprecated. This field is not required anymore and has no effect.")
                .description("Deprecated. This field is not required anymore and has no effect."),
            Attribute::string("token_ttl")
                .optional()
                .computed()
                .deprecated("Deprecated. This field is not required anymore and has no effect.")
                .description("Deprecated. This field is not required anymore and has no effect."),
            Attribute::string("user_name")
                .computed()
                .use_state_for_unknown()
                .deprecated("Deprecated. Use `status.user_name` instead.")
                .description("The name of the generated bot user"),
            Attribute::string("role_name")
                .computed()
                .use_state_for_unknown()
                .deprecated("Deprecated. Use `status.role_name` instead.")
                .description("The name of the generated bot role"),
            Attribute::string("kind")
                .optional()
                .computed()
                .use_state_for_unknown()
                .description("The kind of resource represented."),
            Attribute::string("sub_kind").optional().computed().use_state_for_unknown().description(concat!(
                "Differentiates variations of the same kind. All resources should contain one, ",
                "even if it is never populated."
            )),
            Attribute::string("version")
                .optional()
                .computed()
                .use_state_for_unknown()
                .validator(validators::one_of(["v1"]))
                .description("The version of the resource being represented."),
            Attribute::single_nested("metadata", metadata_attributes())
                .optional()
                .description("Common metadata that all resources share"),
            Attribute::single_nested("spec", BotSpecModel::attributes())
                .optional()
                .description("The configured properties of a bot."),
            Attribute::single_nested("status", BotStatusModel::attributes())
                .computed()
                .use_state_for_unknown()
                .description(concat!(
                    "Fields that are set by the server as results of operations. These should not be ",
                    "modified by users."
                )),
        ]
    }
}

/// The attributes of `metadata` (the model is [`crate::resources::metadata::MetadataModel`]).
pub fn metadata_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string("name")
            .required()
            .requires_replace()
            .validator(validators::not_empty())
            .description("Name is an object name"),
        Attribute::string("namespace").optional().computed().use_state_for_unknown().description(concat!(
            "Namespace is object namespace. The field should be called \"namespace\" when it ",
            "returns in Teleport 2.4."
        )),
        Attribute::string("description").optional().description("Description is object description"),
        Attribute::map("labels", Type::String).optional().description("Labels is a set of labels"),
        Attribute::string("expires")
            .optional()
            .validator(crate::resources::metadata::expires_in_the_future())
            .description("Expires is a global expiry time header can be set on any resource in the system."),
        Attribute::string("revision").optional().description(concat!(
            "Revision is an opaque identifier which tracks the versions of a resource over ",
            "time. Clients should ignore and not alter its value but must return the ",
            "revision in any updates of a resource."
        )),
    ]
}

/// `spec` (`teleport.machineid.v1.BotSpec`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BotSpecModel {
    /// A list of roles the created bot should be allowed to assume via role impersonation.
    pub roles: Maybe<Vec<String>>,
    /// The traits that will be associated with the bot for the purposes of role templating.
    ///
    /// Where multiple specified with the same name, these will be merged by the server.
    pub traits: Maybe<BTreeMap<String, Vec<String>>>,
    /// The max session TTL value for the bot's internal role. Unless specified, bots may not request a value beyond the default maximum TTL of 12 hours. This value may not be larger than 7 days (168 hours).
    pub max_session_ttl: Maybe<String>,
}

impl BotSpecModel {
    /// The attributes of `spec`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list("roles", Type::String).optional().description(concat!(
                "A list of roles the created bot should be allowed to assume via role ",
                "impersonation."
            )),
            Attribute::map("traits", Type::list(Type::String)).optional().description(concat!(
                "The traits that will be associated with the bot for the purposes of role ",
                "templating.\n\nWhere multiple specified with the same name, these will be merged ",
                "by the server."
            )),
            Attribute::string("max_session_ttl")
                .optional()
                .computed()
                .use_state_for_unknown()
                .validator(super::schema::max_session_ttl())
                .description(concat!(
                    "The max session TTL value for the bot's internal role. Unless specified, bots ",
                    "may not request a value beyond the default maximum TTL of 12 hours. This value ",
                    "may not be larger than 7 days (168 hours)."
                )),
        ]
    }
}

impl ProtoModel for BotSpecModel {
    type Proto = pb::BotSpec;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            roles: self.roles.known_or_default(),
            traits: super::proto::traits_to_proto(&self.traits),
            max_session_ttl: c::duration_to_proto(&self.max_session_ttl, &at.attr("max_session_ttl"))?,
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            roles: c::string_list(&server.roles, &reference.roles),
            traits: super::proto::traits_to_state(&server.traits, &reference.traits),
            max_session_ttl: c::duration_message(server.max_session_ttl.as_ref(), &reference.max_session_ttl),
        }
    }
}

/// `status` (`teleport.machineid.v1.BotStatus`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BotStatusModel {
    /// The name of the user associated with the bot.
    pub user_name: Maybe<String>,
    /// The name of the role associated with the bot.
    pub role_name: Maybe<String>,
}

impl BotStatusModel {
    /// The attributes of `status`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("user_name").computed().description("The name of the user associated with the bot."),
            Attribute::string("role_name").computed().description("The name of the role associated with the bot."),
        ]
    }
}

impl ProtoModel for BotStatusModel {
    type Proto = pb::BotStatus;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            user_name: self.user_name.known_or_default(),
            role_name: self.role_name.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, _reference: &Self) -> Self {
        Self { user_name: c::string_computed(&server.user_name), role_name: c::string_computed(&server.role_name) }
    }
}
