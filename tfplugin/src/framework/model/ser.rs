//! Writing a model as a [`Value`]: a serde `Serializer` producing `Value`.
//!
//! `Vec`s become lists and string-keyed maps become maps; the wire encoding
//! is driven by the schema, which also accepts them for set and object
//! types, so a model needs no set type of its own.

use std::collections::BTreeMap;

use serde::ser::{self, Serialize};

use super::error::{ModelError, Problem};
use super::maybe::UNKNOWN_TOKEN;
use crate::cty::{Number, Value};
use crate::framework::PathStep;

/// Serializes one value; errors carry no path yet (the containers add it).
pub(super) struct ValueSerializer;

fn unsupported(what: &'static str) -> ModelError {
    ModelError::new(Problem::Unsupported(what))
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ModelError;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = ser::Impossible<Value, ModelError>;
    type SerializeMap = MapSerializer;
    type SerializeStruct = StructSerializer;
    type SerializeStructVariant = ser::Impossible<Value, ModelError>;

    fn serialize_bool(self, v: bool) -> Result<Value, ModelError> {
        Ok(Value::Bool(v))
    }

    fn serialize_i8(self, v: i8) -> Result<Value, ModelError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<Value, ModelError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<Value, ModelError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<Value, ModelError> {
        Ok(Value::Number(Number::Int(v)))
    }

    fn serialize_u8(self, v: u8) -> Result<Value, ModelError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<Value, ModelError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<Value, ModelError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<Value, ModelError> {
        Ok(Value::Number(i64::try_from(v).map_or(Number::UInt(v), Number::Int)))
    }

    fn serialize_f32(self, v: f32) -> Result<Value, ModelError> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<Value, ModelError> {
        Ok(Value::Number(Number::Float(v)))
    }

    fn serialize_char(self, v: char) -> Result<Value, ModelError> {
        Ok(Value::String(v.to_string()))
    }

    fn serialize_str(self, v: &str) -> Result<Value, ModelError> {
        Ok(Value::String(v.to_string()))
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<Value, ModelError> {
        Err(unsupported("bytes"))
    }

    fn serialize_none(self) -> Result<Value, ModelError> {
        Ok(Value::Null)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ModelError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Value, ModelError> {
        Ok(Value::Null)
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<Value, ModelError> {
        Ok(if name == UNKNOWN_TOKEN { Value::Unknown } else { Value::Null })
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, ModelError> {
        Ok(Value::String(variant.to_string()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, ModelError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Value, ModelError> {
        Err(unsupported("an enum variant with data"))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer, ModelError> {
        Ok(SeqSerializer(Vec::with_capacity(len.unwrap_or(0))))
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer, ModelError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqSerializer, ModelError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, ModelError> {
        Err(unsupported("an enum variant with data"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<MapSerializer, ModelError> {
        Ok(MapSerializer { map: BTreeMap::new(), key: None })
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<StructSerializer, ModelError> {
        Ok(StructSerializer(BTreeMap::new()))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, ModelError> {
        Err(unsupported("an enum variant with data"))
    }
}

/// A list being built.
pub(super) struct SeqSerializer(Vec<Value>);

impl SeqSerializer {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ModelError> {
        let step = PathStep::Index(i64::try_from(self.0.len()).unwrap_or(i64::MAX));
        self.0.push(value.serialize(ValueSerializer).map_err(|e| e.under(step))?);
        Ok(())
    }
}

/// Sequences, tuples and tuple structs all become lists.
macro_rules! list_serializer {
    ($($trait:ident::$method:ident),+) => {$(
        impl ser::$trait for SeqSerializer {
            type Ok = Value;
            type Error = ModelError;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ModelError> {
                self.push(value)
            }

            fn end(self) -> Result<Value, ModelError> {
                Ok(Value::List(self.0))
            }
        }
    )+};
}

list_serializer!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

/// A map being built; keys must serialize as strings.
pub(super) struct MapSerializer {
    map: BTreeMap<String, Value>,
    key: Option<String>,
}

impl ser::SerializeMap for MapSerializer {
    type Ok = Value;
    type Error = ModelError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ModelError> {
        match key.serialize(ValueSerializer)? {
            Value::String(k) => {
                self.key = Some(k);
                Ok(())
            }
            _ => Err(unsupported("a map key that is not a string")),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ModelError> {
        let key = self.key.take().unwrap_or_default();
        let v = value.serialize(ValueSerializer).map_err(|e| e.under(PathStep::Key(key.clone())))?;
        self.map.insert(key, v);
        Ok(())
    }

    fn end(self) -> Result<Value, ModelError> {
        Ok(Value::Map(self.map))
    }
}

/// An object being built from a struct's fields.
pub(super) struct StructSerializer(BTreeMap<String, Value>);

impl ser::SerializeStruct for StructSerializer {
    type Ok = Value;
    type Error = ModelError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), ModelError> {
        let v = value.serialize(ValueSerializer).map_err(|e| e.under(PathStep::Attribute(key.to_string())))?;
        self.0.insert(key.to_string(), v);
        Ok(())
    }

    fn end(self) -> Result<Value, ModelError> {
        Ok(Value::Object(self.0))
    }
}
