//! `onboarding`: how the bot proves who it is when it joins.
//!
//! The keys every method shares (`join_method`, `token`, `ca_pins`,
//! `ca_path`) live here; a method with settings of its own has a block
//! named after it (`azure:`) and a module that owns that block and its
//! rules ([`azure`]). [`JoinMethodName`] is the one list of method names:
//! the YAML, the agent's `--join-method` flag (feature `clap`) and the agent's
//! join implementations all use it.
//!
//! Adding a method `foo`: a module `foo.rs` with its block (if it has one)
//! and its `validate`, a variant in [`JoinMethodName`], its block in
//! [`OnboardingConfig`] and its settings in [`JoinMethod`]; the compiler then
//! points at the `match` in `OnboardingConfig::validate`.

pub mod azure;
pub mod github;
pub mod token;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, Source};

/// The join methods this agent knows, by tbot's names. Other tbot methods
/// are rejected by name.
///
/// With the `clap` feature it is a `clap::ValueEnum` taking the same names;
/// `help = None` on each variant keeps these docs out of `--help`, which
/// lists the names only, as tbot's does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum), value(rename_all = "snake_case"))]
pub enum JoinMethodName {
    /// A shared secret (a provision token), single use.
    #[cfg_attr(feature = "clap", value(help = None::<&str>))]
    Token,
    /// Azure delegated join with the VM's managed identity.
    #[cfg_attr(feature = "clap", value(help = None::<&str>))]
    Azure,
    /// GitHub Actions: the job's OIDC ID token.
    #[cfg_attr(feature = "clap", value(help = None::<&str>))]
    Github,
}

impl JoinMethodName {
    /// Every method, in the order the YAML's messages list them.
    pub const ALL: [JoinMethodName; 3] = [JoinMethodName::Token, JoinMethodName::Azure, JoinMethodName::Github];

    /// The name as written in YAML (`token`, `azure`).
    pub const fn as_str(self) -> &'static str {
        match self {
            JoinMethodName::Token => "token",
            JoinMethodName::Azure => "azure",
            JoinMethodName::Github => "github",
        }
    }
}

impl fmt::Display for JoinMethodName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a join method this agent knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown join method {0:?}")]
pub struct UnknownJoinMethod(pub String);

impl FromStr for JoinMethodName {
    type Err = UnknownJoinMethod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JoinMethodName::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| UnknownJoinMethod(s.to_string()))
    }
}

/// The `onboarding` block, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
// `expecting`: the words of "invalid type: ..., expected struct RawOnboarding", kept as they were.
#[serde(deny_unknown_fields, expecting = "struct RawOnboarding")]
pub struct OnboardingConfig {
    /// `join_method`; `token` when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_method: Option<JoinMethodName>,
    /// `token`: the token's value (for `token`) or name (other methods), or
    /// the absolute path of a file holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `ca_pins`: `sha256:<hex>` pins of the cluster's TLS CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_pins: Option<Vec<String>>,
    /// `ca_path`: a PEM file with the CA to trust.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_path: Option<String>,
    /// `azure`: the Azure method's block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure: Option<azure::AzureOnboarding>,
}

/// How the agent proves who it is (validated): the method and its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinMethod {
    /// `join_method: token`.
    Token,
    /// `join_method: azure`.
    Azure(azure::AzureOnboarding),
    /// `join_method: github`.
    Github,
}

impl JoinMethod {
    /// The method's name.
    pub fn name(&self) -> JoinMethodName {
        match self {
            JoinMethod::Token => JoinMethodName::Token,
            JoinMethod::Azure(_) => JoinMethodName::Azure,
            JoinMethod::Github => JoinMethodName::Github,
        }
    }
}

/// A join token. Its value is a secret for `token` joins: never log it unmasked.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A token with this value.
    pub fn new(value: impl Into<String>) -> Self {
        Token(value.into())
    }

    /// The value, for the join request.
    pub fn value(&self) -> &str {
        &self.0
    }

    /// Teleport's masked form (all but the last quarter replaced by `*`).
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.masked())
    }
}

/// Teleport's `MaskKeyName`: the first three quarters of a name become `*`.
pub fn mask(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let hidden = chars.len() * 3 / 4;
    chars.iter().enumerate().map(|(i, c)| if i < hidden { '*' } else { *c }).collect()
}

/// The `onboarding` block (validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onboarding {
    /// Join method.
    pub method: JoinMethod,
    /// The token, as written: a value, or the absolute path of a file that
    /// the agent reads (tbot's `TryReadValueAsFile`) before it joins.
    pub token: Token,
    /// `ca_pins`: `sha256:<hex>` pins of the cluster's TLS CA.
    pub ca_pins: Vec<String>,
    /// `ca_path`: a PEM file with the CA to trust (the agent checks it exists).
    pub ca_path: Option<PathBuf>,
}

impl OnboardingConfig {
    /// Validates the block (no file is read: see [`Onboarding::token`]).
    pub(crate) fn validate(self, src: &Source) -> Result<Onboarding, ConfigError> {
        let name = self.join_method.unwrap_or(JoinMethodName::Token);
        // A block of another method is a mistake, not a setting to ignore.
        if name != JoinMethodName::Azure {
            azure::reject_unused(self.azure.as_ref(), src)?;
        }
        let method = match name {
            JoinMethodName::Token => token::validate(&self, src)?,
            JoinMethodName::Azure => azure::validate(self.azure.clone(), src)?,
            JoinMethodName::Github => github::validate(&self, src)?,
        };
        let token = match self.token.as_deref().map(str::trim) {
            None | Some("") => {
                return Err(src.invalid(
                    "onboarding.token",
                    "a join token is required (onboarding.token, --token or TELEPORT_BOT_TOKEN)",
                ));
            }
            Some(t) => Token(t.to_string()),
        };
        let ca_pins = self.ca_pins.unwrap_or_default();
        for pin in &ca_pins {
            let hex = pin.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(src.invalid(
                    "onboarding.ca_pins",
                    format!("{pin:?} is not a pin of the form sha256:<64 hex digits>"),
                ));
            }
        }
        let ca_path = self.ca_path.filter(|p| !p.trim().is_empty()).map(PathBuf::from);
        Ok(Onboarding { method, token, ca_pins, ca_path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_like_teleport() {
        assert_eq!(mask("abcdefgh"), "******gh");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn names_are_the_yaml_names() {
        for m in JoinMethodName::ALL {
            let yaml = serde_yaml_ng::to_string(&m).unwrap();
            assert_eq!(yaml.trim(), m.as_str());
            assert_eq!(m.as_str().parse::<JoinMethodName>(), Ok(m));
        }
        assert!("gitlab".parse::<JoinMethodName>().is_err());
    }

    /// `ALL` is written by hand; clap's derived list is not.
    #[cfg(feature = "clap")]
    #[test]
    fn all_lists_every_method() {
        assert_eq!(<JoinMethodName as clap::ValueEnum>::value_variants(), JoinMethodName::ALL);
    }
}
