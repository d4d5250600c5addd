//! The cty msgpack encoding, driven by the schema type.
//!
//! This is the encoding of every `DynamicValue.msgpack` Terraform exchanges
//! with a provider (go-cty `cty/msgpack`). The traps it handles:
//! - an unknown is *any* msgpack extension on decode (refinements, ext 12,
//!   are ignored) and exactly `d4 00 00` on encode;
//! - an object is a map holding **every** attribute of its type, with nil for
//!   unset ones, or go-cty rejects it;
//! - a number may arrive as an int, a float or a decimal string;
//! - a dynamic value is `[type JSON bytes, value]`.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use super::{CtyError, Number, Type, Value};

/// Decodes msgpack bytes as a value of type `ty`. Empty bytes mean null, as in
/// Terraform's own decoder.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CtyError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut reader = bytes;
    let mp = rmpv::decode::read_value(&mut reader).map_err(|e| CtyError::Msgpack(e.to_string()))?;
    from_mp(mp, ty, &mut Vec::new())
}

/// Encodes a value of type `ty` as msgpack bytes.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CtyError> {
    let mp = to_mp(value, ty, &mut Vec::new())?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &mp).map_err(|e| CtyError::Msgpack(e.to_string()))?;
    Ok(out)
}

fn mismatch(path: &[String], expected: &Type, found: &str) -> CtyError {
    CtyError::TypeMismatch {
        path: format_path(path),
        expected: String::from_utf8_lossy(&expected.to_json_bytes()).into_owned(),
        found: found.to_string(),
    }
}

pub(super) fn format_path(path: &[String]) -> String {
    if path.is_empty() { "(root)".to_string() } else { path.join("") }
}

fn mp_kind(mp: &Mp) -> &'static str {
    match mp {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "bool",
        Mp::Integer(_) => "integer",
        Mp::F32(_) | Mp::F64(_) => "float",
        Mp::String(_) => "string",
        Mp::Binary(_) => "binary",
        Mp::Array(_) => "array",
        Mp::Map(_) => "map",
        Mp::Ext(..) => "extension",
    }
}

fn from_mp(mp: Mp, ty: &Type, path: &mut Vec<String>) -> Result<Value, CtyError> {
    match mp {
        Mp::Nil => return Ok(Value::Null),
        // Any extension is an unknown; refinements (ext 12) carry hints we
        // may ignore.
        Mp::Ext(..) => return Ok(Value::Unknown),
        _ => {}
    }
    match ty {
        Type::String => match mp {
            Mp::String(s) => s
                .into_str()
                .map(Value::String)
                .ok_or_else(|| CtyError::Msgpack(format!("invalid UTF-8 at {}", format_path(path)))),
            other => Err(mismatch(path, ty, mp_kind(&other))),
        },
        Type::Number => match mp {
            Mp::Integer(i) => i
                .as_i64()
                .map(Number::Int)
                .or_else(|| i.as_u64().map(Number::UInt))
                .map(Value::Number)
                .ok_or_else(|| mismatch(path, ty, "integer")),
            Mp::F32(f) => Ok(Value::Number(Number::Float(f64::from(f)))),
            Mp::F64(f) => Ok(Value::Number(Number::Float(f))),
            Mp::String(s) => {
                let text = s.into_str().unwrap_or_default();
                Number::parse(&text).map(Value::Number).ok_or_else(|| mismatch(path, ty, "non-numeric string"))
            }
            other => Err(mismatch(path, ty, mp_kind(&other))),
        },
        Type::Bool => match mp {
            Mp::Boolean(b) => Ok(Value::Bool(b)),
            other => Err(mismatch(path, ty, mp_kind(&other))),
        },
        Type::List(elem) | Type::Set(elem) => match mp {
            Mp::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    path.push(format!("[{i}]"));
                    out.push(from_mp(item, elem, path)?);
                    path.pop();
                }
                Ok(if matches!(ty, Type::Set(_)) { Value::Set(out) } else { Value::List(out) })
            }
            other => Err(mismatch(path, ty, mp_kind(&other))),
        },
        Type::Tuple(elems) => match mp {
            Mp::Array(items) if items.len() == elems.len() => {
                let mut out = Vec::with_capacity(items.len());
                for (i, (item, ety)) in items.into_iter().zip(elems).enumerate() {
                    path.push(format!("[{i}]"));
                    out.push(from_mp(item, ety, path)?);
                    path.pop();
                }
                Ok(Value::Tuple(out))
            }
            other => Err(mismatch(path, ty, mp_kind(&other))),
        },
        Type::Map(elem) => match mp {
            Mp::Map(entries) => {
                let mut out = BTreeMap::new();
                for (k, v) in entries {
                    let key = map_key(k, path)?;
                    path.push(format!("[{key:?}]"));
                    let value = from_mp(v, elem, path)?;
                    path.pop();
                    out.insert(key, value);
                }
                Ok(Value::Map(out))
            }
            other => Err(mismatch(path, ty, mp_kind(&other))),
        },
        Type::Object(attrs) => match mp {
            Mp::Map(entries) => {
                let mut out = BTreeMap::new();
                for (k, v) in entries {
                    let key = map_key(k, path)?;
                    let Some(aty) = attrs.get(&key) else {
                        return Err(CtyError::UnexpectedAttribute { path: format_path(path), name: key });
                    };
                    path.push(format!(".{key}"));
                    let value = from_mp(v, aty, path)?;
                    path.pop();
                    out.insert(key, value);
                }
                Ok(Value::Object(out))
            }
            other => Err(mismatch(path, ty, mp_kind(&other))),
        },
        Type::Dynamic => match mp {
            Mp::Array(mut pair) if pair.len() == 2 => {
                let raw = pair.pop().unwrap_or(Mp::Nil);
                let type_bytes = match pair.pop() {
                    Some(Mp::Binary(b)) => b,
                    Some(Mp::String(s)) => s.into_bytes(),
                    _ => return Err(mismatch(path, ty, "dynamic without type")),
                };
                let inner_ty = Type::from_json_bytes(&type_bytes)?;
                let inner = from_mp(raw, &inner_ty, path)?;
                Ok(Value::Dynamic(inner_ty, Box::new(inner)))
            }
            other => Err(mismatch(path, ty, mp_kind(&other))),
        },
    }
}

fn map_key(k: Mp, path: &[String]) -> Result<String, CtyError> {
    match k {
        Mp::String(s) => {
            s.into_str().ok_or_else(|| CtyError::Msgpack(format!("invalid UTF-8 key at {}", format_path(path))))
        }
        other => {
            Err(CtyError::Msgpack(format!("map key at {} is {}, not a string", format_path(path), mp_kind(&other))))
        }
    }
}

/// go-cty's encoding of an unrefined unknown: fixext1, type 0, payload 0.
fn unknown() -> Mp {
    Mp::Ext(0, vec![0])
}

fn to_mp(value: &Value, ty: &Type, path: &mut Vec<String>) -> Result<Mp, CtyError> {
    match value {
        Value::Null => return Ok(Mp::Nil),
        Value::Unknown => return Ok(unknown()),
        _ => {}
    }
    match (ty, value) {
        (Type::String, Value::String(s)) => Ok(Mp::from(s.as_str())),
        (Type::Number, Value::Number(n)) => Ok(match n {
            Number::Int(i) => Mp::from(*i),
            Number::UInt(u) => Mp::from(*u),
            Number::Float(f) => Mp::F64(*f),
            Number::Decimal(s) => Mp::from(s.as_str()),
        }),
        (Type::Bool, Value::Bool(b)) => Ok(Mp::Boolean(*b)),
        // Lists and sets share an encoding; accept either value form so
        // resource code need not care which one the schema uses.
        (Type::List(elem) | Type::Set(elem), Value::List(items) | Value::Set(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                out.push(to_mp(item, elem, path)?);
                path.pop();
            }
            Ok(Mp::Array(out))
        }
        (Type::Tuple(elems), Value::Tuple(items) | Value::List(items)) if elems.len() == items.len() => {
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, ety)) in items.iter().zip(elems).enumerate() {
                path.push(format!("[{i}]"));
                out.push(to_mp(item, ety, path)?);
                path.pop();
            }
            Ok(Mp::Array(out))
        }
        (Type::Map(elem), Value::Map(entries) | Value::Object(entries)) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                path.push(format!("[{k:?}]"));
                out.push((Mp::from(k.as_str()), to_mp(v, elem, path)?));
                path.pop();
            }
            Ok(Mp::Map(out))
        }
        (Type::Object(attrs), Value::Object(entries)) => {
            if let Some(extra) = entries.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(CtyError::UnexpectedAttribute { path: format_path(path), name: extra.clone() });
            }
            // Every attribute, in the type's (sorted) order, nil when unset.
            let mut out = Vec::with_capacity(attrs.len());
            for (name, aty) in attrs {
                path.push(format!(".{name}"));
                let v = entries.get(name).unwrap_or(&Value::Null);
                out.push((Mp::from(name.as_str()), to_mp(v, aty, path)?));
                path.pop();
            }
            Ok(Mp::Map(out))
        }
        (Type::Dynamic, Value::Dynamic(inner_ty, inner)) => {
            Ok(Mp::Array(vec![Mp::Binary(inner_ty.to_json_bytes()), to_mp(inner, inner_ty, path)?]))
        }
        (Type::Dynamic, other) => {
            // A plain value in a dynamic slot: wrap it with its obvious type.
            let inner_ty = match other {
                Value::String(_) => Type::String,
                Value::Number(_) => Type::Number,
                Value::Bool(_) => Type::Bool,
                _ => return Err(mismatch(path, ty, other.kind())),
            };
            Ok(Mp::Array(vec![Mp::Binary(inner_ty.to_json_bytes()), to_mp(other, &inner_ty, path)?]))
        }
        (_, Value::Dynamic(_, inner)) => to_mp(inner, ty, path),
        (_, other) => Err(mismatch(path, ty, other.kind())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj_ty() -> Type {
        Type::object([
            ("id", Type::String),
            ("count", Type::Number),
            ("ok", Type::Bool),
            ("tags", Type::map(Type::list(Type::String))),
        ])
    }

    #[test]
    fn unknown_encodes_as_d40000() {
        assert_eq!(encode(&Value::Unknown, &Type::String).unwrap(), vec![0xd4, 0x00, 0x00]);
    }

    #[test]
    fn any_extension_decodes_as_unknown() {
        // fixext1 type 0
        assert!(decode(&[0xd4, 0x00, 0x00], &Type::String).unwrap().is_unknown());
        // refined unknown: ext 12 with a map payload {1: false}
        let mut refined = Vec::new();
        let payload = {
            let mut p = Vec::new();
            rmpv::encode::write_value(&mut p, &Mp::Map(vec![(Mp::from(1), Mp::Boolean(false))])).unwrap();
            p
        };
        rmpv::encode::write_value(&mut refined, &Mp::Ext(12, payload)).unwrap();
        assert!(decode(&refined, &Type::String).unwrap().is_unknown());
        // an unknown nested in an object
        let v = Mp::Map(vec![(Mp::from("id"), Mp::Ext(5, vec![1, 2, 3]))]);
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &v).unwrap();
        let d = decode(&b, &obj_ty()).unwrap();
        assert!(d.attr("id").is_unknown());
    }

    #[test]
    fn empty_bytes_and_nil_are_null() {
        assert!(decode(&[], &obj_ty()).unwrap().is_null());
        assert!(decode(&[0xc0], &obj_ty()).unwrap().is_null());
        assert_eq!(encode(&Value::Null, &obj_ty()).unwrap(), vec![0xc0]);
    }

    #[test]
    fn objects_carry_every_attribute() {
        let v = Value::object([("id", Value::from("x"))]);
        let bytes = encode(&v, &obj_ty()).unwrap();
        let mp = rmpv::decode::read_value(&mut &bytes[..]).unwrap();
        let Mp::Map(entries) = mp else { panic!("not a map") };
        let keys: Vec<_> = entries.iter().map(|(k, _)| k.as_str().unwrap().to_string()).collect();
        assert_eq!(keys, ["count", "id", "ok", "tags"]);
        assert!(entries.iter().filter(|(k, _)| k.as_str() != Some("id")).all(|(_, v)| v.is_nil()));
    }

    #[test]
    fn object_rejects_unknown_attribute() {
        let v = Value::object([("nope", Value::from("x"))]);
        assert!(matches!(encode(&v, &obj_ty()), Err(CtyError::UnexpectedAttribute { .. })));
        let mut b = Vec::new();
        rmpv::encode::write_value(&mut b, &Mp::Map(vec![(Mp::from("nope"), Mp::Nil)])).unwrap();
        assert!(decode(&b, &obj_ty()).is_err());
    }

    #[test]
    fn numbers_in_all_three_encodings() {
        for (mp, expect) in [
            (Mp::from(7), Number::Int(7)),
            (Mp::from(-7), Number::Int(-7)),
            (Mp::from(u64::MAX), Number::UInt(u64::MAX)),
            (Mp::F64(1.5), Number::Float(1.5)),
            (Mp::F32(0.5), Number::Float(0.5)),
            (Mp::from("123456789012345678901234567890"), Number::Decimal("123456789012345678901234567890".into())),
            (Mp::from("12"), Number::Int(12)),
        ] {
            let mut b = Vec::new();
            rmpv::encode::write_value(&mut b, &mp).unwrap();
            let v = decode(&b, &Type::Number).unwrap();
            assert_eq!(v.as_number().unwrap(), &expect, "{mp:?}");
            // and back: the same form is written
            let again = encode(&v, &Type::Number).unwrap();
            let back = decode(&again, &Type::Number).unwrap();
            assert_eq!(back, v);
        }
        let big = encode(&Value::Number(Number::Decimal("1e400".into())), &Type::Number).unwrap();
        assert_eq!(rmpv::decode::read_value(&mut &big[..]).unwrap(), Mp::from("1e400"));
        let f = encode(&Value::from(2.5), &Type::Number).unwrap();
        assert_eq!(f[0], 0xcb, "float64 marker");
    }

    #[test]
    fn collections_round_trip() {
        let ty = obj_ty();
        let mut tags = BTreeMap::new();
        tags.insert("env".to_string(), Value::string_list(["a", "b"]));
        tags.insert("empty".to_string(), Value::List(vec![]));
        let v = Value::object([
            ("id", Value::from("x")),
            ("count", Value::from(3i64)),
            ("ok", Value::from(true)),
            ("tags", Value::Map(tags)),
        ]);
        let bytes = encode(&v, &ty).unwrap();
        assert_eq!(decode(&bytes, &ty).unwrap(), v);

        let set_ty = Type::set(Type::String);
        let s = Value::Set(vec!["b".into(), "a".into()]);
        let back = decode(&encode(&s, &set_ty).unwrap(), &set_ty).unwrap();
        assert_eq!(back, Value::Set(vec!["a".into(), "b".into()]));

        let tuple_ty = Type::Tuple(vec![Type::String, Type::Bool]);
        let t = Value::Tuple(vec!["a".into(), Value::Null]);
        assert_eq!(decode(&encode(&t, &tuple_ty).unwrap(), &tuple_ty).unwrap(), t);
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let v = Value::Dynamic(Type::list(Type::String), Box::new(Value::string_list(["a"])));
        let bytes = encode(&v, &Type::Dynamic).unwrap();
        let mp = rmpv::decode::read_value(&mut &bytes[..]).unwrap();
        assert_eq!(mp, Mp::Array(vec![Mp::Binary(br#"["list","string"]"#.to_vec()), Mp::Array(vec![Mp::from("a")])]));
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), v);
        // unknown dynamic is a plain extension
        assert!(decode(&[0xd4, 0, 0], &Type::Dynamic).unwrap().is_unknown());
        // a plain string in a dynamic slot gets its type attached
        let s = encode(&Value::from("x"), &Type::Dynamic).unwrap();
        assert_eq!(decode(&s, &Type::Dynamic).unwrap(), Value::Dynamic(Type::String, Box::new("x".into())));
    }

    #[test]
    fn type_mismatch_names_the_path() {
        let v = Value::object([("id", Value::from(true))]);
        let err = encode(&v, &obj_ty()).unwrap_err().to_string();
        assert!(err.contains(".id"), "{err}");
    }
}
