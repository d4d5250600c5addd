//! Pure helpers on ARM IDs: VM IDs parsed into their parts, the default
//! scope covering a set of VMs, the `azure.allow` rules admitting them, role
//! definition GUIDs and the stable GUIDs that make every write idempotent.

use std::collections::BTreeMap;

use joinery_azure::arm::VirtualMachine;
use joinery_azure::resource_id::ResourceId;
use joinery_azure::resource_id::same_resource;
use sha2::{Digest, Sha256};

use super::model::AllowRule;
use super::schema::{SCOPE, VIRTUAL_MACHINE_IDS};
use joinery_tfplugin::framework::{AttributePath, Diagnostics, Maybe};

/// Built-in Reader.
pub(super) const READER_ROLE_GUID: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

/// The GUID of a role definition ID, if it is one.
pub(super) fn role_guid(id: &str) -> Option<String> {
    let (prefix, guid) = id.trim_end_matches('/').rsplit_once('/')?;
    (prefix.to_ascii_lowercase().ends_with("/providers/microsoft.authorization/roledefinitions")
        && joinery_util::guid::is_guid(guid))
    .then(|| guid.to_ascii_lowercase())
}

/// A GUID derived from `parts` (stable names make every write idempotent).
pub(super) fn stable_guid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.to_ascii_lowercase().as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &x[0..8], &x[8..12], &x[12..16], &x[16..20], &x[20..32])
}

/// A VM ID and its parts.
pub(super) struct VmRef {
    pub(super) id: String,
    pub(super) subscription: String,
    pub(super) resource_group: String,
    pub(super) name: String,
}

fn vm_ref(id: &str) -> Result<VmRef, Diagnostics> {
    let bad = |m: String| Diagnostics::attribute_error(AttributePath::root(VIRTUAL_MACHINE_IDS), "Invalid VM ID", m);
    let r = ResourceId::parse(id).map_err(|e| bad(e.to_string()))?;
    match (r.subscription.clone(), r.resource_group.clone(), r.is_virtual_machine()) {
        (Some(s), Some(g), true) => Ok(VmRef {
            id: id.to_string(),
            subscription: s,
            resource_group: g,
            name: r.name().unwrap_or_default().to_string(),
        }),
        _ => Err(bad(format!("{id:?} is not the ARM ID of a virtual machine."))),
    }
}

pub(super) fn vm_refs(ids: &[String]) -> Result<Vec<VmRef>, Diagnostics> {
    ids.iter().map(|i| vm_ref(i)).collect()
}

/// The narrowest scope covering the VMs.
pub(super) fn default_scope(vms: &[VmRef]) -> Result<String, Diagnostics> {
    let Some(first) = vms.first() else {
        return Err(Diagnostics::attribute_error(
            AttributePath::root(VIRTUAL_MACHINE_IDS),
            "No VMs",
            "virtual_machine_ids needs at least one VM.",
        ));
    };
    if vms.len() == 1 {
        return Ok(first.id.trim_end_matches('/').to_string());
    }
    let same_sub = vms.iter().all(|v| v.subscription.eq_ignore_ascii_case(&first.subscription));
    if !same_sub {
        return Err(Diagnostics::attribute_error(
            AttributePath::root(SCOPE),
            "Scope needed",
            "The VMs are in several subscriptions; set scope (for example a management group) explicitly.",
        ));
    }
    if vms.iter().all(|v| v.resource_group.eq_ignore_ascii_case(&first.resource_group)) {
        return Ok(format!("/subscriptions/{}/resourceGroups/{}", first.subscription, first.resource_group));
    }
    Ok(format!("/subscriptions/{}", first.subscription))
}

/// `{subscription, resource_groups}` rules admitting exactly the VMs.
pub(super) fn azure_allow(vms: &[VmRef]) -> Vec<AllowRule> {
    let mut subs: BTreeMap<String, (String, BTreeMap<String, String>)> = BTreeMap::new();
    for v in vms {
        let e = subs
            .entry(v.subscription.to_ascii_lowercase())
            .or_insert_with(|| (v.subscription.clone(), BTreeMap::new()));
        e.1.entry(v.resource_group.to_ascii_lowercase()).or_insert_with(|| v.resource_group.clone());
    }
    subs.into_values()
        .map(|(sub, groups)| AllowRule {
            subscription: Maybe::Known(sub),
            resource_groups: Maybe::Known(groups.into_values().collect()),
        })
        .collect()
}

/// The resource's `id`: the identity and the VMs, sorted.
pub(super) fn binding_id(identity: &str, vms: &[String]) -> String {
    let mut v = vms.to_vec();
    v.sort_by_key(|s| s.to_ascii_lowercase());
    format!("{identity}|{}", v.join(","))
}

/// The subscription a scope is in, if any.
pub(super) fn subscription_of_scope(scope: &str) -> Option<String> {
    let segs: Vec<&str> = scope.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        [s, id, ..] if s.eq_ignore_ascii_case("subscriptions") && !id.is_empty() => Some(id.to_string()),
        _ => None,
    }
}

/// The built-in Reader's role definition ID in `scope`'s subscription (tenant-wide above one).
pub(super) fn reader_role_id(scope: &str) -> String {
    match subscription_of_scope(scope) {
        Some(s) => format!("/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{READER_ROLE_GUID}"),
        None => format!("/providers/Microsoft.Authorization/roleDefinitions/{READER_ROLE_GUID}"),
    }
}

/// Whether the VM carries the user-assigned identity.
pub(super) fn has_identity(vm: &VirtualMachine, identity_id: &str) -> bool {
    vm.identity.as_ref().is_some_and(|i| i.user_assigned_identities.keys().any(|k| same_resource(k, identity_id)))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in super::super) const SUB: &str = "11111111-2222-3333-4444-555555555555";

    pub(in super::super) fn vm(rg: &str, name: &str) -> String {
        format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}")
    }

    #[test]
    fn scope_and_allow() {
        let one = vm_refs(&[vm("group1", "vm-1")]).unwrap();
        assert_eq!(default_scope(&one).unwrap(), vm("group1", "vm-1"));
        let two = vm_refs(&[vm("group1", "vm-1"), vm("Group1", "vm-3")]).unwrap();
        assert_eq!(default_scope(&two).unwrap(), format!("/subscriptions/{SUB}/resourceGroups/group1"));
        let three = vm_refs(&[vm("group1", "vm-1"), vm("group2", "vm-2"), vm("GROUP1", "vm-3")]).unwrap();
        assert_eq!(default_scope(&three).unwrap(), format!("/subscriptions/{SUB}"));
        let rules = azure_allow(&three);
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].resource_groups.known().unwrap(), &["group1", "group2"]);
    }

    #[test]
    fn stable_guids_and_role_ids() {
        let a = stable_guid(&["x", "Y"]);
        assert_eq!(a, stable_guid(&["X", "y"]));
        assert!(joinery_util::guid::is_guid(&a));
        assert_eq!(
            role_guid(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{READER_ROLE_GUID}"
            )),
            Some(READER_ROLE_GUID.to_string())
        );
        assert_eq!(role_guid("reader"), None);
    }
}
