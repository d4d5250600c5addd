//! Builders and checks shared by the devstack's test binaries.
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

use joinery_teleport::identity::CertInfo;
use joinery_teleport::proto::teleport::header::v1::Metadata as HeaderMetadata;
use joinery_teleport::proto::teleport::machineid::v1::{Bot, BotSpec, Trait};
use joinery_teleport::proto::types::{
    Metadata, ProvisionTokenSpecV2, ProvisionTokenSpecV2Azure, ProvisionTokenV2, provision_token_spec_v2_azure,
};
use joinery_testkit::{Devstack, binary};

/// A `token`-method join token `name` for bot `bot`.
pub(crate) fn token(name: &str, bot: &str) -> ProvisionTokenV2 {
    ProvisionTokenV2 {
        kind: "token".into(),
        version: "v2".into(),
        metadata: Some(Metadata { name: name.into(), ..Default::default() }),
        spec: Some(ProvisionTokenSpecV2 {
            roles: vec!["Bot".into()],
            join_method: "token".into(),
            bot_name: bot.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An `azure`-method join token allowing `subscription` (and, if any, only `groups`).
pub(crate) fn azure_token(name: &str, bot: &str, subscription: &str, groups: &[&str]) -> ProvisionTokenV2 {
    let mut t = token(name, bot);
    if let Some(spec) = t.spec.as_mut() {
        spec.join_method = "azure".into();
        spec.azure = Some(ProvisionTokenSpecV2Azure {
            allow: vec![provision_token_spec_v2_azure::Rule {
                subscription: subscription.into(),
                resource_groups: groups.iter().map(|g| g.to_string()).collect(),
            }],
        });
    }
    t
}

/// A bot `name` with `roles` and the login `root`.
pub(crate) fn bot(name: &str, roles: &[&str]) -> Bot {
    Bot {
        kind: "bot".into(),
        version: "v1".into(),
        metadata: Some(HeaderMetadata { name: name.into(), ..Default::default() }),
        spec: Some(BotSpec {
            roles: roles.iter().map(|r| r.to_string()).collect(),
            traits: vec![Trait { name: "logins".into(), values: vec!["root".into()] }],
            max_session_ttl: None,
        }),
        ..Default::default()
    }
}

/// Checks a TLS certificate chains to the devstack's user CA, the way the
/// server checks client certificates.
pub(crate) fn verify_client_cert(stack: &Devstack, cert_pem: &str) -> CertInfo {
    stack.verify_user_cert(cert_pem)
}

/// `joinery-devstack up --dir DIR --fixture FIXTURE`, run to completion (for fixtures that
/// must make it fail).
pub(crate) fn up_with_fixture(dir: &Path, fixture: &Path) -> Output {
    std::process::Command::new(binary("joinery-devstack"))
        .args(["up", "--dir"])
        .arg(dir)
        .arg("--fixture")
        .arg(fixture)
        .output()
        .unwrap()
}
