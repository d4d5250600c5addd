//! Typed models: a Rust struct per schema, converted from and to [`Value`]
//! by serde, so attribute names live in one place (the struct, checked
//! against the schema) instead of strings in every read and write.
//!
//! ```
//! use joinery_tfplugin::cty::Value;
//! use joinery_tfplugin::framework::model::{self, Maybe, Role};
//! use joinery_tfplugin::framework::{Attribute, Schema};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Default)]
//! struct Thing {
//!     id: Maybe<String>,
//!     name: Maybe<String>,
//!     #[serde(rename = "type")] // `type` is a Rust keyword
//!     kind: Maybe<String>,
//!     tags: Maybe<Vec<String>>,
//! }
//!
//! let schema = Schema::new()
//!     .attribute(Attribute::string("id").computed())
//!     .attribute(Attribute::string("name").required())
//!     .attribute(Attribute::string("type").optional())
//!     .attribute(Attribute::list("tags", joinery_tfplugin::cty::Type::String).optional());
//! model::check::<Thing>(&schema, Role::Resource).unwrap();
//!
//! let plan = Value::object([("id", Value::Unknown), ("name", Value::from("a"))]);
//! let thing: Thing = model::from_value(&plan).unwrap();
//! assert!(thing.id.is_unknown() && thing.kind.is_null());
//! assert_eq!(thing.name.known_str(), Some("a"));
//! let state = model::to_value(&Thing { id: Maybe::Known("id-a".into()), ..thing }).unwrap();
//! assert_eq!(state.attr("id").as_str(), Some("id-a"));
//! ```
//!
//! | model field | value |
//! |---|---|
//! | `String`, `bool`, integers, floats | string, bool, number |
//! | `Vec<T>` | list or set |
//! | `BTreeMap<String, T>` / `HashMap<String, T>` | map |
//! | a struct | object (nested attribute or object type) |
//! | a unit-only enum | string (its variant names) |
//! | `Option<T>` | null or a value |
//! | [`Maybe<T>`] | null, unknown or a value |
//!
//! Use `#[serde(rename = "…")]` only where Rust forbids the attribute's name.
//!
//! # Null and unknown
//!
//! Terraform sends unknown values ("known after apply") in configurations
//! during validation and planning, and for computed attributes in plans.
//! An unknown never silently becomes a value: decoding one into a plain
//! field or an `Option` is an error naming the attribute. A field that can
//! meet one is a [`Maybe`], whose `Unknown` says so; an unknown that the
//! field's type cannot hold deeper down (an unknown element of a
//! `Maybe<Vec<String>>`) makes the nearest enclosing `Maybe` unknown.
//! [`check`] enforces this per [`Role`]: in a resource's model every
//! attribute is a `Maybe`; in a data source's, every configurable one.
//! A null into a plain field is an error too; null is `Option::None` or
//! `Maybe::Null`.
//!
//! Decoding walks the struct's fields, so attributes the struct lacks are
//! ignored and fields the value lacks read as null; [`check`] (run by the
//! framework when Terraform asks for the schema, and in each provider's unit
//! tests) makes sure neither happens.

mod check;
mod de;
mod error;
mod maybe;
mod ser;
mod trace;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use check::{Role, SchemaMismatch, check};
pub use error::{ModelError, Problem};
pub use maybe::Maybe;

use crate::cty::Value;

/// What a typed resource, data source or provider configuration model is:
/// plain data serde can read from and write to a [`Value`].
pub trait Model: Serialize + DeserializeOwned + Send + Sync + 'static {}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Model for T {}

/// Reads a model from a value.
pub fn from_value<M: DeserializeOwned>(value: &Value) -> Result<M, ModelError> {
    M::deserialize(de::ValueDeserializer(value))
}

/// Writes a model as a value.
pub fn to_value<M: Serialize + ?Sized>(model: &M) -> Result<Value, ModelError> {
    model.serialize(ser::ValueSerializer)
}

#[cfg(test)]
mod tests;
