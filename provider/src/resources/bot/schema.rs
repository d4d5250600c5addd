//! The schema of `teleport_bot` — its attributes are generated from
//! Teleport's messages into [`super::model`] — and the checks that go with
//! it: the `max_session_ttl` limit, and the official provider's rules for
//! its two layouts (`metadata`/`spec`, or the deprecated top-level `name`,
//! `roles` and `traits`, never both).

use std::time::Duration;

use super::model::BotModel;
use joinery_tfplugin::cty::Value;
use joinery_tfplugin::framework::{AttributePath, Diagnostics, Schema, Validator, validators};

/// Largest `max_session_ttl` Teleport accepts for a bot.
const MAX_SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The `spec` attribute's name.
pub(super) const SPEC: &str = "spec";

/// The resource schema.
pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Manages a Teleport Machine ID bot: a non-human identity that joins the cluster with a join token \
             (see `teleport_provision_token`) and gets short-lived certificates for the roles listed here. \
             Teleport creates the bot's user and role, both named `bot-<name>`. Write `metadata` and `spec`; the \
             deprecated top-level `name`, `roles` and `traits` of older configurations still work.",
        )
        .attributes(BotModel::attributes())
}

/// `spec.max_session_ttl`: a Go duration of at most 168h.
pub(super) fn max_session_ttl() -> impl Validator {
    validators::from_fn("must be a Go duration of at most 168h", |value: &Value| {
        let v = value.as_str()?;
        match joinery_util::duration::parse(v) {
            Ok(d) if d > MAX_SESSION_TTL => Some(format!("{v:?} is longer than Teleport's maximum of 168h.")),
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        }
    })
}

/// The deprecated top-level attributes that stand for `metadata` and `spec`.
const LEGACY: [&str; 3] = ["name", "roles", "traits"];

fn legacy_present(m: &BotModel) -> [(&'static str, bool); 3] {
    [("name", !m.name.is_null()), ("roles", !m.roles.is_null()), ("traits", !m.traits.is_null())]
}

/// Whether a configuration, plan or state uses the deprecated layout: a
/// legacy attribute and neither `metadata` nor `spec`.
pub(super) fn is_legacy(m: &BotModel) -> bool {
    m.metadata.is_null() && m.spec.is_null() && legacy_present(m).iter().any(|(_, p)| *p)
}

/// The official provider's `rfd153OnlyValidator` and
/// `requiredUnlessLegacyValidator`, and a name for the deprecated layout.
pub(super) fn validate(config: &BotModel, diags: &mut Diagnostics) {
    let new_layout = !config.metadata.is_null() || !config.spec.is_null();
    for (name, present) in legacy_present(config) {
        if present && new_layout {
            diags.add_attribute_error(
                AttributePath::root(name),
                "Attribute Validation Error",
                format!("The deprecated `{name}` attribute cannot be used in combination with `spec` or `metadata`."),
            );
        }
    }
    if new_layout {
        return;
    }
    if is_legacy(config) {
        if config.name.is_null() {
            diags.add_attribute_error(
                AttributePath::root("name"),
                "Missing bot name",
                "The deprecated layout needs `name` (or write `metadata = { name = … }` and `spec` instead).",
            );
        }
        return;
    }
    for block in ["metadata", SPEC] {
        diags.add_attribute_error(
            AttributePath::root(block),
            "Missing required argument",
            format!(
                "The argument `{block}` is required, but no definition was found (the deprecated {} are not set \
                 either).",
                LEGACY.join("/")
            ),
        );
    }
}
