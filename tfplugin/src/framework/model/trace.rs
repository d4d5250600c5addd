//! Tracing a model's shape: a deserializer that hands `M::deserialize` a
//! placeholder for every field it asks for and records what was asked
//! (`deserialize_struct` with its field names, a sequence, a map, a string,
//! an `Option`, a [`super::Maybe`], …), so [`super::check`] sees exactly the
//! names and renames serde uses. A model type whose own `Deserialize`
//! rejects placeholders (an empty string, zero, the first enum variant)
//! cannot be traced; model types are plain data, so that is not a limit in
//! practice.

use std::cell::RefCell;
use std::rc::Rc;

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::de::FieldNames;
use super::error::ModelError;
use super::maybe::MAYBE_TOKEN;

/// How a field holds null and unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wrapper {
    Plain,
    Option,
    Maybe,
}

/// What a field holds.
#[derive(Debug, Clone)]
pub(super) enum Shape {
    String,
    Number,
    Bool,
    Seq(Box<Traced>),
    Map(Box<Traced>),
    Object(Vec<(String, Traced)>),
    /// Whatever the value is (e.g. a field of a self-describing type).
    Any,
}

/// A field's shape and how it holds null and unknown.
#[derive(Debug, Clone)]
pub(super) struct Traced {
    pub(super) wrapper: Wrapper,
    pub(super) shape: Shape,
}

impl Traced {
    /// For messages: `a Maybe of a list of a string`.
    pub(super) fn describe(&self) -> String {
        let inner = match &self.shape {
            Shape::String => "a string".to_string(),
            Shape::Number => "a number".to_string(),
            Shape::Bool => "a bool".to_string(),
            Shape::Seq(e) => format!("a list of {}", e.describe()),
            Shape::Map(e) => format!("a map of {}", e.describe()),
            Shape::Object(_) => "a struct".to_string(),
            Shape::Any => "any value".to_string(),
        };
        match self.wrapper {
            Wrapper::Plain => inner,
            Wrapper::Option => format!("an Option of {inner}"),
            Wrapper::Maybe => format!("a Maybe of {inner}"),
        }
    }
}

/// The shape of model `M`.
pub(super) fn trace<M: DeserializeOwned>() -> Result<Traced, ModelError> {
    let slot = Slot::default();
    M::deserialize(Tracer { out: slot.clone(), depth: 0 })?;
    Ok(slot.take())
}

/// Where a tracer puts what it saw.
#[derive(Clone, Default)]
struct Slot(Rc<RefCell<Option<Traced>>>);

impl Slot {
    fn set(&self, wrapper: Wrapper, shape: Shape) {
        *self.0.borrow_mut() = Some(Traced { wrapper, shape });
    }

    /// What was seen; a value nobody asked about is taken as "any".
    fn take(&self) -> Traced {
        self.0.borrow_mut().take().unwrap_or(Traced { wrapper: Wrapper::Plain, shape: Shape::Any })
    }
}

/// Deep enough for any real model; deeper means a recursive type.
const MAX_DEPTH: usize = 32;

struct Tracer {
    out: Slot,
    depth: usize,
}

impl Tracer {
    fn child(&self) -> (Slot, Tracer) {
        let slot = Slot::default();
        (slot.clone(), Tracer { out: slot, depth: self.depth + 1 })
    }

    fn check_depth(&self) -> Result<(), ModelError> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom("the model nests too deep; is it recursive?"));
        }
        Ok(())
    }

    fn wrapped(self, wrapper: Wrapper, visit: impl FnOnce(Tracer) -> Result<(), ModelError>) -> Result<(), ModelError> {
        let (slot, child) = self.child();
        visit(child)?;
        self.out.set(wrapper, slot.take().shape);
        Ok(())
    }
}

impl<'de> de::Deserializer<'de> for Tracer {
    type Error = ModelError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.out.set(Wrapper::Plain, Shape::Any);
        visitor.visit_unit()
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.out.set(Wrapper::Plain, Shape::Bool);
        visitor.visit_bool(false)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.out.set(Wrapper::Plain, Shape::Number);
        visitor.visit_i64(0)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.out.set(Wrapper::Plain, Shape::Number);
        visitor.visit_u64(0)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.out.set(Wrapper::Plain, Shape::Number);
        visitor.visit_f64(0.0)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.out.set(Wrapper::Plain, Shape::String);
        visitor.visit_char(' ')
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.out.set(Wrapper::Plain, Shape::String);
        visitor.visit_str("")
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, ModelError> {
        Err(de::Error::custom("bytes cannot be converted to or from a Terraform value"))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        let mut value = None;
        self.wrapped(Wrapper::Option, |child| {
            value = Some(visitor.visit_some(child)?);
            Ok(())
        })?;
        value.ok_or_else(|| de::Error::custom("unreachable: option traced without a value"))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ModelError> {
        if name != MAYBE_TOKEN {
            return visitor.visit_newtype_struct(self);
        }
        let mut value = None;
        self.wrapped(Wrapper::Maybe, |child| {
            value = Some(visitor.visit_seq(One(Some(child)))?);
            Ok(())
        })?;
        value.ok_or_else(|| de::Error::custom("unreachable: Maybe traced without a value"))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.check_depth()?;
        let (slot, child) = self.child();
        let value = visitor.visit_seq(One(Some(child)))?;
        self.out.set(Wrapper::Plain, Shape::Seq(Box::new(slot.take())));
        Ok(value)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ModelError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.check_depth()?;
        let (slot, child) = self.child();
        let value = visitor.visit_map(OneEntry { key_done: false, value: Some(child) })?;
        self.out.set(Wrapper::Plain, Shape::Map(Box::new(slot.take())));
        Ok(value)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ModelError> {
        self.check_depth()?;
        let seen = Rc::new(RefCell::new(Vec::new()));
        let value =
            visitor.visit_map(Fields { names: FieldNames::new(fields), seen: seen.clone(), depth: self.depth })?;
        self.out.set(Wrapper::Plain, Shape::Object(seen.take()));
        Ok(value)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ModelError> {
        // Unit variants are strings; the first one stands in for all.
        let first = variants.first().ok_or_else(|| de::Error::custom("an enum without variants"))?;
        self.out.set(Wrapper::Plain, Shape::String);
        visitor.visit_enum((*first).into_deserializer())
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ModelError> {
        visitor.visit_unit()
    }
}

/// A sequence of one traced element.
struct One(Option<Tracer>);

impl<'de> de::SeqAccess<'de> for One {
    type Error = ModelError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, ModelError> {
        self.0.take().map(|t| seed.deserialize(t)).transpose()
    }
}

/// A map of one entry with a traced value.
struct OneEntry {
    key_done: bool,
    value: Option<Tracer>,
}

impl<'de> de::MapAccess<'de> for OneEntry {
    type Error = ModelError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ModelError> {
        if self.key_done {
            return Ok(None);
        }
        self.key_done = true;
        seed.deserialize(StrDeserializer::new("key")).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, ModelError> {
        let t = self.value.take().ok_or_else(|| de::Error::custom("a map value asked for twice"))?;
        seed.deserialize(t)
    }
}

/// A struct's fields, each traced.
struct Fields {
    names: FieldNames,
    seen: Rc<RefCell<Vec<(String, Traced)>>>,
    depth: usize,
}

impl<'de> de::MapAccess<'de> for Fields {
    type Error = ModelError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ModelError> {
        self.names.next_key(seed)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, ModelError> {
        let slot = Slot::default();
        let value = seed.deserialize(Tracer { out: slot.clone(), depth: self.depth + 1 })?;
        self.seen.borrow_mut().push((self.names.current.to_string(), slot.take()));
        Ok(value)
    }
}
