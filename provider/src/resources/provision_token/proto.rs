//! Between the model and Teleport's `ProvisionTokenV2`: a plan becomes the
//! token to upsert, and the server's token becomes state (see
//! [`crate::resources::convert`] for the *reference* both directions take).
//! The spec and status convert by their generated [`ProtoModel`]s; here is
//! what the messages cannot say: the `id`, the resource header and metadata.

use joinery_teleport::proto::types::{Metadata, ProvisionTokenV2};

use super::model::{TokenModel, TokenSpec};
use super::schema::SPEC;
use crate::resources::convert::{self, ProtoModel};
use crate::resources::metadata::ProtoMetadata;
use joinery_tfplugin::framework::{AttributePath, Diagnostics, Maybe};

/// Builds the protobuf token from a plan; `name` is the token's name. The
/// status is Teleport's: none is sent here (an update sends the server's own
/// back, see `super::ProvisionTokenResource::update`).
pub(super) fn to_proto(m: &TokenModel, name: String) -> Result<ProvisionTokenV2, Diagnostics> {
    let metadata = Metadata::from_model(&m.metadata.known_or_default(), name)?;
    let spec = m.spec.known_or_default();
    Ok(ProvisionTokenV2 {
        kind: m.kind.known().filter(|k| !k.is_empty()).cloned().unwrap_or_else(|| "token".into()),
        sub_kind: m.sub_kind.known_or_default(),
        version: m.version.known_or_default(),
        metadata: Some(metadata),
        spec: Some(spec.to_proto(&AttributePath::root(SPEC))?),
        status: None,
    })
}

/// Builds state from the server's token; `reference` is the plan, the prior
/// state, or null (the default) on import; `id` is kept from it when known.
pub(super) fn to_state(t: &ProvisionTokenV2, reference: &TokenModel) -> TokenModel {
    let m = t.metadata.clone().unwrap_or_default();
    let spec = t.spec.clone().unwrap_or_default();
    TokenModel {
        id: Maybe::Known(reference.id.known().cloned().unwrap_or_else(|| m.revision.clone())),
        kind: Maybe::Known(t.kind.clone()),
        sub_kind: convert::string(&t.sub_kind, &reference.sub_kind),
        version: Maybe::Known(t.version.clone()),
        metadata: Maybe::Known(m.to_model(&reference.metadata)),
        spec: Maybe::Known(TokenSpec::to_state(&spec, &reference.spec.known_or_default())),
        status: convert::message(t.status.as_ref(), &reference.status),
    }
}
