//! Writing a resource's model file: the structs, their attributes and their
//! conversions, as Rust source formatted by rustfmt (see the parent module).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use heck::ToSnakeCase;
use joinery_teleport::proto::descriptors::{self, MessageDescriptor};

use super::{ExtraType, Overlay, Rule, Ty, ident, join, package_module, proto_type};

/// A string literal; a long one as `concat!` of pieces that rustfmt can lay
/// out within the line width (it leaves a whole `vec![…]` unformatted when
/// one literal in it cannot fit).
fn lit(s: &str) -> String {
    const PIECE: usize = 80;
    if s.len() <= PIECE {
        return format!("{s:?}");
    }
    let mut pieces = Vec::new();
    let mut current = String::new();
    for word in s.split_inclusive(' ') {
        if !current.is_empty() && current.len() + word.len() > PIECE {
            pieces.push(std::mem::take(&mut current));
        }
        // A word longer than a piece (a URL) is cut into pieces of its own.
        let mut rest = word;
        while rest.len() > PIECE {
            let cut = (1..=PIECE).rev().find(|&i| rest.is_char_boundary(i)).unwrap_or(rest.len());
            pieces.push(rest[..cut].to_string());
            rest = &rest[cut..];
        }
        current.push_str(rest);
    }
    pieces.push(current);
    format!("concat!({})", pieces.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(", "))
}

/// One attribute, ready to be written.
struct Field {
    name: String,
    path: String,
    description: String,
    ty: Ty,
    /// The prost field, for proto fields.
    proto: Option<String>,
    rules: &'static [Rule],
}

impl Field {
    fn has(&self, f: impl Fn(&Rule) -> bool) -> bool {
        self.rules.iter().any(f)
    }

    fn computed(&self) -> bool {
        self.has(|r| matches!(r, Rule::Computed | Rule::ReadOnly))
    }

    fn server_default(&self) -> Option<&'static str> {
        self.rules.iter().find_map(|r| if let Rule::ServerDefault(d) = r { Some(*d) } else { None })
    }
}

/// The generator's state for one resource.
struct Gen<'o> {
    overlay: &'o Overlay,
    package: String,
    /// Messages in the order they are written, with their path.
    messages: Vec<(MessageDescriptor, String)>,
    seen: BTreeSet<String>,
    out: String,
}

/// Generates the model file of `overlay`'s resource, formatted by rustfmt.
pub(super) fn generate(overlay: &Overlay) -> String {
    let root = descriptors::message(overlay.root).unwrap_or_else(|| panic!("protogen: no message {}", overlay.root));
    let mut g = Gen {
        overlay,
        package: root.package_name().to_string(),
        messages: Vec::new(),
        seen: BTreeSet::new(),
        out: String::new(),
    };
    g.header(&root);
    g.collect(&root, "");
    let messages = g.messages.clone();
    for (m, path) in &messages {
        g.write_message(m, path, path.is_empty());
    }
    rustfmt(&g.out)
}

impl Gen<'_> {
    fn header(&mut self, root: &MessageDescriptor) {
        let o = self.overlay;
        let _ = write!(
            self.out,
            "//! GENERATED from Teleport's `{}` and the overlay in `overlay.rs` by\n\
             //! `crate::resources::protogen`; do not edit. `cargo test -p terraform-provider-teleport\n\
             //! generated` fails when this file is stale, and rewrites it with `JOINERY_REGENERATE=1`.\n\
             //!\n\
             //! The model of `{}`: one struct per message, a `Maybe` per attribute, the\n\
             //! attributes with their descriptions, and (for nested messages) the conversion\n\
             //! from and to the message by the rules of [`crate::resources::convert`]. It is as\n\
             //! long as Teleport's messages are; every line comes from them.\n\n",
            root.full_name(),
            o.resource,
        );
        let _ = writeln!(
            self.out,
            "// The messages' literals end in `..Default::default()`, needed or not: a field\n\
             // added to the protos then still compiles, and the staleness test says to regenerate.\n\
             #![allow(clippy::needless_update)]\n"
        );
        let _ = writeln!(self.out, "use std::collections::BTreeMap;\n");
        let _ = writeln!(self.out, "use {} as pb;", package_module(&self.package));
        let _ = writeln!(self.out, "use serde::{{Deserialize, Serialize}};\n");
        let _ = writeln!(self.out, "use crate::resources::convert::{{self as c, ProtoModel}};");
        let _ = writeln!(self.out, "use joinery_tfplugin::cty::Type;");
        let _ = writeln!(
            self.out,
            "use joinery_tfplugin::framework::{{Attribute, AttributePath, Diagnostics, Maybe, validators}};\n"
        );
    }

    /// Walks the messages depth first, recording each once.
    fn collect(&mut self, m: &MessageDescriptor, path: &str) {
        assert!(
            self.seen.insert(m.full_name().to_string()),
            "protogen: {} is used twice; give its uses separate overlays",
            m.full_name()
        );
        self.messages.push((m.clone(), path.to_string()));
        for f in m.fields() {
            let p = join(path, &descriptors::json_name(&f));
            if self.overlay.omitted(&p) {
                continue;
            }
            match self.overlay.classify(&f, &p) {
                Ty::Message(n) | Ty::Messages(n) => self.collect(&n, &p),
                Ty::External(_, n) => self.collect_external(&n, &p),
                _ => {}
            }
        }
    }

    fn collect_external(&mut self, m: &MessageDescriptor, path: &str) {
        self.messages.push((m.clone(), path.to_string()));
    }

    fn fields(&self, m: &MessageDescriptor, path: &str, root: bool) -> Vec<Field> {
        let mut out = Vec::new();
        if root {
            for e in self.overlay.extras {
                out.push(Field {
                    name: e.name.to_string(),
                    path: e.name.to_string(),
                    description: description(e.rules, String::new(), e.name),
                    ty: match e.ty {
                        ExtraType::String => Ty::String,
                        ExtraType::StringList => Ty::StringList,
                        ExtraType::StringListMap => Ty::LabelValues,
                    },
                    proto: None,
                    rules: e.rules,
                });
            }
        }
        for f in m.fields() {
            let name = descriptors::json_name(&f);
            let p = join(path, &name);
            if self.overlay.omitted(&p) {
                continue;
            }
            let rules = self.overlay.rules(&p);
            out.push(Field {
                description: description(rules, descriptors::description(&f), &p),
                ty: self.overlay.classify(&f, &p),
                proto: Some(ident(&f.name().to_snake_case())),
                name,
                path: p,
                rules,
            });
        }
        out
    }

    fn write_message(&mut self, m: &MessageDescriptor, path: &str, root: bool) {
        let external = self.overlay.rules(path).iter().any(|r| matches!(r, Rule::External(_)));
        let fields = self.fields(m, path, root);
        if external {
            let _ =
                writeln!(self.out, "/// The attributes of `{path}` (the model is [`{}`]).", self.external_type(path));
            let _ = writeln!(self.out, "pub fn {}_attributes() -> Vec<Attribute> {{", path.replace('.', "_"));
            self.write_attribute_list(&fields);
            let _ = writeln!(self.out, "}}\n");
            return;
        }
        let name = self.overlay.struct_name(m);
        let what = if root {
            format!("The whole resource (`{}`).", m.full_name())
        } else {
            format!("`{path}` (`{}`).", m.full_name())
        };
        let _ = writeln!(self.out, "/// {what}");
        for f in m.fields() {
            let p = join(path, &descriptors::json_name(&f));
            let reason =
                self.overlay.rules(&p).iter().find_map(|r| if let Rule::Omit(why) = r { Some(*why) } else { None });
            if let Some(why) = reason {
                let _ = writeln!(self.out, "///\n/// Not carried: `{}` ({why}).", f.name());
            }
        }
        let _ = writeln!(self.out, "#[derive(Debug, Clone, Default, Serialize, Deserialize)]");
        let _ = writeln!(self.out, "pub struct {name} {{");
        for f in &fields {
            for line in f.description.lines() {
                let _ = writeln!(self.out, "    /// {}", line.trim_end());
            }
            let _ = writeln!(self.out, "    pub {}: Maybe<{}>,", ident(&f.name), self.rust_type(&f.ty));
        }
        let _ = writeln!(self.out, "}}\n");
        let _ = writeln!(self.out, "impl {name} {{");
        let _ = writeln!(
            self.out,
            "    /// The attributes of {}.",
            if root { "the resource".to_string() } else { format!("`{path}`") }
        );
        let _ = writeln!(self.out, "    pub fn attributes() -> Vec<Attribute> {{");
        self.write_attribute_list(&fields);
        let _ = writeln!(self.out, "    }}\n}}\n");
        if !root {
            self.write_conversion(m, &name, &fields);
        }
    }

    fn external_type(&self, path: &str) -> &'static str {
        self.overlay
            .rules(path)
            .iter()
            .find_map(|r| if let Rule::External(t) = r { Some(*t) } else { None })
            .unwrap_or("?")
    }

    fn rust_type(&self, ty: &Ty) -> String {
        match ty {
            Ty::String | Ty::Nanos | Ty::Timestamp | Ty::DurationMessage => "String".into(),
            Ty::StringList => "Vec<String>".into(),
            Ty::Bool | Ty::BoolValue => "bool".into(),
            Ty::Number => "u32".into(),
            Ty::LabelValues => "BTreeMap<String, Vec<String>>".into(),
            Ty::StringMap => "BTreeMap<String, String>".into(),
            Ty::Message(m) => self.overlay.struct_name(m),
            Ty::Messages(m) => format!("Vec<{}>", self.overlay.struct_name(m)),
            Ty::External(rust, _) => rust.to_string(),
            Ty::Custom { rust, .. } => rust.to_string(),
        }
    }

    fn write_attribute_list(&mut self, fields: &[Field]) {
        let _ = writeln!(self.out, "vec![");
        for f in fields {
            let _ = writeln!(self.out, "{},", self.attribute(f));
        }
        let _ = writeln!(self.out, "]");
    }

    fn attribute(&self, f: &Field) -> String {
        let n = lit(&f.name);
        let mut a = match &f.ty {
            Ty::String | Ty::Nanos | Ty::Timestamp | Ty::DurationMessage => format!("Attribute::string({n})"),
            Ty::StringList => format!("Attribute::list({n}, Type::String)"),
            Ty::Bool | Ty::BoolValue => format!("Attribute::bool({n})"),
            Ty::Number => format!("Attribute::number({n})"),
            Ty::LabelValues => format!("Attribute::map({n}, Type::list(Type::String))"),
            Ty::StringMap => format!("Attribute::map({n}, Type::String)"),
            Ty::Message(m) => format!("Attribute::single_nested({n}, {}::attributes())", self.overlay.struct_name(m)),
            Ty::Messages(m) => format!("Attribute::list_nested({n}, {}::attributes())", self.overlay.struct_name(m)),
            Ty::External(..) => format!("Attribute::single_nested({n}, {}_attributes())", f.path.replace('.', "_")),
            Ty::Custom { attribute, .. } => attribute.to_string(),
        };
        let flag = if f.has(|r| matches!(r, Rule::Required)) {
            ".required()"
        } else if f.has(|r| matches!(r, Rule::ReadOnly)) {
            ".computed()"
        } else if f.has(|r| matches!(r, Rule::Computed)) {
            ".optional().computed()"
        } else {
            ".optional()"
        };
        a.push_str(flag);
        for r in f.rules {
            match r {
                Rule::Sensitive => a.push_str(".sensitive()"),
                Rule::UseStateForUnknown => a.push_str(".use_state_for_unknown()"),
                Rule::RequiresReplace => a.push_str(".requires_replace()"),
                Rule::Validator(v) => {
                    let _ = write!(a, ".validator({v})");
                }
                Rule::PlanModifier(p) => {
                    let _ = write!(a, ".plan_modifier({p})");
                }
                Rule::Deprecated(d) => {
                    let _ = write!(a, ".deprecated({})", lit(d));
                }
                _ => {}
            }
        }
        let _ = write!(a, ".description({})", lit(&f.description));
        a
    }

    fn write_conversion(&mut self, m: &MessageDescriptor, name: &str, fields: &[Field]) {
        let uses_at = fields.iter().any(|f| {
            matches!(f.ty, Ty::Nanos | Ty::Timestamp | Ty::DurationMessage | Ty::Message(_) | Ty::Messages(_))
                || matches!(&f.ty, Ty::Custom { to_proto, .. } if to_proto.contains("at"))
        });
        let _ = writeln!(self.out, "impl ProtoModel for {name} {{");
        let _ = writeln!(self.out, "    type Proto = {};\n", proto_type(m));
        let at = if uses_at { "at" } else { "_at" };
        let _ =
            writeln!(self.out, "    fn to_proto(&self, {at}: &AttributePath) -> Result<Self::Proto, Diagnostics> {{");
        let _ = writeln!(self.out, "        Ok(Self::Proto {{");
        for f in fields {
            let Some(proto) = &f.proto else { continue };
            let _ = writeln!(self.out, "            {proto}: {},", self.to_proto(f));
        }
        // Always: a field Teleport adds still compiles, so the generator can
        // run and the staleness test can say what to do.
        let _ = writeln!(self.out, "            ..Default::default()");
        let _ = writeln!(self.out, "        }})\n    }}\n");
        let states: Vec<(String, String)> = fields.iter().map(|f| (ident(&f.name), self.to_state(f))).collect();
        let reference = if states.iter().any(|(_, e)| e.contains("reference")) { "reference" } else { "_reference" };
        let _ = writeln!(self.out, "    fn to_state(server: &Self::Proto, {reference}: &Self) -> Self {{");
        let _ = writeln!(self.out, "        Self {{");
        for (name, expr) in states {
            let _ = writeln!(self.out, "            {name}: {expr},");
        }
        let _ = writeln!(self.out, "        }}\n    }}\n}}\n");
    }

    fn to_proto(&self, f: &Field) -> String {
        let m = format!("self.{}", ident(&f.name));
        let at = format!("&at.attr({})", lit(&f.name));
        match &f.ty {
            Ty::String | Ty::StringList | Ty::Bool | Ty::Number => format!("{m}.known_or_default()"),
            Ty::Nanos => format!("c::nanos_to_proto(&{m}, {at})?"),
            Ty::Timestamp => format!("c::timestamp_to_proto(&{m}, {at})?"),
            Ty::DurationMessage => format!("c::duration_to_proto(&{m}, {at})?"),
            Ty::BoolValue => format!("c::bool_value_to_proto(&{m})"),
            Ty::LabelValues => format!("c::label_values_to_proto(&{m})"),
            Ty::StringMap => format!("{m}.known_or_default().into_iter().collect()"),
            Ty::Message(_) => format!("c::message_to_proto(&{m}, {at})?"),
            Ty::Messages(_) => format!("c::messages_to_proto(&{m}, {at})?"),
            Ty::External(..) => panic!("protogen: {}: external models convert by hand", f.path),
            Ty::Custom { to_proto, .. } => to_proto.to_string(),
        }
    }

    fn to_state(&self, f: &Field) -> String {
        let p = f.proto.clone().unwrap_or_default();
        let (s, r) = (format!("server.{p}"), format!("&reference.{}", ident(&f.name)));
        let computed = f.computed();
        match (&f.ty, f.server_default(), computed) {
            (Ty::String, None, true) => format!("c::string_computed(&{s})"),
            (Ty::String, Some(d), false) => format!("c::string_or_default(&{s}, {d}, {r})"),
            (Ty::String, None, false) => format!("c::string(&{s}, {r})"),
            (Ty::StringList, None, false) if f.has(|r| matches!(r, Rule::CaseInsensitive)) => {
                format!("c::string_list_ci(&{s}, {r})")
            }
            (Ty::StringList, None, false) => format!("c::string_list(&{s}, {r})"),
            (Ty::Bool, None, false) => format!("c::bool({s}, {r})"),
            (Ty::Number, Some(d), false) => format!("c::number_or_default({s}, {d}, {r})"),
            (Ty::Number, None, false) => format!("c::number({s}, {r})"),
            (Ty::Number, None, true) => format!("Maybe::Known({s})"),
            (Ty::Nanos, None, true) => format!("c::nanos_computed({s}, {r})"),
            (Ty::Nanos, None, false) => format!("c::nanos({s}, {r})"),
            (Ty::Timestamp, None, _) => format!("c::timestamp({s}.as_ref(), {r})"),
            (Ty::DurationMessage, None, _) => format!("c::duration_message({s}.as_ref(), {r})"),
            (Ty::BoolValue, None, false) => format!("c::bool_value({s}.as_ref(), {r})"),
            (Ty::LabelValues, None, false) => format!("c::label_values({s}.as_ref(), {r})"),
            (Ty::StringMap, None, false) => format!("c::labels(&{s}, {r})"),
            (Ty::Message(_), None, _) => format!("c::message({s}.as_ref(), {r})"),
            (Ty::Messages(_), None, false) => format!("c::messages(&{s}, {r})"),
            (Ty::Custom { to_state, .. }, None, _) => to_state.to_string(),
            _ => panic!("protogen: {}: no conversion rule for this type with these rules", f.path),
        }
    }
}

/// The description: the overlay's, else the field's comment; never empty.
fn description(rules: &[Rule], from_proto: String, path: &str) -> String {
    let d = rules.iter().find_map(|r| if let Rule::Description(d) = r { Some(d.to_string()) } else { None });
    let d = d.unwrap_or(from_proto);
    assert!(!d.is_empty(), "protogen: {path} has no comment in the proto; give it a Rule::Description");
    d
}

fn rustfmt(source: &str) -> String {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into());
    let mut child = Command::new(&rustfmt)
        .args(["--edition", "2024", "--emit", "stdout", "--config", "max_width=120,use_small_heuristics=Max"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("protogen: cannot run {rustfmt}: {e}"));
    child.stdin.take().expect("piped stdin").write_all(source.as_bytes()).expect("write to rustfmt");
    let out = child.wait_with_output().expect("rustfmt output");
    assert!(out.status.success(), "protogen: rustfmt failed:\n{}\n{source}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("rustfmt writes UTF-8")
}
