//! What `teleport_bot`'s schema says beyond Teleport's
//! `teleport.machineid.v1.Bot`. The official provider writes this resource
//! by hand (`integrations/terraform/provider/resource_teleport_bot.go`, the
//! v18 hybrid of PR #60623/#61201): the layout follows the messages
//! (`metadata`, `spec`, `status`), the descriptions and flags are its own,
//! and it keeps the deprecated top-level attributes of the first
//! `teleport_bot` so old configurations still apply. `protogen` turns this
//! and the protos into `model.rs`.
//!
//! Matched: the v18 reference page
//! (<https://goteleport.com/docs/reference/infrastructure-as-code/terraform-provider/resources/bot/>,
//! whose `metadata`, `spec` and `status` say "Requires provider v18.4.0 or
//! newer.", a note about the official provider's own versions left out here)
//! and the schema in `resource_teleport_bot.go` behind it.

use crate::resources::protogen::{Extra, ExtraType, Overlay, Rule::*};

const NO_EFFECT: &str = "Deprecated. This field is not required anymore and has no effect.";

/// The overlay of `teleport_bot`.
pub(crate) const OVERLAY: Overlay = Overlay {
    resource: "teleport_bot",
    root: "teleport.machineid.v1.Bot",
    names: &[
        ("teleport.machineid.v1.Bot", "BotModel"),
        ("teleport.machineid.v1.BotSpec", "BotSpecModel"),
        ("teleport.machineid.v1.BotStatus", "BotStatusModel"),
    ],
    strip: &[],
    extras: &[
        Extra {
            name: "id",
            ty: ExtraType::String,
            rules: &[ReadOnly, UseStateForUnknown, Description("The bot name.")],
        },
        Extra {
            name: "name",
            ty: ExtraType::String,
            rules: &[
                RequiresReplace,
                Deprecated("Deprecated. Used `metadata.name` instead."),
                Description("The name of the bot, i.e. the unprefixed User name"),
            ],
        },
        Extra {
            name: "roles",
            ty: ExtraType::StringList,
            rules: &[
                Deprecated("Deprecated. Use `spec.roles` instead."),
                Description("A list of roles the created bot should be allowed to assume via role impersonation."),
            ],
        },
        Extra {
            name: "traits",
            ty: ExtraType::StringListMap,
            // The official provider has no description for the deprecated traits.
            rules: &[
                Deprecated("Deprecated. Use `spec.traits` instead."),
                Description("Deprecated. Use `spec.traits` instead."),
            ],
        },
        Extra {
            name: "token_id",
            ty: ExtraType::String,
            rules: &[Sensitive, Deprecated(NO_EFFECT), Description(NO_EFFECT)],
        },
        Extra {
            name: "token_ttl",
            ty: ExtraType::String,
            rules: &[Computed, Deprecated(NO_EFFECT), Description(NO_EFFECT)],
        },
        Extra {
            name: "user_name",
            ty: ExtraType::String,
            rules: &[
                ReadOnly,
                UseStateForUnknown,
                Deprecated("Deprecated. Use `status.user_name` instead."),
                Description("The name of the generated bot user"),
            ],
        },
        Extra {
            name: "role_name",
            ty: ExtraType::String,
            rules: &[
                ReadOnly,
                UseStateForUnknown,
                Deprecated("Deprecated. Use `status.role_name` instead."),
                Description("The name of the generated bot role"),
            ],
        },
    ],
    rules: &[
        ("kind", &[Computed, UseStateForUnknown]),
        ("sub_kind", &[Computed, UseStateForUnknown]),
        ("version", &[Computed, UseStateForUnknown, Validator("validators::one_of([\"v1\"])")]),
        // Required unless the deprecated attributes are used (see `schema::validate`).
        (
            "metadata",
            &[
                External("crate::resources::metadata::MetadataModel"),
                Description("Common metadata that all resources share"),
            ],
        ),
        (
            "metadata.name",
            &[Required, RequiresReplace, Validator("validators::not_empty()"), Description("Name is an object name")],
        ),
        (
            "metadata.namespace",
            &[
                Computed,
                UseStateForUnknown,
                Description(
                    "Namespace is object namespace. The field should be called \"namespace\" when it returns in Teleport 2.4.",
                ),
            ],
        ),
        ("metadata.description", &[Description("Description is object description")]),
        ("metadata.labels", &[Description("Labels is a set of labels")]),
        (
            "metadata.expires",
            &[
                Validator("crate::resources::metadata::expires_in_the_future()"),
                Description("Expires is a global expiry time header can be set on any resource in the system."),
            ],
        ),
        (
            "metadata.revision",
            &[Description(
                "Revision is an opaque identifier which tracks the versions of a resource over time. Clients should \
                 ignore and not alter its value but must return the revision in any updates of a resource.",
            )],
        ),
        ("spec", &[Description("The configured properties of a bot.")]),
        (
            "spec.roles",
            &[Description("A list of roles the created bot should be allowed to assume via role impersonation.")],
        ),
        (
            "spec.traits",
            &[
                Custom {
                    attribute: "Attribute::map(\"traits\", Type::list(Type::String))",
                    rust: "BTreeMap<String, Vec<String>>",
                    to_proto: "super::proto::traits_to_proto(&self.traits)",
                    to_state: "super::proto::traits_to_state(&server.traits, &reference.traits)",
                },
                Description(
                    "The traits that will be associated with the bot for the purposes of role templating.\n\nWhere \
                     multiple specified with the same name, these will be merged by the server.",
                ),
            ],
        ),
        (
            "spec.max_session_ttl",
            &[
                Computed,
                UseStateForUnknown,
                Validator("super::schema::max_session_ttl()"),
                Description(
                    "The max session TTL value for the bot's internal role. Unless specified, bots may not request a \
                     value beyond the default maximum TTL of 12 hours. This value may not be larger than 7 days (168 \
                     hours).",
                ),
            ],
        ),
        (
            "status",
            &[
                ReadOnly,
                UseStateForUnknown,
                Description(
                    "Fields that are set by the server as results of operations. These should not be modified by users.",
                ),
            ],
        ),
        ("status.user_name", &[ReadOnly, Description("The name of the user associated with the bot.")]),
        ("status.role_name", &[ReadOnly, Description("The name of the role associated with the bot.")]),
        ("scope", &[Omit("scoped bots are newer than Teleport v18's teleport_bot, which has no `scope`")]),
    ],
};
