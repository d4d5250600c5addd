//! ARM resource ids (`/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}...`).
//!
//! Access tokens name the VM or identity by resource id (`xms_mirid`, `xms_az_rid`), and ARM
//! returns ids in the VM listing. Azure treats the fixed segments case-insensitively and is
//! inconsistent about them (`resourcegroups` in identity ids, `resourceGroups` elsewhere), so
//! this parser matches `subscriptions`, `resourceGroups` and `providers` in any case and keeps
//! the variable segments verbatim. Comparisons of whole ids should use
//! [`ResourceId::eq_ignore_case`].

use std::fmt;

/// A parse failure, naming the offending id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ARM resource id {id:?}: {reason}")]
pub struct ResourceIdError {
    /// The id that failed to parse.
    pub id: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A parsed ARM resource id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId {
    raw: String,
    /// The subscription GUID, if the id is under a subscription.
    pub subscription: Option<String>,
    /// The resource group name, if the id is under one.
    pub resource_group: Option<String>,
    /// The provider namespace (e.g. `Microsoft.Compute`); the last one for extension resources.
    pub provider: Option<String>,
    /// Resource types from outermost to innermost (e.g. `["virtualMachines", "extensions"]`).
    pub types: Vec<String>,
    /// Resource names matching `types`.
    pub names: Vec<String>,
}

impl ResourceId {
    /// Parses an id. It must start with `/`; a trailing `/` is tolerated.
    pub fn parse(id: &str) -> Result<Self, ResourceIdError> {
        let err = |reason: &str| ResourceIdError { id: id.to_string(), reason: reason.to_string() };
        let Some(path) = id.strip_prefix('/') else {
            return Err(err("does not start with '/'"));
        };
        let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        if segs.iter().any(|s| s.is_empty()) {
            return Err(err("has an empty segment"));
        }
        let mut out = ResourceId {
            raw: id.to_string(),
            subscription: None,
            resource_group: None,
            provider: None,
            types: Vec::new(),
            names: Vec::new(),
        };
        let mut i = 0;
        if segs.len() >= 2 && segs[0].eq_ignore_ascii_case("subscriptions") {
            out.subscription = Some(segs[1].to_string());
            i = 2;
            if segs.len() >= i + 2 && segs[i].eq_ignore_ascii_case("resourceGroups") {
                out.resource_group = Some(segs[i + 1].to_string());
                i += 2;
            }
        }
        while i < segs.len() {
            if segs[i].eq_ignore_ascii_case("providers") {
                let Some(ns) = segs.get(i + 1) else {
                    return Err(err("'providers' without a namespace"));
                };
                out.provider = Some(ns.to_string());
                i += 2;
                continue;
            }
            if out.provider.is_none() {
                return Err(err("resource type outside of a provider"));
            }
            let Some(name) = segs.get(i + 1) else {
                return Err(err("resource type without a name"));
            };
            out.types.push(segs[i].to_string());
            out.names.push(name.to_string());
            i += 2;
        }
        if out.subscription.is_none() && out.provider.is_none() {
            return Err(err("neither a subscription nor a provider"));
        }
        Ok(out)
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The innermost resource name.
    pub fn name(&self) -> Option<&str> {
        self.names.last().map(String::as_str)
    }

    /// Whether any type segment equals `ty`, ignoring case.
    pub fn has_type(&self, ty: &str) -> bool {
        self.types.iter().any(|t| t.eq_ignore_ascii_case(ty))
    }

    /// Whether this id is (or is under) a VM or a VM scale set, i.e. whether it identifies the
    /// machine for Teleport's token fast path.
    pub fn is_virtual_machine(&self) -> bool {
        self.has_type("virtualMachines") || self.has_type("virtualMachineScaleSets")
    }

    /// Case-insensitive comparison of the whole id, as ARM compares ids.
    pub fn eq_ignore_case(&self, other: &ResourceId) -> bool {
        self.raw.trim_end_matches('/').eq_ignore_ascii_case(other.raw.trim_end_matches('/'))
    }
}

/// Whether two id strings name the same resource, as ARM compares ids (ignoring case and a
/// trailing `/`; [`ResourceId::eq_ignore_case`] for parsed ids). Works on ids that do not
/// parse too.
pub fn same_resource(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl std::str::FromStr for ResourceId {
    type Err = ResourceIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_id() {
        let id =
            ResourceId::parse("/subscriptions/sub-1/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm1")
                .unwrap();
        assert_eq!(id.subscription.as_deref(), Some("sub-1"));
        assert_eq!(id.resource_group.as_deref(), Some("RG"));
        assert_eq!(id.provider.as_deref(), Some("Microsoft.Compute"));
        assert_eq!(id.types, vec!["virtualMachines"]);
        assert_eq!(id.name(), Some("vm1"));
        assert!(id.is_virtual_machine());
    }

    #[test]
    fn parses_lowercase_identity_id() {
        let id = ResourceId::parse(
            "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/payments",
        )
        .unwrap();
        assert_eq!(id.resource_group.as_deref(), Some("rg"));
        assert!(!id.is_virtual_machine());
        let other = ResourceId::parse(
            "/SUBSCRIPTIONS/s/resourceGroups/RG/providers/microsoft.managedidentity/userassignedidentities/PAYMENTS/",
        )
        .unwrap();
        assert!(id.eq_ignore_case(&other));
    }

    #[test]
    fn parses_nested_and_extension() {
        let id = ResourceId::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/3",
        )
        .unwrap();
        assert_eq!(id.types, vec!["virtualMachineScaleSets", "virtualMachines"]);
        assert_eq!(id.names, vec!["ss", "3"]);
        let ext = ResourceId::parse("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/abc").unwrap();
        assert_eq!(ext.resource_group, None);
        assert_eq!(ext.name(), Some("abc"));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "subscriptions/s",
            "/",
            "/subscriptions//x",
            "/foo/bar",
            "/subscriptions/s/resourceGroups/rg/virtualMachines/x",
            "/subscriptions/s/providers/Microsoft.Compute/virtualMachines",
        ] {
            assert!(ResourceId::parse(bad).is_err(), "{bad}");
        }
    }
}
