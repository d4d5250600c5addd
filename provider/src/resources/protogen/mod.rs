//! `protogen`: a resource's typed model, its attributes and its protobuf
//! conversions, generated from Teleport's messages. Test-only: it writes the
//! checked-in `model.rs` of a resource, which is what the provider runs.
//!
//! Why generated: the official provider generates these schemas from the
//! same protos (protoc-gen-terraform), and a hand-listed subset drifts with
//! every Teleport release — a field Teleport gained and the schema lacks is
//! dropped by Terraform without a word. Here the attributes, their nesting,
//! types and descriptions (the field comments, joined the way the official
//! generator joins them) come from the descriptors `joinery-teleport`
//! compiled; an [`Overlay`] per resource says only what the messages cannot:
//! flags, Joinery's validators, server defaults, hand-mapped fields and the
//! fields deliberately left out.
//!
//! Each resource's tests call [`assert_current`] (the checked-in file is
//! what the generator writes today: `JOINERY_REGENERATE=1 cargo test -p
//! terraform-provider-teleport generated` rewrites it) and [`uncovered`]
//! (every field of the messages has an attribute or a reason to be omitted).

mod emit;

use std::path::Path;

use heck::{ToSnakeCase, ToUpperCamelCase};
use joinery_teleport::proto::descriptors::{self, FieldDescriptor, Kind, MessageDescriptor};
use joinery_tfplugin::framework::{AttributePath, Schema};

/// What a resource's schema says beyond its messages.
pub(crate) struct Overlay {
    /// The Terraform type, for the header.
    pub(crate) resource: &'static str,
    /// The root message, e.g. `types.ProvisionTokenV2`.
    pub(crate) root: &'static str,
    /// Model struct names by message full name.
    pub(crate) names: &'static [(&'static str, &'static str)],
    /// Prefixes removed from other messages' names before they become a
    /// model struct's name (`ProvisionTokenSpecV2GitLab.Rule` → `GitLabRule`).
    pub(crate) strip: &'static [&'static str],
    /// Attributes of the root that are no field of it (`id`, deprecated ones), first.
    pub(crate) extras: &'static [Extra],
    /// Rules by attribute path (`spec.gitlab.domain`).
    pub(crate) rules: &'static [(&'static str, &'static [Rule])],
}

/// An attribute that is no field of the root message.
pub(crate) struct Extra {
    /// Its name.
    pub(crate) name: &'static str,
    /// Its type.
    pub(crate) ty: ExtraType,
    /// Its rules; a [`Rule::Description`] is required.
    pub(crate) rules: &'static [Rule],
}

/// The type of an [`Extra`].
#[derive(Clone, Copy)]
pub(crate) enum ExtraType {
    /// `string`.
    String,
    /// `list(string)`.
    StringList,
    /// `map(list(string))`.
    StringListMap,
}

/// One thing an overlay says about an attribute.
pub(crate) enum Rule {
    /// Must be configured.
    Required,
    /// Optional, and set by the server when not configured.
    Computed,
    /// Set by the server only.
    ReadOnly,
    /// Redacted in Terraform's output.
    Sensitive,
    /// Keeps the prior state's value over "(known after apply)".
    UseStateForUnknown,
    /// A change replaces the resource.
    RequiresReplace,
    /// The description, where the official provider's differs from the field's comment.
    Description(&'static str),
    /// Deprecated with this message.
    Deprecated(&'static str),
    /// No attribute for this field, for this reason.
    Omit(&'static str),
    /// The server fills this value (a Rust literal) in when it is empty, so
    /// it stays null in state when the user wrote none.
    ServerDefault(&'static str),
    /// A list of strings the server may respell (role names).
    CaseInsensitive,
    /// A validator: a Rust expression.
    Validator(&'static str),
    /// A plan modifier: a Rust expression.
    PlanModifier(&'static str),
    /// The model is hand-written (this Rust type); only the attributes are generated.
    External(&'static str),
    /// A field mapped by hand: its attribute constructor, model type, and the
    /// expressions for the proto field (`self.…`) and for state
    /// (`server.…`, `reference.…`).
    Custom { attribute: &'static str, rust: &'static str, to_proto: &'static str, to_state: &'static str },
}

/// How a field is carried.
#[derive(Clone)]
pub(super) enum Ty {
    String,
    StringList,
    Bool,
    Number,
    /// `int64` with gogoproto `casttype = "Duration"`: nanoseconds.
    Nanos,
    Timestamp,
    DurationMessage,
    /// `types.BoolValue`: a nullable bool.
    BoolValue,
    /// `wrappers.LabelValues`: `map(list(string))`.
    LabelValues,
    /// `map<string, string>`.
    StringMap,
    Message(MessageDescriptor),
    Messages(MessageDescriptor),
    External(&'static str, MessageDescriptor),
    Custom {
        attribute: &'static str,
        rust: &'static str,
        to_proto: &'static str,
        to_state: &'static str,
    },
}

impl Overlay {
    pub(super) fn rules(&self, path: &str) -> &'static [Rule] {
        self.rules.iter().find(|(p, _)| *p == path).map_or(&[], |(_, r)| r)
    }

    pub(super) fn omitted(&self, path: &str) -> bool {
        self.rules(path).iter().any(|r| matches!(r, Rule::Omit(_)))
    }

    pub(super) fn struct_name(&self, m: &MessageDescriptor) -> String {
        if let Some((_, n)) = self.names.iter().find(|(full, _)| *full == m.full_name()) {
            return n.to_string();
        }
        let mut name =
            m.full_name().strip_prefix(&format!("{}.", m.package_name())).unwrap_or(m.full_name()).replace('.', "");
        for p in self.strip {
            if let Some(rest) = name.strip_prefix(p)
                && !rest.is_empty()
            {
                name = rest.to_string();
                break;
            }
        }
        name.to_upper_camel_case()
    }

    pub(super) fn classify(&self, field: &FieldDescriptor, path: &str) -> Ty {
        for r in self.rules(path) {
            match r {
                Rule::Custom { attribute, rust, to_proto, to_state } => {
                    return Ty::Custom { attribute, rust, to_proto, to_state };
                }
                Rule::External(rust) => match field.kind() {
                    Kind::Message(m) => return Ty::External(rust, m),
                    other => panic!("protogen: {path}: an external model needs a message, not {other:?}"),
                },
                _ => {}
            }
        }
        match field.kind() {
            Kind::String if field.is_list() => Ty::StringList,
            Kind::String => Ty::String,
            Kind::Bool if !field.is_list() => Ty::Bool,
            Kind::Uint32 if !field.is_list() => Ty::Number,
            Kind::Int64 if descriptors::cast_type(field).as_deref() == Some("Duration") => Ty::Nanos,
            Kind::Message(m) if field.is_map() => match m.map_entry_value_field().kind() {
                Kind::String => Ty::StringMap,
                other => panic!("protogen: {path}: no Terraform type for a map of {other:?}"),
            },
            Kind::Message(m) => match (m.full_name(), field.is_list()) {
                ("google.protobuf.Timestamp", false) => Ty::Timestamp,
                ("google.protobuf.Duration", false) => Ty::DurationMessage,
                ("types.BoolValue", false) => Ty::BoolValue,
                ("wrappers.LabelValues", false) => Ty::LabelValues,
                (_, true) => Ty::Messages(m),
                (_, false) => Ty::Message(m),
            },
            other => panic!(
                "protogen: {path}: no Terraform type for {other:?}{}; map it in protogen or omit it in the overlay",
                if field.is_list() { " (repeated)" } else { "" }
            ),
        }
    }
}

/// Rust's keywords among prost-build's (which makes `type` a raw identifier).
pub(super) fn ident(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "as", "break", "const", "continue", "else", "enum", "false", "fn", "for", "if", "impl", "in", "let", "loop",
        "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe",
        "use", "where", "while", "dyn", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
        "typeof", "unsized", "virtual", "yield", "async", "await", "try",
    ];
    if KEYWORDS.contains(&name) { format!("r#{name}") } else { name.to_string() }
}

/// The Rust path of a message's prost type, relative to its package module (`pb`).
pub(super) fn proto_type(m: &MessageDescriptor) -> String {
    let within = m.full_name().strip_prefix(&format!("{}.", m.package_name())).unwrap_or(m.full_name());
    let parts: Vec<&str> = within.split('.').collect();
    let mut out = String::from("pb::");
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            out.push_str(&p.to_upper_camel_case());
        } else {
            out.push_str(&ident(&p.to_snake_case()));
            out.push_str("::");
        }
    }
    out
}

/// The Rust path of a package's module in `joinery_teleport::proto`.
pub(super) fn package_module(package: &str) -> String {
    match package {
        "proto" => "joinery_teleport::proto::legacy".into(),
        p => format!("joinery_teleport::proto::{}", p.replace('.', "::")),
    }
}

pub(super) fn join(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_string() } else { format!("{path}.{name}") }
}

/// Fails when `file` (relative to the provider crate) is not what
/// [`generate`] writes today; rewrites it when `JOINERY_REGENERATE` is set.
pub(crate) fn assert_current(overlay: &Overlay, file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let generated = emit::generate(overlay);
    if std::env::var_os("JOINERY_REGENERATE").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "{file} is stale (the protos or the overlay changed): run \
         `JOINERY_REGENERATE=1 cargo test -p terraform-provider-teleport generated`"
    );
}

/// The fields of the overlay's messages that have neither an attribute in
/// `schema` nor a reason to be omitted (and omitted ones that have one).
pub(crate) fn uncovered(overlay: &Overlay, schema: &Schema) -> Vec<String> {
    fn walk(overlay: &Overlay, schema: &Schema, m: &MessageDescriptor, path: &str, problems: &mut Vec<String>) {
        for f in m.fields() {
            let p = join(path, &descriptors::json_name(&f));
            let at = p.split('.').fold(AttributePath::empty(), |a, step| a.attr(step));
            let attribute = schema.attribute_at(&at);
            if overlay.omitted(&p) {
                if attribute.is_some() {
                    problems.push(format!("{p}: omitted in the overlay but in the schema"));
                }
                continue;
            }
            if attribute.is_none() {
                problems.push(format!("{p}: field {} of {} has no attribute", f.name(), m.full_name()));
                continue;
            }
            match overlay.classify(&f, &p) {
                Ty::Message(n) | Ty::Messages(n) | Ty::External(_, n) => walk(overlay, schema, &n, &p, problems),
                _ => {}
            }
        }
    }
    let mut problems = Vec::new();
    let root = descriptors::message(overlay.root).unwrap_or_else(|| panic!("protogen: no message {}", overlay.root));
    walk(overlay, schema, &root, "", &mut problems);
    problems
}
