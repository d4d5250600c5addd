//! The model of `teleport_provision_token`: one field per attribute of
//! [`super::schema::schema`], each a `Maybe` because any of them can be
//! unknown in a configuration or a plan.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::resources::metadata::MetadataModel;
use joinery_tfplugin::framework::Maybe;

/// The whole resource (and data source).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenModel {
    /// The revision when Terraform created or imported the token.
    pub id: Maybe<String>,
    /// Always `token`.
    pub kind: Maybe<String>,
    /// Unused by tokens.
    pub sub_kind: Maybe<String>,
    /// `v2`.
    pub version: Maybe<String>,
    /// `metadata = { … }`; `name` is the token's secret value.
    pub metadata: Maybe<MetadataModel>,
    /// `spec = { … }`.
    pub spec: Maybe<TokenSpec>,
}

/// `spec = { … }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenSpec {
    /// System roles the token grants.
    pub roles: Maybe<Vec<String>>,
    /// How joiners prove their identity.
    pub join_method: Maybe<String>,
    /// The bot the token is for.
    pub bot_name: Maybe<String>,
    /// `ec2`/`iam` rules.
    pub allow: Maybe<Vec<AwsRule>>,
    /// Go duration.
    pub aws_iid_ttl: Maybe<String>,
    /// Labels suggested to joining agents.
    pub suggested_labels: Maybe<BTreeMap<String, Vec<String>>>,
    /// Labels joining agents should match on.
    pub suggested_agent_matcher_labels: Maybe<BTreeMap<String, Vec<String>>>,
    /// `azure` join rules.
    pub azure: Maybe<AzureSpec>,
    /// `gcp` join rules.
    pub gcp: Maybe<GcpSpec>,
    /// `github` join rules.
    pub github: Maybe<GithubSpec>,
    /// `circleci` join rules.
    pub circleci: Maybe<CircleCiSpec>,
}

/// One `spec.allow` rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AwsRule {
    /// AWS account ID.
    pub aws_account: Maybe<String>,
    /// AWS regions.
    pub aws_regions: Maybe<Vec<String>>,
    /// AWS role to assume.
    pub aws_role: Maybe<String>,
    /// AWS ARN.
    pub aws_arn: Maybe<String>,
}

/// `spec.azure`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AzureSpec {
    /// The rules.
    pub allow: Maybe<Vec<AzureRule>>,
}

/// One `spec.azure.allow` rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AzureRule {
    /// Subscription GUID.
    pub subscription: Maybe<String>,
    /// Resource groups; empty admits the whole subscription.
    pub resource_groups: Maybe<Vec<String>>,
}

/// `spec.gcp`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GcpSpec {
    /// The rules.
    pub allow: Maybe<Vec<GcpRule>>,
}

/// One `spec.gcp.allow` rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GcpRule {
    /// Project IDs.
    pub project_ids: Maybe<Vec<String>>,
    /// Locations.
    pub locations: Maybe<Vec<String>>,
    /// Service account emails.
    pub service_accounts: Maybe<Vec<String>>,
}

/// `spec.github`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GithubSpec {
    /// The rules.
    pub allow: Maybe<Vec<GithubRule>>,
    /// GitHub Enterprise Server host.
    pub enterprise_server_host: Maybe<String>,
    /// GitHub Enterprise slug.
    pub enterprise_slug: Maybe<String>,
    /// Static JWKS.
    pub static_jwks: Maybe<String>,
}

/// One `spec.github.allow` rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GithubRule {
    /// `sub` claim.
    pub sub: Maybe<String>,
    /// `owner/repo`.
    pub repository: Maybe<String>,
    /// Repository owner.
    pub repository_owner: Maybe<String>,
    /// Workflow name.
    pub workflow: Maybe<String>,
    /// Deployment environment.
    pub environment: Maybe<String>,
    /// Triggering actor.
    pub actor: Maybe<String>,
    /// Git ref.
    pub r#ref: Maybe<String>,
    /// `branch` or `tag`.
    pub ref_type: Maybe<String>,
}

/// `spec.circleci`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CircleCiSpec {
    /// The rules.
    pub allow: Maybe<Vec<CircleCiRule>>,
    /// CircleCI organization ID.
    pub organization_id: Maybe<String>,
}

/// One `spec.circleci.allow` rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CircleCiRule {
    /// Project ID.
    pub project_id: Maybe<String>,
    /// Context ID.
    pub context_id: Maybe<String>,
}
