//! The schema of `teleport_azure_identity_binding`. Attributes that
//! diagnostics point at have their name as a constant, used both here and
//! in the diagnostics' paths.

use joinery_azure::resource_id::ResourceId;

use super::ids::role_guid;
use joinery_tfplugin::cty::Type;
use joinery_tfplugin::framework::{Attribute, Schema, validators};

/// `identity_id`.
pub(super) const IDENTITY_ID: &str = "identity_id";
/// `virtual_machine_ids`.
pub(super) const VIRTUAL_MACHINE_IDS: &str = "virtual_machine_ids";
/// `role`.
pub(super) const ROLE: &str = "role";
/// `scope`.
pub(super) const SCOPE: &str = "scope";
/// `token`.
pub(super) const TOKEN: &str = "token";

/// The resource schema.
pub fn schema() -> Schema {
    let id_validator = |kind: &'static str, what: &'static str| {
        validators::from_fn(what, move |value| {
            let v = value.as_str()?;
            match ResourceId::parse(v) {
                Ok(r) if r.has_type(kind) && r.subscription.is_some() && r.resource_group.is_some() => None,
                Ok(_) => Some(format!("{v:?} is not {what}.")),
                Err(e) => Some(e.to_string()),
            }
        })
    };
    Schema::new()
        .description(
            "Binds a user-assigned managed identity to Azure VMs for Teleport's `azure` join method: assigns the \
             identity a role that can read the VMs (on `scope`), attaches the identity to every VM as user-assigned \
             (other identities of the VM are left alone), and computes `azure_allow`, the rules a \
             `teleport_provision_token` needs to admit exactly these VMs.\n\n\
             With `token` set, the plan fails when that token does not admit one of the VMs, naming each VM.\n\n\
             Drift is repaired in place: a deleted role assignment or custom role, or an identity detached from a \
             VM, shows up in the next plan. A VM deleted outside Terraform produces a warning, not an error; remove \
             it from `virtual_machine_ids`.\n\n\
             Destroy removes only what this resource created (see `managed`): the role assignment, the \
             least-privilege custom role (kept while other assignments use it), and the identity from the VMs it \
             attached it to. The identity itself is never deleted.\n\n\
             Import with `terraform import teleport_azure_identity_binding.NAME '<identity id>|<vm id>[,<vm id>…][|<role>[|<scope>]]'`. \
             The imported role assignment, the VMs that already carry the identity and the least-privilege custom role \
             become managed by Terraform (and are removed on destroy).",
        )
        .attribute(Attribute::string("id").computed().description(
            "`<identity id>|<vm id>,<vm id>…` (VM IDs sorted).",
        ))
        .attribute(
            Attribute::string(IDENTITY_ID)
                .required()
                .requires_replace()
                .validator(id_validator("userAssignedIdentities", "the ARM ID of a user-assigned managed identity"))
                .description(
                    "ARM ID of the user-assigned managed identity (`/subscriptions/…/resourceGroups/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/…`). Changing it replaces the binding.",
                ),
        )
        .attribute(
            Attribute::set(VIRTUAL_MACHINE_IDS, Type::String)
                .required()
                .validator(validators::from_fn("a non-empty set of VM ARM IDs", |value| {
                    let items = value.as_elements()?;
                    if items.is_empty() {
                        return Some("at least one VM is required.".to_string());
                    }
                    items.iter().filter_map(|i| i.as_str()).find_map(|v| match ResourceId::parse(v) {
                        Ok(r) if r.is_virtual_machine() && r.subscription.is_some() && r.resource_group.is_some() => None,
                        Ok(_) => Some(format!("{v:?} is not the ARM ID of a virtual machine.")),
                        Err(e) => Some(e.to_string()),
                    })
                }))
                .description("ARM IDs of the VMs the identity is attached to and may read. Changes are applied in place (attach/detach), unless they change the computed `scope`."),
        )
        .attribute(
            Attribute::string(ROLE)
                .optional()
                .computed()
                .default("least_privilege")
                .requires_replace()
                .validator(validators::from_fn(
                    "`least_privilege`, `reader` or a role definition ID",
                    |value| {
                        let v = value.as_str()?;
                        if v == "least_privilege" || v == "reader" || role_guid(v).is_some() {
                            None
                        } else {
                            Some(format!(
                                "{v:?} must be least_privilege, reader, or a role definition ID (/subscriptions/…/providers/Microsoft.Authorization/roleDefinitions/<guid>)."
                            ))
                        }
                    },
                ))
                .description(
                    "Role assigned to the identity: `least_privilege` (default; a custom role holding only \
                     `Microsoft.Compute/virtualMachines/read`, created once per subscription as `Joinery VM Reader \
                     (<subscription>)` and reused), `reader` (built-in Reader) or an explicit role definition ID. \
                     Changing it replaces the binding.",
                ),
        )
        .attribute(
            // Replacement is decided in modify_plan, once the default scope is known.
            Attribute::string(SCOPE)
                .optional()
                .computed()
                .description(
                    "Scope of the role assignment. Defaults to the narrowest scope covering the VMs: the VM itself \
                     for one VM, their resource group, or their subscription (VMs in several subscriptions need an \
                     explicit scope). Changing it replaces the binding; set it explicitly to keep VM set changes \
                     in place.",
                ),
        )
        .attribute(Attribute::string(TOKEN).optional().description(
            "Name of a `teleport_provision_token` (join method `azure`) to check at plan time: the plan fails, \
             naming each VM, when the token's `spec.azure.allow` does not admit a VM's subscription and resource group.",
        ))
        .attribute(
            Attribute::string("client_id")
                .computed()
                .use_state_for_unknown()
                .description("Client ID of the identity (what the agent passes to IMDS)."),
        )
        .attribute(
            Attribute::string("principal_id")
                .computed()
                .use_state_for_unknown()
                .description("Principal (object) ID of the identity."),
        )
        .attribute(
            Attribute::string("tenant_id").computed().use_state_for_unknown().description("Tenant of the identity."),
        )
        .attribute(
            Attribute::string("role_assignment_id")
                .computed()
                .use_state_for_unknown()
                .description("ARM ID of the role assignment (null in state when it was deleted outside Terraform)."),
        )
        .attribute(
            Attribute::string("role_definition_id")
                .computed()
                .use_state_for_unknown()
                .description("ARM ID of the assigned role definition."),
        )
        .attribute(
            Attribute::list_nested(
                "azure_allow",
                [
                    Attribute::string("subscription").computed().description("Subscription ID."),
                    Attribute::list("resource_groups", Type::String)
                        .computed()
                        .description("Resource groups of the VMs in that subscription, sorted."),
                ],
            )
            .computed()
            .description(
                "Rules admitting exactly the VMs' subscriptions and resource groups, one per subscription; use as \
                 `spec.azure.allow` of a `teleport_provision_token`.",
            ),
        )
        .attribute(
            Attribute::single_nested(
                "managed",
                [
                    Attribute::bool("role_assignment")
                        .computed()
                        .description("Whether this resource created the role assignment (and deletes it)."),
                    Attribute::bool("role_definition")
                        .computed()
                        .description("Whether this resource created the custom role (and deletes it when unused)."),
                    Attribute::set(VIRTUAL_MACHINE_IDS, Type::String)
                        .computed()
                        .description("VMs this resource attached the identity to (and detaches it from on destroy)."),
                ],
            )
            .computed()
            .description("What this resource created, and so removes on destroy."),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_documented() {
        let s = schema();
        assert!(s.problems().is_empty(), "{:?}", s.problems());
        fn walk(a: &[Attribute]) {
            for x in a {
                assert!(!x.description.is_empty(), "{}", x.name);
                if let Some((_, n)) = x.nested_attributes() {
                    walk(n);
                }
            }
        }
        walk(&s.attributes);
    }
}
