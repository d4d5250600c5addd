//! Attribute paths: where in a config, plan or state a diagnostic points.

use std::fmt;

/// One step of an [`AttributePath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An object attribute, `.name`.
    Attribute(String),
    /// A map element, `["key"]`.
    Key(String),
    /// A list element, `[3]`.
    Index(i64),
}

/// A path into a value, e.g. `spec.tags["env"][0]`.
///
/// Terraform shows diagnostics that carry a path next to the offending
/// line of configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AttributePath {
    /// The steps from the root object.
    pub steps: Vec<PathStep>,
}

impl AttributePath {
    /// The path to a top-level attribute.
    pub fn root(name: impl Into<String>) -> AttributePath {
        AttributePath { steps: vec![PathStep::Attribute(name.into())] }
    }

    /// A path written as [`AttributePath`] displays it (as in HCL): names
    /// with dots, list indices and quoted map keys in brackets, e.g.
    /// `metadata.name`, `outputs[1].path`, `spec.tags["env"]` (map keys
    /// containing `.` or `[` cannot be written this way).
    pub fn dotted(path: &str) -> AttributePath {
        let mut steps = Vec::new();
        for part in path.split('.') {
            let mut pieces = part.split('[');
            if let Some(name) = pieces.next() {
                steps.push(PathStep::Attribute(name.to_string()));
            }
            for element in pieces {
                let element = element.trim_end_matches(']');
                match element.parse() {
                    Ok(i) => steps.push(PathStep::Index(i)),
                    Err(_) => steps.push(PathStep::Key(element.trim_matches('"').to_string())),
                }
            }
        }
        AttributePath { steps }
    }

    /// The empty path (the whole object).
    pub fn empty() -> AttributePath {
        AttributePath::default()
    }

    /// This path extended by an attribute.
    pub fn attr(&self, name: impl Into<String>) -> AttributePath {
        self.with(PathStep::Attribute(name.into()))
    }

    /// This path extended by a map key.
    pub fn key(&self, key: impl Into<String>) -> AttributePath {
        self.with(PathStep::Key(key.into()))
    }

    /// This path extended by a list index.
    pub fn index(&self, index: usize) -> AttributePath {
        self.with(PathStep::Index(i64::try_from(index).unwrap_or(i64::MAX)))
    }

    fn with(&self, step: PathStep) -> AttributePath {
        let mut steps = self.steps.clone();
        steps.push(step);
        AttributePath { steps }
    }

    pub(crate) fn to_proto(&self) -> crate::proto::tfplugin6::AttributePath {
        use crate::proto::tfplugin6::attribute_path::{Step, step::Selector};
        crate::proto::tfplugin6::AttributePath {
            steps: self
                .steps
                .iter()
                .map(|s| Step {
                    selector: Some(match s {
                        PathStep::Attribute(n) => Selector::AttributeName(n.clone()),
                        PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                        PathStep::Index(i) => Selector::ElementKeyInt(*i),
                    }),
                })
                .collect(),
        }
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attribute(n) if i == 0 => write!(f, "{n}")?,
                PathStep::Attribute(n) => write!(f, ".{n}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(ix) => write!(f, "[{ix}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_proto() {
        let p = AttributePath::root("spec").attr("tags").key("env").index(0);
        assert_eq!(p.to_string(), r#"spec.tags["env"][0]"#);
        assert_eq!(p.to_proto().steps.len(), 4);
        assert_eq!(AttributePath::dotted("spec.tags"), AttributePath::root("spec").attr("tags"));
        assert_eq!(AttributePath::dotted(&p.to_string()), p);
        assert_eq!(AttributePath::dotted("outputs[1].path"), AttributePath::root("outputs").index(1).attr("path"));
    }
}
