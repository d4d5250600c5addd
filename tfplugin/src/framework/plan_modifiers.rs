//! Attribute plan modifiers: adjust one attribute's planned value, or ask
//! for the resource to be replaced when it changes.
//!
//! They run after defaults and after computed attributes without config were
//! marked unknown, in schema order, parents before their nested attributes —
//! the order terraform-plugin-framework documents.

use super::{AttributePath, Diagnostics};
use crate::cty::Value;

/// What a plan modifier gets to look at.
#[derive(Debug)]
pub struct PlanModifierRequest<'a> {
    /// The attribute's path.
    pub path: &'a AttributePath,
    /// The attribute's configured value.
    pub config_value: &'a Value,
    /// The attribute's value in prior state (null on create).
    pub state_value: &'a Value,
    /// The attribute's value as planned so far.
    pub plan_value: &'a Value,
    /// The whole configuration.
    pub config: &'a Value,
    /// The whole prior state; null when the resource is being created.
    pub state: &'a Value,
    /// The whole plan so far; null when the resource is being destroyed.
    pub plan: &'a Value,
}

/// What a plan modifier may change.
#[derive(Debug)]
pub struct PlanModifierResponse {
    /// The planned value; starts as the request's `plan_value`.
    pub plan_value: Value,
    /// Set to replace the resource instead of updating it.
    pub requires_replace: bool,
    /// Problems found while planning.
    pub diagnostics: Diagnostics,
}

/// Adjusts one attribute's plan.
pub trait PlanModifier: Send + Sync {
    /// A sentence describing the behaviour.
    fn description(&self) -> String;
    /// Updates `resp` for this attribute.
    fn modify_plan(&self, req: &PlanModifierRequest<'_>, resp: &mut PlanModifierResponse);
}

/// Copies the prior state's value over "(known after apply)".
///
/// Like terraform-plugin-framework ≥ 1.15.1 this also copies a prior
/// **null**, so an attribute the provider left null stays null.
#[derive(Debug, Clone, Copy)]
pub struct UseStateForUnknown;

impl PlanModifier for UseStateForUnknown {
    fn description(&self) -> String {
        "Once set, the value of this attribute in state will not change.".into()
    }

    fn modify_plan(&self, req: &PlanModifierRequest<'_>, resp: &mut PlanModifierResponse) {
        // On create there is no state to copy.
        if req.state.is_null() {
            return;
        }
        // Only replace the framework's "unknown"; keep known plans.
        if !req.plan_value.is_unknown() {
            return;
        }
        // An unknown config value means the user's value is coming; keep unknown.
        if req.config_value.is_unknown() {
            return;
        }
        resp.plan_value = req.state_value.clone();
    }
}

/// Any change to this attribute destroys and recreates the resource.
#[derive(Debug, Clone, Copy)]
pub struct RequiresReplace;

impl PlanModifier for RequiresReplace {
    fn description(&self) -> String {
        "If the value of this attribute changes, Terraform will destroy and recreate the resource.".into()
    }

    fn modify_plan(&self, req: &PlanModifierRequest<'_>, resp: &mut PlanModifierResponse) {
        // Nothing to replace on create or destroy.
        if req.state.is_null() || req.plan.is_null() {
            return;
        }
        if req.plan_value == req.state_value {
            return;
        }
        resp.requires_replace = true;
    }
}

/// Like [`RequiresReplace`], but only when the attribute is set in configuration,
/// so a computed value the provider changes does not force replacement.
#[derive(Debug, Clone, Copy)]
pub struct RequiresReplaceIfConfigured;

impl PlanModifier for RequiresReplaceIfConfigured {
    fn description(&self) -> String {
        "If the value of this attribute is configured and changes, Terraform will destroy and recreate the resource."
            .into()
    }

    fn modify_plan(&self, req: &PlanModifierRequest<'_>, resp: &mut PlanModifierResponse) {
        if req.config_value.is_null() {
            return;
        }
        RequiresReplace.modify_plan(req, resp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        m: &dyn PlanModifier,
        config: Value,
        state_v: Value,
        plan_v: Value,
        state_null: bool,
    ) -> PlanModifierResponse {
        let path = AttributePath::root("x");
        let state = if state_null { Value::Null } else { Value::object([("x", state_v.clone())]) };
        let plan = Value::object([("x", plan_v.clone())]);
        let req = PlanModifierRequest {
            path: &path,
            config_value: &config,
            state_value: &state_v,
            plan_value: &plan_v,
            config: &Value::Null,
            state: &state,
            plan: &plan,
        };
        let mut resp = PlanModifierResponse {
            plan_value: plan_v.clone(),
            requires_replace: false,
            diagnostics: Diagnostics::new(),
        };
        m.modify_plan(&req, &mut resp);
        resp
    }

    #[test]
    fn use_state_for_unknown() {
        // update: unknown replaced by state
        let r = run(&UseStateForUnknown, Value::Null, "a".into(), Value::Unknown, false);
        assert_eq!(r.plan_value, Value::from("a"));
        // prior null is preserved too (framework >= 1.15.1)
        let r = run(&UseStateForUnknown, Value::Null, Value::Null, Value::Unknown, false);
        assert!(r.plan_value.is_null());
        // create: stays unknown
        let r = run(&UseStateForUnknown, Value::Null, Value::Null, Value::Unknown, true);
        assert!(r.plan_value.is_unknown());
        // unknown config: stays unknown
        let r = run(&UseStateForUnknown, Value::Unknown, "a".into(), Value::Unknown, false);
        assert!(r.plan_value.is_unknown());
    }

    #[test]
    fn requires_replace() {
        assert!(run(&RequiresReplace, "b".into(), "a".into(), "b".into(), false).requires_replace);
        assert!(!run(&RequiresReplace, "a".into(), "a".into(), "a".into(), false).requires_replace);
        assert!(!run(&RequiresReplace, "b".into(), Value::Null, "b".into(), true).requires_replace);
        assert!(run(&RequiresReplace, Value::Unknown, "a".into(), Value::Unknown, false).requires_replace);
        assert!(!run(&RequiresReplaceIfConfigured, Value::Null, "a".into(), Value::Unknown, false).requires_replace);
    }
}
