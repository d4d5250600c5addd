//! Attribute validators: checks on configured values, reported with the
//! attribute's path so Terraform can point at the offending line.
//!
//! The framework calls a validator only when the configured value is known
//! and not null; "required unless …" style rules across attributes belong in
//! [`super::Resource::validate`].

use super::{AttributePath, Diagnostics};
use crate::cty::Value;

/// What a validator gets to look at.
#[derive(Debug)]
pub struct ValidateRequest<'a> {
    /// Where the value is, e.g. `spec.tags["env"]`.
    pub path: &'a AttributePath,
    /// The configured value (known, not null).
    pub value: &'a Value,
    /// The whole configuration, for rules that look at siblings.
    pub config: &'a Value,
}

/// A check on one attribute's configured value.
pub trait Validator: Send + Sync {
    /// A sentence describing the rule, for docs and debugging.
    fn description(&self) -> String;
    /// Adds diagnostics (normally attribute errors at `req.path`) if the value is invalid.
    fn validate(&self, req: &ValidateRequest<'_>, diags: &mut Diagnostics);
}

/// The string must be one of `allowed`.
pub fn one_of<I, S>(allowed: I) -> OneOf
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    OneOf(allowed.into_iter().map(Into::into).collect())
}

/// See [`one_of`].
#[derive(Debug, Clone)]
pub struct OneOf(Vec<String>);

impl Validator for OneOf {
    fn description(&self) -> String {
        format!("value must be one of: {}", quoted(&self.0))
    }

    fn validate(&self, req: &ValidateRequest<'_>, diags: &mut Diagnostics) {
        if let Some(s) = req.value.as_str()
            && !self.0.iter().any(|a| a == s)
        {
            diags.add_attribute_error(
                req.path.clone(),
                "Invalid Attribute Value Match",
                format!("Attribute {} value must be one of: {}, got: {s:?}", req.path, quoted(&self.0)),
            );
        }
    }
}

fn quoted(items: &[String]) -> String {
    items.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
}

/// The string's length (in characters), or the collection's element count,
/// must be within `min..=max`.
pub fn length_between(min: usize, max: usize) -> LengthBetween {
    LengthBetween { min, max }
}

/// The string must not be empty.
pub fn not_empty() -> LengthBetween {
    LengthBetween { min: 1, max: usize::MAX }
}

/// See [`length_between`].
#[derive(Debug, Clone)]
pub struct LengthBetween {
    min: usize,
    max: usize,
}

impl Validator for LengthBetween {
    fn description(&self) -> String {
        if self.max == usize::MAX {
            format!("length must be at least {}", self.min)
        } else {
            format!("length must be between {} and {}", self.min, self.max)
        }
    }

    fn validate(&self, req: &ValidateRequest<'_>, diags: &mut Diagnostics) {
        let len = match req.value {
            Value::String(s) => s.chars().count(),
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v.len(),
            Value::Map(m) => m.len(),
            _ => return,
        };
        if len < self.min || len > self.max {
            diags.add_attribute_error(
                req.path.clone(),
                "Invalid Attribute Value Length",
                format!("Attribute {} {}, got: {len}", req.path, self.description()),
            );
        }
    }
}

/// A validator from a closure returning an error message for bad values.
///
/// ```
/// use joinery_tfplugin::framework::validators;
/// let v = validators::from_fn("must be lowercase", |value| match value.as_str() {
///     Some(s) if s.chars().any(char::is_uppercase) => Some(format!("{s:?} is not lowercase")),
///     _ => None,
/// });
/// ```
pub fn from_fn<F>(description: impl Into<String>, check: F) -> FromFn<F>
where
    F: Fn(&Value) -> Option<String> + Send + Sync,
{
    FromFn { description: description.into(), check }
}

/// See [`from_fn`].
pub struct FromFn<F> {
    description: String,
    check: F,
}

impl<F> Validator for FromFn<F>
where
    F: Fn(&Value) -> Option<String> + Send + Sync,
{
    fn description(&self) -> String {
        self.description.clone()
    }

    fn validate(&self, req: &ValidateRequest<'_>, diags: &mut Diagnostics) {
        if let Some(problem) = (self.check)(req.value) {
            diags.add_attribute_error(req.path.clone(), "Invalid Attribute Value", problem);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: &dyn Validator, value: Value) -> Diagnostics {
        let path = AttributePath::root("spec").attr("x");
        let mut d = Diagnostics::new();
        v.validate(&ValidateRequest { path: &path, value: &value, config: &Value::Null }, &mut d);
        d
    }

    #[test]
    fn one_of_reports_path() {
        let v = one_of(["a", "b"]);
        assert!(run(&v, "a".into()).is_empty());
        let d = run(&v, "c".into());
        assert!(d.has_errors());
        assert_eq!(d.0[0].path.as_ref().unwrap().to_string(), "spec.x");
    }

    #[test]
    fn lengths() {
        assert!(run(&not_empty(), "".into()).has_errors());
        assert!(run(&length_between(1, 2), Value::string_list(["a", "b", "c"])).has_errors());
        assert!(run(&length_between(1, 2), "ab".into()).is_empty());
    }

    #[test]
    fn closures() {
        let v = from_fn("no x", |v| (v.as_str() == Some("x")).then(|| "x is not allowed".to_string()));
        assert!(run(&v, "x".into()).has_errors());
        assert!(run(&v, "y".into()).is_empty());
    }
}
