//! The plan-time check of `token`: does the join token admit every VM?

use joinery_teleport::proto::types::ProvisionTokenV2;

use super::ids::VmRef;
use super::schema::TOKEN;
use crate::connect::TeleportClient;
use crate::resources::provision_token;
use joinery_tfplugin::framework::{AttributePath, Diagnostics};

/// Which VMs a token's Azure rules reject, with why.
fn rejected_vms(token: &ProvisionTokenV2, vms: &[VmRef]) -> Result<Vec<String>, String> {
    let spec = token.spec.clone().unwrap_or_default();
    if !spec.join_method.eq_ignore_ascii_case("azure") {
        return Err(format!("the token's join method is {:?}, not \"azure\"", spec.join_method));
    }
    let rules = spec.azure.map(|a| a.allow).unwrap_or_default();
    Ok(vms
        .iter()
        .filter(|v| {
            !rules.iter().any(|r| {
                r.subscription.eq_ignore_ascii_case(&v.subscription)
                    && (r.resource_groups.is_empty()
                        || r.resource_groups.iter().any(|g| g.eq_ignore_ascii_case(&v.resource_group)))
            })
        })
        .map(|v| {
            format!(
                "VM {} ({}): subscription {} / resource group {} is not admitted by the token's spec.azure.allow",
                v.name, v.id, v.subscription, v.resource_group
            )
        })
        .collect())
}

/// Fails, naming each VM, unless the token named `token` admits all `vms`.
pub(super) async fn check_token(c: &TeleportClient, token: &str, vms: &[VmRef]) -> Result<(), Diagnostics> {
    let path = AttributePath::root(TOKEN);
    let t = provision_token::KIND.existing(c.client().await?.get_token(token).await, || {
        Diagnostics::attribute_error(
            path.clone(),
            "Join token not found",
            format!("No provision token named {token:?} exists (or it has expired)."),
        )
    })?;
    match rejected_vms(&t, vms) {
        Err(why) => Err(Diagnostics::attribute_error(path, "Join token does not use the azure method", why)),
        Ok(bad) if bad.is_empty() => Ok(()),
        Ok(bad) => {
            let mut d = Diagnostics::new();
            for b in bad {
                d.add_attribute_error(path.clone(), "Join token does not admit a VM", format!("Token {token:?}: {b}."));
            }
            Err(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use joinery_teleport::proto::types::{
        ProvisionTokenSpecV2, ProvisionTokenSpecV2Azure, provision_token_spec_v2_azure::Rule,
    };

    use super::super::ids::tests::{SUB, vm};
    use super::super::ids::vm_refs;
    use super::*;

    #[test]
    fn token_rules_name_each_rejected_vm() {
        let t = ProvisionTokenV2 {
            spec: Some(ProvisionTokenSpecV2 {
                join_method: "azure".into(),
                azure: Some(ProvisionTokenSpecV2Azure {
                    allow: vec![Rule { subscription: SUB.into(), resource_groups: vec!["GROUP2".into()] }],
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let vms = vm_refs(&[vm("group1", "vm-1"), vm("group2", "vm-2")]).unwrap();
        let bad = rejected_vms(&t, &vms).unwrap();
        assert_eq!(bad.len(), 1);
        assert!(bad[0].contains("VM vm-1"), "{bad:?}");
    }
}
