//! `Microsoft.Authorization/roleAssignments`: a role granted to a principal at a scope, and
//! the body that creates one.

use serde::{Deserialize, Serialize};

use super::Audit;

/// `type` of a role assignment.
pub const ROLE_ASSIGNMENT_TYPE: &str = "Microsoft.Authorization/roleAssignments";

/// `properties` of a role assignment, as ARM returns them (unset ones are `null`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentProperties {
    /// Role definition id (scoped or tenant-level; compare by the trailing GUID).
    #[serde(default)]
    pub role_definition_id: String,
    /// Principal (object) id.
    #[serde(default)]
    pub principal_id: String,
    /// `ServicePrincipal`, `User` or `Group`.
    #[serde(default)]
    pub principal_type: Option<String>,
    /// Scope.
    #[serde(default)]
    pub scope: String,
    /// ABAC condition.
    #[serde(default)]
    pub condition: Option<String>,
    /// Version of the condition language.
    #[serde(default)]
    pub condition_version: Option<String>,
    /// Who created and last changed it, and when.
    #[serde(flatten)]
    pub audit: Audit,
    /// Managed identity used for delegated assignments.
    #[serde(default)]
    pub delegated_managed_identity_resource_id: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A role assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignment {
    /// `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`.
    pub id: String,
    /// The GUID name.
    pub name: String,
    /// Resource type ([`ROLE_ASSIGNMENT_TYPE`]).
    #[serde(rename = "type", default)]
    pub resource_type: String,
    /// Properties.
    #[serde(default)]
    pub properties: RoleAssignmentProperties,
}

/// `properties` of the body that creates a role assignment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentRequestProperties {
    /// Role definition id.
    #[serde(default)]
    pub role_definition_id: String,
    /// Principal (object) id.
    #[serde(default)]
    pub principal_id: String,
    /// `ServicePrincipal`, `User` or `Group` (set it: ARM then skips a directory look-up that
    /// replication lag can fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_type: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The body of `PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignmentRequest {
    /// Properties.
    #[serde(default)]
    pub properties: RoleAssignmentRequestProperties,
}

impl RoleAssignmentRequest {
    /// Assigns `role_definition_id` to the service principal `principal_id`.
    pub fn service_principal(role_definition_id: &str, principal_id: &str, description: Option<&str>) -> Self {
        RoleAssignmentRequest {
            properties: RoleAssignmentRequestProperties {
                role_definition_id: role_definition_id.to_string(),
                principal_id: principal_id.to_string(),
                principal_type: Some("ServicePrincipal".to_string()),
                description: description.map(str::to_string),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_json() {
        let text = |d| serde_json::to_value(RoleAssignmentRequest::service_principal("r", "p", d)).unwrap().to_string();
        assert_eq!(
            text(None),
            r#"{"properties":{"principalId":"p","principalType":"ServicePrincipal","roleDefinitionId":"r"}}"#
        );
        assert_eq!(
            text(Some("d")),
            r#"{"properties":{"description":"d","principalId":"p","principalType":"ServicePrincipal","roleDefinitionId":"r"}}"#
        );
    }
}
