//! Teleport's YAML resource format (`kind`, `version`, `metadata`, `spec`,
//! `status`) for tokens and bots, read and written by walking the
//! messages' descriptors: every field a `.proto` carries round-trips, under
//! the name Teleport's YAML gives it (its gogoproto `jsontag`).
//!
//! Teleport's Go types change a few fields' YAML form, and so does this:
//! an `int64` cast to `Duration` is a Go duration (`5m0s`), a timestamp is
//! RFC 3339, `BoolValue` is a plain bool, `LabelValues` a map of lists, and
//! a field whose tag is `-` (`metadata.namespace`) is not written.

use anyhow::{Context, Result, bail};
use joinery_teleport::proto::descriptors::{
    self, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage, Value,
};
use prost::Message as _;
use serde_yaml_ng::{Mapping, Value as Yaml};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `types.ProvisionTokenV2`.
pub(super) const TOKEN: &str = "types.ProvisionTokenV2";
/// `teleport.machineid.v1.Bot`.
pub(super) const BOT: &str = "teleport.machineid.v1.Bot";

fn descriptor(name: &str) -> MessageDescriptor {
    // Proven invariant: the names above are compiled messages (a unit test checks).
    descriptors::message(name).unwrap_or_else(|| panic!("{name} is not a compiled message"))
}

/// The message as Teleport's YAML.
pub(super) fn to_yaml<M: prost::Message>(message: &str, m: &M) -> Result<Yaml> {
    let dynamic = DynamicMessage::decode(descriptor(message), m.encode_to_vec().as_slice())?;
    Ok(message_to_yaml(&dynamic))
}

/// A message from Teleport's YAML; unknown keys are errors naming their path.
pub(super) fn from_yaml<M: prost::Message + Default>(message: &str, y: &Yaml) -> Result<M> {
    let dynamic = yaml_to_message(&descriptor(message), y, "")?;
    Ok(M::decode(dynamic.encode_to_vec().as_slice())?)
}

fn message_to_yaml(m: &DynamicMessage) -> Yaml {
    let mut out = Mapping::new();
    for (field, value) in m.fields() {
        if descriptors::json_hidden(&field) {
            continue;
        }
        out.insert(Yaml::String(descriptors::json_name(&field)), field_to_yaml(&field, value));
    }
    Yaml::Mapping(out)
}

fn field_to_yaml(field: &FieldDescriptor, value: &Value) -> Yaml {
    match value {
        Value::List(items) => Yaml::Sequence(items.iter().map(|v| value_to_yaml(field, v)).collect()),
        Value::Map(entries) => {
            let mut sorted: Vec<_> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            let mut out = Mapping::new();
            for (k, v) in sorted {
                let key = match k {
                    MapKey::String(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                out.insert(Yaml::String(key), value_to_yaml(&map_value_field(field), v));
            }
            Yaml::Mapping(out)
        }
        v => value_to_yaml(field, v),
    }
}

fn map_value_field(field: &FieldDescriptor) -> FieldDescriptor {
    match field.kind() {
        Kind::Message(entry) => entry.map_entry_value_field(),
        _ => field.clone(),
    }
}

fn value_to_yaml(field: &FieldDescriptor, value: &Value) -> Yaml {
    match value {
        Value::I64(n) if descriptors::cast_type(field).as_deref() == Some("Duration") => {
            Yaml::String(joinery_util::duration::format(std::time::Duration::from_nanos((*n).max(0) as u64)))
        }
        Value::Message(m) => match m.descriptor().full_name() {
            "google.protobuf.Timestamp" => {
                let seconds = m.get_field_by_name("seconds").and_then(|v| v.as_i64()).unwrap_or_default();
                Yaml::String(
                    OffsetDateTime::from_unix_timestamp(seconds)
                        .ok()
                        .and_then(|t| t.format(&Rfc3339).ok())
                        .unwrap_or_default(),
                )
            }
            "types.BoolValue" => Yaml::Bool(m.get_field_by_name("Value").and_then(|v| v.as_bool()).unwrap_or(false)),
            "wrappers.LabelValues" => {
                let values = m.descriptor().get_field_by_name("Values").map(|f| m.get_field(&f).into_owned());
                match values {
                    Some(Value::Map(entries)) => {
                        let mut sorted: Vec<_> = entries.into_iter().collect();
                        sorted.sort_by(|a, b| a.0.cmp(&b.0));
                        let mut out = Mapping::new();
                        for (k, v) in sorted {
                            let list = match v {
                                Value::Message(sv) => sv
                                    .get_field_by_name("Values")
                                    .and_then(|l| l.as_list().map(<[Value]>::to_vec))
                                    .unwrap_or_default(),
                                _ => Vec::new(),
                            };
                            let key = if let MapKey::String(s) = k { s } else { String::new() };
                            out.insert(
                                Yaml::String(key),
                                Yaml::Sequence(list.iter().filter_map(|s| s.as_str()).map(|s| s.into()).collect()),
                            );
                        }
                        Yaml::Mapping(out)
                    }
                    _ => Yaml::Mapping(Mapping::new()),
                }
            }
            _ => message_to_yaml(m),
        },
        Value::Bool(b) => Yaml::Bool(*b),
        Value::String(s) => Yaml::String(s.clone()),
        Value::I32(n) => (*n).into(),
        Value::I64(n) => (*n).into(),
        Value::U32(n) => (*n).into(),
        Value::U64(n) => (*n).into(),
        Value::EnumNumber(n) => (*n).into(),
        other => Yaml::String(format!("{other:?}")),
    }
}

fn yaml_to_message(desc: &MessageDescriptor, y: &Yaml, path: &str) -> Result<DynamicMessage> {
    let mut m = DynamicMessage::new(desc.clone());
    match y {
        Yaml::Null => return Ok(m),
        Yaml::Mapping(map) => {
            for (k, v) in map {
                let key = k.as_str().with_context(|| format!("{path}: keys must be strings"))?;
                let at = if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
                let field = desc
                    .fields()
                    .find(|f| descriptors::json_name(f) == key)
                    .with_context(|| format!("{at}: unknown field"))?;
                if v.is_null() {
                    continue;
                }
                m.set_field(&field, yaml_to_field(&field, v, &at)?);
            }
        }
        _ => bail!("{}: must be a mapping", if path.is_empty() { "resource" } else { path }),
    }
    Ok(m)
}

fn yaml_to_field(field: &FieldDescriptor, y: &Yaml, at: &str) -> Result<Value> {
    if field.is_map() {
        let Yaml::Mapping(map) = y else { bail!("{at}: must be a mapping") };
        let value_field = map_value_field(field);
        let mut out = std::collections::HashMap::new();
        for (k, v) in map {
            let key = k.as_str().with_context(|| format!("{at}: keys must be strings"))?;
            out.insert(MapKey::String(key.to_string()), yaml_to_value(&value_field, v, &format!("{at}.{key}"))?);
        }
        return Ok(Value::Map(out));
    }
    if field.is_list() {
        let Yaml::Sequence(items) = y else { bail!("{at}: must be a list") };
        let values = items.iter().enumerate().map(|(i, v)| yaml_to_value(field, v, &format!("{at}[{i}]")));
        return Ok(Value::List(values.collect::<Result<_>>()?));
    }
    yaml_to_value(field, y, at)
}

fn yaml_to_value(field: &FieldDescriptor, y: &Yaml, at: &str) -> Result<Value> {
    let string = || y.as_str().map(str::to_string).with_context(|| format!("{at}: must be a string"));
    Ok(match field.kind() {
        Kind::String => Value::String(match y {
            Yaml::String(s) => s.clone(),
            Yaml::Number(n) => n.to_string(),
            Yaml::Bool(b) => b.to_string(),
            _ => bail!("{at}: must be a string"),
        }),
        Kind::Bool => Value::Bool(y.as_bool().with_context(|| format!("{at}: must be true or false"))?),
        Kind::Uint32 => Value::U32(
            y.as_u64().and_then(|n| u32::try_from(n).ok()).with_context(|| format!("{at}: must be a whole number"))?,
        ),
        Kind::Int32 => Value::I32(
            y.as_i64().and_then(|n| i32::try_from(n).ok()).with_context(|| format!("{at}: must be a whole number"))?,
        ),
        Kind::Int64 if descriptors::cast_type(field).as_deref() == Some("Duration") => Value::I64(match y {
            Yaml::Number(n) => n.as_i64().with_context(|| format!("{at}: must be a duration"))?,
            _ => joinery_util::duration::parse(&string()?)
                .map(|d| d.as_nanos() as i64)
                .map_err(|e| anyhow::anyhow!("{at}: {e}"))?,
        }),
        Kind::Int64 => Value::I64(y.as_i64().with_context(|| format!("{at}: must be a whole number"))?),
        Kind::Message(m) => match m.full_name() {
            "google.protobuf.Timestamp" => {
                let t = OffsetDateTime::parse(&string()?, &Rfc3339)
                    .with_context(|| format!("{at}: {y:?} is not an RFC 3339 time"))?;
                let mut ts = DynamicMessage::new(m.clone());
                ts.set_field_by_name("seconds", Value::I64(t.unix_timestamp()));
                ts.set_field_by_name("nanos", Value::I32(t.nanosecond() as i32));
                Value::Message(ts)
            }
            "types.BoolValue" => {
                let mut b = DynamicMessage::new(m.clone());
                b.set_field_by_name(
                    "Value",
                    Value::Bool(y.as_bool().with_context(|| format!("{at}: must be a bool"))?),
                );
                Value::Message(b)
            }
            "wrappers.LabelValues" => {
                let Yaml::Mapping(map) = y else { bail!("{at}: must be a mapping of lists") };
                let values = m.get_field_by_name("Values").with_context(|| format!("{at}: LabelValues"))?;
                let string_values = map_value_field(&values);
                let Kind::Message(sv) = string_values.kind() else { bail!("{at}: LabelValues") };
                let mut entries = std::collections::HashMap::new();
                for (k, v) in map {
                    let key = k.as_str().with_context(|| format!("{at}: keys must be strings"))?;
                    let list = match v {
                        Yaml::Sequence(items) => items
                            .iter()
                            .map(|i| i.as_str().map(|s| Value::String(s.to_string())))
                            .collect::<Option<Vec<_>>>()
                            .with_context(|| format!("{at}.{key}: must be a list of strings"))?,
                        Yaml::String(s) => vec![Value::String(s.clone())],
                        _ => bail!("{at}.{key}: must be a list of strings"),
                    };
                    let mut item = DynamicMessage::new(sv.clone());
                    item.set_field_by_name("Values", Value::List(list));
                    entries.insert(MapKey::String(key.to_string()), Value::Message(item));
                }
                let mut labels = DynamicMessage::new(m.clone());
                labels.set_field(&values, Value::Map(entries));
                Value::Message(labels)
            }
            _ => Value::Message(yaml_to_message(&m, y, at)?),
        },
        other => bail!("{at}: {other:?} fields are not supported"),
    })
}

/// `kind` of a resource file, to pick its message.
pub(super) fn kind_of(y: &Yaml) -> Option<&str> {
    y.get("kind").and_then(Yaml::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use joinery_teleport::proto::teleport::machineid::v1::Bot;
    use joinery_teleport::proto::types::ProvisionTokenV2;

    const GITLAB: &str = r#"kind: token
version: v2
metadata:
  name: gitlab-runner
  namespace: default
  expires: "2099-01-01T00:00:00Z"
  labels: {team: ci}
spec:
  roles: [Bot]
  bot_name: ci
  join_method: gitlab
  aws_iid_ttl: 5m0s
  suggested_labels: {env: [prod, dev]}
  gitlab:
    domain: gitlab.example.com
    static_jwks: '{"keys":[]}'
    allow:
      - project_path: group/project
        ref_protected: false
        environment_protected: true
status:
  bound_keypair:
    registration_secret: s3cret
    recovery_count: 2
"#;

    #[test]
    fn every_field_round_trips() {
        let y: Yaml = serde_yaml_ng::from_str(GITLAB).unwrap();
        let t: ProvisionTokenV2 = from_yaml(TOKEN, &y).unwrap();
        let spec = t.spec.as_ref().unwrap();
        assert_eq!(spec.awsiidttl, 300_000_000_000);
        let rule = &spec.git_lab.as_ref().unwrap().allow[0];
        assert_eq!(rule.ref_protected.as_ref().map(|b| b.value), Some(false), "a false BoolValue is kept");
        assert_eq!(t.metadata.as_ref().unwrap().namespace, "default");
        let back = to_yaml(TOKEN, &t).unwrap();
        let mut expected = y.clone();
        // Teleport does not write the namespace.
        expected["metadata"].as_mapping_mut().unwrap().remove("namespace");
        assert_eq!(back, expected);
        let again: ProvisionTokenV2 = from_yaml(TOKEN, &back).unwrap();
        assert_eq!(again, ProvisionTokenV2 { metadata: again.metadata.clone(), ..t.clone() });
    }

    /// A message with every field set (a list or map with one element), to
    /// a value that is not its default: the round trip has nothing to skip.
    fn filled(desc: &MessageDescriptor, depth: usize) -> DynamicMessage {
        let mut m = DynamicMessage::new(desc.clone());
        for f in desc.fields() {
            if descriptors::json_hidden(&f) {
                continue;
            }
            let one = |f: &FieldDescriptor| -> Value {
                match f.kind() {
                    Kind::String => Value::String(format!("{}-value", f.name())),
                    Kind::Bool => Value::Bool(true),
                    Kind::Uint32 => Value::U32(7),
                    Kind::Int32 => Value::I32(5),
                    Kind::Int64 => Value::I64(5_000_000_000),
                    Kind::Message(t) if t.full_name() == "google.protobuf.Timestamp" => {
                        let mut ts = DynamicMessage::new(t);
                        ts.set_field_by_name("seconds", Value::I64(4_102_444_800));
                        Value::Message(ts)
                    }
                    // A false nullable bool is a value, not an absence.
                    Kind::Message(t) if t.full_name() == "types.BoolValue" => Value::Message(DynamicMessage::new(t)),
                    Kind::Message(t) => Value::Message(filled(&t, depth + 1)),
                    other => panic!("no sample value for {other:?}"),
                }
            };
            let value = if f.is_map() {
                let value_field = map_value_field(&f);
                Value::Map([(MapKey::String("key".into()), one(&value_field))].into())
            } else if f.is_list() {
                Value::List(vec![one(&f)])
            } else {
                one(&f)
            };
            assert!(depth < 8, "runaway nesting at {}", f.full_name());
            m.set_field(&f, value);
        }
        m
    }

    #[test]
    fn every_field_of_tokens_and_bots_round_trips() {
        let token: ProvisionTokenV2 = filled(&descriptor(TOKEN), 0).transcode_to().unwrap();
        assert!(token.spec.as_ref().unwrap().bound_keypair.as_ref().unwrap().recovery.is_some());
        let back: ProvisionTokenV2 = from_yaml(TOKEN, &to_yaml(TOKEN, &token).unwrap()).unwrap();
        assert_eq!(back, token);
        let bot: Bot = filled(&descriptor(BOT), 0).transcode_to().unwrap();
        let back: Bot = from_yaml(BOT, &to_yaml(BOT, &bot).unwrap()).unwrap();
        assert_eq!(back, bot);
    }

    #[test]
    fn unknown_keys_name_their_path() {
        let y: Yaml = serde_yaml_ng::from_str("kind: token\nspec:\n  gitlab:\n    bogus: 1\n").unwrap();
        let e = from_yaml::<ProvisionTokenV2>(TOKEN, &y).unwrap_err();
        assert_eq!(e.to_string(), "spec.gitlab.bogus: unknown field");
    }

    #[test]
    fn bots_keep_traits_and_status() {
        let text = "kind: bot\nversion: v1\nmetadata:\n  name: b\nspec:\n  roles: [access]\n  traits:\n  - name: logins\n    values: [root]\n  max_session_ttl:\n    seconds: 3600\nstatus:\n  user_name: bot-b\n  role_name: bot-b\n";
        let y: Yaml = serde_yaml_ng::from_str(text).unwrap();
        let b: Bot = from_yaml(BOT, &y).unwrap();
        assert_eq!(b.spec.as_ref().unwrap().max_session_ttl.unwrap().seconds, 3600);
        assert_eq!(to_yaml(BOT, &b).unwrap(), y);
    }
}
