//! The schema of `teleport_provision_token` — its attributes are generated
//! from Teleport's messages into [`super::model`] — and the checks on
//! configured values that go with it: Joinery's validators, the status plan
//! modifier, and the cross-attribute rules Teleport would otherwise only
//! report at apply.

use super::model::{TokenModel, TokenSpec};
use joinery_tfplugin::cty::Value;
use joinery_tfplugin::framework::plan_modifiers::{PlanModifierRequest, PlanModifierResponse};
use joinery_tfplugin::framework::{AttributePath, Diagnostics, Maybe, PlanModifier, Schema, Validator, validators};
use joinery_util::guid::is_guid;

/// The `spec` attribute's name.
pub(super) const SPEC: &str = "spec";

/// The resource schema.
pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Manages a Teleport join token (`ProvisionTokenV2`): how bots and agents prove who they are when they \
             join the cluster. Every join method of Teleport v18 is carried (`spec.<method>` blocks, generated from \
             Teleport's protos); use `join_method = \"azure\"` with `spec.azure.allow` to let Azure VMs join with \
             their managed identity — no secret on the VM.",
        )
        .attributes(TokenModel::attributes())
}

/// `spec.azure.allow[*].subscription`: Joinery checks the GUID at plan time.
pub(super) fn subscription_guid() -> impl Validator {
    validators::from_fn("must be a subscription GUID", |value: &Value| {
        value
            .as_str()
            .filter(|v| !is_guid(v))
            .map(|v| format!("{v:?} is not a subscription ID (a GUID such as 11111111-2222-3333-4444-555555555555)."))
    })
}

/// `status` keeps its prior value across an update, like
/// `use_state_for_unknown`, unless the join method changes: Teleport writes
/// a new status then (a bound-keypair token gets its registration secret).
#[derive(Debug, Clone, Copy)]
pub struct StatusFollowsJoinMethod;

impl PlanModifier for StatusFollowsJoinMethod {
    fn description(&self) -> String {
        "Once set, the status in state does not change unless spec.join_method does.".into()
    }

    fn modify_plan(&self, req: &PlanModifierRequest<'_>, resp: &mut PlanModifierResponse) {
        if req.state.is_null() || !req.plan_value.is_unknown() || req.config_value.is_unknown() {
            return;
        }
        let method = |v: &Value| v.attr(SPEC).attr("join_method").clone();
        let planned = method(req.plan);
        // An unknown planned method is the server's default: unchanged unless configured.
        if planned == method(req.state) || (planned.is_unknown() && method(req.config).is_null()) {
            resp.plan_value = req.state_value.clone();
        }
    }
}

/// The path of `spec.<attribute>`, for diagnostics.
pub(super) fn spec_path(attribute: &str) -> AttributePath {
    AttributePath::root(SPEC).attr(attribute)
}

/// Cross-attribute checks, each reported on the attribute at fault. Values
/// may be unknown here; a check needing one that is not known yet waits.
pub(super) fn validate(config: &TokenModel, diags: &mut Diagnostics) {
    let Some(spec) = config.spec.known() else { return };
    if let Some(roles) = spec.roles.known() {
        let has_bot = roles.iter().any(|r| r.eq_ignore_ascii_case("bot"));
        match &spec.bot_name {
            Maybe::Known(b) if !b.is_empty() && !has_bot => diags.add_attribute_error(
                spec_path("bot_name"),
                "bot_name requires the Bot role",
                "spec.bot_name can only be set when spec.roles contains \"Bot\".",
            ),
            Maybe::Null if has_bot => diags.add_attribute_error(
                spec_path("bot_name"),
                "Missing bot_name",
                "A token with the \"Bot\" role must set spec.bot_name to the bot that joins with it.",
            ),
            _ => {}
        }
    }
    let Some(method) = spec.join_method.known_str() else { return };
    if method == "azure" {
        // An azure block that is null or not known yet has no rules yet.
        let allow = spec.azure.known().map_or(&Maybe::Null, |a| &a.allow);
        if allow.is_null() || allow.known().is_some_and(Vec::is_empty) {
            diags.add_attribute_error(
                spec_path("azure"),
                "Missing Azure allow rules",
                "join_method = \"azure\" needs at least one rule in spec.azure.allow with a subscription.",
            );
        }
        for (i, rule) in allow.known().into_iter().flatten().enumerate() {
            if rule.subscription.is_null() {
                diags.add_attribute_error(
                    spec_path("azure").attr("allow").index(i).attr("subscription"),
                    "Missing Azure subscription",
                    "Every Azure allow rule needs a subscription.",
                );
            }
        }
    } else if needs_its_block(method) && block_is_null(spec, method) {
        diags.add_attribute_error(
            spec_path(method),
            format!("Missing {method} configuration"),
            format!("join_method = {method:?} needs spec.{method} with its allow rules; Teleport refuses the token without it."),
        );
    }
}

/// Whether Teleport refuses `join_method = method` without `spec.<method>`:
/// every method with a block of its own (from the protos), except
/// `bound_keypair`, whose block Teleport fills in itself.
fn needs_its_block(method: &str) -> bool {
    method != "bound_keypair"
        && TokenSpec::attributes().iter().any(|a| a.name == method && a.nested_attributes().is_some())
}

/// Whether `spec.<block>` is null in configuration (unknown is not null).
fn block_is_null(spec: &TokenSpec, block: &str) -> bool {
    match joinery_tfplugin::framework::model::to_value(spec) {
        Ok(v) => v.attr(block).is_null(),
        Err(_) => false,
    }
}
