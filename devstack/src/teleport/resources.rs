//! Teleport's rules for token and bot resources (`CheckAndSetDefaults`);
//! each join method's part of a token is in [`super::token_methods`].
//!
//! The devstack applies these on every write, with Teleport's wording, so
//! a resource the devstack accepts is one a real cluster accepts too.

use joinery_teleport::proto::teleport::machineid::v1::Bot;
use joinery_teleport::proto::types::ProvisionTokenV2;
use tonic::Status;

/// Teleport's system roles, in their canonical spelling.
pub const SYSTEM_ROLES: &[&str] = &[
    "Auth",
    "Node",
    "Proxy",
    "Admin",
    "ProvisionToken",
    "TrustedCluster",
    "Signup",
    "Nop",
    "RemoteProxy",
    "Kube",
    "App",
    "Db",
    "WindowsDesktop",
    "Bot",
    "Instance",
    "Discovery",
    "Okta",
    "MDM",
    "OpenSSH",
    "AccessGraph",
];

/// Default and largest `max_session_ttl` of a bot, in seconds.
pub const BOT_DEFAULT_MAX_TTL: u64 = 12 * 3600;
/// Largest certificate TTL the cluster issues to bots (7 days).
pub const BOT_MAX_TTL: u64 = 7 * 24 * 3600;

/// The user and role name of a bot.
pub fn bot_resource_name(bot: &str) -> String {
    format!("bot-{bot}")
}

/// Validates a token and fills Teleport's defaults.
pub fn check_token(t: &mut ProvisionTokenV2) -> Result<(), Status> {
    if t.kind.is_empty() {
        t.kind = "token".into();
    } else if t.kind != "token" {
        return Err(Status::invalid_argument(format!("kind must be \"token\", got {:?}", t.kind)));
    }
    if t.version.is_empty() {
        t.version = "v2".into();
    } else if t.version != "v2" {
        return Err(Status::invalid_argument(format!("unsupported version {:?}, only \"v2\" is supported", t.version)));
    }
    let meta = t.metadata.get_or_insert_with(Default::default);
    if meta.name.is_empty() {
        return Err(Status::invalid_argument("missing parameter Name"));
    }
    if meta.namespace.is_empty() {
        meta.namespace = "default".into();
    }
    let spec = t.spec.as_mut().ok_or_else(|| Status::invalid_argument("provisioning token is missing roles"))?;
    if spec.roles.is_empty() {
        return Err(Status::invalid_argument("provisioning token is missing roles"));
    }
    for role in spec.roles.iter_mut() {
        let canonical = SYSTEM_ROLES
            .iter()
            .find(|r| r.eq_ignore_ascii_case(role))
            .ok_or_else(|| Status::invalid_argument(format!("role {role} is not registered")))?;
        *role = canonical.to_string();
    }
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

/// Validates a bot and fills Teleport's defaults.
pub fn check_bot(b: &mut Bot) -> Result<(), Status> {
    let meta = b.metadata.as_ref().ok_or_else(|| Status::invalid_argument("bot.metadata: is required"))?;
    if meta.name.is_empty() {
        return Err(Status::invalid_argument("bot.metadata.name: is required"));
    }
    let spec = b.spec.as_mut().ok_or_else(|| Status::invalid_argument("bot.spec: is required"))?;
    if spec.roles.iter().any(|r| r.is_empty()) {
        return Err(Status::invalid_argument("bot.spec.roles: must not contain empty role names"));
    }
    if let Some(ttl) = &spec.max_session_ttl {
        if ttl.seconds < 0 || ttl.nanos < 0 {
            return Err(Status::invalid_argument("bot.spec.max_session_ttl: must not be negative"));
        }
        if ttl.seconds as u64 > BOT_MAX_TTL {
            return Err(Status::invalid_argument(format!(
                "bot.spec.max_session_ttl: must be at most {}h",
                BOT_MAX_TTL / 3600
            )));
        }
    }
    // Teleport merges repeated trait names and drops empty ones.
    let mut merged: Vec<joinery_teleport::proto::teleport::machineid::v1::Trait> = Vec::new();
    for t in spec.traits.drain(..) {
        if t.name.is_empty() {
            continue;
        }
        match merged.iter_mut().find(|m| m.name == t.name) {
            Some(m) => m.values.extend(t.values),
            None => merged.push(t),
        }
    }
    spec.traits = merged;
    if b.kind.is_empty() {
        b.kind = "bot".into();
    }
    if b.version.is_empty() {
        b.version = "v1".into();
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
    }

    #[test]
    fn masks_secret_names() {
        assert_eq!(mask("abcdefgh"), "******gh");
    }
}
