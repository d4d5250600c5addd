//! Azure RBAC as ARM evaluates it: role definitions hold action patterns, role assignments
//! grant a definition to a principal at a scope, and a request is allowed when some
//! assignment at the target scope or above grants the action.
//!
//! This is what makes the join's ARM fallback meaningful: a VM identity that lacks
//! `Microsoft.Compute/virtualMachines/read` on the VM's scope gets Azure's 403
//! `AuthorizationFailed`, so the verifier refuses it as Teleport would.

pub use joinery_azure::arm::Permission;

/// A built-in role.
pub struct BuiltinRole {
    /// Role definition GUID.
    pub id: &'static str,
    /// Role name.
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// Actions.
    pub actions: &'static [&'static str],
    /// Not-actions.
    pub not_actions: &'static [&'static str],
}

impl BuiltinRole {
    /// The role's one permission block.
    pub fn permissions(&self) -> Vec<Permission> {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        vec![Permission { actions: owned(self.actions), not_actions: owned(self.not_actions), ..Default::default() }]
    }
}

/// The built-in roles the emulator knows.
pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        name: "Owner",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[],
    },
    BuiltinRole {
        id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
        ],
    },
    BuiltinRole {
        id: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        name: "Reader",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"],
        not_actions: &[],
    },
    BuiltinRole {
        id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
    },
    BuiltinRole {
        id: "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
        name: "Virtual Machine Contributor",
        description: "Lets you manage virtual machines, but not access to them.",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Compute/virtualMachines/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
        ],
        not_actions: &[],
    },
];

/// A built-in role by name (case-insensitive) or GUID.
pub fn builtin_role(name_or_id: &str) -> Option<&'static BuiltinRole> {
    BUILTIN_ROLES.iter().find(|r| r.name.eq_ignore_ascii_case(name_or_id) || r.id.eq_ignore_ascii_case(name_or_id))
}

/// Whether an action pattern (with `*` wildcards) matches an action, ignoring case.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    fn glob(p: &[u8], a: &[u8]) -> bool {
        match p.split_first() {
            None => a.is_empty(),
            Some((b'*', rest)) => (0..=a.len()).any(|i| glob(rest, &a[i..])),
            Some((c, rest)) => a.first().is_some_and(|x| x.eq_ignore_ascii_case(c)) && glob(rest, &a[1..]),
        }
    }
    glob(pattern.as_bytes(), action.as_bytes())
}

/// Whether a permission set allows an action.
pub fn permissions_allow(perms: &[Permission], action: &str) -> bool {
    perms.iter().any(|p| {
        p.actions.iter().any(|a| action_matches(a, action)) && !p.not_actions.iter().any(|a| action_matches(a, action))
    })
}

/// Whether `scope` is `parent` or lies under it (segment-wise, ignoring case).
pub fn scope_covers(parent: &str, scope: &str) -> bool {
    let parent = parent.trim_end_matches('/').to_ascii_lowercase();
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    parent.is_empty() || scope == parent || scope.starts_with(&format!("{parent}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_scopes() {
        assert!(action_matches("*/read", "Microsoft.Compute/virtualMachines/read"));
        assert!(!action_matches("*/read", "Microsoft.Compute/virtualMachines/write"));
        assert!(action_matches("Microsoft.Authorization/*/Write", "microsoft.authorization/roleAssignments/write"));
        assert!(scope_covers(
            "/subscriptions/S/resourceGroups/g1",
            "/subscriptions/s/resourcegroups/G1/providers/x/y/z"
        ));
        assert!(!scope_covers("/subscriptions/S/resourceGroups/g1", "/subscriptions/S/resourceGroups/g10"));
    }
}
