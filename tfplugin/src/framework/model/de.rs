//! Reading a model from a [`Value`]: a serde `Deserializer` over `&Value`.

use std::collections::BTreeMap;

use serde::de::value::{BorrowedStrDeserializer, StrDeserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::error::{ModelError, Problem};
use super::maybe::MAYBE_TOKEN;
use crate::cty::{Number, Value};
use crate::framework::PathStep;

static NULL: Value = Value::Null;

/// Deserializes one value; errors carry no path yet (the containers add it).
pub(super) struct ValueDeserializer<'v>(pub(super) &'v Value);

impl<'v> ValueDeserializer<'v> {
    /// The value, looking through a dynamic wrapper.
    fn value(&self) -> &'v Value {
        match self.0 {
            Value::Dynamic(_, inner) => inner,
            v => v,
        }
    }

    /// The error for a null or unknown where a value is needed, or a type mismatch.
    fn unexpected(&self, expected: &'static str) -> ModelError {
        ModelError::new(match self.value() {
            Value::Null => Problem::Null,
            Value::Unknown => Problem::Unknown,
            other => Problem::Type { expected, found: other.kind() },
        })
    }
}

impl<'de, 'v> de::Deserializer<'de> for ValueDeserializer<'v> {
    type Error = ModelError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        match self.value() {
            Value::String(s) => visitor.visit_str(s),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match n {
                Number::Int(i) => visitor.visit_i64(*i),
                Number::UInt(u) => visitor.visit_u64(*u),
                Number::Float(f) => visitor.visit_f64(*f),
                // Beyond 64 bits: a float is the best a Rust number can do;
                // a model wanting the exact text can use a String field.
                Number::Decimal(_) => match n.as_f64() {
                    Some(f) => visitor.visit_f64(f),
                    None => Err(ModelError::new(Problem::Type { expected: "a number", found: "decimal text" })),
                },
            },
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                visitor.visit_seq(SeqAccess { items: items.iter().enumerate() })
            }
            Value::Map(m) => visitor.visit_map(MapAccess::new(m, PathStep::Key)),
            Value::Object(m) => visitor.visit_map(MapAccess::new(m, PathStep::Attribute)),
            _ => Err(self.unexpected("a value")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        match self.value() {
            Value::Null => visitor.visit_none(),
            Value::Unknown => Err(ModelError::new(Problem::Unknown)),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        match self.value() {
            Value::Null => visitor.visit_unit(),
            _ => Err(self.unexpected("null")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ModelError> {
        if name != MAYBE_TOKEN {
            return visitor.visit_newtype_struct(self);
        }
        // The protocol of `Maybe` (see `MaybeVisitor`).
        match self.value() {
            Value::Null => visitor.visit_none(),
            Value::Unknown => visitor.visit_unit(),
            value => visitor.visit_seq(MaybeAccess(Some(value))),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        match self.value() {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                visitor.visit_seq(SeqAccess { items: items.iter().enumerate() })
            }
            _ => Err(self.unexpected("a list or set")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        match self.value() {
            Value::Map(m) => visitor.visit_map(MapAccess::new(m, PathStep::Key)),
            Value::Object(m) => visitor.visit_map(MapAccess::new(m, PathStep::Attribute)),
            _ => Err(self.unexpected("a map")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ModelError> {
        match self.value() {
            // Every field gets a value (missing attributes are null), so
            // `Option` and `Maybe` fields see null rather than "missing".
            Value::Object(m) | Value::Map(m) => {
                visitor.visit_map(StructAccess { names: FieldNames::new(fields), map: m })
            }
            _ => Err(self.unexpected("an object")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ModelError> {
        // Unit variants only, spelled as strings.
        match self.value() {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            _ => Err(self.unexpected("a string")),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, ModelError> {
        Err(ModelError::new(Problem::Unsupported("bytes")))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, ModelError> {
        Err(ModelError::new(Problem::Unsupported("bytes")))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit_struct tuple tuple_struct identifier
    }
}

/// The one element of a known [`super::Maybe`]: absent when the value held
/// an unknown its type cannot represent.
struct MaybeAccess<'v>(Option<&'v Value>);

impl<'de> de::SeqAccess<'de> for MaybeAccess<'_> {
    type Error = ModelError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, ModelError> {
        let Some(value) = self.0.take() else { return Ok(None) };
        match seed.deserialize(ValueDeserializer(value)) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_unknown() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

struct SeqAccess<'v, I: Iterator<Item = (usize, &'v Value)>> {
    items: I,
}

impl<'de, 'v, I: Iterator<Item = (usize, &'v Value)>> de::SeqAccess<'de> for SeqAccess<'v, I> {
    type Error = ModelError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, ModelError> {
        let Some((i, item)) = self.items.next() else { return Ok(None) };
        let step = PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX));
        seed.deserialize(ValueDeserializer(item)).map(Some).map_err(|e| e.under(step))
    }
}

/// The entries of a map (steps `["key"]`) or object (steps `.name`).
struct MapAccess<'v> {
    entries: std::collections::btree_map::Iter<'v, String, Value>,
    step: fn(String) -> PathStep,
    current: Option<(&'v str, &'v Value)>,
}

impl<'v> MapAccess<'v> {
    fn new(map: &'v BTreeMap<String, Value>, step: fn(String) -> PathStep) -> MapAccess<'v> {
        MapAccess { entries: map.iter(), step, current: None }
    }
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = ModelError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ModelError> {
        let Some((k, v)) = self.entries.next() else { return Ok(None) };
        self.current = Some((k, v));
        seed.deserialize(StrDeserializer::<ModelError>::new(k)).map(Some).map_err(|e| e.under((self.step)(k.clone())))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, ModelError> {
        let (k, v) = self.current.take().unwrap_or(("", &NULL));
        seed.deserialize(ValueDeserializer(v)).map_err(|e| e.under((self.step)(k.to_string())))
    }
}

/// A struct's field names as map keys, one at a time, remembering the
/// current one for its value.
pub(super) struct FieldNames {
    fields: std::slice::Iter<'static, &'static str>,
    pub(super) current: &'static str,
}

impl FieldNames {
    pub(super) fn new(fields: &'static [&'static str]) -> FieldNames {
        FieldNames { fields: fields.iter(), current: "" }
    }

    /// The next field's name, deserialized by `seed`; `None` after the last.
    pub(super) fn next_key<'de, K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ModelError> {
        let Some(field) = self.fields.next() else { return Ok(None) };
        self.current = field;
        seed.deserialize(BorrowedStrDeserializer::new(field)).map(Some)
    }
}

/// A struct's fields, in its declaration order, each with its attribute's
/// value (null when the object lacks it).
struct StructAccess<'v> {
    names: FieldNames,
    map: &'v BTreeMap<String, Value>,
}

impl<'de> de::MapAccess<'de> for StructAccess<'_> {
    type Error = ModelError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ModelError> {
        self.names.next_key(seed)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, ModelError> {
        let field = self.names.current;
        let value = self.map.get(field).unwrap_or(&NULL);
        seed.deserialize(ValueDeserializer(value)).map_err(|e| e.under(PathStep::Attribute(field.to_string())))
    }
}
