//! Declarative schemas for providers, resources and data sources.
//!
//! A schema is a list of [`Attribute`]s built with small builder calls:
//!
//! ```
//! use joinery_tfplugin::framework::{Attribute, Schema};
//! use joinery_tfplugin::cty::Type;
//!
//! let schema = Schema::new()
//!     .description("A thing.")
//!     .attribute(Attribute::string("id").computed().use_state_for_unknown())
//!     .attribute(Attribute::string("name").required().requires_replace())
//!     .attribute(Attribute::single_nested("spec", [
//!         Attribute::map("tags", Type::list(Type::String)).optional(),
//!         Attribute::string("secret").optional().sensitive(),
//!     ]).optional());
//! ```
//!
//! Nested attributes use attribute syntax in HCL (`spec = { … }`), not
//! blocks; they need protocol 6, which is all this runtime speaks.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::plan_modifiers::{PlanModifier, RequiresReplace, UseStateForUnknown};
use super::validators::Validator;
use super::{AttributePath, PathStep};
use crate::cty::{Type, Value};
use crate::proto::tfplugin6 as pb;

/// How a nested attribute holds its objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// One object: `spec = { … }`.
    Single,
    /// A list of objects: `allow = [{ … }, { … }]`.
    List,
    /// A set of objects.
    Set,
    /// A map of objects: `rules = { a = { … } }`.
    Map,
}

/// What an attribute holds: a plain cty type or nested attributes.
#[derive(Clone)]
pub enum AttributeKind {
    /// A value of a cty type, e.g. `string` or `map(list(string))`.
    Typed(Type),
    /// Nested attributes, in the given nesting.
    Nested {
        /// Single, list, set or map.
        nesting: Nesting,
        /// The attributes of each nested object.
        attributes: Vec<Attribute>,
    },
}

/// One attribute of a schema, built with the chained methods below.
#[derive(Clone)]
pub struct Attribute {
    /// The name used in configuration.
    pub name: String,
    /// Its type.
    pub kind: AttributeKind,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (when not configured, if also optional).
    pub computed: bool,
    /// Redacted in Terraform's output (still stored in state).
    pub sensitive: bool,
    /// Markdown description, shown in docs and `providers schema`.
    pub description: String,
    /// If set, the attribute is deprecated with this message.
    pub deprecation_message: Option<String>,
    /// Value planned when configuration leaves the attribute null.
    pub default: Option<Value>,
    /// Checks run on the configured value.
    pub validators: Vec<Arc<dyn Validator>>,
    /// Adjustments run on the planned value.
    pub plan_modifiers: Vec<Arc<dyn PlanModifier>>,
}

impl std::fmt::Debug for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("type", &self.value_type())
            .field("required", &self.required)
            .field("optional", &self.optional)
            .field("computed", &self.computed)
            .finish_non_exhaustive()
    }
}

impl Attribute {
    /// An attribute of any cty type; see the shortcuts below.
    pub fn typed(name: impl Into<String>, ty: Type) -> Attribute {
        Attribute::new(name.into(), AttributeKind::Typed(ty))
    }

    fn new(name: String, kind: AttributeKind) -> Attribute {
        Attribute {
            name,
            kind,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            description: String::new(),
            deprecation_message: None,
            default: None,
            validators: Vec::new(),
            plan_modifiers: Vec::new(),
        }
    }

    /// A `string` attribute.
    pub fn string(name: impl Into<String>) -> Attribute {
        Attribute::typed(name, Type::String)
    }

    /// A `number` attribute.
    pub fn number(name: impl Into<String>) -> Attribute {
        Attribute::typed(name, Type::Number)
    }

    /// A `bool` attribute.
    pub fn bool(name: impl Into<String>) -> Attribute {
        Attribute::typed(name, Type::Bool)
    }

    /// A `list(element)` attribute.
    pub fn list(name: impl Into<String>, element: Type) -> Attribute {
        Attribute::typed(name, Type::list(element))
    }

    /// A `set(element)` attribute.
    pub fn set(name: impl Into<String>, element: Type) -> Attribute {
        Attribute::typed(name, Type::set(element))
    }

    /// A `map(element)` attribute.
    pub fn map(name: impl Into<String>, element: Type) -> Attribute {
        Attribute::typed(name, Type::map(element))
    }

    /// A single nested object: `name = { … }`.
    pub fn single_nested(name: impl Into<String>, attributes: impl IntoIterator<Item = Attribute>) -> Attribute {
        Attribute::nested(name, Nesting::Single, attributes)
    }

    /// A list of nested objects: `name = [{ … }]`.
    pub fn list_nested(name: impl Into<String>, attributes: impl IntoIterator<Item = Attribute>) -> Attribute {
        Attribute::nested(name, Nesting::List, attributes)
    }

    /// A set of nested objects.
    pub fn set_nested(name: impl Into<String>, attributes: impl IntoIterator<Item = Attribute>) -> Attribute {
        Attribute::nested(name, Nesting::Set, attributes)
    }

    /// A map of nested objects: `name = { key = { … } }`.
    pub fn map_nested(name: impl Into<String>, attributes: impl IntoIterator<Item = Attribute>) -> Attribute {
        Attribute::nested(name, Nesting::Map, attributes)
    }

    /// Nested attributes in any nesting.
    pub fn nested(
        name: impl Into<String>,
        nesting: Nesting,
        attributes: impl IntoIterator<Item = Attribute>,
    ) -> Attribute {
        Attribute::new(name.into(), AttributeKind::Nested { nesting, attributes: attributes.into_iter().collect() })
    }

    /// Must be set in configuration.
    pub fn required(mut self) -> Attribute {
        self.required = true;
        self
    }

    /// May be set in configuration.
    pub fn optional(mut self) -> Attribute {
        self.optional = true;
        self
    }

    /// Set by the provider. Combine with [`Attribute::optional`] for
    /// "the user may set it, otherwise the provider does".
    pub fn computed(mut self) -> Attribute {
        self.computed = true;
        self
    }

    /// Redacted in plan and apply output.
    pub fn sensitive(mut self) -> Attribute {
        self.sensitive = true;
        self
    }

    /// Markdown documentation.
    pub fn description(mut self, markdown: impl Into<String>) -> Attribute {
        self.description = markdown.into();
        self
    }

    /// Marks the attribute deprecated; Terraform warns when it is used.
    pub fn deprecated(mut self, message: impl Into<String>) -> Attribute {
        self.deprecation_message = Some(message.into());
        self
    }

    /// The value planned when configuration leaves it null. Implies
    /// [`Attribute::computed`], as in terraform-plugin-framework, because the
    /// provider then sets a value the user did not write.
    pub fn default(mut self, value: impl Into<Value>) -> Attribute {
        self.default = Some(value.into());
        self.computed = true;
        self
    }

    /// Adds a validator, run on the configured value when it is known and not null.
    pub fn validator(mut self, validator: impl Validator + 'static) -> Attribute {
        self.validators.push(Arc::new(validator));
        self
    }

    /// Adds a plan modifier.
    pub fn plan_modifier(mut self, modifier: impl PlanModifier + 'static) -> Attribute {
        self.plan_modifiers.push(Arc::new(modifier));
        self
    }

    /// Shortcut: changing this attribute destroys and recreates the resource.
    ///
    /// Modifiers run in the order added. On a computed attribute, add
    /// [`Attribute::use_state_for_unknown`] *first*: otherwise this sees the
    /// framework's "(known after apply)" and forces a replacement on every
    /// update (the same trap as in terraform-plugin-framework).
    pub fn requires_replace(self) -> Attribute {
        self.plan_modifier(RequiresReplace)
    }

    /// Shortcut: keep the prior state's value instead of "(known after apply)"
    /// when nothing is configured for this computed attribute.
    pub fn use_state_for_unknown(self) -> Attribute {
        self.plan_modifier(UseStateForUnknown)
    }

    /// The cty type of this attribute's value.
    pub fn value_type(&self) -> Type {
        match &self.kind {
            AttributeKind::Typed(ty) => ty.clone(),
            AttributeKind::Nested { nesting, attributes } => {
                let object = object_type(attributes);
                match nesting {
                    Nesting::Single => object,
                    Nesting::List => Type::list(object),
                    Nesting::Set => Type::set(object),
                    Nesting::Map => Type::map(object),
                }
            }
        }
    }

    /// The nested attributes, if this is a nested attribute.
    pub fn nested_attributes(&self) -> Option<(Nesting, &[Attribute])> {
        match &self.kind {
            AttributeKind::Nested { nesting, attributes } => Some((*nesting, attributes)),
            AttributeKind::Typed(_) => None,
        }
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let (ty, nested_type) = match &self.kind {
            AttributeKind::Typed(ty) => (ty.to_json_bytes(), None),
            AttributeKind::Nested { nesting, attributes } => (
                Vec::new(),
                Some(pb::schema::Object {
                    attributes: attributes.iter().map(Attribute::to_proto).collect(),
                    nesting: match nesting {
                        Nesting::Single => pb::schema::object::NestingMode::Single,
                        Nesting::List => pb::schema::object::NestingMode::List,
                        Nesting::Set => pb::schema::object::NestingMode::Set,
                        Nesting::Map => pb::schema::object::NestingMode::Map,
                    } as i32,
                    ..Default::default()
                }),
            ),
        };
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: ty,
            nested_type,
            description: self.description.clone(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecation_message.is_some(),
            write_only: false,
        }
    }

    fn check(&self, path: &AttributePath, problems: &mut Vec<String>) {
        if self.required && (self.optional || self.computed) {
            problems.push(format!("{path}: required attributes cannot be optional or computed"));
        }
        if !self.required && !self.optional && !self.computed {
            problems.push(format!("{path}: must be required, optional or computed"));
        }
        if let AttributeKind::Nested { attributes, .. } = &self.kind {
            for a in attributes {
                a.check(&path.attr(&a.name), problems);
            }
        }
    }
}

fn object_type(attributes: &[Attribute]) -> Type {
    Type::Object(attributes.iter().map(|a| (a.name.clone(), a.value_type())).collect::<BTreeMap<_, _>>())
}

/// The schema of a provider, resource or data source.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// The state schema version; bump it when stored state must be upgraded.
    pub version: i64,
    /// Markdown description.
    pub description: String,
    /// If set, the whole resource is deprecated with this message.
    pub deprecation_message: Option<String>,
    /// The top-level attributes.
    pub attributes: Vec<Attribute>,
}

impl Schema {
    /// An empty schema at version 0.
    pub fn new() -> Schema {
        Schema::default()
    }

    /// Sets the state schema version.
    pub fn version(mut self, version: i64) -> Schema {
        self.version = version;
        self
    }

    /// Sets the Markdown description.
    pub fn description(mut self, markdown: impl Into<String>) -> Schema {
        self.description = markdown.into();
        self
    }

    /// Marks the schema deprecated.
    pub fn deprecated(mut self, message: impl Into<String>) -> Schema {
        self.deprecation_message = Some(message.into());
        self
    }

    /// Adds an attribute.
    pub fn attribute(mut self, attribute: Attribute) -> Schema {
        self.attributes.push(attribute);
        self
    }

    /// Adds several attributes.
    pub fn attributes(mut self, attributes: impl IntoIterator<Item = Attribute>) -> Schema {
        self.attributes.extend(attributes);
        self
    }

    /// The cty object type of a whole config/plan/state value.
    pub fn value_type(&self) -> Type {
        object_type(&self.attributes)
    }

    /// The attribute a path points at, looking through list/set/map elements.
    pub fn attribute_at(&self, path: &AttributePath) -> Option<&Attribute> {
        let mut attrs: &[Attribute] = &self.attributes;
        let mut found: Option<&Attribute> = None;
        for step in &path.steps {
            match step {
                PathStep::Attribute(name) => {
                    let a = attrs.iter().find(|a| &a.name == name)?;
                    attrs = a.nested_attributes().map_or(&[], |(_, n)| n);
                    found = Some(a);
                }
                // Element steps stay on the same attribute definition.
                PathStep::Key(_) | PathStep::Index(_) => {}
            }
        }
        found
    }

    /// Mistakes in the schema itself, e.g. an attribute that is neither
    /// required, optional nor computed. Reported as errors by GetProviderSchema.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for a in &self.attributes {
            a.check(&AttributePath::root(&a.name), &mut problems);
        }
        problems
    }

    pub(crate) fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(pb::schema::Block {
                version: self.version,
                attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
                block_types: Vec::new(),
                description: self.description.clone(),
                description_kind: pb::StringKind::Markdown as i32,
                deprecated: self.deprecation_message.is_some(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new()
            .version(1)
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(
                Attribute::single_nested(
                    "metadata",
                    [Attribute::string("name").optional().computed().sensitive().requires_replace()],
                )
                .optional(),
            )
            .attribute(
                Attribute::list_nested(
                    "allow",
                    [Attribute::string("account").optional(), Attribute::list("regions", Type::String).optional()],
                )
                .optional(),
            )
            .attribute(Attribute::map("traits", Type::list(Type::String)).optional())
    }

    #[test]
    fn value_type_follows_nesting() {
        let ty = schema().value_type();
        let Type::Object(attrs) = ty else { panic!() };
        assert_eq!(attrs["metadata"], Type::object([("name", Type::String)]));
        assert_eq!(
            attrs["allow"],
            Type::list(Type::object([("account", Type::String), ("regions", Type::list(Type::String))]))
        );
        assert_eq!(attrs["traits"], Type::map(Type::list(Type::String)));
    }

    #[test]
    fn proto_uses_nested_type_and_markdown() {
        let p = schema().to_proto();
        assert_eq!(p.version, 1);
        let block = p.block.unwrap();
        let md = block.attributes.iter().find(|a| a.name == "metadata").unwrap();
        assert!(md.r#type.is_empty());
        let nested = md.nested_type.as_ref().unwrap();
        assert_eq!(nested.nesting, pb::schema::object::NestingMode::Single as i32);
        assert!(nested.attributes[0].sensitive);
        let traits = block.attributes.iter().find(|a| a.name == "traits").unwrap();
        assert_eq!(traits.r#type, br#"["map",["list","string"]]"#);
        assert_eq!(traits.description_kind, pb::StringKind::Markdown as i32);
    }

    #[test]
    fn attribute_lookup_and_problems() {
        let s = schema();
        let p = AttributePath::root("allow").index(0).attr("regions");
        assert_eq!(s.attribute_at(&p).unwrap().name, "regions");
        assert!(s.attribute_at(&AttributePath::root("nope")).is_none());
        assert!(s.problems().is_empty());
        let bad = Schema::new().attribute(Attribute::string("x"));
        assert_eq!(bad.problems().len(), 1);
    }
}
