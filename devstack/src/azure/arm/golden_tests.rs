//! The emulator's ARM bodies, byte for byte: these texts are what the emulator answered
//! before its bodies became `joinery_azure::arm` types (keys sorted, `null`s kept, optional
//! blocks omitted), so a change to the wire types that alters the emulator's answers fails here.

use serde_json::json;

use crate::azure::rbac::{self, Permission};
use crate::azure::state::{
    ArmState, Identity, ResourceGroup, RoleAssignment, RoleDefinition, ServicePrincipal, Subscription, SystemIdentity,
    Vm,
};

fn state() -> ArmState {
    let uami = Identity {
        subscription: "s1".into(),
        resource_group: "G".into(),
        name: "id1".into(),
        location: "eastus".into(),
        client_id: "c1".into(),
        principal_id: "p1".into(),
        tags: [("k".to_string(), json!("v"))].into_iter().collect(),
        replicated_at_ms: None,
    };
    let vm = |name: &str, vm_id: &str, location: &str| Vm {
        subscription: "s1".into(),
        resource_group: "G".into(),
        name: name.into(),
        vm_id: vm_id.into(),
        location: location.into(),
        system_assigned: None,
        user_assigned: vec![],
        generation: 1,
    };
    let mut vm1 = vm("vm1", "v1", "eastus");
    vm1.system_assigned = Some(SystemIdentity { principal_id: "sp".into(), client_id: "sc".into() });
    vm1.user_assigned = vec![
        uami.arm_id(),
        "/subscriptions/s1/resourceGroups/G/providers/Microsoft.ManagedIdentity/userAssignedIdentities/gone".into(),
    ];
    ArmState {
        fixture_digest: String::new(),
        tenant_id: "t1".into(),
        subscriptions: vec![Subscription { id: "s1".into(), name: "Sub".into() }],
        resource_groups: vec![ResourceGroup { subscription: "s1".into(), name: "G".into(), location: "eastus".into() }],
        vms: vec![vm1, vm("vm2", "v2", "westus")],
        identities: vec![uami],
        role_assignments: vec![],
        role_definitions: vec![],
        service_principals: vec![ServicePrincipal {
            name: "n".into(),
            client_id: "c".into(),
            client_secret: "x".into(),
            principal_id: "p".into(),
            certificates: vec![],
            federated_credentials: vec![],
        }],
        removed_assignments: vec![],
    }
}

/// The text the emulator sends for `v` (through `Value`, as `http::json` does).
fn text(v: impl serde::Serialize) -> String {
    serde_json::to_value(v).unwrap().to_string()
}

#[test]
fn virtual_machines() {
    let s = state();
    assert_eq!(text(super::vms::resource(&s, &s.vms[0])), VM1);
    assert_eq!(text(super::vms::resource(&s, &s.vms[1])), VM2);
}

#[test]
fn identities() {
    let s = state();
    assert_eq!(text(super::identities::resource(&s, &s.identities[0])), ID);
}

#[test]
fn role_assignments() {
    let a = RoleAssignment {
        name: "n1".into(),
        scope: "/subscriptions/s1/resourceGroups/G".into(),
        role_definition: "r1".into(),
        principal_id: "p1".into(),
        principal_type: "ServicePrincipal".into(),
        description: None,
        created_on: "2020".into(),
        effective_at_ms: None,
    };
    assert_eq!(text(super::role_assignments::resource(&a)), RA1);
    let a2 = RoleAssignment { description: Some("d".into()), scope: "/".into(), ..a };
    assert_eq!(text(super::role_assignments::resource(&a2)), RA2);
}

#[test]
fn role_definitions() {
    assert_eq!(text(super::role_definitions::builtin("/subscriptions/s1", &rbac::BUILTIN_ROLES[1])), BI);
    assert_eq!(text(super::role_definitions::builtin("/", &rbac::BUILTIN_ROLES[2])), BI2);
    let d = RoleDefinition {
        name: "d1".into(),
        scope: "/subscriptions/s1".into(),
        role_name: "R".into(),
        description: "desc".into(),
        permissions: vec![Permission { actions: vec!["a".into()], ..Default::default() }],
        assignable_scopes: vec!["/subscriptions/s1".into()],
    };
    assert_eq!(text(super::role_definitions::custom("/subscriptions/s1", &d)), CU);
}

const VM1: &str = r#"{"id":"/subscriptions/s1/resourceGroups/G/providers/Microsoft.Compute/virtualMachines/vm1","identity":{"principalId":"sp","tenantId":"t1","type":"SystemAssigned, UserAssigned","userAssignedIdentities":{"/subscriptions/s1/resourceGroups/G/providers/Microsoft.ManagedIdentity/userAssignedIdentities/gone":{},"/subscriptions/s1/resourceGroups/G/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1":{"clientId":"c1","principalId":"p1"}}},"location":"eastus","name":"vm1","properties":{"hardwareProfile":{"vmSize":"Standard_B1s"},"osProfile":{"adminUsername":"azureuser","computerName":"vm1"},"provisioningState":"Succeeded","vmId":"v1"},"tags":{},"type":"Microsoft.Compute/virtualMachines"}"#;
const VM2: &str = r#"{"id":"/subscriptions/s1/resourceGroups/G/providers/Microsoft.Compute/virtualMachines/vm2","location":"westus","name":"vm2","properties":{"hardwareProfile":{"vmSize":"Standard_B1s"},"osProfile":{"adminUsername":"azureuser","computerName":"vm2"},"provisioningState":"Succeeded","vmId":"v2"},"tags":{},"type":"Microsoft.Compute/virtualMachines"}"#;
const ID: &str = r#"{"id":"/subscriptions/s1/resourceGroups/G/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1","location":"eastus","name":"id1","properties":{"clientId":"c1","isolationScope":"None","principalId":"p1","tenantId":"t1"},"tags":{"k":"v"},"type":"Microsoft.ManagedIdentity/userAssignedIdentities"}"#;
const RA1: &str = r#"{"id":"/subscriptions/s1/resourceGroups/G/providers/Microsoft.Authorization/roleAssignments/n1","name":"n1","properties":{"condition":null,"conditionVersion":null,"createdBy":null,"createdOn":"2020","delegatedManagedIdentityResourceId":null,"description":null,"principalId":"p1","principalType":"ServicePrincipal","roleDefinitionId":"/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/r1","scope":"/subscriptions/s1/resourceGroups/G","updatedBy":null,"updatedOn":"2020"},"type":"Microsoft.Authorization/roleAssignments"}"#;
const RA2: &str = r#"{"id":"/providers/Microsoft.Authorization/roleAssignments/n1","name":"n1","properties":{"condition":null,"conditionVersion":null,"createdBy":null,"createdOn":"2020","delegatedManagedIdentityResourceId":null,"description":"d","principalId":"p1","principalType":"ServicePrincipal","roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/r1","scope":"/","updatedBy":null,"updatedOn":"2020"},"type":"Microsoft.Authorization/roleAssignments"}"#;
const BI: &str = r#"{"id":"/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c","name":"b24988ac-6180-42a0-ab88-20f7382dd24c","properties":{"assignableScopes":["/"],"createdBy":null,"createdOn":"2015-02-02T21:55:09.8806423Z","description":"Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.","permissions":[{"actions":["*"],"dataActions":[],"notActions":["Microsoft.Authorization/*/Delete","Microsoft.Authorization/*/Write","Microsoft.Authorization/elevateAccess/Action"],"notDataActions":[]}],"roleName":"Contributor","type":"BuiltInRole","updatedBy":null,"updatedOn":"2021-11-11T20:13:47.8628684Z"},"type":"Microsoft.Authorization/roleDefinitions"}"#;
const BI2: &str = r#"{"id":"/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7","name":"acdd72a7-3385-48ef-bd42-f606fba81ae7","properties":{"assignableScopes":["/"],"createdBy":null,"createdOn":"2015-02-02T21:55:09.8806423Z","description":"View all resources, but does not allow you to make any changes.","permissions":[{"actions":["*/read"],"dataActions":[],"notActions":[],"notDataActions":[]}],"roleName":"Reader","type":"BuiltInRole","updatedBy":null,"updatedOn":"2021-11-11T20:13:47.8628684Z"},"type":"Microsoft.Authorization/roleDefinitions"}"#;
const CU: &str = r#"{"id":"/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/d1","name":"d1","properties":{"assignableScopes":["/subscriptions/s1"],"createdBy":null,"createdOn":null,"description":"desc","permissions":[{"actions":["a"],"dataActions":[],"notActions":[],"notDataActions":[]}],"roleName":"R","type":"CustomRole","updatedBy":null,"updatedOn":null},"type":"Microsoft.Authorization/roleDefinitions"}"#;
