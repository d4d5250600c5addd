//! What is wrong with a configuration, named by its key.
//!
//! Two kinds of problem, as a user meets them: the YAML does not *decode*
//! (unknown key, wrong type; the parser's message already carries the key
//! path and line), or a value decodes but is not *valid* (the key is named
//! here, and its line is found in the text by [`Source`]).

use std::fmt;

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The YAML does not decode (unknown key, wrong type, bad value); the
    /// message carries the key path and line from the parser.
    #[error("invalid config {source_name}: {message}")]
    Decode {
        /// File name (or `<flags>`).
        source_name: String,
        /// Parser message, e.g. `onboarding: unknown field `tokn` ... at line 4 column 3`.
        message: String,
    },
    /// A value decodes but is not acceptable.
    #[error("invalid config {source_name}: {key}{}: {reason}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Invalid {
        /// File name (or `<flags>`).
        source_name: String,
        /// The offending key, dotted (`onboarding.token`, `outputs[0].roles`).
        key: String,
        /// Its line, when it is in the file.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },
}

impl ConfigError {
    /// The dotted YAML key of an invalid value (`renewal_interval`,
    /// `onboarding.azure.client_id`, `outputs[1].roles`), so a caller that
    /// built the YAML from its own inputs can point at the input. `None` for
    /// a decode error, whose key is inside the parser's message.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            ConfigError::Decode { .. } => None,
        }
    }

    /// What is wrong, without the source name and key.
    pub fn reason(&self) -> &str {
        match self {
            ConfigError::Invalid { reason, .. } => reason,
            ConfigError::Decode { message, .. } => message,
        }
    }
}

/// Where a configuration's text came from: its name for messages (a file
/// name, `--config-string`, `<flags>`), and the text to find a key's line in.
#[derive(Clone, Copy)]
pub struct Source<'a> {
    name: &'a str,
    text: &'a str,
}

impl fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text may hold a token: only the name is shown.
        f.debug_struct("Source").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<'a> Source<'a> {
    /// A source named `name` whose YAML text is `text` (empty when there is no text).
    pub fn new(name: &'a str, text: &'a str) -> Self {
        Source { name, text }
    }

    /// The name used in messages.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The YAML text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// An [`ConfigError::Invalid`] for `key` (dotted), with its line when the text has it.
    pub fn invalid(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            source_name: self.name.to_string(),
            key: key.to_string(),
            line: line_of(self.text, key),
            reason: reason.into(),
        }
    }

    /// A [`ConfigError::Decode`] with the parser's message.
    pub fn decode(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::Decode { source_name: self.name.to_string(), message: message.into() }
    }
}

/// The line (1-based) where the last segment of a dotted key is defined,
/// found by shape (`key:` at the start of a line, maybe after `- `), after
/// the line of each parent segment.
fn line_of(text: &str, dotted: &str) -> Option<usize> {
    let mut from = 0;
    let mut found = None;
    for segment in dotted.split('.') {
        let name = segment.split('[').next().unwrap_or(segment);
        let (i, _) = text.lines().enumerate().skip(from).find(|(_, line)| {
            let t = line.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix(name).is_some_and(|rest| rest.trim_start().starts_with(':'))
        })?;
        from = i;
        found = Some(i + 1);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_found_under_their_parents() {
        let text = "version: v2\nonboarding:\n  token: x\n  azure :\n    client_id: y\noutputs:\n- type: identity\n  roles: []\n";
        assert_eq!(line_of(text, "onboarding.azure.client_id"), Some(5));
        assert_eq!(line_of(text, "outputs[0].roles"), Some(8));
        assert_eq!(line_of(text, "storage"), None);
        let e = Source::new("f.yaml", text).invalid("onboarding.token", "bad");
        assert_eq!(e.to_string(), "invalid config f.yaml: onboarding.token (line 3): bad");
        assert_eq!(e.key(), Some("onboarding.token"));
    }
}
