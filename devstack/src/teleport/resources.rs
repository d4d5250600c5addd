//! Teleport's rules for token and bot resources (`CheckAndSetDefaults`);
//! each join method's part of a token is in [`super::token_methods`].
//!
//! The devstack applies these on every write, with Teleport's wording, so
//! a resource the devstack accepts is one a real cluster accepts too.

use joinery_teleport::proto::teleport::machineid::v1::Bot;
use joinery_teleport::proto::types::ProvisionTokenV2;
use tonic::Status;

/// Teleport's system roles by their lowercase spellings, as the API module
/// (`roleMappings` in api/types/system_role.go) normalizes them: a role is
/// valid only in the spelling it maps to.
const ROLE_MAPPINGS: &[(&str, &str)] = &[
    ("auth", "Auth"),
    ("node", "Node"),
    ("proxy", "Proxy"),
    ("admin", "Admin"),
    ("provisiontoken", "ProvisionToken"),
    ("trusted_cluster", "Trusted_cluster"),
    ("trustedcluster", "Trusted_cluster"),
    ("signup", "Signup"),
    ("nop", "Nop"),
    ("remoteproxy", "RemoteProxy"),
    ("remote_proxy", "RemoteProxy"),
    ("kube", "Kube"),
    ("app", "App"),
    ("db", "Db"),
    ("windowsdesktop", "WindowsDesktop"),
    ("windows_desktop", "WindowsDesktop"),
    ("bot", "Bot"),
    ("instance", "Instance"),
    ("discovery", "Discovery"),
    ("okta", "Okta"),
    ("mdm", "MDM"),
    ("accessgraphplugin", "AccessGraphPlugin"),
];

/// The values Teleport accepts for the `teleport.dev/origin` label
/// (`common.OriginValues`), in its order.
const ORIGIN_VALUES: &[&str] = &[
    "defaults",
    "config-file",
    "dynamic",
    "cloud",
    "kubernetes",
    "okta",
    "scim",
    "discovery-kubernetes",
    "entra-id",
    "aws-identity-center",
];

fn mapped_role(role: &str) -> Option<&'static str> {
    let key = role.trim().to_lowercase();
    ROLE_MAPPINGS.iter().find(|(alias, _)| *alias == key).map(|(_, canonical)| *canonical)
}

/// Teleport's `NewTeleportRoles`: each role in its canonical spelling, then
/// each checked (`role X is not registered`) and duplicates refused.
fn normalize_roles(roles: &mut [String]) -> Result<(), Status> {
    for role in roles.iter_mut() {
        if let Some(canonical) = mapped_role(role) {
            *role = canonical.to_string();
        }
    }
    let mut seen: Vec<&String> = Vec::new();
    for role in roles.iter() {
        if mapped_role(role) != Some(role.as_str()) {
            return Err(Status::invalid_argument(format!("role {role} is not registered")));
        }
        if seen.contains(&role) {
            return Err(Status::invalid_argument(format!("duplicate role {role:?}")));
        }
        seen.push(role);
    }
    Ok(())
}

/// Teleport's `Metadata.CheckAndSetDefaults`.
fn check_metadata(meta: &mut joinery_teleport::proto::types::Metadata) -> Result<(), Status> {
    if meta.name.is_empty() {
        return Err(Status::invalid_argument("missing parameter Name"));
    }
    if meta.namespace.is_empty() {
        meta.namespace = "default".into();
    }
    if meta.namespace != "default" {
        return Err(Status::invalid_argument(format!(
            "namespace {:?} invalid, custom namespaces are deprecated; the namespace field should be omitted or set to \"default\"",
            meta.namespace
        )));
    }
    // Go's map order is random: a sorted order is one Teleport could report.
    let mut keys: Vec<&String> = meta.labels.keys().collect();
    keys.sort();
    let valid_key = |k: &str| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || "/._:*-".contains(c));
    if let Some(bad) = keys.into_iter().find(|k| !valid_key(k)) {
        return Err(Status::invalid_argument(format!("invalid label key: {bad:?}")));
    }
    if let Some(origin) = meta.labels.get("teleport.dev/origin").filter(|o| !o.is_empty())
        && !ORIGIN_VALUES.contains(&origin.as_str())
    {
        return Err(Status::invalid_argument(format!(
            "invalid origin value {origin:?}, must be one of [{}]",
            ORIGIN_VALUES.join(" ")
        )));
    }
    Ok(())
}

/// `max_session_ttl` of a bot that does not set one (Teleport's
/// `defaults.DefaultBotMaxSessionTTL`), in seconds.
pub const BOT_DEFAULT_MAX_TTL: u64 = 12 * 3600;
/// A role's `max_session_ttl` when it is zero (Teleport's
/// `defaults.MaxCertDuration`), in seconds.
pub const ROLE_DEFAULT_MAX_TTL: u64 = 30 * 3600;
/// Largest certificate TTL the cluster issues to bots (7 days).
pub const BOT_MAX_TTL: u64 = 7 * 24 * 3600;

/// The user and role name of a bot.
pub fn bot_resource_name(bot: &str) -> String {
    format!("bot-{bot}")
}

/// Validates a token and fills Teleport's defaults
/// (`ProvisionTokenV2.CheckAndSetDefaults`, in its order).
pub fn check_token(t: &mut ProvisionTokenV2) -> Result<(), Status> {
    // Kind and version are Teleport's to set (`setStaticFields`).
    t.kind = "token".into();
    t.version = "v2".into();
    check_metadata(t.metadata.get_or_insert_with(Default::default))?;
    let spec = t.spec.as_mut().ok_or_else(|| Status::invalid_argument("provisioning token is missing roles"))?;
    if spec.roles.is_empty() {
        return Err(Status::invalid_argument("provisioning token is missing roles"));
    }
    normalize_roles(&mut spec.roles)?;
    let has_bot = spec.roles.iter().any(|r| r == "Bot");
    if has_bot && spec.bot_name.is_empty() {
        return Err(Status::invalid_argument("token with role \"Bot\" must set bot_name"));
    }
    if !has_bot && !spec.bot_name.is_empty() {
        return Err(Status::invalid_argument("can only set bot_name on token with role \"Bot\""));
    }
    super::token_methods::check(t)?;
    Ok(())
}

/// Teleport's `setKindAndVersion`, run before anything else on a bot write:
/// a missing bot is refused, a missing kind and version are filled.
pub fn set_kind_and_version(bot: Option<Bot>) -> Result<Bot, Status> {
    let mut b = bot.ok_or_else(|| Status::invalid_argument("setting kind and version\n\tbot: must be non-nil"))?;
    if b.kind.is_empty() {
        b.kind = "bot".into();
    }
    if b.version.is_empty() {
        b.version = "v1".into();
    }
    Ok(b)
}

/// Teleport's `StrongValidateBot` for an unscoped bot, with its
/// `"validating bot"` context. Traits are not checked: Teleport drops those
/// without values and merges repeated names when it stores them.
pub fn check_bot(b: &mut Bot) -> Result<(), Status> {
    let invalid = |what: &str| Status::invalid_argument(format!("validating bot\n\t{what}"));
    let meta = b.metadata.as_ref().ok_or_else(|| invalid("metadata: must be non-nil"))?;
    if meta.name.is_empty() {
        return Err(invalid("metadata.name: must be non-empty"));
    }
    let spec = b.spec.as_ref().ok_or_else(|| invalid("spec: must be non-nil"))?;
    if spec.roles.iter().any(|r| r.is_empty()) {
        return Err(invalid("spec.roles: must not contain empty strings"));
    }
    // Stricter than Teleport, which would store a negative duration in the
    // bot's role: the devstack keeps durations unsigned.
    if let Some(ttl) = &spec.max_session_ttl
        && (ttl.seconds < 0 || ttl.nanos < 0)
    {
        return Err(invalid("spec.max_session_ttl: must not be negative"));
    }
    Ok(())
}

/// Masks all but the last quarter of a secret name, like Teleport's
/// `backend.MaskKeyName`, so token values never appear in errors or logs.
pub fn mask(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let hidden = chars.len() * 3 / 4;
    chars.iter().enumerate().map(|(i, c)| if i < hidden { '*' } else { *c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use joinery_teleport::proto::types::{Metadata, ProvisionTokenSpecV2};

    fn token(roles: &[&str], bot: &str) -> ProvisionTokenV2 {
        ProvisionTokenV2 {
            metadata: Some(Metadata { name: "t".into(), ..Default::default() }),
            spec: Some(ProvisionTokenSpecV2 {
                roles: roles.iter().map(|s| s.to_string()).collect(),
                bot_name: bot.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_and_normalizes() {
        let mut t = token(&["bot"], "b");
        check_token(&mut t).unwrap();
        assert_eq!(t.kind, "token");
        assert_eq!(t.version, "v2");
        assert_eq!(t.spec.as_ref().unwrap().roles, vec!["Bot"]);
        assert_eq!(t.spec.as_ref().unwrap().join_method, "token");
    }

    #[test]
    fn rejects_like_teleport() {
        assert!(check_token(&mut token(&[], "")).unwrap_err().message().contains("missing roles"));
        assert!(check_token(&mut token(&["Bot"], "")).unwrap_err().message().contains("bot_name"));
        assert!(check_token(&mut token(&["Node"], "b")).unwrap_err().message().contains("bot_name"));
        assert!(check_token(&mut token(&["Wizard"], "")).unwrap_err().message().contains("not registered"));
        assert_eq!(check_token(&mut token(&["Node", "node"], "")).unwrap_err().message(), "duplicate role \"Node\"");
        // Only the canonical spelling of each alias is registered.
        let mut t = token(&["trustedcluster"], "");
        check_token(&mut t).unwrap();
        assert_eq!(t.spec.unwrap().roles, vec!["Trusted_cluster"]);
    }

    #[test]
    fn masks_secret_names() {
        assert_eq!(mask("abcdefgh"), "******gh");
    }
}
