//! One provider setting: a configuration attribute, else an environment
//! variable, else a default. The same table entry gives the schema
//! attribute (with its description naming the variable) and the resolution,
//! so the two cannot drift.

use joinery_tfplugin::cty::Value;
use joinery_tfplugin::framework::{Attribute, AttributePath};

/// What a setting holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A string; the default applies when neither the attribute nor the
    /// variable gives a non-empty value.
    String {
        /// The default, if any.
        default: Option<&'static str>,
    },
    /// A boolean; the variable is true when `1`, `true`, `t` or `yes`.
    Flag {
        /// The default when neither is set.
        default: bool,
    },
}

/// One setting of the provider block (or of a nested block).
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The attribute name.
    pub name: &'static str,
    /// The environment variable read when the attribute is null or unknown.
    pub env: &'static str,
    /// A second variable read when the first is unset (`ACTIONS_ID_TOKEN_REQUEST_URL` after
    /// `ARM_OIDC_REQUEST_URL`, as azurerm reads them).
    pub env_fallback: Option<&'static str>,
    /// String or flag, with its default.
    pub kind: Kind,
    /// Redacted in Terraform's output.
    pub sensitive: bool,
    /// The description, without the environment variable (appended).
    pub description: &'static str,
}

impl Setting {
    /// A string setting without default.
    pub const fn string(name: &'static str, env: &'static str, description: &'static str) -> Setting {
        Setting { name, env, env_fallback: None, kind: Kind::String { default: None }, sensitive: false, description }
    }

    /// A flag.
    pub const fn flag(name: &'static str, env: &'static str, default: bool, description: &'static str) -> Setting {
        Setting { name, env, env_fallback: None, kind: Kind::Flag { default }, sensitive: false, description }
    }

    /// With a default for a string setting.
    pub const fn default(mut self, default: &'static str) -> Setting {
        self.kind = Kind::String { default: Some(default) };
        self
    }

    /// Reading `env` when the setting's own variable is unset.
    pub const fn or_env(mut self, env: &'static str) -> Setting {
        self.env_fallback = Some(env);
        self
    }

    /// Marked sensitive.
    pub const fn sensitive(mut self) -> Setting {
        self.sensitive = true;
        self
    }

    /// The path of this setting at the top level of the provider block.
    pub fn path(&self) -> AttributePath {
        AttributePath::root(self.name)
    }

    /// The optional schema attribute, its description naming the variable.
    pub fn attribute(&self) -> Attribute {
        let a = match self.kind {
            Kind::String { .. } => Attribute::string(self.name),
            Kind::Flag { .. } => Attribute::bool(self.name),
        };
        let vars = match self.env_fallback {
            Some(fallback) => format!("Environment variables: `{}`, else `{fallback}`.", self.env),
            None => format!("Environment variable: `{}`.", self.env),
        };
        let a = a.optional().description(format!("{} {vars}", self.description));
        if self.sensitive { a.sensitive() } else { a }
    }

    /// The setting's value: the configured one (trimmed) unless null or
    /// unknown, else the environment variable. As in the official provider,
    /// an explicitly empty string falls back to the default, not to the
    /// variable. A string setting without value is null.
    pub fn resolve(&self, configured: &Value, env: &dyn Fn(&str) -> Option<String>) -> Value {
        let env = |name: &str| {
            env(name)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| self.env_fallback.filter(|_| name == self.env).and_then(env))
        };
        match self.kind {
            Kind::String { default } => {
                let value = match configured {
                    Value::String(s) => s.trim().to_string(),
                    _ => env(self.env).unwrap_or_default(),
                };
                if value.is_empty() { default.map(Value::from).unwrap_or_default() } else { Value::String(value) }
            }
            Kind::Flag { default } => Value::Bool(match configured {
                Value::Bool(b) => *b,
                _ => env(self.env).filter(|v| !v.trim().is_empty()).map_or(default, |v| truthy(&v)),
            }),
        }
    }
}

fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "t" | "yes")
}

/// Every setting of `settings` resolved from `block` (an object, or null
/// when the block is absent), as an object to decode into the block's model.
pub fn resolve_all(settings: &[Setting], block: &Value, env: &dyn Fn(&str) -> Option<String>) -> Value {
    Value::object(settings.iter().map(|s| (s.name, s.resolve(block.attr(s.name), env))))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Setting = Setting::string("s", "S", "A string.").default("d");
    const F: Setting = Setting::flag("f", "F", true, "A flag.").sensitive();

    #[test]
    fn configured_beats_env_beats_default() {
        let env = |k: &str| (k == "S").then(|| "from-env".to_string());
        assert_eq!(S.resolve(&Value::from(" x "), &env), Value::from("x"));
        assert_eq!(S.resolve(&Value::from(""), &env), Value::from("d"), "explicit empty: default, not env");
        assert_eq!(S.resolve(&Value::Unknown, &env), Value::from("from-env"));
        assert_eq!(S.resolve(&Value::Null, &|_| None), Value::from("d"));
        assert_eq!(F.resolve(&Value::Null, &|_| Some("no".into())), Value::Bool(false));
        assert_eq!(F.resolve(&Value::Null, &|_| Some(" ".into())), Value::Bool(true), "blank: default");
        assert_eq!(F.resolve(&Value::Bool(false), &|_| Some("1".into())), Value::Bool(false));
    }

    #[test]
    fn attributes_name_their_variable() {
        let a = F.attribute();
        assert!(a.optional && a.sensitive);
        assert_eq!(a.description, "A flag. Environment variable: `F`.");
        let g = Setting::string("g", "G", "Two.").or_env("H");
        assert_eq!(g.attribute().description, "Two. Environment variables: `G`, else `H`.");
        assert_eq!(g.resolve(&Value::Null, &|k| (k == "H").then(|| "h".to_string())), Value::from("h"));
        assert_eq!(g.resolve(&Value::Null, &|k| Some(k.to_lowercase())), Value::from("g"), "own variable first");
    }
}
