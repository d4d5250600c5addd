//! Moving values between Teleport's protobuf resources and Terraform state.
//!
//! The rule that keeps plans exact: an attribute the user left null stays
//! null in state when the server holds its "empty" value, and a configured
//! value the server stores in an equivalent but different spelling (role
//! case, a duration like `5m` vs `5m0s`, a time in another offset) keeps
//! the user's spelling. Every conversion therefore takes a *reference*:
//! the plan after create/update, the prior state on refresh, null on import.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use joinery_tfplugin::cty::Value;

/// Label keys the server manages itself (e.g. `teleport.dev/origin`).
/// They are kept out of state unless the user wrote them, so they never
/// cause "new element appeared" errors or perpetual diffs.
pub const SERVER_LABEL_PREFIX: &str = "teleport.dev/";

/// A string attribute: null when the server's value is empty and the
/// reference is null.
pub fn string(server: &str, reference: &Value) -> Value {
    if server.is_empty() && reference.is_null() { Value::Null } else { Value::string(server) }
}

/// A list of strings; kept in the reference's spelling when equal ignoring
/// ASCII case (Teleport normalizes role names).
pub fn string_list_ci(server: &[String], reference: &Value) -> Value {
    if let Some(r) = reference.as_string_vec()
        && r.len() == server.len()
        && r.iter().zip(server).all(|(a, b)| a.eq_ignore_ascii_case(b))
    {
        return reference.clone();
    }
    string_list(server, reference)
}

/// A list of strings: null when empty and the reference is null.
pub fn string_list(server: &[String], reference: &Value) -> Value {
    if server.is_empty() && reference.is_null() {
        Value::Null
    } else {
        Value::List(server.iter().map(Value::string).collect())
    }
}

/// A `map(string)` of labels, without server-managed keys the reference
/// does not have.
pub fn labels(server: &HashMap<String, String>, reference: &Value) -> Value {
    let kept: BTreeMap<String, Value> = server
        .iter()
        .filter(|(k, _)| {
            !k.starts_with(SERVER_LABEL_PREFIX) || reference.as_entries().is_some_and(|r| r.contains_key(*k))
        })
        .map(|(k, v)| (k.clone(), Value::string(v)))
        .collect();
    if kept.is_empty() && reference.is_null() { Value::Null } else { Value::Map(kept) }
}

/// A `map(list(string))`.
pub fn map_of_lists(server: &BTreeMap<String, Vec<String>>, reference: &Value) -> Value {
    if server.is_empty() && reference.is_null() {
        return Value::Null;
    }
    Value::Map(server.iter().map(|(k, v)| (k.clone(), Value::List(v.iter().map(Value::string).collect()))).collect())
}

/// A time as RFC 3339, in the reference's spelling when it is the same instant.
pub fn timestamp(server: Option<&prost_types::Timestamp>, reference: &Value) -> Value {
    let Some(ts) = server else { return Value::Null };
    if let Some(r) = reference.as_str()
        && parse_time(r).ok().is_some_and(|p| p.seconds == ts.seconds)
    {
        return reference.clone();
    }
    OffsetDateTime::from_unix_timestamp(ts.seconds)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map(Value::string)
        .unwrap_or(Value::Null)
}

/// A Go duration string, in the reference's spelling when equal.
pub fn duration(server: Duration, reference: &Value) -> Value {
    if let Some(r) = reference.as_str()
        && joinery_util::duration::parse(r).ok() == Some(server)
    {
        return reference.clone();
    }
    Value::string(joinery_util::duration::format(server))
}

/// Parses an RFC 3339 time.
pub fn parse_time(s: &str) -> Result<prost_types::Timestamp, String> {
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))?;
    Ok(prost_types::Timestamp { seconds: t.unix_timestamp(), nanos: t.nanosecond() as i32 })
}

/// An object attribute: null when every attribute is null and the
/// reference is null.
pub fn object(attrs: Vec<(&str, Value)>, reference: &Value) -> Value {
    if reference.is_null() && attrs.iter().all(|(_, v)| v.is_null()) { Value::Null } else { Value::object(attrs) }
}

/// A list of nested objects built by `build(item, element_reference)`:
/// null when empty and the reference is null.
pub fn object_list<T>(items: &[T], reference: &Value, build: impl Fn(&T, &Value) -> Value) -> Value {
    if items.is_empty() && reference.is_null() {
        return Value::Null;
    }
    let refs = reference.as_elements().unwrap_or(&[]);
    Value::List(items.iter().enumerate().map(|(i, item)| build(item, refs.get(i).unwrap_or(&Value::Null))).collect())
}

// ---- reading configured values --------------------------------------------

/// A string attribute, "" when null or unknown.
pub fn get_string(v: &Value, name: &str) -> String {
    v.attr(name).as_str().unwrap_or_default().to_string()
}

/// A list(string) attribute, empty when null or unknown.
pub fn get_strings(v: &Value, name: &str) -> Vec<String> {
    v.attr(name).as_string_vec().unwrap_or_default()
}

/// A map(string) attribute.
pub fn get_string_map(v: &Value, name: &str) -> HashMap<String, String> {
    v.attr(name)
        .as_entries()
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default()
}

/// A map(list(string)) attribute.
pub fn get_map_of_lists(v: &Value, name: &str) -> BTreeMap<String, Vec<String>> {
    v.attr(name)
        .as_entries()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_string_vec().unwrap_or_default())).collect())
        .unwrap_or_default()
}

/// The elements of a list attribute (empty when null or unknown).
pub fn get_elements<'a>(v: &'a Value, name: &str) -> &'a [Value] {
    v.attr(name).as_elements().unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_server_values_stay_null() {
        assert_eq!(string("", &Value::Null), Value::Null);
        assert_eq!(string("", &Value::string("")), Value::string(""));
        assert_eq!(string_list(&[], &Value::Null), Value::Null);
        assert_eq!(labels(&HashMap::new(), &Value::Null), Value::Null);
    }

    #[test]
    fn equivalent_spellings_keep_the_users() {
        let r = Value::string_list(["bot"]);
        assert_eq!(string_list_ci(&["Bot".into()], &r), r);
        let d = Value::string("5m");
        assert_eq!(duration(Duration::from_secs(300), &d), d);
        assert_eq!(duration(Duration::from_secs(300), &Value::Null), Value::string("5m0s"));
        let t = Value::string("2030-01-01T01:00:00+01:00");
        let ts = parse_time("2030-01-01T00:00:00Z").unwrap();
        assert_eq!(timestamp(Some(&ts), &t), t);
        assert_eq!(timestamp(Some(&ts), &Value::Null), Value::string("2030-01-01T00:00:00Z"));
    }

    #[test]
    fn server_labels_are_hidden_unless_configured() {
        let server: HashMap<String, String> =
            [("teleport.dev/origin".to_string(), "dynamic".to_string()), ("env".to_string(), "prod".to_string())]
                .into();
        let r = Value::Map([("env".to_string(), Value::string("prod"))].into());
        assert_eq!(labels(&server, &r), r);
        let r2 = Value::Map(
            [("env".to_string(), Value::string("prod")), ("teleport.dev/origin".to_string(), Value::string("dynamic"))]
                .into(),
        );
        assert_eq!(labels(&server, &r2), r2);
    }
}
