//! Moving values between Teleport's protobuf resources and Terraform state.
//!
//! The rule that keeps plans exact: an attribute the user left null stays
//! null in state when the server holds its "empty" value, and a configured
//! value the server stores in an equivalent but different spelling (role
//! case, a duration like `5m` vs `5m0s`, a time in another offset) keeps
//! the user's spelling. Every conversion therefore takes a *reference*:
//! the plan after create/update, the prior state on refresh, null on import
//! (a model's `Default`, every field null).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use joinery_tfplugin::framework::Maybe;

/// Label keys the server manages itself (e.g. `teleport.dev/origin`).
/// They are kept out of state unless the user wrote them, so they never
/// cause "new element appeared" errors or perpetual diffs.
pub const SERVER_LABEL_PREFIX: &str = "teleport.dev/";

/// A string attribute: null when the server's value is empty and the
/// reference is null.
pub fn string(server: &str, reference: &Maybe<String>) -> Maybe<String> {
    if server.is_empty() && reference.is_null() { Maybe::Null } else { Maybe::Known(server.to_string()) }
}

/// A list of strings; kept in the reference's spelling when equal ignoring
/// ASCII case (Teleport normalizes role names).
pub fn string_list_ci(server: &[String], reference: &Maybe<Vec<String>>) -> Maybe<Vec<String>> {
    if let Some(r) = reference.known()
        && r.len() == server.len()
        && r.iter().zip(server).all(|(a, b)| a.eq_ignore_ascii_case(b))
    {
        return reference.clone();
    }
    string_list(server, reference)
}

/// A list of strings: null when empty and the reference is null.
pub fn string_list(server: &[String], reference: &Maybe<Vec<String>>) -> Maybe<Vec<String>> {
    if server.is_empty() && reference.is_null() { Maybe::Null } else { Maybe::Known(server.to_vec()) }
}

/// A `map(string)` of labels, without server-managed keys the reference
/// does not have.
pub fn labels(
    server: &HashMap<String, String>,
    reference: &Maybe<BTreeMap<String, String>>,
) -> Maybe<BTreeMap<String, String>> {
    let kept: BTreeMap<String, String> = server
        .iter()
        .filter(|(k, _)| !k.starts_with(SERVER_LABEL_PREFIX) || reference.known().is_some_and(|r| r.contains_key(*k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if kept.is_empty() && reference.is_null() { Maybe::Null } else { Maybe::Known(kept) }
}

/// A `map(list(string))`.
pub fn map_of_lists(
    server: &BTreeMap<String, Vec<String>>,
    reference: &Maybe<BTreeMap<String, Vec<String>>>,
) -> Maybe<BTreeMap<String, Vec<String>>> {
    if server.is_empty() && reference.is_null() { Maybe::Null } else { Maybe::Known(server.clone()) }
}

/// A time as RFC 3339, in the reference's spelling when it is the same instant.
pub fn timestamp(server: Option<&prost_types::Timestamp>, reference: &Maybe<String>) -> Maybe<String> {
    let Some(ts) = server else { return Maybe::Null };
    if let Some(r) = reference.known()
        && parse_time(r).ok().is_some_and(|p| p.seconds == ts.seconds)
    {
        return reference.clone();
    }
    OffsetDateTime::from_unix_timestamp(ts.seconds).ok().and_then(|t| t.format(&Rfc3339).ok()).into()
}

/// A Go duration string, in the reference's spelling when equal.
pub fn duration(server: Duration, reference: &Maybe<String>) -> Maybe<String> {
    if let Some(r) = reference.known()
        && joinery_util::duration::parse(r).ok() == Some(server)
    {
        return reference.clone();
    }
    Maybe::Known(joinery_util::duration::format(server))
}

/// Parses an RFC 3339 time.
pub fn parse_time(s: &str) -> Result<prost_types::Timestamp, String> {
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))?;
    Ok(prost_types::Timestamp { seconds: t.unix_timestamp(), nanos: t.nanosecond() as i32 })
}

/// A list of nested objects built by `build(item, element_reference)`:
/// null when empty and the reference is null. Elements the reference lacks
/// get a null reference (`M::default()`).
pub fn object_list<T, M: Default>(
    items: &[T],
    reference: &Maybe<Vec<M>>,
    build: impl Fn(&T, &M) -> M,
) -> Maybe<Vec<M>> {
    if items.is_empty() && reference.is_null() {
        return Maybe::Null;
    }
    let refs = reference.known().map_or(&[][..], Vec::as_slice);
    let null = M::default();
    Maybe::Known(items.iter().enumerate().map(|(i, item)| build(item, refs.get(i).unwrap_or(&null))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known<T>(v: T) -> Maybe<T> {
        Maybe::Known(v)
    }

    #[test]
    fn empty_server_values_stay_null() {
        assert_eq!(string("", &Maybe::Null), Maybe::Null);
        assert_eq!(string("", &known(String::new())), known(String::new()));
        assert_eq!(string_list(&[], &Maybe::Null), Maybe::Null);
        assert_eq!(labels(&HashMap::new(), &Maybe::Null), Maybe::Null);
    }

    #[test]
    fn equivalent_spellings_keep_the_users() {
        let r = known(vec!["bot".to_string()]);
        assert_eq!(string_list_ci(&["Bot".into()], &r), r);
        let d = known("5m".to_string());
        assert_eq!(duration(Duration::from_secs(300), &d), d);
        assert_eq!(duration(Duration::from_secs(300), &Maybe::Null), known("5m0s".to_string()));
        let t = known("2030-01-01T01:00:00+01:00".to_string());
        let ts = parse_time("2030-01-01T00:00:00Z").unwrap();
        assert_eq!(timestamp(Some(&ts), &t), t);
        assert_eq!(timestamp(Some(&ts), &Maybe::Null), known("2030-01-01T00:00:00Z".to_string()));
    }

    #[test]
    fn server_labels_are_hidden_unless_configured() {
        let server: HashMap<String, String> =
            [("teleport.dev/origin".to_string(), "dynamic".to_string()), ("env".to_string(), "prod".to_string())]
                .into();
        let r = known(BTreeMap::from([("env".to_string(), "prod".to_string())]));
        assert_eq!(labels(&server, &r), r);
        let r2 = known(BTreeMap::from([
            ("env".to_string(), "prod".to_string()),
            ("teleport.dev/origin".to_string(), "dynamic".to_string()),
        ]));
        assert_eq!(labels(&server, &r2), r2);
    }
}
