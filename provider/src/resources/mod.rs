//! Teleport resources and data sources, schema-compatible with the official
//! provider (`metadata = { … }` / `spec = { … }` attribute syntax).
//!
//! Each resource is a directory: `schema.rs` (the schema, and the names of
//! attributes diagnostics point at), a typed model (one `Maybe` field per
//! attribute, checked against the schema by a unit test and by the
//! framework), the conversion between the model and Teleport's or Azure's
//! wire types, and `mod.rs` with the API calls. Small data sources are one
//! file. Shared by all: [`convert`] (the null-versus-empty and spelling
//! rules, relative to a *reference*), [`metadata`] (the `metadata` block)
//! and [`api`] (Teleport API errors as diagnostics).
//!
//! A new resource: a directory like `bot/`, one line in
//! [`crate::provider`]'s list, an example under `examples/resources/`, then
//! `make docs`.

pub mod agent_config;
pub mod api;
pub mod azure_identity_binding;
pub mod azure_vm;
pub mod bot;
pub mod convert;
pub mod metadata;
#[cfg(test)]
pub(crate) mod protogen;
pub mod provision_token;

use joinery_tfplugin::framework::{Attribute, AttributeKind, Schema};

/// Derives a data source schema from a resource schema: every attribute
/// becomes computed except those on `inputs` (dotted paths such as
/// `metadata.name`), which become required. Data sources then take only
/// what identifies the object — the official ones also demand `version` and
/// `spec` (teleport#56484).
pub fn data_source_schema(resource: Schema, inputs: &[&str]) -> Schema {
    fn convert(mut a: Attribute, prefix: &str, inputs: &[&str]) -> Attribute {
        let path = if prefix.is_empty() { a.name.clone() } else { format!("{prefix}.{}", a.name) };
        let is_input = inputs.contains(&path.as_str());
        let leads_to_input = inputs.iter().any(|i| i.starts_with(&format!("{path}.")));
        a.required = is_input || leads_to_input;
        a.optional = false;
        a.computed = !a.required;
        a.default = None;
        a.plan_modifiers.clear();
        if !is_input {
            a.validators.clear();
        }
        if let AttributeKind::Nested { attributes, .. } = &mut a.kind {
            let inner = std::mem::take(attributes);
            *attributes = inner.into_iter().map(|c| convert(c, &path, inputs)).collect();
        }
        a
    }
    let mut schema = resource;
    let attrs = std::mem::take(&mut schema.attributes);
    schema.attributes = attrs.into_iter().map(|a| convert(a, "", inputs)).collect();
    schema
}
