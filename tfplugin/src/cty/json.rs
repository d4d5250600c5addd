//! The cty JSON encoding, decode only.
//!
//! Terraform sends JSON in one place a provider must handle:
//! `UpgradeResourceState.raw_state.json`, the pretty-printed `attributes`
//! object from the state file. Numbers there may exceed `f64`, so this module
//! parses JSON itself and keeps each number's text (serde_json would need its
//! workspace-wide `arbitrary_precision` feature for that).
//!
//! Decoding is type-driven and lenient in the way state upgrades need:
//! object keys not in the type are dropped (the schema lost an attribute),
//! and missing keys become null.

use std::collections::BTreeMap;

use super::{CtyError, Number, Type, Value};

/// Decodes JSON bytes as a value of type `ty`, dropping unknown object keys.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CtyError> {
    let json = parse(bytes)?;
    from_json(json, ty, &mut Vec::new())
}

/// A parsed JSON document that keeps numbers as text.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, exactly as written.
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; a repeated key keeps its last value.
    Object(BTreeMap<String, Json>),
}

/// Parses JSON text, keeping numbers exact.
pub fn parse(bytes: &[u8]) -> Result<Json, CtyError> {
    let mut p = Parser { s: bytes, i: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

/// Deep documents are rejected rather than overflowing the stack.
const MAX_DEPTH: usize = 512;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> CtyError {
        CtyError::Json(format!("{what} at byte {}", self.i))
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, lit: &[u8]) -> Result<(), CtyError> {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            Ok(())
        } else {
            Err(self.err("unexpected token"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, CtyError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.ws();
        match self.peek() {
            Some(b'n') => self.expect(b"null").map(|_| Json::Null),
            Some(b't') => self.expect(b"true").map(|_| Json::Bool(true)),
            Some(b'f') => self.expect(b"false").map(|_| Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(self.err("expected ',' or ']'")),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut map = BTreeMap::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Json::Object(map));
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return Err(self.err("expected object key"));
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.peek() != Some(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    map.insert(key, v);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Object(map));
                        }
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("unexpected character")),
        }
    }

    fn number(&mut self) -> Result<Json, CtyError> {
        let start = self.i;
        while self.i < self.s.len() && matches!(self.s[self.i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("bad number"))?;
        // Validate the shape via f64 parsing; the text itself is what we keep.
        if text.parse::<f64>().is_err() {
            return Err(self.err("bad number"));
        }
        Ok(Json::Number(text.to_string()))
    }

    fn hex4(&mut self) -> Result<u32, CtyError> {
        let digits = self.s.get(self.i..self.i + 4).ok_or_else(|| self.err("short \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.err("bad \\u escape"))?;
        let code = u32::from_str_radix(text, 16).map_err(|_| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(code)
    }

    fn string(&mut self) -> Result<String, CtyError> {
        self.i += 1; // opening quote
        let mut out = Vec::new();
        loop {
            let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                // A surrogate pair spells one character.
                                self.expect(b"\\u")?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("bad surrogate pair"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or_else(|| self.err("bad \\u escape"))?
                        }
                        _ => return Err(self.err("bad escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("invalid UTF-8 in string"))
    }
}

fn kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn mismatch(path: &[String], ty: &Type, j: &Json) -> CtyError {
    CtyError::TypeMismatch {
        path: super::msgpack::format_path(path),
        expected: String::from_utf8_lossy(&ty.to_json_bytes()).into_owned(),
        found: kind(j).to_string(),
    }
}

fn to_serde(j: &Json) -> serde_json::Value {
    match j {
        Json::Null => serde_json::Value::Null,
        Json::Bool(b) => serde_json::Value::Bool(*b),
        Json::Number(n) => n.parse::<serde_json::Number>().map_or(serde_json::Value::Null, serde_json::Value::Number),
        Json::String(s) => serde_json::Value::String(s.clone()),
        Json::Array(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
        Json::Object(o) => serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect()),
    }
}

/// Converts a parsed JSON document to a value of type `ty`.
pub fn from_json(json: Json, ty: &Type, path: &mut Vec<String>) -> Result<Value, CtyError> {
    if json == Json::Null {
        return Ok(Value::Null);
    }
    match ty {
        Type::String => match json {
            Json::String(s) => Ok(Value::String(s)),
            // cty's JSON decoder converts primitives to string when asked.
            Json::Number(n) => Ok(Value::String(n)),
            Json::Bool(b) => Ok(Value::String(b.to_string())),
            other => Err(mismatch(path, ty, &other)),
        },
        Type::Number => match json {
            Json::Number(n) | Json::String(n) => {
                Number::parse(&n).map(Value::Number).ok_or_else(|| mismatch(path, ty, &Json::String(n)))
            }
            other => Err(mismatch(path, ty, &other)),
        },
        Type::Bool => match json {
            Json::Bool(b) => Ok(Value::Bool(b)),
            Json::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            other => Err(mismatch(path, ty, &other)),
        },
        Type::List(elem) | Type::Set(elem) => match json {
            Json::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    path.push(format!("[{i}]"));
                    out.push(from_json(item, elem, path)?);
                    path.pop();
                }
                Ok(if matches!(ty, Type::Set(_)) { Value::Set(out) } else { Value::List(out) })
            }
            other => Err(mismatch(path, ty, &other)),
        },
        Type::Tuple(elems) => match json {
            Json::Array(items) if items.len() == elems.len() => {
                let mut out = Vec::with_capacity(items.len());
                for (i, (item, ety)) in items.into_iter().zip(elems).enumerate() {
                    path.push(format!("[{i}]"));
                    out.push(from_json(item, ety, path)?);
                    path.pop();
                }
                Ok(Value::Tuple(out))
            }
            other => Err(mismatch(path, ty, &other)),
        },
        Type::Map(elem) => match json {
            Json::Object(entries) => {
                let mut out = BTreeMap::new();
                for (k, v) in entries {
                    path.push(format!("[{k:?}]"));
                    let value = from_json(v, elem, path)?;
                    path.pop();
                    out.insert(k, value);
                }
                Ok(Value::Map(out))
            }
            other => Err(mismatch(path, ty, &other)),
        },
        Type::Object(attrs) => match json {
            Json::Object(entries) => {
                let mut out = BTreeMap::new();
                for (k, v) in entries {
                    // Attributes the current schema no longer has are dropped,
                    // like Terraform's own stripRemovedStateAttributes.
                    let Some(aty) = attrs.get(&k) else { continue };
                    path.push(format!(".{k}"));
                    let value = from_json(v, aty, path)?;
                    path.pop();
                    out.insert(k, value);
                }
                Ok(Value::Object(out))
            }
            other => Err(mismatch(path, ty, &other)),
        },
        Type::Dynamic => match json {
            Json::Object(mut entries) if entries.contains_key("type") => {
                let type_json = entries.remove("type").unwrap_or(Json::Null);
                let inner_ty = Type::from_json(&to_serde(&type_json))?;
                let inner = from_json(entries.remove("value").unwrap_or(Json::Null), &inner_ty, path)?;
                Ok(Value::Dynamic(inner_ty, Box::new(inner)))
            }
            other => Err(mismatch(path, ty, &other)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty() -> Type {
        Type::object([
            ("id", Type::String),
            ("n", Type::Number),
            ("ok", Type::Bool),
            ("spec", Type::object([("tags", Type::map(Type::list(Type::String))), ("secret", Type::String)])),
        ])
    }

    #[test]
    fn decodes_pretty_state_and_drops_removed_attributes() {
        let raw = br#"{
          "id": "abc",
          "n": 123456789012345678901234567890,
          "ok": true,
          "gone": {"x": 1},
          "spec": {
            "tags": {"env": ["a", "b"]},
            "secret": null,
            "old": 5
          }
        }"#;
        let v = decode(raw, &ty()).unwrap();
        assert_eq!(v.attr("id").as_str(), Some("abc"));
        assert_eq!(v.attr("n").as_number(), Some(&Number::Decimal("123456789012345678901234567890".into())));
        assert_eq!(v.attr("ok").as_bool(), Some(true));
        assert!(v.attr("gone").is_null());
        assert!(v.attr("spec").attr("secret").is_null());
        assert!(v.attr("spec").as_entries().unwrap().get("old").is_none());
        assert_eq!(v.attr("spec").attr("tags").as_entries().unwrap()["env"], Value::string_list(["a", "b"]));
    }

    #[test]
    fn numbers_keep_their_precision() {
        for (text, expect) in [
            ("1", Number::Int(1)),
            ("-3", Number::Int(-3)),
            ("18446744073709551615", Number::UInt(u64::MAX)),
            ("0.25", Number::Float(0.25)),
            ("1e400", Number::Decimal("1e400".into())),
        ] {
            let v = decode(text.as_bytes(), &Type::Number).unwrap();
            assert_eq!(v.as_number(), Some(&expect), "{text}");
        }
    }

    #[test]
    fn strings_with_escapes() {
        let v = decode(br#""a\"b\\c\n\u00e9\ud83d\ude00""#, &Type::String).unwrap();
        assert_eq!(v.as_str(), Some("a\"b\\c\né😀"));
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [&b"{"[..], b"[1,]", b"{\"a\" 1}", b"tru", b"1 2", b"\"\\x\""] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn dynamic_json() {
        let v = decode(br#"{"value": ["a"], "type": ["list","string"]}"#, &Type::Dynamic).unwrap();
        assert_eq!(v, Value::Dynamic(Type::list(Type::String), Box::new(Value::string_list(["a"]))));
    }

    #[test]
    fn type_mismatch() {
        assert!(decode(br#"{"id": []}"#, &ty()).is_err());
    }
}
