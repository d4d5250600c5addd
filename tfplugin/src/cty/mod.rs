//! cty, Terraform's value system: types, values and their wire encodings.
//!
//! Terraform exchanges every config, plan and state as a `DynamicValue`
//! holding cty msgpack ([`msgpack`]); stored state arrives as JSON during
//! upgrades ([`json`]). Neither encoding names types, so both codecs are
//! driven by the schema's [`Type`].

pub mod json;
pub mod msgpack;
mod types;
mod value;

pub use types::Type;
pub use value::{Number, Value};

/// Why a value could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum CtyError {
    /// The msgpack bytes are malformed.
    #[error("invalid msgpack: {0}")]
    Msgpack(String),
    /// The JSON bytes are malformed.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A JSON type constraint could not be understood.
    #[error("invalid type constraint {0}")]
    BadType(String),
    /// A value does not have the schema's type.
    #[error("at {path}: expected {expected}, found {found}")]
    TypeMismatch {
        /// Where in the value, e.g. `.spec.tags["env"][0]`.
        path: String,
        /// The expected type as a JSON type constraint.
        expected: String,
        /// What was found instead.
        found: String,
    },
    /// An object holds an attribute its type does not have.
    #[error("at {path}: unsupported attribute {name:?}")]
    UnexpectedAttribute {
        /// Where the object is.
        path: String,
        /// The attribute name.
        name: String,
    },
}
