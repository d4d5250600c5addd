//! `Microsoft.ManagedIdentity/userAssignedIdentities`: a user-assigned managed identity and
//! the body that creates one.

use serde::{Deserialize, Serialize};

use super::Tags;

/// `type` of a user-assigned identity.
pub const IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

/// `properties` of a user-assigned identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProperties {
    /// Tenant id.
    #[serde(default)]
    pub tenant_id: String,
    /// Principal (object) id.
    #[serde(default)]
    pub principal_id: String,
    /// Client (application) id.
    #[serde(default)]
    pub client_id: String,
    /// `None` or `Regional`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation_scope: Option<String>,
}

/// A user-assigned managed identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// ARM id (ARM spells `resourcegroups` in lower case in tokens, `resourceGroups` here).
    pub id: String,
    /// Name.
    pub name: String,
    /// Resource type ([`IDENTITY_TYPE`]).
    #[serde(rename = "type", default)]
    pub resource_type: String,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// Ids.
    #[serde(default)]
    pub properties: IdentityProperties,
}

/// The body of `PUT …/userAssignedIdentities/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRequest {
    /// Region (required by ARM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}
