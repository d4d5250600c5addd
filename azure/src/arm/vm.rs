//! `Microsoft.Compute/virtualMachines`: the VM as ARM returns it (trimmed to what Joinery and
//! the emulator use) and the identity PATCH that attaches or detaches a user-assigned
//! identity.
//!
//! ARM *merges* `identity.userAssignedIdentities` on PATCH: an entry with a value (`{}`)
//! attaches that identity, an entry set to `null` detaches it, identities not named stay. The
//! `type` must still describe the result, which is why [`VmIdentityPatch::attach`] and
//! [`VmIdentityPatch::detach`] look at the VM's current identity block.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Tags;
use crate::resource_id::same_resource;

/// `type` of a virtual machine.
pub const VM_TYPE: &str = "Microsoft.Compute/virtualMachines";

/// A user-assigned identity attached to a VM (its ids; `{}` in a PATCH).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAssignedIdentity {
    /// Principal (object) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// Client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// `identity` of a VM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmIdentity {
    /// `SystemAssigned`, `UserAssigned`, `SystemAssigned, UserAssigned` or `None` (see
    /// [`IdentityType`]; kept as ARM's text).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Principal id of the system-assigned identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// Tenant of the system-assigned identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// UAMI resource id → ids.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_assigned_identities: BTreeMap<String, UserAssignedIdentity>,
}

impl VmIdentity {
    /// Whether the VM has its system-assigned identity (`type` names `SystemAssigned`).
    pub fn has_system_assigned(&self) -> bool {
        self.kind.as_deref().is_some_and(|k| k.to_ascii_lowercase().contains("systemassigned"))
    }
}

/// `properties.hardwareProfile` of a VM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HardwareProfile {
    /// Size, e.g. `Standard_B1s`.
    #[serde(default)]
    pub vm_size: String,
}

/// `properties.osProfile` of a VM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OsProfile {
    /// Host name.
    #[serde(default)]
    pub computer_name: String,
    /// Administrator account.
    #[serde(default)]
    pub admin_username: String,
}

/// `properties` of a VM (only what Joinery and the emulator use).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmProperties {
    /// The VM's unique id (= attested `vmId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_id: Option<String>,
    /// Size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware_profile: Option<HardwareProfile>,
    /// Operating system settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_profile: Option<OsProfile>,
    /// `Succeeded`, `Updating`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
}

/// A virtual machine, as ARM returns it (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualMachine {
    /// ARM resource id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Resource type ([`VM_TYPE`]).
    #[serde(rename = "type", default)]
    pub resource_type: String,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `"N"`, changed by every write (api-version 2023-09-01 and later): sent back as
    /// `If-Match` so an update does not overwrite one made meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// Properties.
    #[serde(default)]
    pub properties: VmProperties,
    /// Identity block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<VmIdentity>,
}

/// The `type` of a VM identity block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IdentityType {
    /// No managed identity (also what an identity block without `type` means).
    #[default]
    None,
    /// Only the system-assigned identity.
    SystemAssigned,
    /// Only user-assigned identities.
    UserAssigned,
    /// Both.
    SystemAssignedUserAssigned,
}

impl IdentityType {
    /// The type with (or without) a system-assigned and user-assigned identities.
    pub fn new(system_assigned: bool, user_assigned: bool) -> Self {
        match (system_assigned, user_assigned) {
            (true, true) => IdentityType::SystemAssignedUserAssigned,
            (true, false) => IdentityType::SystemAssigned,
            (false, true) => IdentityType::UserAssigned,
            (false, false) => IdentityType::None,
        }
    }

    /// ARM's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityType::None => "None",
            IdentityType::SystemAssigned => "SystemAssigned",
            IdentityType::UserAssigned => "UserAssigned",
            IdentityType::SystemAssignedUserAssigned => "SystemAssigned, UserAssigned",
        }
    }

    /// Whether the system-assigned identity is included.
    pub fn system_assigned(self) -> bool {
        matches!(self, IdentityType::SystemAssigned | IdentityType::SystemAssignedUserAssigned)
    }

    /// Whether user-assigned identities are included.
    pub fn user_assigned(self) -> bool {
        matches!(self, IdentityType::UserAssigned | IdentityType::SystemAssignedUserAssigned)
    }
}

impl fmt::Display for IdentityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An identity type ARM does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid identity type {0:?}")]
pub struct InvalidIdentityType(pub String);

impl FromStr for IdentityType {
    type Err = InvalidIdentityType;

    /// Parses ARM's text as ARM does: case-insensitively, in either order
    /// (`UserAssigned,SystemAssigned` is both).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let system = lower.contains("systemassigned");
        let user = lower.contains("userassigned");
        if !system && !user && lower != "none" {
            return Err(InvalidIdentityType(s.to_string()));
        }
        Ok(IdentityType::new(system, user))
    }
}

impl Serialize for IdentityType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IdentityType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// The `identity` block of a VM PATCH.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmIdentityPatch {
    /// The identity type the VM has afterwards.
    #[serde(rename = "type", default)]
    pub kind: IdentityType,
    /// UAMI resource id → `Some` (`{}`) to attach, `None` (`null`) to detach; absent when the
    /// patch names no user-assigned identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_assigned_identities: Option<BTreeMap<String, Option<UserAssignedIdentity>>>,
}

impl VmIdentityPatch {
    /// Attaches `identity_id` to `vm`, keeping its system-assigned identity and (ARM merges)
    /// its other user-assigned ones:
    /// `{"type": "[SystemAssigned, ]UserAssigned", "userAssignedIdentities": {identity_id: {}}}`.
    pub fn attach(vm: &VirtualMachine, identity_id: &str) -> Self {
        let system = vm.identity.as_ref().is_some_and(VmIdentity::has_system_assigned);
        VmIdentityPatch {
            kind: IdentityType::new(system, true),
            user_assigned_identities: Some(BTreeMap::from([(
                identity_id.to_string(),
                Some(UserAssignedIdentity::default()),
            )])),
        }
    }

    /// Detaches `identity_id` from `vm`. While other user-assigned identities remain, the
    /// VM's own spelling(s) of `identity_id` are set to `null`; when none would remain, the
    /// patch only sets `type` to `SystemAssigned` or `None` (ARM refuses a `UserAssigned`
    /// type with an empty set).
    pub fn detach(vm: &VirtualMachine, identity_id: &str) -> Self {
        let current = vm.identity.clone().unwrap_or_default();
        let system = current.has_system_assigned();
        let (ours, others): (Vec<&String>, Vec<&String>) =
            current.user_assigned_identities.keys().partition(|k| same_resource(k, identity_id));
        if others.is_empty() {
            return VmIdentityPatch { kind: IdentityType::new(system, false), user_assigned_identities: None };
        }
        VmIdentityPatch {
            kind: IdentityType::new(system, true),
            user_assigned_identities: Some(ours.into_iter().map(|k| (k.clone(), None)).collect()),
        }
    }
}

/// The body of a VM PATCH (only the identity block is emulated and sent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmPatch {
    /// The identity change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<VmIdentityPatch>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const A: &str = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a";
    const A_LOWER: &str =
        "/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a";
    const B: &str = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b";

    fn vm(identity: serde_json::Value) -> VirtualMachine {
        serde_json::from_value(json!({"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v", "name": "v", "identity": identity})).unwrap()
    }

    fn bare_vm() -> VirtualMachine {
        serde_json::from_value(
            json!({"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v", "name": "v"}),
        )
        .unwrap()
    }

    /// The patch as sent: through `Value`, so keys are sorted as the client sends them.
    fn text(p: &VmIdentityPatch) -> String {
        serde_json::to_value(p).unwrap().to_string()
    }

    #[test]
    fn attach_keeps_the_system_assigned_identity() {
        let both =
            vm(json!({"type": "SystemAssigned, UserAssigned", "principalId": "p", "userAssignedIdentities": {B: {}}}));
        assert_eq!(
            text(&VmIdentityPatch::attach(&both, A)),
            format!(r#"{{"type":"SystemAssigned, UserAssigned","userAssignedIdentities":{{"{A}":{{}}}}}}"#)
        );
        let system = vm(json!({"type": "systemassigned", "principalId": "p"}));
        assert_eq!(VmIdentityPatch::attach(&system, A).kind, IdentityType::SystemAssignedUserAssigned);
        for none in [
            bare_vm(),
            vm(json!({"type": "None"})),
            vm(json!({"type": "UserAssigned", "userAssignedIdentities": {B: {}}})),
        ] {
            assert_eq!(
                text(&VmIdentityPatch::attach(&none, A)),
                format!(r#"{{"type":"UserAssigned","userAssignedIdentities":{{"{A}":{{}}}}}}"#)
            );
        }
    }

    #[test]
    fn detach_nulls_ours_and_keeps_the_others() {
        let both = vm(json!({"type": "SystemAssigned, UserAssigned", "principalId": "p",
            "userAssignedIdentities": {A_LOWER: {}, B: {}}}));
        let p = VmIdentityPatch::detach(&both, A);
        // The VM's own spelling of the id is the key.
        assert_eq!(
            text(&p),
            format!(r#"{{"type":"SystemAssigned, UserAssigned","userAssignedIdentities":{{"{A_LOWER}":null}}}}"#)
        );
        let user = vm(json!({"type": "UserAssigned", "userAssignedIdentities": {A: {}, B: {}}}));
        assert_eq!(
            text(&VmIdentityPatch::detach(&user, A)),
            format!(r#"{{"type":"UserAssigned","userAssignedIdentities":{{"{A}":null}}}}"#)
        );
    }

    #[test]
    fn detach_of_the_last_user_assigned_identity_changes_the_type() {
        let both =
            vm(json!({"type": "SystemAssigned, UserAssigned", "principalId": "p", "userAssignedIdentities": {A: {}}}));
        assert_eq!(text(&VmIdentityPatch::detach(&both, A)), r#"{"type":"SystemAssigned"}"#);
        let user = vm(json!({"type": "UserAssigned", "userAssignedIdentities": {A_LOWER: {}}}));
        assert_eq!(text(&VmIdentityPatch::detach(&user, A)), r#"{"type":"None"}"#);
        assert_eq!(text(&VmIdentityPatch::detach(&bare_vm(), A)), r#"{"type":"None"}"#);
    }

    #[test]
    fn patch_body_wraps_the_identity() {
        let body = VmPatch { identity: Some(VmIdentityPatch::detach(&bare_vm(), A)) };
        assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"identity":{"type":"None"}}"#);
        let back: VmPatch = serde_json::from_str(
            r#"{"identity":{"type":"userassigned,systemassigned","userAssignedIdentities":{"x":null,"y":{}}}}"#,
        )
        .unwrap();
        let identity = back.identity.unwrap();
        assert_eq!(identity.kind, IdentityType::SystemAssignedUserAssigned);
        assert_eq!(
            identity.user_assigned_identities.unwrap().into_iter().collect::<Vec<_>>(),
            vec![("x".to_string(), None), ("y".to_string(), Some(UserAssignedIdentity::default()))]
        );
        assert!(serde_json::from_str::<VmPatch>(r#"{"identity":{"type":"Bogus"}}"#).is_err());
        assert_eq!(
            serde_json::from_str::<VmPatch>(r#"{"identity":{}}"#).unwrap().identity.unwrap().kind,
            IdentityType::None
        );
    }

    #[test]
    fn vm_round_trips_with_optional_blocks_omitted() {
        let v = bare_vm();
        assert_eq!(v.resource_type, "");
        assert!(v.identity.is_none() && v.properties.vm_id.is_none());
        let text = serde_json::to_value(&v).unwrap().to_string();
        assert_eq!(
            text,
            r#"{"id":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v","name":"v","properties":{},"tags":{},"type":""}"#
        );
    }
}
