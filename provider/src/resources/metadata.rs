//! The `metadata = { … }` attribute Teleport resources share: its model,
//! and its conversion from and to Teleport's two `Metadata` messages (the
//! legacy `types.Metadata` of tokens and `teleport.header.v1.Metadata` of
//! bots), which have the same fields.

use std::collections::BTreeMap;

use joinery_teleport::proto::teleport::header::v1::Metadata as HeaderMetadata;
use joinery_teleport::proto::types::Metadata as LegacyMetadata;
use serde::{Deserialize, Serialize};

use super::convert;
use joinery_tfplugin::cty::Value;
use joinery_tfplugin::framework::{AttributePath, Diagnostics, Maybe, Validator, validators};

/// The metadata attribute's name; its `name` is what identifies the object.
pub const ATTRIBUTE: &str = "metadata";

/// The model of `metadata`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MetadataModel {
    /// `name`.
    pub name: Maybe<String>,
    /// `namespace`; the server's empty namespace reads as `default`.
    pub namespace: Maybe<String>,
    /// `description`.
    pub description: Maybe<String>,
    /// `labels`.
    pub labels: Maybe<BTreeMap<String, String>>,
    /// `expires`, RFC 3339.
    pub expires: Maybe<String>,
    /// `revision`: sent back on update when set; the server's value is not tracked.
    pub revision: Maybe<String>,
}

impl MetadataModel {
    /// The object's name from a model holding `metadata` (null and unknown read as "").
    pub fn name_of(metadata: &Maybe<MetadataModel>) -> String {
        metadata.known().map(|m| m.name.known_or_default()).unwrap_or_default()
    }

    /// The path of `metadata.<attribute>`, for diagnostics.
    pub fn path(attribute: &str) -> AttributePath {
        AttributePath::root(ATTRIBUTE).attr(attribute)
    }
}

/// `metadata.expires`: checked the way the official provider does
/// (`MustTimeBeInFuture`), at plan time.
pub fn expires_in_the_future() -> impl Validator {
    validators::from_fn("must be an RFC 3339 time in the future, without fractional seconds", |value: &Value| {
        value.as_str().and_then(|v| check_expires(v).err())
    })
}

fn check_expires(v: &str) -> Result<(), String> {
    let ts = convert::parse_time(v)?;
    if ts.nanos != 0 {
        return Err(format!("{v:?}: time must not contain fractional seconds"));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    if ts.seconds <= now as i64 {
        return Err(format!("{v:?} is in the past: it would expire before it is created. Set a future time."));
    }
    Ok(())
}

/// Either `Metadata` message.
pub trait ProtoMetadata: Sized {
    /// The state of the server's metadata; `reference` decides null versus
    /// empty and whose spelling is kept (see [`convert`]). A null reference
    /// is an import (or a data source): with no configuration to compare
    /// with, every label the server holds is shown, server-managed ones too
    /// — a configuration written for the official provider lists them.
    fn to_model(&self, reference: &Maybe<MetadataModel>) -> MetadataModel;

    /// The message for a plan, for the object named `name`.
    fn from_model(model: &MetadataModel, name: String) -> Result<Self, Diagnostics>;
}

/// One implementation for both messages: they differ only in their type.
macro_rules! proto_metadata {
    ($($message:ty),+) => {$(
        impl ProtoMetadata for $message {
            fn to_model(&self, reference: &Maybe<MetadataModel>) -> MetadataModel {
                let labels = if reference.is_null() {
                    convert::all_labels(&self.labels)
                } else {
                    convert::labels(&self.labels, &reference.known_or_default().labels)
                };
                let reference = reference.known_or_default();
                MetadataModel {
                    name: Maybe::Known(self.name.clone()),
                    namespace: Maybe::Known(if self.namespace.is_empty() {
                        "default".to_string()
                    } else {
                        self.namespace.clone()
                    }),
                    description: convert::string(&self.description, &reference.description),
                    labels,
                    expires: convert::timestamp(self.expires.as_ref(), &reference.expires),
                    revision: reference.revision.known().cloned().into(),
                }
            }

            fn from_model(model: &MetadataModel, name: String) -> Result<Self, Diagnostics> {
                let expires = match model.expires.known() {
                    Some(e) => Some(convert::parse_time(e).map_err(|m| {
                        Diagnostics::attribute_error(MetadataModel::path("expires"), "Invalid expiry time", m)
                    })?),
                    None => None,
                };
                Ok(Self {
                    name,
                    namespace: model.namespace.known_or_default(),
                    description: model.description.known_or_default(),
                    labels: model.labels.known_or_default().into_iter().collect(),
                    expires,
                    revision: model.revision.known_or_default(),
                })
            }
        }
    )+};
}

proto_metadata!(LegacyMetadata, HeaderMetadata);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_namespace_defaults_and_revision_comes_from_the_reference() {
        let server = LegacyMetadata { name: "n".into(), revision: "r9".into(), ..Default::default() };
        let m = server.to_model(&Maybe::Known(MetadataModel::default()));
        assert_eq!(m.namespace.known_str(), Some("default"));
        assert!(m.revision.is_null() && m.description.is_null() && m.labels.is_null());
        let reference = Maybe::Known(MetadataModel { revision: Maybe::Known("r1".into()), ..Default::default() });
        assert_eq!(server.to_model(&reference).revision.known_str(), Some("r1"));
    }

    #[test]
    fn server_labels_show_on_import_only() {
        let server = LegacyMetadata {
            name: "n".into(),
            labels: [("teleport.dev/origin".to_string(), "dynamic".to_string())].into(),
            ..Default::default()
        };
        assert!(server.to_model(&Maybe::Known(MetadataModel::default())).labels.is_null());
        let imported = server.to_model(&Maybe::Null).labels.known_or_default();
        assert_eq!(imported.get("teleport.dev/origin").map(String::as_str), Some("dynamic"));
    }

    #[test]
    fn bad_expiry_points_at_the_attribute() {
        let m = MetadataModel { expires: Maybe::Known("tomorrow".into()), ..Default::default() };
        let e = HeaderMetadata::from_model(&m, "n".into()).unwrap_err();
        assert_eq!(e.0[0].path.as_ref().unwrap().to_string(), "metadata.expires");
    }
}
