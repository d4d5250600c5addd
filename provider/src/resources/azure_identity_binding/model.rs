//! The model of `teleport_azure_identity_binding` ([`BindingModel`], one
//! `Maybe` per attribute of the schema) and [`Binding`], the same facts in
//! plain types for the ARM code, with what null and unknown mean spelled
//! out once, in [`Binding::from_model`].

use serde::{Deserialize, Serialize};

use super::ids::{azure_allow, binding_id, vm_refs};
use joinery_tfplugin::framework::{Diagnostics, Maybe};

/// The resource's model.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BindingModel {
    /// `<identity id>|<vm id>,…`.
    pub id: Maybe<String>,
    /// ARM ID of the user-assigned identity.
    pub identity_id: Maybe<String>,
    /// ARM IDs of the VMs (a set).
    pub virtual_machine_ids: Maybe<Vec<String>>,
    /// `least_privilege`, `reader` or a role definition ID.
    pub role: Maybe<String>,
    /// Scope of the role assignment.
    pub scope: Maybe<String>,
    /// A join token to check at plan time.
    pub token: Maybe<String>,
    /// Client ID of the identity.
    pub client_id: Maybe<String>,
    /// Principal ID of the identity.
    pub principal_id: Maybe<String>,
    /// Tenant of the identity.
    pub tenant_id: Maybe<String>,
    /// The role assignment; null when deleted outside Terraform.
    pub role_assignment_id: Maybe<String>,
    /// The assigned role definition; null when deleted outside Terraform.
    pub role_definition_id: Maybe<String>,
    /// Rules for a token's `spec.azure.allow`.
    pub azure_allow: Maybe<Vec<AllowRule>>,
    /// What this resource created.
    pub managed: Maybe<Managed>,
}

/// One `azure_allow` rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AllowRule {
    /// Subscription ID.
    pub subscription: Maybe<String>,
    /// Resource groups, sorted.
    pub resource_groups: Maybe<Vec<String>>,
}

/// `managed = { … }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Managed {
    /// Whether this resource created the role assignment.
    pub role_assignment: Maybe<bool>,
    /// Whether this resource created the custom role.
    pub role_definition: Maybe<bool>,
    /// VMs this resource attached the identity to.
    pub virtual_machine_ids: Maybe<Vec<String>>,
}

/// Everything the state holds, in plain types.
#[derive(Debug, Clone, Default)]
pub(super) struct Binding {
    pub(super) identity_id: String,
    pub(super) vm_ids: Vec<String>,
    pub(super) role: String,
    pub(super) scope: String,
    /// Kept as configured (it is only checked, never used for ARM).
    pub(super) token: Maybe<String>,
    pub(super) client_id: String,
    pub(super) principal_id: String,
    pub(super) tenant_id: String,
    pub(super) role_assignment_id: Option<String>,
    pub(super) role_definition_id: Option<String>,
    pub(super) managed_assignment: bool,
    pub(super) managed_definition: bool,
    pub(super) managed_vms: Vec<String>,
}

impl Binding {
    /// From a plan or state. Not known yet reads as not set: at apply only
    /// computed attributes can be unknown, and those are recomputed.
    pub(super) fn from_model(m: &BindingModel) -> Binding {
        let managed = m.managed.known_or_default();
        Binding {
            identity_id: m.identity_id.known_or_default(),
            vm_ids: m.virtual_machine_ids.known_or_default(),
            role: m.role.known().cloned().unwrap_or_else(|| "least_privilege".to_string()),
            scope: m.scope.known_or_default(),
            token: m.token.clone(),
            client_id: m.client_id.known_or_default(),
            principal_id: m.principal_id.known_or_default(),
            tenant_id: m.tenant_id.known_or_default(),
            role_assignment_id: m.role_assignment_id.known().cloned(),
            role_definition_id: m.role_definition_id.known().cloned(),
            managed_assignment: managed.role_assignment.known_or_default(),
            managed_definition: managed.role_definition.known_or_default(),
            managed_vms: managed.virtual_machine_ids.known_or_default(),
        }
    }

    /// The state; `id` and `azure_allow` follow from the identity and VMs.
    pub(super) fn to_model(&self) -> Result<BindingModel, Diagnostics> {
        let vms = vm_refs(&self.vm_ids)?;
        Ok(BindingModel {
            id: Maybe::Known(binding_id(&self.identity_id, &self.vm_ids)),
            identity_id: Maybe::Known(self.identity_id.clone()),
            virtual_machine_ids: Maybe::Known(self.vm_ids.clone()),
            role: Maybe::Known(self.role.clone()),
            scope: Maybe::Known(self.scope.clone()),
            token: self.token.clone(),
            client_id: Maybe::Known(self.client_id.clone()),
            principal_id: Maybe::Known(self.principal_id.clone()),
            tenant_id: Maybe::Known(self.tenant_id.clone()),
            role_assignment_id: self.role_assignment_id.clone().into(),
            role_definition_id: self.role_definition_id.clone().into(),
            azure_allow: Maybe::Known(azure_allow(&vms)),
            managed: Maybe::Known(Managed {
                role_assignment: Maybe::Known(self.managed_assignment),
                role_definition: Maybe::Known(self.managed_definition),
                virtual_machine_ids: Maybe::Known(self.managed_vms.clone()),
            }),
        })
    }
}
