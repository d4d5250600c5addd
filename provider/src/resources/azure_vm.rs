//! `teleport_azure_vm` data source: one Azure VM, by ARM id or by resource group and name,
//! with what a join token and a binding need (vmId, subscription, resource group, location,
//! identities).

use async_trait::async_trait;
use joinery_azure::arm::VirtualMachine;
use joinery_azure::resource_id::ResourceId;

use crate::azure::arm_error;
use crate::connect::TeleportClient;
use joinery_tfplugin::cty::{Type, Value};
use joinery_tfplugin::framework::{Attribute, AttributePath, DataSource, Diagnostics, Schema};

/// The data source type name.
pub const TYPE_NAME: &str = "teleport_azure_vm";

/// The schema.
pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Reads an Azure virtual machine through ARM, either by `id` or by `resource_group_name` and `name` \
             (in `subscription_id`, defaulting to the provider's `azure.subscription_id`). Needs the provider's \
             `azure` credentials and `Microsoft.Compute/virtualMachines/read` on the VM.",
        )
        .attribute(Attribute::string("id").optional().computed().description(
            "ARM resource ID of the VM. Set either this or `resource_group_name` and `name`.",
        ))
        .attribute(Attribute::string("name").optional().computed().description("VM name."))
        .attribute(Attribute::string("resource_group_name").optional().computed().description("Resource group of the VM."))
        .attribute(Attribute::string("subscription_id").optional().computed().description(
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

/// Builds the state of a VM.
pub fn to_state(vm: &VirtualMachine) -> Value {
    let rid = ResourceId::parse(&vm.id).ok();
    let identity = vm.identity.clone().unwrap_or_default();
    let mut ids: Vec<_> = identity.user_assigned_identities.iter().collect();
    ids.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    Value::object([
        ("id", Value::string(vm.id.clone())),
        ("name", Value::string(vm.name.clone())),
        (
            "resource_group_name",
            rid.as_ref().and_then(|r| r.resource_group.clone()).map(Value::string).unwrap_or_default(),
        ),
        ("subscription_id", rid.as_ref().and_then(|r| r.subscription.clone()).map(Value::string).unwrap_or_default()),
        ("vm_id", vm.properties.vm_id.clone().map(Value::string).unwrap_or_default()),
        ("location", vm.location.clone().map(Value::string).unwrap_or_default()),
        ("identity_type", Value::string(identity.kind.clone().unwrap_or_else(|| "None".to_string()))),
        ("principal_id", identity.principal_id.clone().map(Value::string).unwrap_or_default()),
        ("identity_ids", Value::Set(ids.iter().map(|(k, _)| Value::string((*k).clone())).collect())),
        (
            "identities",
            Value::List(
                ids.iter()
                    .map(|(k, v)| {
                        Value::object([
                            ("id", Value::string((*k).clone())),
                            ("client_id", v.client_id.clone().map(Value::string).unwrap_or_default()),
                            ("principal_id", v.principal_id.clone().map(Value::string).unwrap_or_default()),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

fn segment_ok(v: &str) -> bool {
    !v.is_empty() && !v.contains('/') && !v.contains('?') && !v.contains('#') && v != ".." && v != "."
}

/// The data source.
pub struct AzureVmDataSource;

#[async_trait]
impl DataSource<TeleportClient> for AzureVmDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let id = config.attr("id");
        let (rg, name) = (config.attr("resource_group_name"), config.attr("name"));
        if id.is_unknown() || rg.is_unknown() || name.is_unknown() {
            return;
        }
        match (id.as_str(), rg.as_str(), name.as_str()) {
            (Some(id), None, None) => {
                if !ResourceId::parse(id).is_ok_and(|r| r.is_virtual_machine()) {
                    diags.add_attribute_error(
                        AttributePath::root("id"),
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

    async fn read(&self, c: &TeleportClient, config: Value) -> Result<Value, Diagnostics> {
        let id = match (
            config.attr("id").as_str(),
            config.attr("resource_group_name").as_str(),
            config.attr("name").as_str(),
        ) {
            (Some(id), _, _) => id.to_string(),
            (None, Some(rg), Some(name)) => {
                let sub = config
                    .attr("subscription_id")
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| c.azure.settings.subscription_id.clone())
                    .ok_or_else(|| {
                        Diagnostics::attribute_error(
                            AttributePath::root("subscription_id"),
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
