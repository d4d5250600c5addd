//! Checking a model against a schema: the same attribute names and nesting
//! in both directions, compatible types, and (per [`Role`]) a field type
//! for every attribute that can hold the null and unknown values Terraform
//! may send.
//!
//! The model's shape comes from serde itself (see `trace`), so the check
//! sees exactly the names and renames serde uses.

use std::fmt;

use serde::de::DeserializeOwned;

use super::trace::{Shape, Traced, Wrapper, trace};
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
