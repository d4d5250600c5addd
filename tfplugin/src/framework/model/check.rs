//! Checking a model against a schema: the same attribute names and nesting
//! in both directions, compatible types, and (per [`Role`]) a field type
//! for every attribute that can hold the null and unknown values Terraform
//! may send.
//!
//! The model's shape comes from serde itself: a tracing deserializer hands
//! `M::deserialize` a placeholder for every field it asks for and records
//! what was asked (`deserialize_struct` with its field names, a sequence, a
//! map, a string, an `Option`, a [`super::Maybe`], …). So the check sees
//! exactly the names and renames serde uses. A model type whose own
//! `Deserialize` rejects placeholders (an empty string, zero, the first
//! enum variant) cannot be traced; model types are plain data, so that is
//! not a limit in practice.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::error::ModelError;
use super::maybe::MAYBE_TOKEN;
use crate::cty::Type;
use crate::framework::schema::{Attribute, AttributeKind, Nesting};
use crate::framework::{AttributePath, Schema};

/// Where a model is used, which decides where it can meet unknown values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A resource's model: configurable attributes can be unknown in
    /// configuration, computed ones in plans, so **every** attribute must be
    /// a [`super::Maybe`].
    Resource,
    /// A data source's model: attributes set in configuration can be unknown
    /// there (during validation) and must be a [`super::Maybe`]; computed
    /// ones are only read back once known.
    DataSource,
    /// A provider configuration: decoded once wholly known, and often only
    /// after the provider filled in defaults (from environment variables,
    /// say), so only names and types are checked.
    Provider,
}

/// Why a model and a schema do not match: one line per problem.
#[derive(Clone, PartialEq, Eq)]
pub struct SchemaMismatch {
    /// Each problem, naming the attribute path.
    pub problems: Vec<String>,
}

impl fmt::Display for SchemaMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the model does not match the schema:")?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SchemaMismatch {
    // Shown by `unwrap()` in tests: the readable list.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for SchemaMismatch {}

/// Checks that model `M` matches `schema` for its `role`; see the module docs.
pub fn check<M: DeserializeOwned>(schema: &Schema, role: Role) -> Result<(), SchemaMismatch> {
    let mut problems = Vec::new();
    match trace::<M>() {
        Err(e) => problems.push(format!("the model cannot be traced: {e}")),
        Ok(Traced { shape: Shape::Object(fields), wrapper: Wrapper::Plain }) => {
            compare_attributes(&schema.attributes, &fields, &AttributePath::empty(), role, &mut problems);
        }
        Ok(other) => problems.push(format!("the model must be a struct, not {}", other.describe())),
    }
    if problems.is_empty() { Ok(()) } else { Err(SchemaMismatch { problems }) }
}

fn compare_attributes(
    attrs: &[Attribute],
    fields: &[(String, Traced)],
    path: &AttributePath,
    role: Role,
    problems: &mut Vec<String>,
) {
    for a in attrs {
        if !fields.iter().any(|(f, _)| *f == a.name) {
            problems.push(format!("{}: attribute has no field in the model", path.attr(&a.name)));
        }
    }
    for (name, traced) in fields {
        let at = path.attr(name);
        let Some(a) = attrs.iter().find(|a| a.name == *name) else {
            problems.push(format!("{at}: field is not an attribute of the schema"));
            continue;
        };
        let configurable = a.required || a.optional;
        match (role, traced.wrapper) {
            (Role::Resource, w) if w != Wrapper::Maybe => problems
                .push(format!("{at}: can be unknown in a resource's configuration or plan; make the field a Maybe<…>")),
            (Role::DataSource, w) if configurable && w != Wrapper::Maybe => {
                problems.push(format!("{at}: can be unknown in configuration; make the field a Maybe<…>"))
            }
            (Role::Resource | Role::DataSource, Wrapper::Plain) if !a.required => problems
                .push(format!("{at}: is not required, so it can be null; make the field an Option<…> or a Maybe<…>")),
            _ => {}
        }
        match &a.kind {
            AttributeKind::Typed(ty) => compare_type(ty, traced, &at, problems),
            AttributeKind::Nested { nesting, attributes } => {
                let object = match (nesting, &traced.shape) {
                    (Nesting::Single, s) => Some(s),
                    (Nesting::List | Nesting::Set, Shape::Seq(e)) | (Nesting::Map, Shape::Map(e)) => Some(&e.shape),
                    _ => None,
                };
                match object {
                    Some(Shape::Object(nested)) => compare_attributes(attributes, nested, &at, role, problems),
                    _ => problems.push(format!(
                        "{at}: the schema has {} but the field is {}",
                        describe_nesting(*nesting),
                        traced.describe()
                    )),
                }
            }
        }
    }
}

fn describe_nesting(nesting: Nesting) -> &'static str {
    match nesting {
        Nesting::Single => "a nested object (a struct)",
        Nesting::List | Nesting::Set => "nested objects in a list or set (a Vec of structs)",
        Nesting::Map => "a map of nested objects (a map of structs)",
    }
}

fn compare_type(ty: &Type, traced: &Traced, at: &AttributePath, problems: &mut Vec<String>) {
    let ok = match (ty, &traced.shape) {
        (_, Shape::Any) => true,
        (Type::String, Shape::String) | (Type::Number, Shape::Number) | (Type::Bool, Shape::Bool) => true,
        (Type::List(e) | Type::Set(e), Shape::Seq(t)) | (Type::Map(e), Shape::Map(t)) => {
            compare_type(e, t, at, problems);
            true
        }
        (Type::Object(attrs), Shape::Object(fields)) => {
            for name in attrs.keys().filter(|n| !fields.iter().any(|(f, _)| f == *n)) {
                problems.push(format!("{}: object attribute has no field in the model", at.attr(name)));
            }
            for (name, t) in fields {
                match attrs.get(name) {
                    Some(aty) => compare_type(aty, t, &at.attr(name), problems),
                    None => problems.push(format!("{}: field is not an attribute of the object type", at.attr(name))),
                }
            }
            true
        }
        _ => false,
    };
    if !ok {
        let ty = String::from_utf8_lossy(&ty.to_json_bytes()).into_owned();
        problems.push(format!("{at}: the schema type is {ty} but the field is {}", traced.describe()));
    }
}

/// How a field holds null and unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrapper {
    Plain,
    Option,
    Maybe,
}

#[derive(Debug, Clone)]
enum Shape {
    String,
    Number,
    Bool,
    Seq(Box<Traced>),
    Map(Box<Traced>),
    Object(Vec<(String, Traced)>),
    /// Whatever the value is (e.g. a field of a self-describing type).
    Any,
}

#[derive(Debug, Clone)]
struct Traced {
    wrapper: Wrapper,
    shape: Shape,
}

impl Traced {
    fn describe(&self) -> String {
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

fn trace<M: DeserializeOwned>() -> Result<Traced, ModelError> {
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
            visitor.visit_map(Fields { fields: fields.iter(), current: "", seen: seen.clone(), depth: self.depth })?;
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
    fields: std::slice::Iter<'static, &'static str>,
    current: &'static str,
    seen: Rc<RefCell<Vec<(String, Traced)>>>,
    depth: usize,
}

impl<'de> de::MapAccess<'de> for Fields {
    type Error = ModelError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ModelError> {
        let Some(field) = self.fields.next() else { return Ok(None) };
        self.current = field;
        seed.deserialize(StrDeserializer::new(field)).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, ModelError> {
        let slot = Slot::default();
        let value = seed.deserialize(Tracer { out: slot.clone(), depth: self.depth + 1 })?;
        self.seen.borrow_mut().push((self.current.to_string(), slot.take()));
        Ok(value)
    }
}
