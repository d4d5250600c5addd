//! The schema of `teleport_bot`.

use std::time::Duration;

use crate::resources::metadata;
use joinery_tfplugin::cty::Type;
use joinery_tfplugin::framework::{Attribute, AttributePath, Schema, validators};

/// Largest `max_session_ttl` Teleport accepts for a bot.
const MAX_SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The `spec` attribute's name.
const SPEC: &str = "spec";

/// The path of `spec.<attribute>`, for diagnostics.
pub(super) fn spec_path(attribute: &str) -> AttributePath {
    AttributePath::root(SPEC).attr(attribute)
}

/// The resource schema.
pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Manages a Teleport Machine ID bot: a non-human identity that joins the cluster with a join token \
             (see `teleport_provision_token`) and gets short-lived certificates for the roles listed here. \
             Teleport creates the bot's user and role, both named `bot-<name>`.",
        )
        .attribute(
            Attribute::string("id").computed().use_state_for_unknown().description("The bot name."),
        )
        .attribute(
            Attribute::string("kind").optional().computed().use_state_for_unknown().description("Resource kind; always `bot`."),
        )
        .attribute(
            Attribute::string("sub_kind").optional().computed().use_state_for_unknown().description("Resource sub-kind; unused."),
        )
        .attribute(
            Attribute::string("version")
                .optional()
                .computed()
                .use_state_for_unknown()
                .validator(validators::one_of(["v1"]))
                .description("Resource version; `v1`."),
        )
        .attribute(
            Attribute::single_nested(
                metadata::ATTRIBUTE,
                [
                    Attribute::string("name")
                        .required()
                        .requires_replace()
                        .validator(validators::not_empty())
                        .description("The bot's name. Changing it replaces the bot."),
                    Attribute::string("namespace")
                        .optional()
                        .computed()
                        .use_state_for_unknown()
                        .description("Namespace; always `default`."),
                    Attribute::string("description").optional().description("A description of the bot."),
                    Attribute::map("labels", Type::String)
                        .optional()
                        .description("Labels. Labels the server adds itself (`teleport.dev/…`) are ignored unless listed here."),
                    Attribute::string("expires").optional().description("When the bot expires, as an RFC 3339 time."),
                    Attribute::string("revision").optional().description("The revision to update; usually left unset."),
                ],
            )
            .required()
            .description("Resource metadata."),
        )
        .attribute(
            Attribute::single_nested(
                SPEC,
                [
                    Attribute::list("roles", Type::String)
                        .optional()
                        .description("Roles the bot may impersonate for the certificates it issues to its outputs."),
                    Attribute::map("traits", Type::list(Type::String))
                        .optional()
                        .description("Traits, as a map of lists: `{ logins = [\"root\"] }`. They fill role templates."),
                    Attribute::string("max_session_ttl")
                        .optional()
                        .computed()
                        .use_state_for_unknown()
                        .validator(validators::from_fn("must be a Go duration of at most 168h", |value| {
                            let v = value.as_str()?;
                            match joinery_util::duration::parse(v) {
                                Ok(d) if d > MAX_SESSION_TTL => Some(format!("{v:?} is longer than Teleport's maximum of 168h.")),
                                Ok(_) => None,
                                Err(e) => Some(e.to_string()),
                            }
                        }))
                        .description("Longest certificate the bot may get (Go duration, at most `168h`). Teleport's default is 12h."),
                ],
            )
            .required()
            .description("The bot specification."),
        )
        .attribute(
            Attribute::single_nested(
                "status",
                [
                    Attribute::string("user_name").computed().description("The bot's user, `bot-<name>`."),
                    Attribute::string("role_name").computed().description("The bot's role, `bot-<name>`."),
                ],
            )
            .computed()
            .use_state_for_unknown()
            .description("What Teleport created for the bot."),
        )
}
