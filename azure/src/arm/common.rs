//! What every ARM resource provider shares: the error envelope, list pages, asynchronous
//! operations, and the containers (subscriptions, resource groups).

use serde::{Deserialize, Serialize};

/// ARM's error envelope: `{"error":{"code","message"}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorDetail,
}

/// An ARM error (in the envelope, or in a failed asynchronous operation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Code, e.g. `ResourceNotFound`, `AuthorizationFailed`.
    #[serde(default)]
    pub code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
}

/// One page of a list: `{"value": [...], "nextLink": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    /// The next page's URL, when there is one.
    #[serde(rename = "nextLink", default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// The status of an asynchronous operation (`Azure-AsyncOperation` URL).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncOperation {
    /// Operation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `InProgress`, `Succeeded`, `Failed` or `Canceled`.
    #[serde(default)]
    pub status: String,
    /// Start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// End time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// A subscription.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// `/subscriptions/{id}`.
    #[serde(default)]
    pub id: String,
    /// The GUID.
    #[serde(default)]
    pub subscription_id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// `Enabled`, `Disabled`, …
    #[serde(default)]
    pub state: String,
    /// Home tenant.
    #[serde(default)]
    pub tenant_id: String,
}

/// `properties` of a resource group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroupProperties {
    /// `Succeeded`, `Deleting`, …
    #[serde(default)]
    pub provisioning_state: String,
}

/// A resource group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceGroup {
    /// ARM id.
    #[serde(default)]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// `Microsoft.Resources/resourceGroups`.
    #[serde(rename = "type", default)]
    pub resource_type: String,
    /// Region.
    #[serde(default)]
    pub location: String,
    /// Properties.
    #[serde(default)]
    pub properties: ResourceGroupProperties,
}

/// The audit fields of an RBAC object's `properties` (`null` when unknown, as ARM sends them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    /// Creation time.
    #[serde(default)]
    pub created_on: Option<String>,
    /// Last update time.
    #[serde(default)]
    pub updated_on: Option<String>,
    /// Creator's object id.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Last updater's object id.
    #[serde(default)]
    pub updated_by: Option<String>,
}
