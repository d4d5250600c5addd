//! `teleport_azure_vm` data source: one Azure VM, by ARM id or by resource group and name,
//! with what a join token and a binding need (vmId, subscription, resource group, location,
//! identities).

use async_trait::async_trait;
use joinery_azure::arm::VirtualMachine;
use joinery_azure::resource_id::ResourceId;

use serde::{Deserialize, Serialize};

use crate::azure::arm_error;
use crate::connect::TeleportClient;
use joinery_tfplugin::cty::Type;
use joinery_tfplugin::framework::{Attribute, AttributePath, DataSource, Diagnostics, Maybe, Schema};

/// The data source type name.
pub const TYPE_NAME: &str = "teleport_azure_vm";

/// `id`.
const ID: &str = "id";
/// `subscription_id`.
const SUBSCRIPTION_ID: &str = "subscription_id";

/// The schema.
pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Reads an Azure virtual machine through ARM, either by `id` or by `resource_group_name` and `name` \
             (in `subscription_id`, defaulting to the provider's `azure.subscription_id`). Needs the provider's \
             `azure` credentials and `Microsoft.Compute/virtualMachines/read` on the VM.",
        )
        .attribute(Attribute::string(ID).optional().computed().description(
            "ARM resource ID of the VM. Set either this or `resource_group_name` and `name`.",
        ))
        .attribute(Attribute::string("name").optional().computed().description("VM name."))
        .attribute(Attribute::string("resource_group_name").optional().computed().description("Resource group of the VM."))
        .attribute(Attribute::string(SUBSCRIPTION_ID).optional().computed().description(
            "Subscription of the VM. With `resource_group_name`/`name`, defaults to the provider's subscription.",
        ))
        .attribute(Attribute::string("vm_id").computed().description(
            "The VM's unique ID (`properties.vmId`), the same as IMDS `compute/vmId` and the attested document's `vmId`.",
        ))
        .attribute(Attribute::string("location").computed().description("Azure region."))
        .attribute(Attribute::string("identity_type").computed().description(
            "`SystemAssigned`, `UserAssigned`, `SystemAssigned, UserAssigned` or `None`.",
        ))
        .attribute(
            Attribute::string("principal_id")
                .computed()
                .description("Principal ID of the system-assigned identity, or null."),
        )
        .attribute(Attribute::set("identity_ids", Type::String).computed().description(
            "ARM IDs of the user-assigned identities attached to the VM.",
        ))
        .attribute(
            Attribute::list_nested(
                "identities",
                [
                    Attribute::string("id").computed().description("ARM ID of the user-assigned identity."),
                    Attribute::string("client_id").computed().description("Client ID of the identity."),
                    Attribute::string("principal_id").computed().description("Principal (object) ID of the identity."),
                ],
            )
            .computed()
            .description("The user-assigned identities attached to the VM, sorted by ID."),
        )
}

/// The data source's model: the lookup (set in configuration, so `Maybe`)
/// and what is read back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AzureVmModel {
    /// ARM ID.
    pub id: Maybe<String>,
    /// VM name.
    pub name: Maybe<String>,
    /// Resource group.
    pub resource_group_name: Maybe<String>,
    /// Subscription.
    pub subscription_id: Maybe<String>,
    /// `properties.vmId`.
    pub vm_id: Option<String>,
    /// Azure region.
    pub location: Option<String>,
    /// `SystemAssigned`, `UserAssigned`, both, or `None`.
    pub identity_type: Option<String>,
    /// The system-assigned identity's principal.
    pub principal_id: Option<String>,
    /// ARM IDs of the user-assigned identities (a set).
    pub identity_ids: Option<Vec<String>>,
    /// The user-assigned identities, sorted by ID.
    pub identities: Option<Vec<VmIdentity>>,
}

/// One user-assigned identity of the VM.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VmIdentity {
    /// ARM ID.
    pub id: Option<String>,
    /// Client ID.
    pub client_id: Option<String>,
    /// Principal (object) ID.
    pub principal_id: Option<String>,
}

/// Builds the state of a VM.
pub fn to_state(vm: &VirtualMachine) -> AzureVmModel {
    let rid = ResourceId::parse(&vm.id).ok();
    let identity = vm.identity.clone().unwrap_or_default();
    let mut ids: Vec<_> = identity.user_assigned_identities.iter().collect();
    ids.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    AzureVmModel {
        id: Maybe::Known(vm.id.clone()),
        name: Maybe::Known(vm.name.clone()),
        resource_group_name: rid.as_ref().and_then(|r| r.resource_group.clone()).into(),
        subscription_id: rid.as_ref().and_then(|r| r.subscription.clone()).into(),
        vm_id: vm.properties.vm_id.clone(),
        location: vm.location.clone(),
        identity_type: Some(identity.kind.clone().unwrap_or_else(|| "None".to_string())),
        principal_id: identity.principal_id.clone(),
        identity_ids: Some(ids.iter().map(|(k, _)| (*k).clone()).collect()),
        identities: Some(
            ids.iter()
                .map(|(k, v)| VmIdentity {
                    id: Some((*k).clone()),
                    client_id: v.client_id.clone(),
                    principal_id: v.principal_id.clone(),
                })
                .collect(),
        ),
    }
}

fn segment_ok(v: &str) -> bool {
    !v.is_empty() && !v.contains('/') && !v.contains('?') && !v.contains('#') && v != ".." && v != "."
}

/// The data source.
pub struct AzureVmDataSource;

#[async_trait]
impl DataSource<TeleportClient> for AzureVmDataSource {
    type Model = AzureVmModel;

    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &AzureVmModel, diags: &mut Diagnostics) {
        let (id, rg, name) = (&config.id, &config.resource_group_name, &config.name);
        if id.is_unknown() || rg.is_unknown() || name.is_unknown() {
            return;
        }
        match (id.known_str(), rg.known_str(), name.known_str()) {
            (Some(id), None, None) => {
                if !ResourceId::parse(id).is_ok_and(|r| r.is_virtual_machine()) {
                    diags.add_attribute_error(
                        AttributePath::root(ID),
                        "Invalid VM ID",
                        format!("{id:?} is not the ARM ID of a virtual machine (/subscriptions/…/resourceGroups/…/providers/Microsoft.Compute/virtualMachines/…)."),
                    );
                }
            }
            (None, Some(_), Some(_)) => {}
            _ => diags.add_error(
                "Invalid VM selection",
                "Set either id, or resource_group_name and name (optionally with subscription_id).",
            ),
        }
    }

    async fn read(&self, c: &TeleportClient, config: AzureVmModel) -> Result<AzureVmModel, Diagnostics> {
        let id = match (config.id.known_str(), config.resource_group_name.known_str(), config.name.known_str()) {
            (Some(id), _, _) => id.to_string(),
            (None, Some(rg), Some(name)) => {
                let sub = config
                    .subscription_id
                    .known()
                    .cloned()
                    .or_else(|| c.azure.settings.subscription_id.clone())
                    .ok_or_else(|| {
                        Diagnostics::attribute_error(
                            AttributePath::root(SUBSCRIPTION_ID),
                            "Missing subscription",
                            "Set subscription_id, or azure.subscription_id / ARM_SUBSCRIPTION_ID on the provider.",
                        )
                    })?;
                if ![sub.as_str(), rg, name].iter().all(|s| segment_ok(s)) {
                    return Err(Diagnostics::error(
                        "Invalid VM selection",
                        "subscription, resource group and name must be plain names.",
                    ));
                }
                format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}")
            }
            _ => {
                return Err(Diagnostics::error(
                    "Invalid VM selection",
                    "Set either id, or resource_group_name and name.",
                ));
            }
        };
        let arm = c.azure.arm().await?;
        let vm = arm.get_vm(&id).await.map_err(|e| {
            if e.is_not_found() {
                Diagnostics::error("Azure VM not found", format!("{id}: {e}"))
            } else {
                arm_error("reading the VM", e)
            }
        })?;
        Ok(to_state(&vm))
    }
}

#[cfg(test)]
mod tests {
    use joinery_tfplugin::framework::model::{Role, check};

    use super::*;

    #[test]
    fn model_matches_schema() {
        check::<AzureVmModel>(&schema(), Role::DataSource).unwrap();
    }
}
