//! Teleport's messages described at run time: the descriptors `build.rs`
//! compiled, with their comments and gogoproto options.
//!
//! They let code that must follow every field of a message — the Terraform
//! schemas derived from the protos, `tctl`'s YAML — walk the messages instead
//! of listing their fields by hand, so a field added to a `.proto` reaches
//! them without another edit. Teleport names a field in its YAML and in the
//! official Terraform provider by its gogoproto `jsontag`; [`json_name`]
//! reads it.

use std::sync::OnceLock;

pub use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage, Value,
};

/// The encoded `FileDescriptorSet` of every compiled proto, with source
/// info and custom options.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/teleport_descriptor_set.bin"));

/// The descriptors of every compiled message.
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    // Proven invariant: the bytes are what protox encoded from these very
    // protos at build time, so they always decode.
    POOL.get_or_init(|| DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("build.rs encoded a valid descriptor set"))
}

/// The message named `full_name` (`types.ProvisionTokenV2`), if compiled.
pub fn message(full_name: &str) -> Option<MessageDescriptor> {
    pool().get_message_by_name(full_name)
}

/// A string-valued gogoproto field option (`jsontag`, `casttype`, `customtype`).
fn gogo_option(field: &FieldDescriptor, option: &str) -> Option<String> {
    let ext = pool().get_extension_by_name(&format!("gogoproto.{option}"))?;
    let options = field.options();
    if !options.has_extension(&ext) {
        return None;
    }
    options.get_extension(&ext).as_str().map(str::to_string)
}

/// The field's name in Teleport's YAML and in the official provider: the
/// `jsontag` up to its first comma, or the proto name when the tag is absent
/// or `-` (a field hidden from JSON still has a Terraform attribute).
pub fn json_name(field: &FieldDescriptor) -> String {
    match gogo_option(field, "jsontag") {
        Some(tag) => match tag.split(',').next() {
            Some(name) if !name.is_empty() && name != "-" => name.to_string(),
            _ => snake_case(field.name()),
        },
        None => snake_case(field.name()),
    }
}

/// Whether the field is hidden from Teleport's JSON and YAML (`jsontag "-"`).
pub fn json_hidden(field: &FieldDescriptor) -> bool {
    gogo_option(field, "jsontag").is_some_and(|t| t.split(',').next() == Some("-"))
}

/// The Go type a gogoproto `casttype` gives the field (`Duration`, `SystemRole`, …).
pub fn cast_type(field: &FieldDescriptor) -> Option<String> {
    gogo_option(field, "casttype")
}

/// The Go type a gogoproto `customtype` gives the field (`Labels`, `BoolOption`, …).
pub fn custom_type(field: &FieldDescriptor) -> Option<String> {
    gogo_option(field, "customtype")
}

/// The comment before the field, as the official provider's generator turns
/// it into a description: the lines trimmed and joined by spaces (an empty
/// comment line leaves two).
pub fn description(field: &FieldDescriptor) -> String {
    let Some(location) = field_location(field) else { return String::new() };
    let comments = location.leading_comments.as_deref().unwrap_or_default();
    comments.trim_end().lines().map(str::trim).collect::<Vec<_>>().join(" ").trim().to_string()
}

/// The comment before a message, its lines trimmed and joined by newlines
/// (each of Joinery's messages ends it with a `Field numbers:` note saying
/// where its numbers were checked).
pub fn message_comment(message: &MessageDescriptor) -> String {
    let file = message.parent_file();
    let path = message.path();
    let location =
        file.file_descriptor_proto().source_code_info.as_ref().and_then(|i| i.location.iter().find(|l| l.path == path));
    let comments = location.and_then(|l| l.leading_comments.as_deref()).unwrap_or_default();
    comments.trim_end().lines().map(str::trim).collect::<Vec<_>>().join("\n")
}

fn field_location(field: &FieldDescriptor) -> Option<prost_reflect::prost_types::source_code_info::Location> {
    let file = field.parent_file();
    let path = field.path();
    file.file_descriptor_proto().source_code_info.as_ref()?.location.iter().find(|l| l.path.as_slice() == path).cloned()
}

/// `ProjectIDs` → `project_ids`, `bot_name` → `bot_name`: a proto field name in
/// snake case, for fields without a `jsontag` (upstream gives every field
/// Joinery reads one, except plain snake-case proto3 fields).
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(message_name: &str, field_name: &str) -> FieldDescriptor {
        message(message_name).unwrap().get_field_by_name(field_name).unwrap()
    }

    #[test]
    fn names_come_from_the_jsontag() {
        assert_eq!(json_name(&field("types.ProvisionTokenSpecV2", "AWSIIDTTL")), "aws_iid_ttl");
        assert_eq!(json_name(&field("types.ProvisionTokenSpecV2", "TerraformCloud")), "terraform_cloud");
        // `jsontag "-"` hides Namespace from YAML, not from Terraform.
        let namespace = field("types.Metadata", "Namespace");
        assert_eq!(json_name(&namespace), "namespace");
        assert!(json_hidden(&namespace));
        // Plain proto3 names are already snake case.
        assert_eq!(json_name(&field("teleport.machineid.v1.BotSpec", "max_session_ttl")), "max_session_ttl");
        assert_eq!(snake_case("ProjectIDs"), "project_ids");
    }

    #[test]
    fn options_and_comments_survive_compilation() {
        let ttl = field("types.ProvisionTokenSpecV2", "AWSIIDTTL");
        assert_eq!(cast_type(&ttl).as_deref(), Some("Duration"));
        assert_eq!(
            custom_type(&field("types.ProvisionTokenSpecV2GitLab.Rule", "RefProtected")).as_deref(),
            Some("BoolOption")
        );
        assert_eq!(
            description(&ttl),
            "AWSIIDTTL is the TTL to use for AWS EC2 Instance Identity Documents used to join the cluster with this token."
        );
        // An empty comment line leaves two spaces, as in the official docs.
        let note = message_comment(&message("teleport.join.v1.ClientInit").unwrap());
        assert!(note.contains("Field numbers: not in Teleport's API module"), "{note}");
        assert!(description(&field("types.ProvisionTokenSpecV2GitLab.Rule", "Ref")).contains("ref_type.  This field"));
    }
}
