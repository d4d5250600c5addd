//! Planning and config validation: the schema-driven walks the framework
//! does before a resource's own code runs.
//!
//! Planning follows terraform-plugin-framework's documented order:
//! 1. start from Terraform's proposed new state;
//! 2. set defaults for attributes that are null in config;
//! 3. if the plan differs from prior state, mark every computed attribute
//!    that is null in config (and has no default) unknown, i.e.
//!    "(known after apply)" — Terraform rejects an apply that fills in a
//!    value planned as null;
//! 4. run attribute plan modifiers (parents before nested attributes);
//! 5. the resource's own `modify_plan` (in the service).
//!
//! Nested objects are matched to config and prior state by list index or
//! map key. Elements of sets have no stable identity, so they are matched by
//! position in config and by equal value in state, and `requires_replace`
//! inside a set points at the whole set.

use super::plan_modifiers::{PlanModifierRequest, PlanModifierResponse};
use super::schema::{Attribute, Nesting};
use super::validators::ValidateRequest;
use super::{AttributePath, Diagnostics, PathStep, Schema};
use crate::cty::Value;

/// The framework's part of a plan.
#[derive(Debug)]
pub(crate) struct FrameworkPlan {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub diagnostics: Diagnostics,
}

/// Steps 1–4 of the plan (see the module docs).
pub(crate) fn plan(schema: &Schema, prior: &Value, proposed: &Value, config: &Value) -> FrameworkPlan {
    let mut out =
        FrameworkPlan { planned: proposed.clone(), requires_replace: Vec::new(), diagnostics: Diagnostics::new() };
    // A null proposal is a destroy; there is nothing to plan.
    if proposed.is_null() {
        return out;
    }
    apply_defaults(&schema.attributes, config, &mut out.planned);
    if out.planned != *prior {
        mark_computed_nulls_unknown(&schema.attributes, config, &mut out.planned);
    }
    let plan_before_modifiers = out.planned.clone();
    let mut ctx = ModifierContext {
        config,
        state: prior,
        plan: &plan_before_modifiers,
        requires_replace: &mut out.requires_replace,
        diagnostics: &mut out.diagnostics,
    };
    run_plan_modifiers(&schema.attributes, &AttributePath::empty(), config, prior, &mut out.planned, &mut ctx);
    out
}

static NULL: Value = Value::Null;

/// The element of a nested collection at `step`.
fn element<'v>(collection: &'v Value, step: &PathStep) -> &'v Value {
    match (collection, step) {
        (Value::List(v) | Value::Set(v), PathStep::Index(i)) => {
            usize::try_from(*i).ok().and_then(|i| v.get(i)).unwrap_or(&NULL)
        }
        (Value::Map(m), PathStep::Key(k)) => m.get(k).unwrap_or(&NULL),
        _ => &NULL,
    }
}

/// The nested objects of a nested attribute's value, with their path steps.
/// A single nested object has no step.
fn nested_objects_mut(nesting: Nesting, value: &mut Value) -> Vec<(Option<PathStep>, &mut Value)> {
    match (nesting, value) {
        (Nesting::Single, v @ Value::Object(_)) => vec![(None, v)],
        (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => items
            .iter_mut()
            .enumerate()
            .map(|(i, v)| (Some(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX))), v))
            .collect(),
        (Nesting::Map, Value::Map(m)) => m.iter_mut().map(|(k, v)| (Some(PathStep::Key(k.clone())), v)).collect(),
        _ => Vec::new(),
    }
}

fn set_attr(object: &mut Value, name: &str, value: Value) {
    if let Value::Object(m) = object {
        m.insert(name.to_string(), value);
    }
}

fn attr_mut<'v>(object: &'v mut Value, name: &str) -> Option<&'v mut Value> {
    match object {
        Value::Object(m) => Some(m.entry(name.to_string()).or_insert(Value::Null)),
        _ => None,
    }
}

fn apply_defaults(attrs: &[Attribute], config: &Value, plan: &mut Value) {
    for a in attrs {
        let cfg = config.attr(&a.name);
        if cfg.is_null()
            && let Some(default) = &a.default
        {
            set_attr(plan, &a.name, default.clone());
            continue;
        }
        if let (Some((nesting, nested)), Some(pv)) = (a.nested_attributes(), attr_mut(plan, &a.name)) {
            for (step, obj) in nested_objects_mut(nesting, pv) {
                let cfg_obj = step.as_ref().map_or(cfg, |s| element(cfg, s));
                if !cfg_obj.is_null() {
                    apply_defaults(nested, cfg_obj, obj);
                }
            }
        }
    }
}

fn mark_computed_nulls_unknown(attrs: &[Attribute], config: &Value, plan: &mut Value) {
    for a in attrs {
        let cfg = config.attr(&a.name);
        if cfg.is_null() && a.computed && a.default.is_none() {
            set_attr(plan, &a.name, Value::Unknown);
            continue;
        }
        if let (Some((nesting, nested)), Some(pv)) = (a.nested_attributes(), attr_mut(plan, &a.name)) {
            for (step, obj) in nested_objects_mut(nesting, pv) {
                let cfg_obj = step.as_ref().map_or(cfg, |s| element(cfg, s));
                mark_computed_nulls_unknown(nested, cfg_obj, obj);
            }
        }
    }
}

struct ModifierContext<'a> {
    config: &'a Value,
    state: &'a Value,
    plan: &'a Value,
    requires_replace: &'a mut Vec<AttributePath>,
    diagnostics: &'a mut Diagnostics,
}

fn run_plan_modifiers(
    attrs: &[Attribute],
    path: &AttributePath,
    config_obj: &Value,
    state_obj: &Value,
    plan_obj: &mut Value,
    ctx: &mut ModifierContext<'_>,
) {
    for a in attrs {
        let attr_path = path.attr(&a.name);
        let config_value = config_obj.attr(&a.name);
        let state_value = state_obj.attr(&a.name);
        if !a.plan_modifiers.is_empty() {
            let mut resp = PlanModifierResponse {
                plan_value: plan_obj.attr(&a.name).clone(),
                requires_replace: false,
                diagnostics: Diagnostics::new(),
            };
            for m in &a.plan_modifiers {
                // Each modifier sees what the previous ones planned.
                let current = resp.plan_value.clone();
                let req = PlanModifierRequest {
                    path: &attr_path,
                    config_value,
                    state_value,
                    plan_value: &current,
                    config: ctx.config,
                    state: ctx.state,
                    plan: ctx.plan,
                };
                m.modify_plan(&req, &mut resp);
            }
            set_attr(plan_obj, &a.name, resp.plan_value);
            if resp.requires_replace {
                ctx.requires_replace.push(attr_path.clone());
            }
            ctx.diagnostics.extend(resp.diagnostics);
        }
        let Some((nesting, nested)) = a.nested_attributes() else { continue };
        let Some(pv) = attr_mut(plan_obj, &a.name) else { continue };
        for (step, obj) in nested_objects_mut(nesting, pv) {
            let (cfg_el, state_el, el_path) = match (&step, nesting) {
                (None, _) => (config_value, state_value, attr_path.clone()),
                (Some(s), Nesting::Set) => {
                    let state_match =
                        state_value.as_elements().and_then(|els| els.iter().find(|e| *e == &*obj)).unwrap_or(&NULL);
                    (element(config_value, s), state_match, attr_path.clone())
                }
                (Some(s), _) => {
                    let mut p = attr_path.clone();
                    p.steps.push(s.clone());
                    (element(config_value, s), element(state_value, s), p)
                }
            };
            if obj.is_known_value() {
                run_plan_modifiers(nested, &el_path, cfg_el, state_el, obj, ctx);
            }
        }
    }
    // Set elements share the set's path, so one replacement can be reported
    // several times.
    ctx.requires_replace.dedup();
}

/// Runs attribute validators over a configuration, recursing into nested
/// attributes.
pub(crate) fn validate_config(schema: &Schema, config: &Value, diags: &mut Diagnostics) {
    validate_attributes(&schema.attributes, &AttributePath::empty(), config, config, diags);
}

fn validate_attributes(
    attrs: &[Attribute],
    path: &AttributePath,
    object: &Value,
    config: &Value,
    diags: &mut Diagnostics,
) {
    for a in attrs {
        let value = object.attr(&a.name);
        if !value.is_known_value() {
            continue;
        }
        let attr_path = path.attr(&a.name);
        for v in &a.validators {
            v.validate(&ValidateRequest { path: &attr_path, value, config }, diags);
        }
        let Some((nesting, nested)) = a.nested_attributes() else { continue };
        match (nesting, value) {
            (Nesting::Single, _) => validate_attributes(nested, &attr_path, value, config, diags),
            (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => {
                for (i, item) in items.iter().enumerate() {
                    validate_attributes(nested, &attr_path.index(i), item, config, diags);
                }
            }
            (Nesting::Map, Value::Map(m)) => {
                for (k, item) in m {
                    validate_attributes(nested, &attr_path.key(k), item, config, diags);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cty::Type;
    use crate::framework::validators;

    fn schema() -> Schema {
        Schema::new()
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("name").required().requires_replace())
            .attribute(Attribute::string("kind").optional().computed())
            .attribute(Attribute::string("mode").optional().default("fast"))
            .attribute(Attribute::string("note").optional())
            .attribute(
                Attribute::single_nested(
                    "metadata",
                    [
                        Attribute::string("name").optional().computed().use_state_for_unknown().requires_replace(),
                        Attribute::string("revision").computed(),
                    ],
                )
                .optional(),
            )
            .attribute(
                Attribute::list_nested(
                    "rules",
                    [
                        Attribute::string("who").required().validator(validators::one_of(["a", "b"])),
                        Attribute::string("uid").computed(),
                    ],
                )
                .optional(),
            )
            .attribute(Attribute::map("tags", Type::list(Type::String)).optional())
    }

    #[test]
    fn create_marks_computed_unknown_and_sets_defaults() {
        let config = Value::object([
            ("name", Value::from("n")),
            ("metadata", Value::object([("name", Value::Null)])),
            ("rules", Value::List(vec![Value::object([("who", Value::from("a"))])])),
        ]);
        // On create Terraform proposes the config as is.
        let p = plan(&schema(), &Value::Null, &config, &config);
        let planned = &p.planned;
        assert!(planned.attr("id").is_unknown());
        assert!(planned.attr("kind").is_unknown());
        assert_eq!(planned.attr("mode").as_str(), Some("fast"));
        assert!(planned.attr("note").is_null(), "not computed: stays null");
        assert!(planned.attr("metadata").attr("name").is_unknown());
        assert!(planned.attr("metadata").attr("revision").is_unknown());
        let rule = &planned.attr("rules").as_elements().unwrap()[0];
        assert!(rule.attr("uid").is_unknown());
        assert_eq!(rule.attr("who").as_str(), Some("a"));
        assert!(p.requires_replace.is_empty(), "no replace on create");
    }

    fn prior() -> Value {
        Value::object([
            ("id", Value::from("id-1")),
            ("name", Value::from("n")),
            ("kind", Value::from("k")),
            ("mode", Value::from("fast")),
            ("metadata", Value::object([("name", Value::from("m")), ("revision", Value::from("r1"))])),
        ])
    }

    #[test]
    fn unchanged_plan_is_left_alone() {
        let config = Value::object([("name", Value::from("n")), ("metadata", Value::object([("name", Value::Null)]))]);
        // Terraform's proposal copies prior values for computed attributes.
        let p = plan(&schema(), &prior(), &prior(), &config);
        assert_eq!(p.planned, prior());
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn update_uses_state_for_unknown_and_replaces_on_name_change() {
        let config = Value::object([
            ("name", Value::from("n2")),
            ("note", Value::from("x")),
            ("metadata", Value::object([("name", Value::Null)])),
        ]);
        let mut proposed = prior();
        proposed.set_attr("name", "n2".into());
        proposed.set_attr("note", "x".into());
        let p = plan(&schema(), &prior(), &proposed, &config);
        assert_eq!(p.planned.attr("id").as_str(), Some("id-1"), "UseStateForUnknown");
        assert!(p.planned.attr("kind").is_unknown(), "computed without modifier");
        assert_eq!(p.planned.attr("metadata").attr("name").as_str(), Some("m"));
        assert!(p.planned.attr("metadata").attr("revision").is_unknown());
        assert_eq!(p.requires_replace, vec![AttributePath::root("name")]);
    }

    #[test]
    fn nested_requires_replace_path() {
        let config =
            Value::object([("name", Value::from("n")), ("metadata", Value::object([("name", Value::from("other"))]))]);
        let mut proposed = prior();
        proposed.set_attr("metadata", Value::object([("name", Value::from("other")), ("revision", Value::from("r1"))]));
        let p = plan(&schema(), &prior(), &proposed, &config);
        assert_eq!(p.requires_replace, vec![AttributePath::root("metadata").attr("name")]);
    }

    #[test]
    fn destroy_plans_null() {
        let p = plan(&schema(), &prior(), &Value::Null, &Value::Null);
        assert!(p.planned.is_null());
    }

    #[test]
    fn validators_run_on_nested_paths() {
        let config = Value::object([(
            "rules",
            Value::List(vec![
                Value::object([("who", Value::from("a"))]),
                Value::object([("who", Value::from("zzz"))]),
                Value::object([("who", Value::Unknown)]),
            ]),
        )]);
        let mut d = Diagnostics::new();
        validate_config(&schema(), &config, &mut d);
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].path.as_ref().unwrap().to_string(), "rules[1].who");
    }
}
