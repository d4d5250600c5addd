//! Moving values between Teleport's protobuf resources and Terraform state.
//!
//! The rule that keeps plans exact: an attribute the user left null stays
//! null in state when the server holds its "empty" value (or a default it
//! fills in itself, like `gitlab.com` for a GitLab domain), and a configured
//! value the server stores in an equivalent but different spelling (role
//! case, a duration like `5m` vs `5m0s`, a time in another offset) keeps the
//! user's spelling. Every conversion therefore takes a *reference*: the plan
//! after create/update, the prior state on refresh, null on import (a
//! model's `Default`, every field null).
//!
//! The models generated from Teleport's messages (see `protogen`) implement
//! [`ProtoModel`] with one call per field to the rules here; [`message`] and
//! [`messages`] carry the rules into nested objects and lists of them.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use joinery_teleport::proto::types::BoolValue;
use joinery_teleport::proto::wrappers::{LabelValues, StringValues};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use joinery_tfplugin::cty::Value;
use joinery_tfplugin::framework::{AttributePath, Diagnostics, Maybe, model};

/// Label keys the server manages itself (e.g. `teleport.dev/origin`).
/// They are kept out of state unless the user wrote them, so they never
/// cause "new element appeared" errors or perpetual diffs.
pub const SERVER_LABEL_PREFIX: &str = "teleport.dev/";

/// A model of a Teleport message: how a plan becomes the message, and how
/// the server's message becomes state relative to a reference.
pub trait ProtoModel: Default + Serialize {
    /// The protobuf message.
    type Proto;

    /// The message for a plan; `at` is the model's attribute path, for
    /// diagnostics about values that do not parse.
    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics>;

    /// State from the server's message, following the reference's nulls and spellings.
    fn to_state(server: &Self::Proto, reference: &Self) -> Self;
}

// ---- Scalars ---------------------------------------------------------------

/// A string attribute: null when the server's value is empty and the
/// reference is null.
pub fn string(server: &str, reference: &Maybe<String>) -> Maybe<String> {
    if server.is_empty() && reference.is_null() { Maybe::Null } else { Maybe::Known(server.to_string()) }
}

/// A string the server defaults to `default` when it is empty: null, like
/// an empty one, when the reference is null.
pub fn string_or_default(server: &str, default: &str, reference: &Maybe<String>) -> Maybe<String> {
    if server == default && reference.is_null() { Maybe::Null } else { string(server, reference) }
}

/// A computed string: always the server's.
pub fn string_computed(server: &str) -> Maybe<String> {
    Maybe::Known(server.to_string())
}

/// A bool: null when false and the reference is null.
pub fn bool(server: bool, reference: &Maybe<bool>) -> Maybe<bool> {
    if !server && reference.is_null() { Maybe::Null } else { Maybe::Known(server) }
}

/// A nullable bool (`types.BoolValue`, Go's `BoolOption`): null when unset.
pub fn bool_value(server: Option<&BoolValue>, _reference: &Maybe<bool>) -> Maybe<bool> {
    server.map(|b| b.value).into()
}

/// The `types.BoolValue` of a nullable bool.
pub fn bool_value_to_proto(model: &Maybe<bool>) -> Option<BoolValue> {
    model.known().map(|v| BoolValue { value: *v })
}

/// A number: null when zero and the reference is null.
pub fn number(server: u32, reference: &Maybe<u32>) -> Maybe<u32> {
    if server == 0 && reference.is_null() { Maybe::Null } else { Maybe::Known(server) }
}

/// A number the server defaults to `default` when zero: null, like zero,
/// when the reference is null.
pub fn number_or_default(server: u32, default: u32, reference: &Maybe<u32>) -> Maybe<u32> {
    if server == default && reference.is_null() { Maybe::Null } else { number(server, reference) }
}

// ---- Lists and maps ----------------------------------------------------------

/// A list of strings: null when empty and the reference is null.
pub fn string_list(server: &[String], reference: &Maybe<Vec<String>>) -> Maybe<Vec<String>> {
    if server.is_empty() && reference.is_null() { Maybe::Null } else { Maybe::Known(server.to_vec()) }
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

/// Every label the server holds (an import's): null when there are none.
pub fn all_labels(server: &HashMap<String, String>) -> Maybe<BTreeMap<String, String>> {
    if server.is_empty() {
        Maybe::Null
    } else {
        Maybe::Known(server.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}

/// A `map(list(string))`: null when empty and the reference is null.
pub fn map_of_lists(
    server: &BTreeMap<String, Vec<String>>,
    reference: &Maybe<BTreeMap<String, Vec<String>>>,
) -> Maybe<BTreeMap<String, Vec<String>>> {
    if server.is_empty() && reference.is_null() { Maybe::Null } else { Maybe::Known(server.clone()) }
}

/// Teleport's `Labels` (`wrappers.LabelValues`) as a `map(list(string))`.
pub fn label_values(
    server: Option<&LabelValues>,
    reference: &Maybe<BTreeMap<String, Vec<String>>>,
) -> Maybe<BTreeMap<String, Vec<String>>> {
    let map = server.map(|l| l.values.iter().map(|(k, v)| (k.clone(), v.values.clone())).collect()).unwrap_or_default();
    map_of_lists(&map, reference)
}

/// The `wrappers.LabelValues` of a `map(list(string))`; none when empty.
pub fn label_values_to_proto(model: &Maybe<BTreeMap<String, Vec<String>>>) -> Option<LabelValues> {
    let map = model.known().filter(|m| !m.is_empty())?;
    Some(LabelValues { values: map.iter().map(|(k, v)| (k.clone(), StringValues { values: v.clone() })).collect() })
}

// ---- Times and durations -----------------------------------------------------

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

/// The `google.protobuf.Timestamp` of an RFC 3339 attribute.
pub fn timestamp_to_proto(
    model: &Maybe<String>,
    at: &AttributePath,
) -> Result<Option<prost_types::Timestamp>, Diagnostics> {
    model
        .known()
        .map(|t| parse_time(t).map_err(|m| Diagnostics::attribute_error(at.clone(), "Invalid time", m)))
        .transpose()
}

/// Parses an RFC 3339 time.
pub fn parse_time(s: &str) -> Result<prost_types::Timestamp, String> {
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))?;
    Ok(prost_types::Timestamp { seconds: t.unix_timestamp(), nanos: t.nanosecond() as i32 })
}

/// A Go duration string, in the reference's spelling when equal; always known.
pub fn duration(server: Duration, reference: &Maybe<String>) -> Maybe<String> {
    if let Some(r) = reference.known()
        && joinery_util::duration::parse(r).ok() == Some(server)
    {
        return reference.clone();
    }
    Maybe::Known(joinery_util::duration::format(server))
}

/// A computed duration Teleport keeps as nanoseconds (Go's `Duration` cast
/// of an `int64`): always known, in the reference's spelling when equal.
pub fn nanos_computed(server: i64, reference: &Maybe<String>) -> Maybe<String> {
    duration(Duration::from_nanos(server.max(0) as u64), reference)
}

/// A duration Teleport keeps as nanoseconds: null when zero and the
/// reference is null.
pub fn nanos(server: i64, reference: &Maybe<String>) -> Maybe<String> {
    if server == 0 && reference.is_null() { Maybe::Null } else { nanos_computed(server, reference) }
}

/// The nanoseconds of a Go duration attribute.
pub fn nanos_to_proto(model: &Maybe<String>, at: &AttributePath) -> Result<i64, Diagnostics> {
    Ok(parse_duration(model, at)?.map_or(0, |d| d.as_nanos() as i64))
}

/// A `google.protobuf.Duration` as a Go duration string; null when unset.
pub fn duration_message(server: Option<&prost_types::Duration>, reference: &Maybe<String>) -> Maybe<String> {
    server.map_or(Maybe::Null, |d| duration(Duration::new(d.seconds.max(0) as u64, d.nanos.max(0) as u32), reference))
}

/// The `google.protobuf.Duration` of a Go duration attribute.
pub fn duration_to_proto(
    model: &Maybe<String>,
    at: &AttributePath,
) -> Result<Option<prost_types::Duration>, Diagnostics> {
    Ok(parse_duration(model, at)?
        .map(|d| prost_types::Duration { seconds: d.as_secs() as i64, nanos: d.subsec_nanos() as i32 }))
}

fn parse_duration(model: &Maybe<String>, at: &AttributePath) -> Result<Option<Duration>, Diagnostics> {
    model
        .known()
        .map(|d| {
            joinery_util::duration::parse(d)
                .map_err(|e| Diagnostics::attribute_error(at.clone(), "Invalid duration", e.to_string()))
        })
        .transpose()
}

// ---- Nested messages ---------------------------------------------------------

/// A nested object. Null when the server has none; also null when the
/// reference is null and nothing in it survives the rules above, so an
/// object the server fills with its own defaults (an empty bound-keypair
/// `onboarding`, say) does not appear where the user wrote none.
pub fn message<M: ProtoModel>(server: Option<&M::Proto>, reference: &Maybe<M>) -> Maybe<M> {
    let Some(server) = server else { return Maybe::Null };
    let null = M::default();
    let state = M::to_state(server, reference.known().unwrap_or(&null));
    if reference.is_null() && all_null(&state) { Maybe::Null } else { Maybe::Known(state) }
}

/// A list of nested objects: null when empty and the reference is null.
/// Elements the reference lacks get a null reference (`M::default()`).
pub fn messages<M: ProtoModel>(server: &[M::Proto], reference: &Maybe<Vec<M>>) -> Maybe<Vec<M>> {
    object_list(server, reference, |item, r| M::to_state(item, r))
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

/// The message of a nested object; none when null. At apply only computed
/// attributes can be unknown, so an object not known yet is taken as empty
/// rather than absent.
pub fn message_to_proto<M: ProtoModel>(model: &Maybe<M>, at: &AttributePath) -> Result<Option<M::Proto>, Diagnostics> {
    match model {
        Maybe::Null => Ok(None),
        Maybe::Unknown => M::default().to_proto(at).map(Some),
        Maybe::Known(m) => m.to_proto(at).map(Some),
    }
}

/// The messages of a list of nested objects.
pub fn messages_to_proto<M: ProtoModel>(
    model: &Maybe<Vec<M>>,
    at: &AttributePath,
) -> Result<Vec<M::Proto>, Diagnostics> {
    let items = model.known().map_or(&[][..], Vec::as_slice);
    items.iter().enumerate().map(|(i, m)| m.to_proto(&at.index(i))).collect()
}

/// Whether every attribute of a model is null.
fn all_null<M: Serialize>(m: &M) -> bool {
    match model::to_value(m) {
        Ok(Value::Object(attrs)) => attrs.values().all(Value::is_null),
        _ => false,
    }
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
        assert_eq!(bool(false, &Maybe::Null), Maybe::Null);
        assert_eq!(bool(false, &known(false)), known(false));
        assert_eq!(number(0, &Maybe::Null), Maybe::Null);
        assert_eq!(nanos(0, &Maybe::Null), Maybe::Null);
        assert_eq!(nanos_computed(0, &Maybe::Null), known("0s".to_string()));
        assert_eq!(label_values(None, &Maybe::Null), Maybe::Null);
        assert_eq!(label_values_to_proto(&known(BTreeMap::new())), None);
    }

    #[test]
    fn server_defaults_stay_null_unless_written() {
        assert_eq!(string_or_default("gitlab.com", "gitlab.com", &Maybe::Null), Maybe::Null);
        let written = known("gitlab.com".to_string());
        assert_eq!(string_or_default("gitlab.com", "gitlab.com", &written), written);
        assert_eq!(number_or_default(1, 1, &Maybe::Null), Maybe::Null);
        assert_eq!(number_or_default(2, 1, &Maybe::Null), known(2));
    }

    #[test]
    fn equivalent_spellings_keep_the_users() {
        let r = known(vec!["bot".to_string()]);
        assert_eq!(string_list_ci(&["Bot".into()], &r), r);
        let d = known("5m".to_string());
        assert_eq!(duration(Duration::from_secs(300), &d), d);
        assert_eq!(duration(Duration::from_secs(300), &Maybe::Null), known("5m0s".to_string()));
        assert_eq!(nanos_computed(300_000_000_000, &d), d);
        let t = known("2030-01-01T01:00:00+01:00".to_string());
        let ts = parse_time("2030-01-01T00:00:00Z").unwrap();
        assert_eq!(timestamp(Some(&ts), &t), t);
        assert_eq!(timestamp(Some(&ts), &Maybe::Null), known("2030-01-01T00:00:00Z".to_string()));
    }

    #[test]
    fn nullable_bools_keep_false() {
        assert_eq!(bool_value(Some(&BoolValue { value: false }), &Maybe::Null), known(false));
        assert_eq!(bool_value(None, &Maybe::Null), Maybe::Null);
        assert_eq!(bool_value_to_proto(&known(false)), Some(BoolValue { value: false }));
        assert_eq!(bool_value_to_proto(&Maybe::Null), None);
    }

    #[test]
    fn bad_values_point_at_their_attribute() {
        let at = AttributePath::root("spec").attr("aws_iid_ttl");
        let e = nanos_to_proto(&known("soon".to_string()), &at).unwrap_err();
        assert_eq!(e.0[0].path.as_ref().unwrap().to_string(), "spec.aws_iid_ttl");
        assert_eq!(nanos_to_proto(&known("5m".to_string()), &at).unwrap(), 300_000_000_000);
        let at = AttributePath::root("rotate_after");
        assert!(timestamp_to_proto(&known("tomorrow".to_string()), &at).is_err());
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
