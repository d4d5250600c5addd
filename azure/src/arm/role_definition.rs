//! `Microsoft.Authorization/roleDefinitions`: a role (built-in or custom) and the body that
//! creates a custom one.

use serde::{Deserialize, Serialize};

use super::Audit;

/// `type` of a role definition.
pub const ROLE_DEFINITION_TYPE: &str = "Microsoft.Authorization/roleDefinitions";

/// One permission block of a role definition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    /// Allowed control-plane actions (patterns with `*`).
    #[serde(default)]
    pub actions: Vec<String>,
    /// Excluded actions.
    #[serde(default)]
    pub not_actions: Vec<String>,
    /// Allowed data actions.
    #[serde(default)]
    pub data_actions: Vec<String>,
    /// Excluded data actions.
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

/// `properties` of a role definition, as ARM returns them (unset ones are `null`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinitionProperties {
    /// Display name (unique in the directory).
    #[serde(default)]
    pub role_name: String,
    /// `BuiltInRole` or `CustomRole`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Where it may be assigned.
    #[serde(default)]
    pub assignable_scopes: Vec<String>,
    /// Permissions.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Who created and last changed it, and when.
    #[serde(flatten)]
    pub audit: Audit,
}

/// A role definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDefinition {
    /// `[/subscriptions/{s}]/providers/Microsoft.Authorization/roleDefinitions/{guid}`.
    pub id: String,
    /// The GUID.
    pub name: String,
    /// Resource type ([`ROLE_DEFINITION_TYPE`]).
    #[serde(rename = "type", default)]
    pub resource_type: String,
    /// Properties.
    #[serde(default)]
    pub properties: RoleDefinitionProperties,
}

/// `properties` of the body that creates or updates a custom role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinitionRequestProperties {
    /// Display name.
    #[serde(default)]
    pub role_name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `CustomRole`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Permissions.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Where it may be assigned (the first is where it is created).
    #[serde(default)]
    pub assignable_scopes: Vec<String>,
}

/// The body of `PUT {scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDefinitionRequest {
    /// The GUID (also in the URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Properties.
    #[serde(default)]
    pub properties: RoleDefinitionRequestProperties,
}

impl RoleDefinitionRequest {
    /// A custom role `name` (a GUID) called `role_name` that allows `actions`.
    pub fn custom(
        name: &str,
        role_name: &str,
        description: &str,
        actions: &[&str],
        assignable_scopes: &[String],
    ) -> Self {
        RoleDefinitionRequest {
            name: Some(name.to_string()),
            properties: RoleDefinitionRequestProperties {
                role_name: role_name.to_string(),
                description: Some(description.to_string()),
                kind: Some("CustomRole".to_string()),
                permissions: vec![Permission {
                    actions: actions.iter().map(|a| a.to_string()).collect(),
                    ..Default::default()
                }],
                assignable_scopes: assignable_scopes.to_vec(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_json() {
        let r = RoleDefinitionRequest::custom("g", "R", "d", &["a/read"], &["/subscriptions/s".to_string()]);
        assert_eq!(
            serde_json::to_value(r).unwrap().to_string(),
            r#"{"name":"g","properties":{"assignableScopes":["/subscriptions/s"],"description":"d","permissions":[{"actions":["a/read"],"dataActions":[],"notActions":[],"notDataActions":[]}],"roleName":"R","type":"CustomRole"}}"#
        );
    }
}
