//! cty values: what Terraform sends and receives for configs, plans and state.
//!
//! A [`Value`] does not carry its own type: the schema supplies it when the
//! value is encoded or decoded (see [`super::msgpack`]). Null and unknown are
//! ordinary variants, so a value can be null or unknown at any depth.

use std::collections::BTreeMap;
use std::fmt;

use super::Type;

/// A cty number, kept in the form it arrived in so nothing is rounded.
#[derive(Debug, Clone)]
pub enum Number {
    /// A signed integer.
    Int(i64),
    /// An unsigned integer beyond `i64::MAX`.
    UInt(u64),
    /// A binary floating-point number.
    Float(f64),
    /// A decimal number in text form, for values beyond 64-bit precision.
    Decimal(String),
}

impl Number {
    /// The value as `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::UInt(u) => i64::try_from(*u).ok(),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Number::Float(_) => None,
            Number::Decimal(s) => s.parse().ok(),
        }
    }

    /// The value as `f64` (possibly rounded).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Number::Int(i) => Some(*i as f64),
            Number::UInt(u) => Some(*u as f64),
            Number::Float(f) => Some(*f),
            Number::Decimal(s) => s.parse().ok(),
        }
    }

    /// Builds a number from decimal text, choosing the most exact form.
    pub fn parse(text: &str) -> Option<Number> {
        let text = text.trim();
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        if let Ok(u) = text.parse::<u64>() {
            return Some(Number::UInt(u));
        }
        let f: f64 = text.parse().ok()?;
        // Keep the float only if it prints back as the same text, so that
        // e.g. "0.1" stays exact but "1e400" or 30-digit values don't get
        // rounded silently.
        if f.is_finite() && (format!("{f}") == text || format!("{f:e}") == text) {
            Some(Number::Float(f))
        } else {
            Some(Number::Decimal(text.to_string()))
        }
    }

    fn as_i128(&self) -> Option<i128> {
        match self {
            Number::Int(i) => Some(i128::from(*i)),
            Number::UInt(u) => Some(i128::from(*u)),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 1.0e38 => Some(*f as i128),
            Number::Float(_) => None,
            Number::Decimal(s) => s.parse().ok(),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        // Numbers compare by value, whatever form they arrived in.
        if let (Some(a), Some(b)) = (self.as_i128(), other.as_i128()) {
            return a == b;
        }
        match (self, other) {
            (Number::Decimal(a), Number::Decimal(b)) => a == b,
            _ => match (self.as_f64(), other.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::UInt(u) => write!(f, "{u}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Decimal(s) => f.write_str(s),
        }
    }
}

/// A cty value of any type.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// Null: absent from config, or removed.
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    /// A string.
    String(String),
    /// A number.
    Number(Number),
    /// A boolean.
    Bool(bool),
    /// A list.
    List(Vec<Value>),
    /// A set; element order carries no meaning.
    Set(Vec<Value>),
    /// A map with string keys.
    Map(BTreeMap<String, Value>),
    /// An object. Attributes missing here are treated (and encoded) as null.
    Object(BTreeMap<String, Value>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A value of a `dynamic` attribute, with the concrete type it has.
    Dynamic(Type, Box<Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) | (Unknown, Unknown) => true,
            (String(a), String(b)) => a == b,
            (Number(a), Number(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => a == b,
            (Set(a), Set(b)) => {
                // Sets are equal when each has the same distinct elements.
                a.len() == b.len() && a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
            }
            (Map(a), Map(b)) => a == b,
            (Object(a), Object(b)) => {
                // A missing attribute equals an explicit null.
                a.keys().chain(b.keys()).all(|k| a.get(k).unwrap_or(&Null) == b.get(k).unwrap_or(&Null))
            }
            (Dynamic(ta, a), Dynamic(tb, b)) => ta == tb && a == b,
            _ => false,
        }
    }
}

static NULL: Value = Value::Null;

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// An object value from `(name, value)` pairs.
    pub fn object<I, S>(attributes: I) -> Value
    where
        I: IntoIterator<Item = (S, Value)>,
        S: Into<String>,
    {
        Value::Object(attributes.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list of strings.
    pub fn string_list<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
    }

    /// What kind of value this is, for error messages (`null`, `string`, `list`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "unknown",
            Value::String(_) => "string",
            Value::Number(_) => "number",
            Value::Bool(_) => "bool",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
            Value::Dynamic(..) => "dynamic",
        }
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this is unknown (at the top level).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// Whether this is neither null nor unknown.
    pub fn is_known_value(&self) -> bool {
        !self.is_null() && !self.is_unknown()
    }

    /// Whether no unknown appears anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }

    /// Whether this (a new state) is what `plan` promised: every known value
    /// of the plan equal here, anything at its unknowns — the check Terraform
    /// makes after an apply ("Provider produced inconsistent result").
    /// Object attributes missing on either side count as null.
    pub fn satisfies_plan(&self, plan: &Value) -> bool {
        match (plan, self) {
            (Value::Unknown, _) => true,
            (Value::Object(p), Value::Object(s)) => {
                let null = Value::Null;
                p.keys().chain(s.keys()).all(|k| s.get(k).unwrap_or(&null).satisfies_plan(p.get(k).unwrap_or(&null)))
            }
            (Value::Map(p), Value::Map(s)) => {
                p.len() == s.len() && p.iter().all(|(k, pv)| s.get(k).is_some_and(|sv| sv.satisfies_plan(pv)))
            }
            (Value::List(p), Value::List(s)) | (Value::Tuple(p), Value::Tuple(s)) | (Value::Set(p), Value::Set(s)) => {
                p.len() == s.len() && p.iter().zip(s).all(|(pv, sv)| sv.satisfies_plan(pv))
            }
            (Value::Dynamic(_, p), Value::Dynamic(_, s)) => s.satisfies_plan(p),
            (p, s) => p == s,
        }
    }

    /// An object attribute, or null if this is not an object or the attribute is unset.
    ///
    /// Chaining is safe: `v.attr("spec").attr("tags")` is null when `spec` is null.
    pub fn attr(&self, name: &str) -> &Value {
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            Value::Dynamic(_, v) => v.attr(name),
            _ => &NULL,
        }
    }

    /// Sets an object attribute; turns a null value into an object first.
    pub fn set_attr(&mut self, name: impl Into<String>, value: Value) {
        if !matches!(self, Value::Object(_)) {
            *self = Value::Object(BTreeMap::new());
        }
        if let Value::Object(m) = self {
            m.insert(name.into(), value);
        }
    }

    /// Builder form of [`Value::set_attr`].
    pub fn with_attr(mut self, name: impl Into<String>, value: Value) -> Value {
        self.set_attr(name, value);
        self
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The elements, if this is a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// The entries, if this is a map or an object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The strings of a list or set of strings; non-strings are skipped.
    pub fn as_string_vec(&self) -> Option<Vec<String>> {
        self.as_elements().map(|els| els.iter().filter_map(|e| e.as_str().map(str::to_string)).collect())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Number(Number::Float(f))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_satisfies_its_plan_at_known_values_only() {
        let plan = Value::object([
            ("id", Value::Unknown),
            ("name", Value::string("a")),
            ("tags", Value::string_list(["x"])),
            ("spec", Value::object([("ttl", Value::Unknown), ("mode", Value::string("fast"))])),
        ]);
        let state = Value::object([
            ("id", Value::string("1")),
            ("name", Value::string("a")),
            ("tags", Value::string_list(["x"])),
            ("spec", Value::object([("ttl", Value::string("1h")), ("mode", Value::string("fast"))])),
        ]);
        assert!(state.satisfies_plan(&plan));
        assert!(!state.clone().with_attr("name", Value::string("b")).satisfies_plan(&plan));
        assert!(!state.clone().with_attr("tags", Value::string_list(["x", "y"])).satisfies_plan(&plan));
        assert!(!state.clone().with_attr("extra", Value::string("set")).satisfies_plan(&plan));
        assert!(state.with_attr("extra", Value::Null).satisfies_plan(&plan));
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(Number::Int(5), Number::UInt(5));
        assert_eq!(Number::Int(5), Number::Float(5.0));
        assert_eq!(Number::Decimal("5".into()), Number::Int(5));
        assert_ne!(Number::Float(0.5), Number::Int(0));
        let big = "123456789012345678901234567890";
        assert_eq!(Number::Decimal(big.into()), Number::parse(big).unwrap());
    }

    #[test]
    fn number_parse_keeps_precision() {
        assert!(matches!(Number::parse("42"), Some(Number::Int(42))));
        assert!(matches!(Number::parse("18446744073709551615"), Some(Number::UInt(u64::MAX))));
        assert!(matches!(Number::parse("0.1"), Some(Number::Float(_))));
        assert!(matches!(Number::parse("1e400"), Some(Number::Decimal(_))));
        assert!(matches!(Number::parse("3.14159265358979323846264338327950288"), Some(Number::Decimal(_))));
        assert!(Number::parse("abc").is_none());
    }

    #[test]
    fn sets_ignore_order_and_objects_missing_equal_null() {
        let a = Value::Set(vec!["x".into(), "y".into()]);
        let b = Value::Set(vec!["y".into(), "x".into()]);
        assert_eq!(a, b);
        let o1 = Value::object([("a", Value::from("1")), ("b", Value::Null)]);
        let o2 = Value::object([("a", Value::from("1"))]);
        assert_eq!(o1, o2);
        assert_ne!(Value::Null, Value::Unknown);
    }

    #[test]
    fn attribute_access_chains_through_null() {
        let v = Value::object([("spec", Value::Null)]);
        assert!(v.attr("spec").attr("tags").is_null());
        let mut w = Value::Null;
        w.set_attr("id", "x".into());
        assert_eq!(w.attr("id").as_str(), Some("x"));
    }

    #[test]
    fn wholly_known() {
        let v = Value::object([("a", Value::List(vec![Value::Unknown]))]);
        assert!(!v.is_wholly_known());
        assert!(Value::object([("a", Value::Null)]).is_wholly_known());
    }
}
