//! [`ModelError`]: why a value and a model did not convert, and where.

use std::fmt;

use crate::framework::{AttributePath, Diagnostics, PathStep};

/// What went wrong converting between a [`crate::cty::Value`] and a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// The value is unknown but the field cannot hold an unknown.
    #[error("the value is not known yet; a field that can meet unknown values must be a Maybe<…>")]
    Unknown,
    /// The value is null but the field cannot hold a null.
    #[error("the value is null; a field that can be null must be an Option<…> or a Maybe<…>")]
    Null,
    /// The value has another type than the field.
    #[error("expected {expected}, found {found}")]
    Type {
        /// What the field wants.
        expected: &'static str,
        /// What the value is.
        found: &'static str,
    },
    /// The model type cannot be represented as a value (e.g. bytes, data-carrying enum variants).
    #[error("{0} cannot be converted to or from a Terraform value")]
    Unsupported(&'static str),
    /// A message from serde or from a model's own `Deserialize`/`Serialize`.
    #[error("{0}")]
    Message(String),
}

/// A failed conversion between a value and a model, at an attribute path.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelError {
    /// Where in the value, e.g. `spec.allow[0].subscription`; empty for the whole value.
    pub path: AttributePath,
    /// What went wrong.
    pub problem: Problem,
}

impl ModelError {
    pub(super) fn new(problem: Problem) -> ModelError {
        ModelError { path: AttributePath::empty(), problem }
    }

    /// Whether the conversion failed on an unknown value.
    pub(super) fn is_unknown(&self) -> bool {
        self.problem == Problem::Unknown
    }

    /// The same error, one step further from the root (errors are built at
    /// the leaf and each enclosing container adds its step on the way out).
    pub(super) fn under(mut self, step: PathStep) -> ModelError {
        self.path.steps.insert(0, step);
        self
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.steps.is_empty() {
            write!(f, "{}", self.problem)
        } else {
            write!(f, "{}: {}", self.path, self.problem)
        }
    }
}

impl std::error::Error for ModelError {}

impl serde::de::Error for ModelError {
    fn custom<T: fmt::Display>(msg: T) -> ModelError {
        ModelError::new(Problem::Message(msg.to_string()))
    }
}

impl serde::ser::Error for ModelError {
    fn custom<T: fmt::Display>(msg: T) -> ModelError {
        ModelError::new(Problem::Message(msg.to_string()))
    }
}

impl From<ModelError> for Diagnostics {
    /// A model that does not fit the values Terraform sends is a provider
    /// bug; the diagnostic says so and points at the attribute.
    fn from(e: ModelError) -> Diagnostics {
        let detail = format!("{e}. This is a bug in the provider.");
        if e.path.steps.is_empty() {
            Diagnostics::error("Value does not match the provider's model", detail)
        } else {
            Diagnostics::attribute_error(e.path, "Value does not match the provider's model", detail)
        }
    }
}
