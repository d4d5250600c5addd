//! Between the model and Teleport's `ProvisionTokenV2`: a plan becomes the
//! token to upsert, and the server's token becomes state (see
//! [`crate::resources::convert`] for the *reference* both directions take).

use std::collections::BTreeMap;
use std::time::Duration;

use joinery_teleport::proto::types::{
    Metadata, ProvisionTokenSpecV2, ProvisionTokenSpecV2Azure, ProvisionTokenSpecV2CircleCi,
    ProvisionTokenSpecV2GitHub, ProvisionTokenSpecV2gcp, ProvisionTokenV2, TokenRule, provision_token_spec_v2_azure,
    provision_token_spec_v2_circle_ci, provision_token_spec_v2_git_hub, provision_token_spec_v2gcp,
};
use joinery_teleport::proto::wrappers::{LabelValues, StringValues};

use super::model::{
    AwsRule, AzureRule, AzureSpec, CircleCiRule, CircleCiSpec, GcpRule, GcpSpec, GithubRule, GithubSpec, TokenModel,
    TokenSpec,
};
use super::schema::spec_path;
use crate::resources::convert;
use crate::resources::metadata::ProtoMetadata;
use joinery_tfplugin::framework::{Diagnostics, Maybe};

fn label_values(m: BTreeMap<String, Vec<String>>) -> Option<LabelValues> {
    if m.is_empty() {
        return None;
    }
    Some(LabelValues { values: m.into_iter().map(|(k, v)| (k, StringValues { values: v })).collect() })
}

/// A block that is set. At apply only computed attributes can be unknown, so
/// a block not known yet is taken as empty rather than absent.
fn set<T: Clone + Default>(block: &Maybe<T>) -> Option<T> {
    (!block.is_null()).then(|| block.known_or_default())
}

/// Builds the protobuf token from a plan; `name` is the token's name.
pub(super) fn to_proto(m: &TokenModel, name: String) -> Result<ProvisionTokenV2, Diagnostics> {
    let metadata = Metadata::from_model(&m.metadata.known_or_default(), name)?;
    let spec = m.spec.known_or_default();
    let aws_iid_ttl = match spec.aws_iid_ttl.known() {
        Some(d) => joinery_util::duration::parse(d)
            .map_err(|e| Diagnostics::attribute_error(spec_path("aws_iid_ttl"), "Invalid duration", e.to_string()))?
            .as_nanos() as i64,
        None => 0,
    };
    Ok(ProvisionTokenV2 {
        kind: m.kind.known().filter(|k| !k.is_empty()).cloned().unwrap_or_else(|| "token".into()),
        sub_kind: m.sub_kind.known_or_default(),
        version: m.version.known_or_default(),
        metadata: Some(metadata),
        spec: Some(ProvisionTokenSpecV2 {
            roles: spec.roles.known_or_default(),
            allow: spec
                .allow
                .known_or_default()
                .iter()
                .map(|r| TokenRule {
                    aws_account: r.aws_account.known_or_default(),
                    aws_regions: r.aws_regions.known_or_default(),
                    aws_role: r.aws_role.known_or_default(),
                    awsarn: r.aws_arn.known_or_default(),
                })
                .collect(),
            awsiidttl: aws_iid_ttl,
            join_method: spec.join_method.known_or_default(),
            bot_name: spec.bot_name.known_or_default(),
            suggested_labels: label_values(spec.suggested_labels.known_or_default()),
            suggested_agent_matcher_labels: label_values(spec.suggested_agent_matcher_labels.known_or_default()),
            azure: set(&spec.azure).map(|a| ProvisionTokenSpecV2Azure {
                allow: a
                    .allow
                    .known_or_default()
                    .iter()
                    .map(|r| provision_token_spec_v2_azure::Rule {
                        subscription: r.subscription.known_or_default(),
                        resource_groups: r.resource_groups.known_or_default(),
                    })
                    .collect(),
            }),
            gcp: set(&spec.gcp).map(|g| ProvisionTokenSpecV2gcp {
                allow: g
                    .allow
                    .known_or_default()
                    .iter()
                    .map(|r| provision_token_spec_v2gcp::Rule {
                        project_i_ds: r.project_ids.known_or_default(),
                        locations: r.locations.known_or_default(),
                        service_accounts: r.service_accounts.known_or_default(),
                    })
                    .collect(),
            }),
            git_hub: set(&spec.github).map(|g| ProvisionTokenSpecV2GitHub {
                allow: g
                    .allow
                    .known_or_default()
                    .iter()
                    .map(|r| provision_token_spec_v2_git_hub::Rule {
                        sub: r.sub.known_or_default(),
                        repository: r.repository.known_or_default(),
                        repository_owner: r.repository_owner.known_or_default(),
                        workflow: r.workflow.known_or_default(),
                        environment: r.environment.known_or_default(),
                        actor: r.actor.known_or_default(),
                        r#ref: r.r#ref.known_or_default(),
                        ref_type: r.ref_type.known_or_default(),
                    })
                    .collect(),
                enterprise_server_host: g.enterprise_server_host.known_or_default(),
                enterprise_slug: g.enterprise_slug.known_or_default(),
                static_jwks: g.static_jwks.known_or_default(),
            }),
            circle_ci: set(&spec.circleci).map(|c| ProvisionTokenSpecV2CircleCi {
                allow: c
                    .allow
                    .known_or_default()
                    .iter()
                    .map(|r| provision_token_spec_v2_circle_ci::Rule {
                        project_id: r.project_id.known_or_default(),
                        context_id: r.context_id.known_or_default(),
                    })
                    .collect(),
                organization_id: c.organization_id.known_or_default(),
            }),
            ..Default::default()
        }),
    })
}

fn map_of_lists(
    l: &Option<LabelValues>,
    reference: &Maybe<BTreeMap<String, Vec<String>>>,
) -> Maybe<BTreeMap<String, Vec<String>>> {
    let m =
        l.as_ref().map(|l| l.values.iter().map(|(k, v)| (k.clone(), v.values.clone())).collect()).unwrap_or_default();
    convert::map_of_lists(&m, reference)
}

/// Builds state from the server's token; `reference` is the plan, the prior
/// state, or null (the default) on import; `id` is kept from it when known.
pub(super) fn to_state(t: &ProvisionTokenV2, reference: &TokenModel) -> TokenModel {
    let m = t.metadata.clone().unwrap_or_default();
    let sp = t.spec.clone().unwrap_or_default();
    let rs = reference.spec.known_or_default();
    let (ra, rg, rgh, rc) = (
        rs.azure.known_or_default(),
        rs.gcp.known_or_default(),
        rs.github.known_or_default(),
        rs.circleci.known_or_default(),
    );
    let azure = sp.azure.as_ref().map(|a| AzureSpec {
        allow: convert::object_list(&a.allow, &ra.allow, |r, e: &AzureRule| AzureRule {
            subscription: convert::string(&r.subscription, &e.subscription),
            resource_groups: convert::string_list(&r.resource_groups, &e.resource_groups),
        }),
    });
    let gcp = sp.gcp.as_ref().map(|g| GcpSpec {
        allow: convert::object_list(&g.allow, &rg.allow, |r, e: &GcpRule| GcpRule {
            project_ids: convert::string_list(&r.project_i_ds, &e.project_ids),
            locations: convert::string_list(&r.locations, &e.locations),
            service_accounts: convert::string_list(&r.service_accounts, &e.service_accounts),
        }),
    });
    let github = sp.git_hub.as_ref().map(|g| GithubSpec {
        allow: convert::object_list(&g.allow, &rgh.allow, |r, e: &GithubRule| GithubRule {
            sub: convert::string(&r.sub, &e.sub),
            repository: convert::string(&r.repository, &e.repository),
            repository_owner: convert::string(&r.repository_owner, &e.repository_owner),
            workflow: convert::string(&r.workflow, &e.workflow),
            environment: convert::string(&r.environment, &e.environment),
            actor: convert::string(&r.actor, &e.actor),
            r#ref: convert::string(&r.r#ref, &e.r#ref),
            ref_type: convert::string(&r.ref_type, &e.ref_type),
        }),
        enterprise_server_host: convert::string(&g.enterprise_server_host, &rgh.enterprise_server_host),
        enterprise_slug: convert::string(&g.enterprise_slug, &rgh.enterprise_slug),
        static_jwks: convert::string(&g.static_jwks, &rgh.static_jwks),
    });
    let circleci = sp.circle_ci.as_ref().map(|c| CircleCiSpec {
        allow: convert::object_list(&c.allow, &rc.allow, |r, e: &CircleCiRule| CircleCiRule {
            project_id: convert::string(&r.project_id, &e.project_id),
            context_id: convert::string(&r.context_id, &e.context_id),
        }),
        organization_id: convert::string(&c.organization_id, &rc.organization_id),
    });
    TokenModel {
        id: Maybe::Known(reference.id.known().cloned().unwrap_or_else(|| m.revision.clone())),
        kind: Maybe::Known(t.kind.clone()),
        sub_kind: convert::string(&t.sub_kind, &reference.sub_kind),
        version: Maybe::Known(t.version.clone()),
        metadata: Maybe::Known(m.to_model(&reference.metadata.known_or_default())),
        spec: Maybe::Known(TokenSpec {
            roles: convert::string_list_ci(&sp.roles, &rs.roles),
            join_method: Maybe::Known(sp.join_method.clone()),
            bot_name: convert::string(&sp.bot_name, &rs.bot_name),
            allow: convert::object_list(&sp.allow, &rs.allow, |r, e: &AwsRule| AwsRule {
                aws_account: convert::string(&r.aws_account, &e.aws_account),
                aws_regions: convert::string_list(&r.aws_regions, &e.aws_regions),
                aws_role: convert::string(&r.aws_role, &e.aws_role),
                aws_arn: convert::string(&r.awsarn, &e.aws_arn),
            }),
            aws_iid_ttl: convert::duration(Duration::from_nanos(sp.awsiidttl.max(0) as u64), &rs.aws_iid_ttl),
            suggested_labels: map_of_lists(&sp.suggested_labels, &rs.suggested_labels),
            suggested_agent_matcher_labels: map_of_lists(
                &sp.suggested_agent_matcher_labels,
                &rs.suggested_agent_matcher_labels,
            ),
            azure: azure.into(),
            gcp: gcp.into(),
            github: github.into(),
            circleci: circleci.into(),
        }),
    }
}
