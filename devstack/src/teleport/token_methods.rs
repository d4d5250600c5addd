//! Teleport's rules for each join method's part of a token (v18's
//! `api/types/provisioning.go`: the `CheckAndSetDefaults` switch and each
//! `ProvisionTokenSpecV2<Method>.checkAndSetDefaults`), with Teleport's
//! messages and the way its `trace` errors render them on the wire.
//!
//! One function per method (long because Teleport has sixteen); [`check`]
//! is the switch. Defaults Teleport fills
//! in (a GitLab domain, a Kubernetes type, a bound keypair's recovery limit
//! and registration secret) are filled in here too, so what the devstack
//! stores is what a cluster stores.

use joinery_teleport::proto::types::{
    ProvisionTokenSpecV2, ProvisionTokenSpecV2Bitbucket, ProvisionTokenSpecV2BoundKeypair,
    ProvisionTokenSpecV2CircleCi, ProvisionTokenSpecV2GitHub, ProvisionTokenSpecV2GitLab,
    ProvisionTokenSpecV2Kubernetes, ProvisionTokenSpecV2Oracle, ProvisionTokenSpecV2Spacelift,
    ProvisionTokenSpecV2TerraformCloud, ProvisionTokenSpecV2gcp, ProvisionTokenSpecV2tpm, ProvisionTokenStatusV2,
    ProvisionTokenV2, provision_token_spec_v2_bound_keypair,
};

/// Join methods a token may name.
pub const JOIN_METHODS: &[&str] = &[
    "token",
    "ec2",
    "iam",
    "github",
    "circleci",
    "kubernetes",
    "azure",
    "gitlab",
    "gcp",
    "spacelift",
    "tpm",
    "terraform_cloud",
    "bitbucket",
    "oracle",
    "azure_devops",
    "bound_keypair",
];

pub(super) use super::trace::TraceError;

type Check = Result<(), TraceError>;

fn bad(message: impl Into<String>) -> Check {
    Err(TraceError::bad(message))
}

/// The join-method part of `ProvisionTokenV2.CheckAndSetDefaults`, from the
/// join method's default on; fills in Teleport's defaults.
pub(super) fn check(token: &mut ProvisionTokenV2) -> Check {
    let spec = token.spec.get_or_insert_with(Default::default);
    let has_allow_rules = !spec.allow.is_empty();
    if spec.join_method.is_empty() {
        spec.join_method = if has_allow_rules { "ec2" } else { "token" }.into();
    }
    match spec.join_method.as_str() {
        "token" if has_allow_rules => bad("allow rules are not compatible with the \"token\" join method"),
        "token" => Ok(()),
        "ec2" => ec2(spec),
        "iam" => iam(spec),
        "github" => match &spec.git_hub {
            None => bad("\"github\" configuration must be provided for join method \"github\""),
            Some(c) => github(c),
        },
        "circleci" => match &spec.circle_ci {
            None => bad("\"cirleci\" configuration must be provided for join method \"circleci\""),
            Some(c) => circleci(c),
        },
        "kubernetes" => match spec.kubernetes.as_mut() {
            None => bad("\"kubernetes\" configuration must be provided for the join method \"kubernetes\""),
            Some(c) => kubernetes(c).map_err(|e| e.wrap("spec.kubernetes:")),
        },
        "azure" => match &spec.azure {
            None => bad("\"azure\" configuration must be provided for the join method \"azure\""),
            Some(c) if c.allow.is_empty() => bad("the \"azure\" join method requires defined azure allow rules"),
            Some(c) if c.allow.iter().any(|r| r.subscription.is_empty()) => {
                bad("the \"azure\" join method requires azure allow rules with non-empty subscription")
            }
            Some(_) => Ok(()),
        },
        "gitlab" => match spec.git_lab.as_mut() {
            None => bad("\"gitlab\" configuration must be provided for the join method \"gitlab\""),
            Some(c) => gitlab(c),
        },
        "gcp" => match &spec.gcp {
            None => bad("\"gcp\" configuration must be provided for the join method \"gcp\""),
            Some(c) => gcp(c),
        },
        "spacelift" => match &spec.spacelift {
            None => bad("spec.spacelift: must be configured for the join method \"spacelift\""),
            Some(c) => spacelift(c).map_err(|e| e.wrap("spec.spacelift: failed validation")),
        },
        "tpm" => match &spec.tpm {
            None => bad("spec.tpm: must be configured for the join method \"tpm\""),
            Some(c) => tpm(c).map_err(|e| e.wrap("spec.tpm: failed validation")),
        },
        "terraform_cloud" => match &spec.terraform_cloud {
            None => bad("spec.terraform_cloud: must be configured for the join method \"terraform_cloud\""),
            Some(c) => terraform_cloud(c).map_err(|e| e.wrap("spec.terraform_cloud: failed validation")),
        },
        "bitbucket" => match &spec.bitbucket {
            None => bad("spec.bitbucket: must be configured for the join method \"bitbucket\""),
            Some(c) => bitbucket(c).map_err(|e| e.wrap("spec.bitbucket: failed validation")),
        },
        "oracle" => match &spec.oracle {
            None => bad("spec.oracle: must be configured for the join method \"oracle\""),
            Some(c) => oracle(c).map_err(|e| e.wrap("spec.oracle: failed validation")),
        },
        "azure_devops" => match &spec.azure_devops {
            None => bad("spec.azure_devops: must be configured for the join method \"azure_devops\""),
            Some(c) => azure_devops(c).map_err(|e| e.wrap("spec.azure_devops: failed validation")),
        },
        "bound_keypair" => {
            bound_keypair(spec.bound_keypair.get_or_insert_with(Default::default));
            let spec = spec.bound_keypair.clone().unwrap_or_default();
            registration_secret(&spec, token.status.get_or_insert_with(Default::default));
            Ok(())
        }
        other => bad(format!("unknown join method {other:?}")),
    }
}

fn ec2(spec: &mut ProvisionTokenSpecV2) -> Check {
    if spec.allow.is_empty() {
        return bad("the \"ec2\" join method requires defined token allow rules");
    }
    for rule in &spec.allow {
        if !rule.awsarn.is_empty() {
            return bad("the \"ec2\" join method does not support the \"aws_arn\" parameter");
        }
        if rule.aws_account.is_empty() && rule.aws_role.is_empty() {
            return bad("allow rule for \"ec2\" join method must set \"aws_account\" or \"aws_role\"");
        }
    }
    if spec.awsiidttl == 0 {
        // Teleport's default: five minutes.
        spec.awsiidttl = 5 * 60 * 1_000_000_000;
    }
    Ok(())
}

fn iam(spec: &ProvisionTokenSpecV2) -> Check {
    if spec.allow.is_empty() {
        return bad("the \"iam\" join method requires defined token allow rules");
    }
    for rule in &spec.allow {
        if !rule.aws_role.is_empty() {
            return bad("the \"iam\" join method does not support the \"aws_role\" parameter");
        }
        if !rule.aws_regions.is_empty() {
            return bad("the \"iam\" join method does not support the \"aws_regions\" parameter");
        }
        if rule.aws_account.is_empty() && rule.awsarn.is_empty() {
            // Teleport names the ec2 method in this message.
            return bad("allow rule for \"ec2\" join method must set \"aws_account\" or \"aws_arn\"");
        }
    }
    Ok(())
}

fn github(c: &ProvisionTokenSpecV2GitHub) -> Check {
    if c.allow.is_empty() {
        return bad("the \"github\" join method requires at least one token allow rule");
    }
    if c.allow.iter().any(|r| r.sub.is_empty() && r.repository_owner.is_empty() && r.repository.is_empty()) {
        return bad(
            "allow rule for \"github\" must include at least one of \"repository\", \"repository_owner\" or \"sub\"",
        );
    }
    if c.enterprise_server_host.contains('/') {
        return bad("'spec.github.enterprise_server_host' should not contain the scheme or path");
    }
    if !c.enterprise_server_host.is_empty() && !c.enterprise_slug.is_empty() {
        return bad("'spec.github.enterprise_server_host' and `spec.github.enterprise_slug` cannot both be set");
    }
    Ok(())
}

fn circleci(c: &ProvisionTokenSpecV2CircleCi) -> Check {
    if c.allow.is_empty() {
        return bad("the \"circleci\" join method requires at least one token allow rule");
    }
    if c.organization_id.is_empty() {
        return bad("the \"circleci\" join method requires 'organization_id' to be set");
    }
    if c.allow.iter().any(|r| r.project_id.is_empty() && r.context_id.is_empty()) {
        return bad("allow rule for \"circleci\" must include at least \"project_id\" or \"context_id\"");
    }
    Ok(())
}

fn kubernetes(c: &mut ProvisionTokenSpecV2Kubernetes) -> Check {
    if c.allow.is_empty() {
        return bad("allow: at least one rule must be set");
    }
    for (i, rule) in c.allow.iter().enumerate() {
        if rule.service_account.is_empty() {
            return bad(format!("allow[{i}].service_account: name of service account must be set"));
        }
        if rule.service_account.split(':').count() != 2 {
            return bad(format!(
                "allow[{i}].service_account: name of service account should be in format \
                 \"namespace:service_account\", got {:?} instead",
                rule.service_account
            ));
        }
    }
    if c.r#type.is_empty() {
        // Older resources had no type: they are in-cluster.
        c.r#type = "in_cluster".into();
    }
    match c.r#type.as_str() {
        "in_cluster" if c.static_jwks.is_some() => bad("static_jwks: must not be set when type is \"in_cluster\""),
        "in_cluster" => Ok(()),
        "static_jwks" => match &c.static_jwks {
            None => bad("static_jwks: must be set when type is \"static_jwks\""),
            Some(j) if j.jwks.is_empty() => bad("static_jwks.jwks: must be set when type is \"static_jwks\""),
            Some(_) => Ok(()),
        },
        "oidc" => match &c.oidc {
            // Teleport's wording ("types").
            None => bad("oidc: must be set when types is \"oidc\""),
            Some(o) if o.issuer.is_empty() => bad("oidc.issuer: must be set when type is \"oidc\""),
            Some(o) => match o.issuer.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase()).as_deref() {
                Some("http") if !o.insecure_allow_http_issuer => {
                    bad("oidc.issuer: must be https:// unless insecure_allow_http_issuer is set")
                }
                Some("http" | "https") => Ok(()),
                _ => bad("oidc.issuer: invalid URL scheme, must be https://"),
            },
        },
        other => bad(format!("type: must be one of (in_cluster, static_jwks, oidc), got {other:?}")),
    }
}

fn gitlab(c: &mut ProvisionTokenSpecV2GitLab) -> Check {
    if c.allow.is_empty() {
        return bad("the \"gitlab\" join method requires defined gitlab allow rules");
    }
    if c.allow.iter().any(|r| {
        r.sub.is_empty() && r.namespace_path.is_empty() && r.project_path.is_empty() && r.ci_config_ref_uri.is_empty()
    }) {
        return bad("the \"gitlab\" join method requires allow rules with at least one of ['sub', 'project_path', \
             'namespace_path', 'ci_config_ref_uri'] to ensure security.");
    }
    if c.domain.is_empty() {
        c.domain = "gitlab.com".into();
    } else if c.domain.contains('/') {
        return bad("'spec.gitlab.domain' should not contain the scheme or path");
    }
    Ok(())
}

fn gcp(c: &ProvisionTokenSpecV2gcp) -> Check {
    if c.allow.is_empty() {
        return bad("the \"gcp\" join method requires at least one token allow rule");
    }
    if c.allow.iter().any(|r| r.project_i_ds.is_empty()) {
        return bad("the \"gcp\" join method requires gcp allow rules with at least one project ID");
    }
    Ok(())
}

fn spacelift(c: &ProvisionTokenSpecV2Spacelift) -> Check {
    if c.hostname.is_empty() {
        return bad("hostname: should be set to the hostname of the spacelift tenant");
    }
    if c.hostname.contains('/') {
        return bad("hostname: should not contain the scheme or path");
    }
    if c.allow.is_empty() {
        return bad("allow: at least one rule must be set");
    }
    for (i, rule) in c.allow.iter().enumerate() {
        if rule.space_id.is_empty() && rule.caller_id.is_empty() {
            return bad(format!("allow[{i}]: at least one of ['space_id', 'caller_id'] must be set"));
        }
    }
    Ok(())
}

fn tpm(c: &ProvisionTokenSpecV2tpm) -> Check {
    for (i, ca) in c.ek_cert_allowed_c_as.iter().enumerate() {
        let Some(Ok(pem)) = x509_parser::pem::Pem::iter_from_buffer(ca.as_bytes()).next() else {
            return bad(format!("ekcert_allowed_cas[{i}]: no pem block found"));
        };
        if pem.label != "CERTIFICATE" {
            return bad(format!("ekcert_allowed_cas[{i}]: pem block is not 'CERTIFICATE' type"));
        }
        if pem.parse_x509().is_err() {
            return Err(TraceError::bad("x509: malformed certificate")
                .wrap(&format!("ekcert_allowed_cas[{i}]: parsing certificate")));
        }
    }
    if c.allow.is_empty() {
        return bad("allow: at least one rule must be set");
    }
    for (i, rule) in c.allow.iter().enumerate() {
        if rule.ek_public_hash.is_empty() && rule.ek_certificate_serial.is_empty() {
            return bad(format!("allow[{i}]: at least one of ['ek_public_hash', 'ek_certificate_serial'] must be set"));
        }
    }
    Ok(())
}

fn terraform_cloud(c: &ProvisionTokenSpecV2TerraformCloud) -> Check {
    if c.allow.is_empty() {
        return bad("the \"terraform_cloud\" join method requires at least one token allow rule");
    }
    // An empty audience falls back to the cluster name.
    for (i, rule) in c.allow.iter().enumerate() {
        if rule.organization_id.is_empty() && rule.organization_name.is_empty() {
            return bad(format!("allow[{i}]: one of ['organization_id', 'organization_name'] must be set"));
        }
        let project = !rule.project_id.is_empty() || !rule.project_name.is_empty();
        let workspace = !rule.workspace_id.is_empty() || !rule.workspace_name.is_empty();
        if !project && !workspace {
            return bad(format!(
                "allow[{i}]: at least one of ['project_id', 'project_name', 'workspace_id', 'workspace_name'] must \
                 be set"
            ));
        }
    }
    Ok(())
}

fn bitbucket(c: &ProvisionTokenSpecV2Bitbucket) -> Check {
    if c.allow.is_empty() {
        return bad("the \"bitbucket\" join method requires at least one token allow rule");
    }
    if c.audience.is_empty() {
        return bad("audience: an OpenID Connect Audience value is required");
    }
    if c.identity_provider_url.is_empty() {
        return bad("identity_provider_url: an identity provider URL is required");
    }
    for (i, rule) in c.allow.iter().enumerate() {
        if rule.workspace_uuid.is_empty() && rule.repository_uuid.is_empty() {
            return bad(format!("allow[{i}]: at least one of ['workspace_uuid', 'repository_uuid'] must be set"));
        }
    }
    Ok(())
}

fn oracle(c: &ProvisionTokenSpecV2Oracle) -> Check {
    if c.allow.is_empty() {
        return bad("the \"oracle\" join method requires at least one allow rule");
    }
    for (i, rule) in c.allow.iter().enumerate() {
        if rule.tenancy.is_empty() {
            return bad(format!("allow[{i}]: tenancy must be set"));
        }
    }
    Ok(())
}

fn azure_devops(c: &joinery_teleport::proto::types::ProvisionTokenSpecV2AzureDevops) -> Check {
    if c.allow.is_empty() {
        return bad("the \"azure_devops\" join method requires at least one allow rule");
    }
    if c.organization_id.is_empty() {
        return bad("organization_id: must be set");
    }
    for (i, rule) in c.allow.iter().enumerate() {
        if rule.sub.is_empty() && rule.project_name.is_empty() && rule.project_id.is_empty() {
            return bad(format!("allow[{i}]: at least one of ['sub', 'project_name', 'project_id'] must be set"));
        }
    }
    Ok(())
}

/// `ProvisionTokenSpecV2BoundKeypair.checkAndSetDefaults`: nothing to
/// refuse; an absent onboarding or recovery is empty, and a zero recovery
/// limit is one (the first join counts as a recovery).
fn bound_keypair(c: &mut ProvisionTokenSpecV2BoundKeypair) {
    c.onboarding.get_or_insert_with(Default::default);
    let recovery = c.recovery.get_or_insert_with(provision_token_spec_v2_bound_keypair::RecoverySpec::default);
    if recovery.limit == 0 {
        recovery.limit = 1;
    }
}

/// The Auth service's `populateRegistrationSecret`: unless a key is bound or
/// preregistered, or a secret was already issued, the status gets the
/// spec's registration secret or a random one.
fn registration_secret(spec: &ProvisionTokenSpecV2BoundKeypair, status: &mut ProvisionTokenStatusV2) {
    let status = status.bound_keypair.get_or_insert_with(Default::default);
    let initial_key = spec.onboarding.as_ref().map(|o| o.initial_public_key.as_str()).unwrap_or_default();
    if !status.bound_public_key.is_empty() || !initial_key.is_empty() || !status.registration_secret.is_empty() {
        return;
    }
    let configured = spec.onboarding.as_ref().map(|o| o.registration_secret.clone()).unwrap_or_default();
    status.registration_secret =
        if configured.is_empty() { hex::encode(rand::random::<[u8; 16]>()) } else { configured };
}

#[cfg(test)]
mod tests {
    use super::*;
    use joinery_teleport::proto::types::{
        ProvisionTokenSpecV2GitHub, ProvisionTokenSpecV2Kubernetes, ProvisionTokenSpecV2Spacelift, TokenRule,
        provision_token_spec_v2_git_hub, provision_token_spec_v2_kubernetes, provision_token_spec_v2_spacelift,
    };

    fn token(spec: ProvisionTokenSpecV2) -> ProvisionTokenV2 {
        ProvisionTokenV2 { spec: Some(spec), ..Default::default() }
    }

    fn message(spec: ProvisionTokenSpecV2) -> String {
        check(&mut token(spec)).unwrap_err().user_message()
    }

    #[test]
    fn each_method_needs_its_block_and_rules() {
        let method = |m: &str| ProvisionTokenSpecV2 { join_method: m.into(), ..Default::default() };
        assert_eq!(
            message(method("gitlab")),
            "\"gitlab\" configuration must be provided for the join method \"gitlab\""
        );
        assert_eq!(message(method("tpm")), "spec.tpm: must be configured for the join method \"tpm\"");
        assert_eq!(message(method("nope")), "unknown join method \"nope\"");
        let github = ProvisionTokenSpecV2 {
            git_hub: Some(ProvisionTokenSpecV2GitHub {
                allow: vec![provision_token_spec_v2_git_hub::Rule { workflow: "w".into(), ..Default::default() }],
                ..Default::default()
            }),
            ..method("github")
        };
        assert!(message(github).contains("at least one of \"repository\""));
        let iam = ProvisionTokenSpecV2 {
            allow: vec![TokenRule { aws_role: "r".into(), ..Default::default() }],
            ..method("iam")
        };
        assert_eq!(message(iam), "the \"iam\" join method does not support the \"aws_role\" parameter");
    }

    #[test]
    fn defaults_are_filled_in() {
        let mut t = token(ProvisionTokenSpecV2 {
            join_method: "kubernetes".into(),
            kubernetes: Some(ProvisionTokenSpecV2Kubernetes {
                allow: vec![provision_token_spec_v2_kubernetes::Rule { service_account: "ns:sa".into() }],
                ..Default::default()
            }),
            ..Default::default()
        });
        check(&mut t).unwrap();
        assert_eq!(t.spec.as_ref().unwrap().kubernetes.as_ref().unwrap().r#type, "in_cluster");

        let mut t = token(ProvisionTokenSpecV2 { join_method: "bound_keypair".into(), ..Default::default() });
        check(&mut t).unwrap();
        let spec = t.spec.as_ref().unwrap().bound_keypair.as_ref().unwrap();
        assert_eq!(spec.recovery.as_ref().unwrap().limit, 1);
        let secret = &t.status.as_ref().unwrap().bound_keypair.as_ref().unwrap().registration_secret;
        assert_eq!(secret.len(), 32, "a random registration secret");
        // A second write keeps the issued secret.
        let before = secret.clone();
        check(&mut t).unwrap();
        assert_eq!(t.status.unwrap().bound_keypair.unwrap().registration_secret, before);

        let spacelift = ProvisionTokenSpecV2 {
            join_method: "spacelift".into(),
            spacelift: Some(ProvisionTokenSpecV2Spacelift {
                hostname: "x.app.spacelift.io".into(),
                allow: vec![provision_token_spec_v2_spacelift::Rule { space_id: "s".into(), ..Default::default() }],
                ..Default::default()
            }),
            ..Default::default()
        };
        check(&mut token(spacelift)).unwrap();
    }
}
