//! GENERATED from Teleport's `types.ProvisionTokenV2` and the overlay in `overlay.rs` by
//! `crate::resources::protogen`; do not edit. `cargo test -p terraform-provider-teleport
//! generated` fails when this file is stale, and rewrites it with `JOINERY_REGENERATE=1`.
//!
//! The model of `teleport_provision_token`: one struct per message, a `Maybe` per attribute, the
//! attributes with their descriptions, and (for nested messages) the conversion
//! from and to the message by the rules of [`crate::resources::convert`]. It is as
//! long as Teleport's messages are; every line comes from them.

// The messages' literals end in `..Default::default()`, needed or not: a field
// added to the protos then still compiles, and the staleness test says to regenerate.
#![allow(clippy::needless_update)]

use std::collections::BTreeMap;

use joinery_teleport::proto::types as pb;
use serde::{Deserialize, Serialize};

use crate::resources::convert::{self as c, ProtoModel};
use joinery_tfplugin::cty::Type;
use joinery_tfplugin::framework::{Attribute, AttributePath, Diagnostics, Maybe, validators};

/// The whole resource (`types.ProvisionTokenV2`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenModel {
    /// The token's revision when Terraform created or imported it. Never the token name, which is secret.
    pub id: Maybe<String>,
    /// Kind is a resource kind
    pub kind: Maybe<String>,
    /// SubKind is an optional resource sub kind, used in some resources
    pub sub_kind: Maybe<String>,
    /// Version is the resource version. It must be specified. Supported values are:`v2`.
    pub version: Maybe<String>,
    /// Metadata is resource metadata
    pub metadata: Maybe<crate::resources::metadata::MetadataModel>,
    /// Spec is a provisioning token V2 spec
    pub spec: Maybe<TokenSpec>,
    /// Status is extended status information, depending on token type. It is not user writable.
    pub status: Maybe<TokenStatus>,
}

impl TokenModel {
    /// The attributes of the resource.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("id").computed().use_state_for_unknown().description(concat!(
                "The token's revision when Terraform created or imported it. Never the token ",
                "name, which is secret."
            )),
            Attribute::string("kind")
                .optional()
                .computed()
                .use_state_for_unknown()
                .description("Kind is a resource kind"),
            Attribute::string("sub_kind")
                .optional()
                .description("SubKind is an optional resource sub kind, used in some resources"),
            Attribute::string("version").required().validator(validators::one_of(["v2"])).description(concat!(
                "Version is the resource version. It must be specified. Supported values ",
                "are:`v2`."
            )),
            Attribute::single_nested("metadata", metadata_attributes())
                .optional()
                .computed()
                .use_state_for_unknown()
                .description("Metadata is resource metadata"),
            Attribute::single_nested("spec", TokenSpec::attributes())
                .required()
                .description("Spec is a provisioning token V2 spec"),
            Attribute::single_nested("status", TokenStatus::attributes())
                .optional()
                .computed()
                .plan_modifier(super::StatusFollowsJoinMethod)
                .description(concat!(
                    "Status is extended status information, depending on token type. It is not user ",
                    "writable."
                )),
        ]
    }
}

/// The attributes of `metadata` (the model is [`crate::resources::metadata::MetadataModel`]).
pub fn metadata_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string("name")
            .optional()
            .computed()
            .sensitive()
            .use_state_for_unknown()
            .requires_replace()
            .description("Name is an object name"),
        Attribute::string("namespace").optional().computed().use_state_for_unknown().description(concat!(
            "Namespace is object namespace. The field should be called \"namespace\" when it ",
            "returns in Teleport 2.4."
        )),
        Attribute::string("description").optional().description("Description is object description"),
        Attribute::map("labels", Type::String).optional().description("Labels is a set of labels"),
        Attribute::string("expires")
            .optional()
            .validator(crate::resources::metadata::expires_in_the_future())
            .description("Expires is a global expiry time header can be set on any resource in the system."),
        Attribute::string("revision").optional().description(concat!(
            "Revision is an opaque identifier which tracks the versions of a resource over ",
            "time. Clients should ignore and not alter its value but must return the ",
            "revision in any updates of a resource."
        )),
    ]
}

/// `spec` (`types.ProvisionTokenSpecV2`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenSpec {
    /// Roles is a list of roles associated with the token, that will be converted to metadata in the SSH and X509 certificates issued to the user of the token
    pub roles: Maybe<Vec<String>>,
    /// Allow is a list of TokenRules, nodes using this token must match one allow rule to use this token.
    pub allow: Maybe<Vec<AwsRule>>,
    /// AWSIIDTTL is the TTL to use for AWS EC2 Instance Identity Documents used to join the cluster with this token.
    pub aws_iid_ttl: Maybe<String>,
    /// JoinMethod is the joining method required in order to use this token. Supported joining methods include: azure, circleci, ec2, gcp, github, gitlab, iam, kubernetes, spacelift, token, tpm
    pub join_method: Maybe<String>,
    /// BotName is the name of the bot this token grants access to, if any
    pub bot_name: Maybe<String>,
    /// SuggestedLabels is a set of labels that resources should set when using this token to enroll themselves in the cluster. Currently, only node-join scripts create a configuration according to the suggestion.
    pub suggested_labels: Maybe<BTreeMap<String, Vec<String>>>,
    /// GitHub allows the configuration of options specific to the "github" join method.
    pub github: Maybe<GitHub>,
    /// CircleCI allows the configuration of options specific to the "circleci" join method.
    pub circleci: Maybe<CircleCi>,
    /// SuggestedAgentMatcherLabels is a set of labels to be used by agents to match on resources. When an agent uses this token, the agent should monitor resources that match those labels. For databases, this means adding the labels to `db_service.resources.labels`. Currently, only node-join scripts create a configuration according to the suggestion.
    pub suggested_agent_matcher_labels: Maybe<BTreeMap<String, Vec<String>>>,
    /// Kubernetes allows the configuration of options specific to the "kubernetes" join method.
    pub kubernetes: Maybe<Kubernetes>,
    /// Azure allows the configuration of options specific to the "azure" join method.
    pub azure: Maybe<Azure>,
    /// GitLab allows the configuration of options specific to the "gitlab" join method.
    pub gitlab: Maybe<GitLab>,
    /// GCP allows the configuration of options specific to the "gcp" join method.
    pub gcp: Maybe<Gcp>,
    /// Spacelift allows the configuration of options specific to the "spacelift" join method.
    pub spacelift: Maybe<Spacelift>,
    /// TPM allows the configuration of options specific to the "tpm" join method.
    pub tpm: Maybe<Tpm>,
    /// TerraformCloud allows the configuration of options specific to the "terraform_cloud" join method.
    pub terraform_cloud: Maybe<TerraformCloud>,
    /// Bitbucket allows the configuration of options specific to the "bitbucket" join method.
    pub bitbucket: Maybe<Bitbucket>,
    /// Oracle allows the configuration of options specific to the "oracle" join method.
    pub oracle: Maybe<Oracle>,
    /// BoundKeypair allows the configuration of options specific to the "bound_keypair" join method.
    pub bound_keypair: Maybe<BoundKeypair>,
    /// AzureDevops allows the configuration of options specific to the "azure_devops" join method.
    pub azure_devops: Maybe<AzureDevops>,
}

impl TokenSpec {
    /// The attributes of `spec`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list("roles", Type::String).required().description(concat!(
                "Roles is a list of roles associated with the token, that will be converted to ",
                "metadata in the SSH and X509 certificates issued to the user of the token"
            )),
            Attribute::list_nested("allow", AwsRule::attributes()).optional().description(concat!(
                "Allow is a list of TokenRules, nodes using this token must match one allow rule ",
                "to use this token."
            )),
            Attribute::string("aws_iid_ttl").optional().computed().use_state_for_unknown().description(concat!(
                "AWSIIDTTL is the TTL to use for AWS EC2 Instance Identity Documents used to ",
                "join the cluster with this token."
            )),
            Attribute::string("join_method").optional().computed().use_state_for_unknown().description(concat!(
                "JoinMethod is the joining method required in order to use this token. Supported ",
                "joining methods include: azure, circleci, ec2, gcp, github, gitlab, iam, ",
                "kubernetes, spacelift, token, tpm"
            )),
            Attribute::string("bot_name")
                .optional()
                .description("BotName is the name of the bot this token grants access to, if any"),
            Attribute::map("suggested_labels", Type::list(Type::String)).optional().description(concat!(
                "SuggestedLabels is a set of labels that resources should set when using this ",
                "token to enroll themselves in the cluster. Currently, only node-join scripts ",
                "create a configuration according to the suggestion."
            )),
            Attribute::single_nested("github", GitHub::attributes())
                .optional()
                .description("GitHub allows the configuration of options specific to the \"github\" join method."),
            Attribute::single_nested("circleci", CircleCi::attributes()).optional().description(concat!(
                "CircleCI allows the configuration of options specific to the \"circleci\" join ",
                "method."
            )),
            Attribute::map("suggested_agent_matcher_labels", Type::list(Type::String)).optional().description(concat!(
                "SuggestedAgentMatcherLabels is a set of labels to be used by agents to match on ",
                "resources. When an agent uses this token, the agent should monitor resources ",
                "that match those labels. For databases, this means adding the labels to ",
                "`db_service.resources.labels`. Currently, only node-join scripts create a ",
                "configuration according to the suggestion."
            )),
            Attribute::single_nested("kubernetes", Kubernetes::attributes()).optional().description(concat!(
                "Kubernetes allows the configuration of options specific to the \"kubernetes\" ",
                "join method."
            )),
            Attribute::single_nested("azure", Azure::attributes())
                .optional()
                .description("Azure allows the configuration of options specific to the \"azure\" join method."),
            Attribute::single_nested("gitlab", GitLab::attributes())
                .optional()
                .description("GitLab allows the configuration of options specific to the \"gitlab\" join method."),
            Attribute::single_nested("gcp", Gcp::attributes())
                .optional()
                .description("GCP allows the configuration of options specific to the \"gcp\" join method."),
            Attribute::single_nested("spacelift", Spacelift::attributes()).optional().description(concat!(
                "Spacelift allows the configuration of options specific to the \"spacelift\" join ",
                "method."
            )),
            Attribute::single_nested("tpm", Tpm::attributes())
                .optional()
                .description("TPM allows the configuration of options specific to the \"tpm\" join method."),
            Attribute::single_nested("terraform_cloud", TerraformCloud::attributes()).optional().description(concat!(
                "TerraformCloud allows the configuration of options specific to the ",
                "\"terraform_cloud\" join method."
            )),
            Attribute::single_nested("bitbucket", Bitbucket::attributes()).optional().description(concat!(
                "Bitbucket allows the configuration of options specific to the \"bitbucket\" join ",
                "method."
            )),
            Attribute::single_nested("oracle", Oracle::attributes())
                .optional()
                .description("Oracle allows the configuration of options specific to the \"oracle\" join method."),
            Attribute::single_nested("bound_keypair", BoundKeypair::attributes()).optional().description(concat!(
                "BoundKeypair allows the configuration of options specific to the ",
                "\"bound_keypair\" join method."
            )),
            Attribute::single_nested("azure_devops", AzureDevops::attributes()).optional().description(concat!(
                "AzureDevops allows the configuration of options specific to the \"azure_devops\" ",
                "join method."
            )),
        ]
    }
}

impl ProtoModel for TokenSpec {
    type Proto = pb::ProvisionTokenSpecV2;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            roles: self.roles.known_or_default(),
            allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?,
            awsiidttl: c::nanos_to_proto(&self.aws_iid_ttl, &at.attr("aws_iid_ttl"))?,
            join_method: self.join_method.known_or_default(),
            bot_name: self.bot_name.known_or_default(),
            suggested_labels: c::label_values_to_proto(&self.suggested_labels),
            git_hub: c::message_to_proto(&self.github, &at.attr("github"))?,
            circle_ci: c::message_to_proto(&self.circleci, &at.attr("circleci"))?,
            suggested_agent_matcher_labels: c::label_values_to_proto(&self.suggested_agent_matcher_labels),
            kubernetes: c::message_to_proto(&self.kubernetes, &at.attr("kubernetes"))?,
            azure: c::message_to_proto(&self.azure, &at.attr("azure"))?,
            git_lab: c::message_to_proto(&self.gitlab, &at.attr("gitlab"))?,
            gcp: c::message_to_proto(&self.gcp, &at.attr("gcp"))?,
            spacelift: c::message_to_proto(&self.spacelift, &at.attr("spacelift"))?,
            tpm: c::message_to_proto(&self.tpm, &at.attr("tpm"))?,
            terraform_cloud: c::message_to_proto(&self.terraform_cloud, &at.attr("terraform_cloud"))?,
            bitbucket: c::message_to_proto(&self.bitbucket, &at.attr("bitbucket"))?,
            oracle: c::message_to_proto(&self.oracle, &at.attr("oracle"))?,
            bound_keypair: c::message_to_proto(&self.bound_keypair, &at.attr("bound_keypair"))?,
            azure_devops: c::message_to_proto(&self.azure_devops, &at.attr("azure_devops"))?,
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            roles: c::string_list_ci(&server.roles, &reference.roles),
            allow: c::messages(&server.allow, &reference.allow),
            aws_iid_ttl: c::nanos_computed(server.awsiidttl, &reference.aws_iid_ttl),
            join_method: c::string_computed(&server.join_method),
            bot_name: c::string(&server.bot_name, &reference.bot_name),
            suggested_labels: c::label_values(server.suggested_labels.as_ref(), &reference.suggested_labels),
            github: c::message(server.git_hub.as_ref(), &reference.github),
            circleci: c::message(server.circle_ci.as_ref(), &reference.circleci),
            suggested_agent_matcher_labels: c::label_values(
                server.suggested_agent_matcher_labels.as_ref(),
                &reference.suggested_agent_matcher_labels,
            ),
            kubernetes: c::message(server.kubernetes.as_ref(), &reference.kubernetes),
            azure: c::message(server.azure.as_ref(), &reference.azure),
            gitlab: c::message(server.git_lab.as_ref(), &reference.gitlab),
            gcp: c::message(server.gcp.as_ref(), &reference.gcp),
            spacelift: c::message(server.spacelift.as_ref(), &reference.spacelift),
            tpm: c::message(server.tpm.as_ref(), &reference.tpm),
            terraform_cloud: c::message(server.terraform_cloud.as_ref(), &reference.terraform_cloud),
            bitbucket: c::message(server.bitbucket.as_ref(), &reference.bitbucket),
            oracle: c::message(server.oracle.as_ref(), &reference.oracle),
            bound_keypair: c::message(server.bound_keypair.as_ref(), &reference.bound_keypair),
            azure_devops: c::message(server.azure_devops.as_ref(), &reference.azure_devops),
        }
    }
}

/// `spec.allow` (`types.TokenRule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AwsRule {
    /// AWSAccount is the AWS account ID.
    pub aws_account: Maybe<String>,
    /// AWSRegions is used for the EC2 join method and is a list of AWS regions a node is allowed to join from.
    pub aws_regions: Maybe<Vec<String>>,
    /// AWSRole is used for the EC2 join method and is the ARN of the AWS role that the Auth Service will assume in order to call the ec2 API.
    pub aws_role: Maybe<String>,
    /// AWSARN is used for the IAM join method, the AWS identity of joining nodes must match this ARN. Supports wildcards "*" and "?".
    pub aws_arn: Maybe<String>,
}

impl AwsRule {
    /// The attributes of `spec.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("aws_account").optional().description("AWSAccount is the AWS account ID."),
            Attribute::list("aws_regions", Type::String).optional().description(concat!(
                "AWSRegions is used for the EC2 join method and is a list of AWS regions a node ",
                "is allowed to join from."
            )),
            Attribute::string("aws_role").optional().description(concat!(
                "AWSRole is used for the EC2 join method and is the ARN of the AWS role that the ",
                "Auth Service will assume in order to call the ec2 API."
            )),
            Attribute::string("aws_arn").optional().description(concat!(
                "AWSARN is used for the IAM join method, the AWS identity of joining nodes must ",
                "match this ARN. Supports wildcards \"*\" and \"?\"."
            )),
        ]
    }
}

impl ProtoModel for AwsRule {
    type Proto = pb::TokenRule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            aws_account: self.aws_account.known_or_default(),
            aws_regions: self.aws_regions.known_or_default(),
            aws_role: self.aws_role.known_or_default(),
            awsarn: self.aws_arn.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            aws_account: c::string(&server.aws_account, &reference.aws_account),
            aws_regions: c::string_list(&server.aws_regions, &reference.aws_regions),
            aws_role: c::string(&server.aws_role, &reference.aws_role),
            aws_arn: c::string(&server.awsarn, &reference.aws_arn),
        }
    }
}

/// `spec.github` (`types.ProvisionTokenSpecV2GitHub`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GitHub {
    /// Allow is a list of TokenRules, nodes using this token must match one allow rule to use this token.
    pub allow: Maybe<Vec<GitHubRule>>,
    /// EnterpriseServerHost allows joining from runners associated with a GitHub Enterprise Server instance. When unconfigured, tokens will be validated against github.com, but when configured to the host of a GHES instance, then the tokens will be validated against host.  This value should be the hostname of the GHES instance, and should not include the scheme or a path. The instance must be accessible over HTTPS at this hostname and the certificate must be trusted by the Auth Service.
    pub enterprise_server_host: Maybe<String>,
    /// EnterpriseSlug allows the slug of a GitHub Enterprise organisation to be included in the expected issuer of the OIDC tokens. This is for compatibility with the `include_enterprise_slug` option in GHE.  This field should be set to the slug of your enterprise if this is enabled. If this is not enabled, then this field must be left empty. This field cannot be specified if `enterprise_server_host` is specified.  See https://docs.github.com/en/enterprise-cloud@latest/actions/deployment/security-hardening-your-deployments/about-security-hardening-with-openid-connect#customizing-the-issuer-value-for-an-enterprise for more information about customized issuer values.
    pub enterprise_slug: Maybe<String>,
    /// StaticJWKS disables fetching of the GHES signing keys via the JWKS/OIDC endpoints, and allows them to be directly specified. This allows joining from GitHub Actions in GHES instances that are not reachable by the Teleport Auth Service.
    pub static_jwks: Maybe<String>,
}

impl GitHub {
    /// The attributes of `spec.github`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list_nested("allow", GitHubRule::attributes()).optional().description(concat!(
                "Allow is a list of TokenRules, nodes using this token must match one allow rule ",
                "to use this token."
            )),
            Attribute::string("enterprise_server_host").optional().description(concat!(
                "EnterpriseServerHost allows joining from runners associated with a GitHub ",
                "Enterprise Server instance. When unconfigured, tokens will be validated against ",
                "github.com, but when configured to the host of a GHES instance, then the tokens ",
                "will be validated against host.  This value should be the hostname of the GHES ",
                "instance, and should not include the scheme or a path. The instance must be ",
                "accessible over HTTPS at this hostname and the certificate must be trusted by ",
                "the Auth Service."
            )),
            Attribute::string("enterprise_slug").optional().description(concat!(
                "EnterpriseSlug allows the slug of a GitHub Enterprise organisation to be ",
                "included in the expected issuer of the OIDC tokens. This is for compatibility ",
                "with the `include_enterprise_slug` option in GHE.  This field should be set to ",
                "the slug of your enterprise if this is enabled. If this is not enabled, then ",
                "this field must be left empty. This field cannot be specified if ",
                "`enterprise_server_host` is specified.  See ",
                "https://docs.github.com/en/enterprise-cloud@latest/actions/deployment/security-h",
                "ardening-your-deployments/about-security-hardening-with-openid-connect#customizi",
                "ng-the-issuer-value-for-an-enterprise for more information about customized ",
                "issuer values."
            )),
            Attribute::string("static_jwks").optional().description(concat!(
                "StaticJWKS disables fetching of the GHES signing keys via the JWKS/OIDC ",
                "endpoints, and allows them to be directly specified. This allows joining from ",
                "GitHub Actions in GHES instances that are not reachable by the Teleport Auth ",
                "Service."
            )),
        ]
    }
}

impl ProtoModel for GitHub {
    type Proto = pb::ProvisionTokenSpecV2GitHub;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?,
            enterprise_server_host: self.enterprise_server_host.known_or_default(),
            enterprise_slug: self.enterprise_slug.known_or_default(),
            static_jwks: self.static_jwks.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            allow: c::messages(&server.allow, &reference.allow),
            enterprise_server_host: c::string(&server.enterprise_server_host, &reference.enterprise_server_host),
            enterprise_slug: c::string(&server.enterprise_slug, &reference.enterprise_slug),
            static_jwks: c::string(&server.static_jwks, &reference.static_jwks),
        }
    }
}

/// `spec.github.allow` (`types.ProvisionTokenSpecV2GitHub.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GitHubRule {
    /// Sub also known as Subject is a string that roughly uniquely identifies the workload. The format of this varies depending on the type of github action run.
    pub sub: Maybe<String>,
    /// The repository from where the workflow is running. This includes the name of the owner e.g `gravitational/teleport`
    pub repository: Maybe<String>,
    /// The name of the organization in which the repository is stored.
    pub repository_owner: Maybe<String>,
    /// The name of the workflow.
    pub workflow: Maybe<String>,
    /// The name of the environment used by the job.
    pub environment: Maybe<String>,
    /// The personal account that initiated the workflow run.
    pub actor: Maybe<String>,
    /// The git ref that triggered the workflow run.
    pub r#ref: Maybe<String>,
    /// The type of ref, for example: "branch".
    pub ref_type: Maybe<String>,
}

impl GitHubRule {
    /// The attributes of `spec.github.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("sub").optional().description(concat!(
                "Sub also known as Subject is a string that roughly uniquely identifies the ",
                "workload. The format of this varies depending on the type of github action run."
            )),
            Attribute::string("repository").optional().description(concat!(
                "The repository from where the workflow is running. This includes the name of ",
                "the owner e.g `gravitational/teleport`"
            )),
            Attribute::string("repository_owner")
                .optional()
                .description("The name of the organization in which the repository is stored."),
            Attribute::string("workflow").optional().description("The name of the workflow."),
            Attribute::string("environment").optional().description("The name of the environment used by the job."),
            Attribute::string("actor").optional().description("The personal account that initiated the workflow run."),
            Attribute::string("ref").optional().description("The git ref that triggered the workflow run."),
            Attribute::string("ref_type").optional().description("The type of ref, for example: \"branch\"."),
        ]
    }
}

impl ProtoModel for GitHubRule {
    type Proto = pb::provision_token_spec_v2_git_hub::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            sub: self.sub.known_or_default(),
            repository: self.repository.known_or_default(),
            repository_owner: self.repository_owner.known_or_default(),
            workflow: self.workflow.known_or_default(),
            environment: self.environment.known_or_default(),
            actor: self.actor.known_or_default(),
            r#ref: self.r#ref.known_or_default(),
            ref_type: self.ref_type.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            sub: c::string(&server.sub, &reference.sub),
            repository: c::string(&server.repository, &reference.repository),
            repository_owner: c::string(&server.repository_owner, &reference.repository_owner),
            workflow: c::string(&server.workflow, &reference.workflow),
            environment: c::string(&server.environment, &reference.environment),
            actor: c::string(&server.actor, &reference.actor),
            r#ref: c::string(&server.r#ref, &reference.r#ref),
            ref_type: c::string(&server.ref_type, &reference.ref_type),
        }
    }
}

/// `spec.circleci` (`types.ProvisionTokenSpecV2CircleCI`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CircleCi {
    /// Allow is a list of TokenRules, nodes using this token must match one allow rule to use this token.
    pub allow: Maybe<Vec<CircleCiRule>>,
    /// OrganizationID is the ID of the CircleCI organization whose jobs may join.
    pub organization_id: Maybe<String>,
}

impl CircleCi {
    /// The attributes of `spec.circleci`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list_nested("allow", CircleCiRule::attributes()).optional().description(concat!(
                "Allow is a list of TokenRules, nodes using this token must match one allow rule ",
                "to use this token."
            )),
            Attribute::string("organization_id")
                .optional()
                .description("OrganizationID is the ID of the CircleCI organization whose jobs may join."),
        ]
    }
}

impl ProtoModel for CircleCi {
    type Proto = pb::ProvisionTokenSpecV2CircleCi;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?,
            organization_id: self.organization_id.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            allow: c::messages(&server.allow, &reference.allow),
            organization_id: c::string(&server.organization_id, &reference.organization_id),
        }
    }
}

/// `spec.circleci.allow` (`types.ProvisionTokenSpecV2CircleCI.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CircleCiRule {
    /// ProjectID is the ID of the CircleCI project a job must run in.
    pub project_id: Maybe<String>,
    /// ContextID is the ID of a CircleCI context the job must use.
    pub context_id: Maybe<String>,
}

impl CircleCiRule {
    /// The attributes of `spec.circleci.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("project_id")
                .optional()
                .description("ProjectID is the ID of the CircleCI project a job must run in."),
            Attribute::string("context_id")
                .optional()
                .description("ContextID is the ID of a CircleCI context the job must use."),
        ]
    }
}

impl ProtoModel for CircleCiRule {
    type Proto = pb::provision_token_spec_v2_circle_ci::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            project_id: self.project_id.known_or_default(),
            context_id: self.context_id.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            project_id: c::string(&server.project_id, &reference.project_id),
            context_id: c::string(&server.context_id, &reference.context_id),
        }
    }
}

/// `spec.kubernetes` (`types.ProvisionTokenSpecV2Kubernetes`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Kubernetes {
    /// Allow is a list of Rules, nodes using this token must match one allow rule to use this token.
    pub allow: Maybe<Vec<KubernetesRule>>,
    /// Type controls which behavior should be used for validating the Kubernetes Service Account token. Support values: - `in_cluster` - `static_jwks` - `oidc` If unset, this defaults to `in_cluster`.
    pub r#type: Maybe<String>,
    /// StaticJWKS is the configuration specific to the `static_jwks` type.
    pub static_jwks: Maybe<KubernetesStaticJwksConfig>,
    /// OIDCConfig configures the `oidc` type.
    pub oidc: Maybe<KubernetesOidcConfig>,
}

impl Kubernetes {
    /// The attributes of `spec.kubernetes`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list_nested("allow", KubernetesRule::attributes()).optional().description(concat!(
                "Allow is a list of Rules, nodes using this token must match one allow rule to ",
                "use this token."
            )),
            Attribute::string("type").optional().description(concat!(
                "Type controls which behavior should be used for validating the Kubernetes ",
                "Service Account token. Support values: - `in_cluster` - `static_jwks` - `oidc` ",
                "If unset, this defaults to `in_cluster`."
            )),
            Attribute::single_nested("static_jwks", KubernetesStaticJwksConfig::attributes())
                .optional()
                .description("StaticJWKS is the configuration specific to the `static_jwks` type."),
            Attribute::single_nested("oidc", KubernetesOidcConfig::attributes())
                .optional()
                .description("OIDCConfig configures the `oidc` type."),
        ]
    }
}

impl ProtoModel for Kubernetes {
    type Proto = pb::ProvisionTokenSpecV2Kubernetes;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?,
            r#type: self.r#type.known_or_default(),
            static_jwks: c::message_to_proto(&self.static_jwks, &at.attr("static_jwks"))?,
            oidc: c::message_to_proto(&self.oidc, &at.attr("oidc"))?,
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            allow: c::messages(&server.allow, &reference.allow),
            r#type: c::string_or_default(&server.r#type, "in_cluster", &reference.r#type),
            static_jwks: c::message(server.static_jwks.as_ref(), &reference.static_jwks),
            oidc: c::message(server.oidc.as_ref(), &reference.oidc),
        }
    }
}

/// `spec.kubernetes.allow` (`types.ProvisionTokenSpecV2Kubernetes.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KubernetesRule {
    /// ServiceAccount is the namespaced name of the Kubernetes service account. Its format is "namespace:service-account".
    pub service_account: Maybe<String>,
}

impl KubernetesRule {
    /// The attributes of `spec.kubernetes.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![Attribute::string("service_account").optional().description(concat!(
            "ServiceAccount is the namespaced name of the Kubernetes service account. Its ",
            "format is \"namespace:service-account\"."
        ))]
    }
}

impl ProtoModel for KubernetesRule {
    type Proto = pb::provision_token_spec_v2_kubernetes::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto { service_account: self.service_account.known_or_default(), ..Default::default() })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self { service_account: c::string(&server.service_account, &reference.service_account) }
    }
}

/// `spec.kubernetes.static_jwks` (`types.ProvisionTokenSpecV2Kubernetes.StaticJWKSConfig`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KubernetesStaticJwksConfig {
    /// JWKS should be the JSON Web Key Set formatted public keys of that the Kubernetes Cluster uses to sign service account tokens. This can be fetched from /openid/v1/jwks on the Kubernetes API Server.
    pub jwks: Maybe<String>,
}

impl KubernetesStaticJwksConfig {
    /// The attributes of `spec.kubernetes.static_jwks`.
    pub fn attributes() -> Vec<Attribute> {
        vec![Attribute::string("jwks").optional().description(concat!(
            "JWKS should be the JSON Web Key Set formatted public keys of that the ",
            "Kubernetes Cluster uses to sign service account tokens. This can be fetched ",
            "from /openid/v1/jwks on the Kubernetes API Server."
        ))]
    }
}

impl ProtoModel for KubernetesStaticJwksConfig {
    type Proto = pb::provision_token_spec_v2_kubernetes::StaticJwksConfig;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto { jwks: self.jwks.known_or_default(), ..Default::default() })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self { jwks: c::string(&server.jwks, &reference.jwks) }
    }
}

/// `spec.kubernetes.oidc` (`types.ProvisionTokenSpecV2Kubernetes.OIDCConfig`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KubernetesOidcConfig {
    /// Issuer is the URI of the OIDC issuer. It must have an accessible and OIDC-compliant `/.well-known/oidc-configuration` endpoint. This should be a valid URL and must exactly match the `issuer` field in a service account JWT. For example: https://oidc.eks.us-west-2.amazonaws.com/id/12345...
    pub issuer: Maybe<String>,
    /// InsecureAllowHTTPIssuer is a flag that, if set, disables the requirement that the issuer must use HTTPS.
    pub insecure_allow_http_issuer: Maybe<bool>,
}

impl KubernetesOidcConfig {
    /// The attributes of `spec.kubernetes.oidc`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("issuer").optional().description(concat!(
                "Issuer is the URI of the OIDC issuer. It must have an accessible and ",
                "OIDC-compliant `/.well-known/oidc-configuration` endpoint. This should be a ",
                "valid URL and must exactly match the `issuer` field in a service account JWT. ",
                "For example: https://oidc.eks.us-west-2.amazonaws.com/id/12345..."
            )),
            Attribute::bool("insecure_allow_http_issuer").optional().description(concat!(
                "InsecureAllowHTTPIssuer is a flag that, if set, disables the requirement that ",
                "the issuer must use HTTPS."
            )),
        ]
    }
}

impl ProtoModel for KubernetesOidcConfig {
    type Proto = pb::provision_token_spec_v2_kubernetes::OidcConfig;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            issuer: self.issuer.known_or_default(),
            insecure_allow_http_issuer: self.insecure_allow_http_issuer.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            issuer: c::string(&server.issuer, &reference.issuer),
            insecure_allow_http_issuer: c::bool(
                server.insecure_allow_http_issuer,
                &reference.insecure_allow_http_issuer,
            ),
        }
    }
}

/// `spec.azure` (`types.ProvisionTokenSpecV2Azure`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Azure {
    /// Allow is a list of Rules, nodes using this token must match one allow rule to use this token.
    pub allow: Maybe<Vec<AzureRule>>,
}

impl Azure {
    /// The attributes of `spec.azure`.
    pub fn attributes() -> Vec<Attribute> {
        vec![Attribute::list_nested("allow", AzureRule::attributes()).optional().description(concat!(
            "Allow is a list of Rules, nodes using this token must match one allow rule to ",
            "use this token."
        ))]
    }
}

impl ProtoModel for Azure {
    type Proto = pb::ProvisionTokenSpecV2Azure;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto { allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?, ..Default::default() })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self { allow: c::messages(&server.allow, &reference.allow) }
    }
}

/// `spec.azure.allow` (`types.ProvisionTokenSpecV2Azure.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AzureRule {
    /// Subscription is the Azure subscription.
    pub subscription: Maybe<String>,
    /// ResourceGroups is a list of Azure resource groups the node is allowed to join from.
    pub resource_groups: Maybe<Vec<String>>,
}

impl AzureRule {
    /// The attributes of `spec.azure.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("subscription")
                .optional()
                .validator(super::schema::subscription_guid())
                .description("Subscription is the Azure subscription."),
            Attribute::list("resource_groups", Type::String).optional().description(concat!(
                "ResourceGroups is a list of Azure resource groups the node is allowed to join ",
                "from."
            )),
        ]
    }
}

impl ProtoModel for AzureRule {
    type Proto = pb::provision_token_spec_v2_azure::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            subscription: self.subscription.known_or_default(),
            resource_groups: self.resource_groups.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            subscription: c::string(&server.subscription, &reference.subscription),
            resource_groups: c::string_list(&server.resource_groups, &reference.resource_groups),
        }
    }
}

/// `spec.gitlab` (`types.ProvisionTokenSpecV2GitLab`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GitLab {
    /// Allow is a list of TokenRules, nodes using this token must match one allow rule to use this token.
    pub allow: Maybe<Vec<GitLabRule>>,
    /// Domain is the domain of your GitLab instance. This will default to `gitlab.com` - but can be set to the domain of your self-hosted GitLab e.g `gitlab.example.com`.
    pub domain: Maybe<String>,
    /// StaticJWKS disables fetching of the GitLab signing keys via the JWKS/OIDC endpoints, and allows them to be directly specified. This allows joining from GitLab CI instances that are not reachable by the Teleport Auth Service.
    pub static_jwks: Maybe<String>,
}

impl GitLab {
    /// The attributes of `spec.gitlab`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list_nested("allow", GitLabRule::attributes()).optional().description(concat!(
                "Allow is a list of TokenRules, nodes using this token must match one allow rule ",
                "to use this token."
            )),
            Attribute::string("domain").optional().description(concat!(
                "Domain is the domain of your GitLab instance. This will default to `gitlab.com` ",
                "- but can be set to the domain of your self-hosted GitLab e.g ",
                "`gitlab.example.com`."
            )),
            Attribute::string("static_jwks").optional().description(concat!(
                "StaticJWKS disables fetching of the GitLab signing keys via the JWKS/OIDC ",
                "endpoints, and allows them to be directly specified. This allows joining from ",
                "GitLab CI instances that are not reachable by the Teleport Auth Service."
            )),
        ]
    }
}

impl ProtoModel for GitLab {
    type Proto = pb::ProvisionTokenSpecV2GitLab;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?,
            domain: self.domain.known_or_default(),
            static_jwks: self.static_jwks.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            allow: c::messages(&server.allow, &reference.allow),
            domain: c::string_or_default(&server.domain, "gitlab.com", &reference.domain),
            static_jwks: c::string(&server.static_jwks, &reference.static_jwks),
        }
    }
}

/// `spec.gitlab.allow` (`types.ProvisionTokenSpecV2GitLab.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GitLabRule {
    /// Sub roughly uniquely identifies the workload. Example: `project_path:mygroup/my-project:ref_type:branch:ref:main` project_path:GROUP/PROJECT:ref_type:TYPE:ref:BRANCH_NAME  This field supports "glob-style" matching: - Use '*' to match zero or more characters. - Use '?' to match any single character.
    pub sub: Maybe<String>,
    /// Ref allows access to be limited to jobs triggered by a specific git ref. Ensure this is used in combination with ref_type.  This field supports "glob-style" matching: - Use '*' to match zero or more characters. - Use '?' to match any single character.
    pub r#ref: Maybe<String>,
    /// RefType allows access to be limited to jobs triggered by a specific git ref type. Example: `branch` or `tag`
    pub ref_type: Maybe<String>,
    /// NamespacePath is used to limit access to jobs in a group or user's projects. Example: `mygroup`  This field supports "glob-style" matching: - Use '*' to match zero or more characters. - Use '?' to match any single character.
    pub namespace_path: Maybe<String>,
    /// ProjectPath is used to limit access to jobs belonging to an individual project. Example: `mygroup/myproject`  This field supports "glob-style" matching: - Use '*' to match zero or more characters. - Use '?' to match any single character.
    pub project_path: Maybe<String>,
    /// PipelineSource limits access by the job pipeline source type. https://docs.gitlab.com/ee/ci/jobs/job_control.html#common-if-clauses-for-rules Example: `web`
    pub pipeline_source: Maybe<String>,
    /// Environment limits access by the environment the job deploys to (if one is associated)
    pub environment: Maybe<String>,
    /// UserLogin is the username of the user executing the job
    pub user_login: Maybe<String>,
    /// UserID is the ID of the user executing the job
    pub user_id: Maybe<String>,
    /// UserEmail is the email of the user executing the job
    pub user_email: Maybe<String>,
    /// RefProtected is true if the Git ref is protected, false otherwise.
    pub ref_protected: Maybe<bool>,
    /// EnvironmentProtected is true if the Git ref is protected, false otherwise.
    pub environment_protected: Maybe<bool>,
    /// CIConfigSHA is the git commit SHA for the ci_config_ref_uri.
    pub ci_config_sha: Maybe<String>,
    /// CIConfigRefURI is the ref path to the top-level pipeline definition, for example, gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main.
    pub ci_config_ref_uri: Maybe<String>,
    /// DeploymentTier is the deployment tier of the environment the job specifies
    pub deployment_tier: Maybe<String>,
    /// ProjectVisibility is the visibility of the project where the pipeline is running. Can be internal, private, or public.
    pub project_visibility: Maybe<String>,
}

impl GitLabRule {
    /// The attributes of `spec.gitlab.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("sub").optional().description(concat!(
                "Sub roughly uniquely identifies the workload. Example: ",
                "`project_path:mygroup/my-project:ref_type:branch:ref:main` ",
                "project_path:GROUP/PROJECT:ref_type:TYPE:ref:BRANCH_NAME  This field supports ",
                "\"glob-style\" matching: - Use '*' to match zero or more characters. - Use '?' to ",
                "match any single character."
            )),
            Attribute::string("ref").optional().description(concat!(
                "Ref allows access to be limited to jobs triggered by a specific git ref. Ensure ",
                "this is used in combination with ref_type.  This field supports \"glob-style\" ",
                "matching: - Use '*' to match zero or more characters. - Use '?' to match any ",
                "single character."
            )),
            Attribute::string("ref_type").optional().description(concat!(
                "RefType allows access to be limited to jobs triggered by a specific git ref ",
                "type. Example: `branch` or `tag`"
            )),
            Attribute::string("namespace_path").optional().description(concat!(
                "NamespacePath is used to limit access to jobs in a group or user's projects. ",
                "Example: `mygroup`  This field supports \"glob-style\" matching: - Use '*' to ",
                "match zero or more characters. - Use '?' to match any single character."
            )),
            Attribute::string("project_path").optional().description(concat!(
                "ProjectPath is used to limit access to jobs belonging to an individual project. ",
                "Example: `mygroup/myproject`  This field supports \"glob-style\" matching: - Use ",
                "'*' to match zero or more characters. - Use '?' to match any single character."
            )),
            Attribute::string("pipeline_source").optional().description(concat!(
                "PipelineSource limits access by the job pipeline source type. ",
                "https://docs.gitlab.com/ee/ci/jobs/job_control.html#common-if-clauses-for-rules ",
                "Example: `web`"
            )),
            Attribute::string("environment").optional().description(concat!(
                "Environment limits access by the environment the job deploys to (if one is ",
                "associated)"
            )),
            Attribute::string("user_login")
                .optional()
                .description("UserLogin is the username of the user executing the job"),
            Attribute::string("user_id").optional().description("UserID is the ID of the user executing the job"),
            Attribute::string("user_email")
                .optional()
                .description("UserEmail is the email of the user executing the job"),
            Attribute::bool("ref_protected")
                .optional()
                .description("RefProtected is true if the Git ref is protected, false otherwise."),
            Attribute::bool("environment_protected")
                .optional()
                .description("EnvironmentProtected is true if the Git ref is protected, false otherwise."),
            Attribute::string("ci_config_sha")
                .optional()
                .description("CIConfigSHA is the git commit SHA for the ci_config_ref_uri."),
            Attribute::string("ci_config_ref_uri").optional().description(concat!(
                "CIConfigRefURI is the ref path to the top-level pipeline definition, for ",
                "example, gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main."
            )),
            Attribute::string("deployment_tier")
                .optional()
                .description("DeploymentTier is the deployment tier of the environment the job specifies"),
            Attribute::string("project_visibility").optional().description(concat!(
                "ProjectVisibility is the visibility of the project where the pipeline is ",
                "running. Can be internal, private, or public."
            )),
        ]
    }
}

impl ProtoModel for GitLabRule {
    type Proto = pb::provision_token_spec_v2_git_lab::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            sub: self.sub.known_or_default(),
            r#ref: self.r#ref.known_or_default(),
            ref_type: self.ref_type.known_or_default(),
            namespace_path: self.namespace_path.known_or_default(),
            project_path: self.project_path.known_or_default(),
            pipeline_source: self.pipeline_source.known_or_default(),
            environment: self.environment.known_or_default(),
            user_login: self.user_login.known_or_default(),
            user_id: self.user_id.known_or_default(),
            user_email: self.user_email.known_or_default(),
            ref_protected: c::bool_value_to_proto(&self.ref_protected),
            environment_protected: c::bool_value_to_proto(&self.environment_protected),
            ci_config_sha: self.ci_config_sha.known_or_default(),
            ci_config_ref_uri: self.ci_config_ref_uri.known_or_default(),
            deployment_tier: self.deployment_tier.known_or_default(),
            project_visibility: self.project_visibility.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            sub: c::string(&server.sub, &reference.sub),
            r#ref: c::string(&server.r#ref, &reference.r#ref),
            ref_type: c::string(&server.ref_type, &reference.ref_type),
            namespace_path: c::string(&server.namespace_path, &reference.namespace_path),
            project_path: c::string(&server.project_path, &reference.project_path),
            pipeline_source: c::string(&server.pipeline_source, &reference.pipeline_source),
            environment: c::string(&server.environment, &reference.environment),
            user_login: c::string(&server.user_login, &reference.user_login),
            user_id: c::string(&server.user_id, &reference.user_id),
            user_email: c::string(&server.user_email, &reference.user_email),
            ref_protected: c::bool_value(server.ref_protected.as_ref(), &reference.ref_protected),
            environment_protected: c::bool_value(
                server.environment_protected.as_ref(),
                &reference.environment_protected,
            ),
            ci_config_sha: c::string(&server.ci_config_sha, &reference.ci_config_sha),
            ci_config_ref_uri: c::string(&server.ci_config_ref_uri, &reference.ci_config_ref_uri),
            deployment_tier: c::string(&server.deployment_tier, &reference.deployment_tier),
            project_visibility: c::string(&server.project_visibility, &reference.project_visibility),
        }
    }
}

/// `spec.gcp` (`types.ProvisionTokenSpecV2GCP`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Gcp {
    /// Allow is a list of Rules, nodes using this token must match one allow rule to use this token.
    pub allow: Maybe<Vec<GcpRule>>,
}

impl Gcp {
    /// The attributes of `spec.gcp`.
    pub fn attributes() -> Vec<Attribute> {
        vec![Attribute::list_nested("allow", GcpRule::attributes()).optional().description(concat!(
            "Allow is a list of Rules, nodes using this token must match one allow rule to ",
            "use this token."
        ))]
    }
}

impl ProtoModel for Gcp {
    type Proto = pb::ProvisionTokenSpecV2gcp;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto { allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?, ..Default::default() })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self { allow: c::messages(&server.allow, &reference.allow) }
    }
}

/// `spec.gcp.allow` (`types.ProvisionTokenSpecV2GCP.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GcpRule {
    /// ProjectIDs is a list of project IDs (e.g. `<example-id-123456>`).
    pub project_ids: Maybe<Vec<String>>,
    /// Locations is a list of regions (e.g. "us-west1") and/or zones (e.g. "us-west1-b").
    pub locations: Maybe<Vec<String>>,
    /// ServiceAccounts is a list of service account emails (e.g. `<project-number>-compute@developer.gserviceaccount.com`).
    pub service_accounts: Maybe<Vec<String>>,
}

impl GcpRule {
    /// The attributes of `spec.gcp.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list("project_ids", Type::String)
                .optional()
                .description("ProjectIDs is a list of project IDs (e.g. `<example-id-123456>`)."),
            Attribute::list("locations", Type::String).optional().description(concat!(
                "Locations is a list of regions (e.g. \"us-west1\") and/or zones (e.g. ",
                "\"us-west1-b\")."
            )),
            Attribute::list("service_accounts", Type::String).optional().description(concat!(
                "ServiceAccounts is a list of service account emails (e.g. ",
                "`<project-number>-compute@developer.gserviceaccount.com`)."
            )),
        ]
    }
}

impl ProtoModel for GcpRule {
    type Proto = pb::provision_token_spec_v2gcp::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            project_i_ds: self.project_ids.known_or_default(),
            locations: self.locations.known_or_default(),
            service_accounts: self.service_accounts.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            project_ids: c::string_list(&server.project_i_ds, &reference.project_ids),
            locations: c::string_list(&server.locations, &reference.locations),
            service_accounts: c::string_list(&server.service_accounts, &reference.service_accounts),
        }
    }
}

/// `spec.spacelift` (`types.ProvisionTokenSpecV2Spacelift`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Spacelift {
    /// Allow is a list of Rules, nodes using this token must match one allow rule to use this token.
    pub allow: Maybe<Vec<SpaceliftRule>>,
    /// Hostname is the hostname of the Spacelift tenant that tokens will originate from. E.g `example.app.spacelift.io`
    pub hostname: Maybe<String>,
    /// EnableGlobMatching enables glob-style matching for the space_id and caller_id fields in the rules.
    pub enable_glob_matching: Maybe<bool>,
}

impl Spacelift {
    /// The attributes of `spec.spacelift`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list_nested("allow", SpaceliftRule::attributes()).optional().description(concat!(
                "Allow is a list of Rules, nodes using this token must match one allow rule to ",
                "use this token."
            )),
            Attribute::string("hostname").optional().description(concat!(
                "Hostname is the hostname of the Spacelift tenant that tokens will originate ",
                "from. E.g `example.app.spacelift.io`"
            )),
            Attribute::bool("enable_glob_matching").optional().description(concat!(
                "EnableGlobMatching enables glob-style matching for the space_id and caller_id ",
                "fields in the rules."
            )),
        ]
    }
}

impl ProtoModel for Spacelift {
    type Proto = pb::ProvisionTokenSpecV2Spacelift;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?,
            hostname: self.hostname.known_or_default(),
            enable_glob_matching: self.enable_glob_matching.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            allow: c::messages(&server.allow, &reference.allow),
            hostname: c::string(&server.hostname, &reference.hostname),
            enable_glob_matching: c::bool(server.enable_glob_matching, &reference.enable_glob_matching),
        }
    }
}

/// `spec.spacelift.allow` (`types.ProvisionTokenSpecV2Spacelift.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SpaceliftRule {
    /// SpaceID is the ID of the space in which the run that owns the token was executed.  This field supports "glob-style" matching when enable_glob_matching is true: - Use '*' to match zero or more characters. - Use '?' to match any single character.
    pub space_id: Maybe<String>,
    /// CallerID is the ID of the caller, ie. the stack or module that generated the run.  This field supports "glob-style" matching when enable_glob_matching is true: - Use '*' to match zero or more characters. - Use '?' to match any single character.
    pub caller_id: Maybe<String>,
    /// CallerType is the type of the caller, ie. the entity that owns the run - either `stack` or `module`.
    pub caller_type: Maybe<String>,
    /// Scope is the scope of the token - either `read` or `write`. See https://docs.spacelift.io/integrations/cloud-providers/oidc/#about-scopes
    pub scope: Maybe<String>,
}

impl SpaceliftRule {
    /// The attributes of `spec.spacelift.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("space_id").optional().description(concat!(
                "SpaceID is the ID of the space in which the run that owns the token was ",
                "executed.  This field supports \"glob-style\" matching when enable_glob_matching ",
                "is true: - Use '*' to match zero or more characters. - Use '?' to match any ",
                "single character."
            )),
            Attribute::string("caller_id").optional().description(concat!(
                "CallerID is the ID of the caller, ie. the stack or module that generated the ",
                "run.  This field supports \"glob-style\" matching when enable_glob_matching is ",
                "true: - Use '*' to match zero or more characters. - Use '?' to match any single ",
                "character."
            )),
            Attribute::string("caller_type").optional().description(concat!(
                "CallerType is the type of the caller, ie. the entity that owns the run - either ",
                "`stack` or `module`."
            )),
            Attribute::string("scope").optional().description(concat!(
                "Scope is the scope of the token - either `read` or `write`. See ",
                "https://docs.spacelift.io/integrations/cloud-providers/oidc/#about-scopes"
            )),
        ]
    }
}

impl ProtoModel for SpaceliftRule {
    type Proto = pb::provision_token_spec_v2_spacelift::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            space_id: self.space_id.known_or_default(),
            caller_id: self.caller_id.known_or_default(),
            caller_type: self.caller_type.known_or_default(),
            scope: self.scope.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            space_id: c::string(&server.space_id, &reference.space_id),
            caller_id: c::string(&server.caller_id, &reference.caller_id),
            caller_type: c::string(&server.caller_type, &reference.caller_type),
            scope: c::string(&server.scope, &reference.scope),
        }
    }
}

/// `spec.tpm` (`types.ProvisionTokenSpecV2TPM`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Tpm {
    /// Allow is a list of Rules, the presented delegated identity must match one allow rule to permit joining.
    pub allow: Maybe<Vec<TpmRule>>,
    /// EKCertAllowedCAs is a list of CA certificates that will be used to validate TPM EKCerts. When specified, joining TPMs must present an EKCert signed by one of the specified CAs. TPMs that do not present an EKCert will be not permitted to join. When unspecified, TPMs will be allowed to join with either an EKCert or an EKPubHash.
    pub ekcert_allowed_cas: Maybe<Vec<String>>,
}

impl Tpm {
    /// The attributes of `spec.tpm`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list_nested("allow", TpmRule::attributes()).optional().description(concat!(
                "Allow is a list of Rules, the presented delegated identity must match one allow ",
                "rule to permit joining."
            )),
            Attribute::list("ekcert_allowed_cas", Type::String).optional().description(concat!(
                "EKCertAllowedCAs is a list of CA certificates that will be used to validate TPM ",
                "EKCerts. When specified, joining TPMs must present an EKCert signed by one of ",
                "the specified CAs. TPMs that do not present an EKCert will be not permitted to ",
                "join. When unspecified, TPMs will be allowed to join with either an EKCert or ",
                "an EKPubHash."
            )),
        ]
    }
}

impl ProtoModel for Tpm {
    type Proto = pb::ProvisionTokenSpecV2tpm;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?,
            ek_cert_allowed_c_as: self.ekcert_allowed_cas.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            allow: c::messages(&server.allow, &reference.allow),
            ekcert_allowed_cas: c::string_list(&server.ek_cert_allowed_c_as, &reference.ekcert_allowed_cas),
        }
    }
}

/// `spec.tpm.allow` (`types.ProvisionTokenSpecV2TPM.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TpmRule {
    /// Description is a human-readable description of the rule. It has no bearing on whether or not a TPM is allowed to join, but can be used to associate a rule with a specific host (e.g the asset tag of the server in which the TPM resides). Example: "build-server-100"
    pub description: Maybe<String>,
    /// EKPublicHash is the SHA256 hash of the EKPub marshaled in PKIX format and encoded in hexadecimal. This value will also be checked when a TPM has submitted an EKCert, and the public key in the EKCert will be used for this check. Example: d4b45864d9d6fabfc568d74f26c35ababde2105337d7af9a6605e1c56c891aa6
    pub ek_public_hash: Maybe<String>,
    /// EKCertificateSerial is the serial number of the EKCert in hexadecimal with colon separated nibbles. This value will not be checked when a TPM does not have an EKCert configured. Example: 73:df:dc:bd:af:ef:8a:d8:15:2e:96:71:7a:3e:7f:a4
    pub ek_certificate_serial: Maybe<String>,
}

impl TpmRule {
    /// The attributes of `spec.tpm.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("description").optional().description(concat!(
                "Description is a human-readable description of the rule. It has no bearing on ",
                "whether or not a TPM is allowed to join, but can be used to associate a rule ",
                "with a specific host (e.g the asset tag of the server in which the TPM ",
                "resides). Example: \"build-server-100\""
            )),
            Attribute::string("ek_public_hash").optional().description(concat!(
                "EKPublicHash is the SHA256 hash of the EKPub marshaled in PKIX format and ",
                "encoded in hexadecimal. This value will also be checked when a TPM has ",
                "submitted an EKCert, and the public key in the EKCert will be used for this ",
                "check. Example: d4b45864d9d6fabfc568d74f26c35ababde2105337d7af9a6605e1c56c891aa6"
            )),
            Attribute::string("ek_certificate_serial").optional().description(concat!(
                "EKCertificateSerial is the serial number of the EKCert in hexadecimal with ",
                "colon separated nibbles. This value will not be checked when a TPM does not ",
                "have an EKCert configured. Example: ",
                "73:df:dc:bd:af:ef:8a:d8:15:2e:96:71:7a:3e:7f:a4"
            )),
        ]
    }
}

impl ProtoModel for TpmRule {
    type Proto = pb::provision_token_spec_v2tpm::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            description: self.description.known_or_default(),
            ek_public_hash: self.ek_public_hash.known_or_default(),
            ek_certificate_serial: self.ek_certificate_serial.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            description: c::string(&server.description, &reference.description),
            ek_public_hash: c::string(&server.ek_public_hash, &reference.ek_public_hash),
            ek_certificate_serial: c::string(&server.ek_certificate_serial, &reference.ek_certificate_serial),
        }
    }
}

/// `spec.terraform_cloud` (`types.ProvisionTokenSpecV2TerraformCloud`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TerraformCloud {
    /// Allow is a list of Rules, nodes using this token must match one allow rule to use this token.
    pub allow: Maybe<Vec<TerraformCloudRule>>,
    /// Audience is the JWT audience as configured in the TFC_WORKLOAD_IDENTITY_AUDIENCE(_$TAG) variable in Terraform Cloud. If unset, defaults to the Teleport cluster name. For example, if `TFC_WORKLOAD_IDENTITY_AUDIENCE_TELEPORT=foo` is set in Terraform Cloud, this value should be `foo`. If the variable is set to match the cluster name, it does not need to be set here.
    pub audience: Maybe<String>,
    /// Hostname is the hostname of the Terraform Enterprise instance expected to issue JWTs allowed by this token. This may be unset for regular Terraform Cloud use, in which case it will be assumed to be `app.terraform.io`. Otherwise, it must both match the `iss` (issuer) field included in JWTs, and provide standard JWKS endpoints.
    pub hostname: Maybe<String>,
}

impl TerraformCloud {
    /// The attributes of `spec.terraform_cloud`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list_nested("allow", TerraformCloudRule::attributes()).optional().description(concat!(
                "Allow is a list of Rules, nodes using this token must match one allow rule to ",
                "use this token."
            )),
            Attribute::string("audience").optional().description(concat!(
                "Audience is the JWT audience as configured in the ",
                "TFC_WORKLOAD_IDENTITY_AUDIENCE(_$TAG) variable in Terraform Cloud. If unset, ",
                "defaults to the Teleport cluster name. For example, if ",
                "`TFC_WORKLOAD_IDENTITY_AUDIENCE_TELEPORT=foo` is set in Terraform Cloud, this ",
                "value should be `foo`. If the variable is set to match the cluster name, it ",
                "does not need to be set here."
            )),
            Attribute::string("hostname").optional().description(concat!(
                "Hostname is the hostname of the Terraform Enterprise instance expected to issue ",
                "JWTs allowed by this token. This may be unset for regular Terraform Cloud use, ",
                "in which case it will be assumed to be `app.terraform.io`. Otherwise, it must ",
                "both match the `iss` (issuer) field included in JWTs, and provide standard JWKS ",
                "endpoints."
            )),
        ]
    }
}

impl ProtoModel for TerraformCloud {
    type Proto = pb::ProvisionTokenSpecV2TerraformCloud;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?,
            audience: self.audience.known_or_default(),
            hostname: self.hostname.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            allow: c::messages(&server.allow, &reference.allow),
            audience: c::string(&server.audience, &reference.audience),
            hostname: c::string(&server.hostname, &reference.hostname),
        }
    }
}

/// `spec.terraform_cloud.allow` (`types.ProvisionTokenSpecV2TerraformCloud.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TerraformCloudRule {
    /// OrganizationID is the ID of the HCP Terraform organization. At least one organization value is required, either ID or name.
    pub organization_id: Maybe<String>,
    /// OrganizationName is the human-readable name of the HCP Terraform organization. At least one organization value is required, either ID or name.
    pub organization_name: Maybe<String>,
    /// ProjectID is the ID of the HCP Terraform project. At least one project or workspace value is required, either ID or name.
    pub project_id: Maybe<String>,
    /// ProjectName is the human-readable name for the HCP Terraform project. At least one project or workspace value is required, either ID or name.
    pub project_name: Maybe<String>,
    /// WorkspaceID is the ID of the HCP Terraform workspace. At least one project or workspace value is required, either ID or name.
    pub workspace_id: Maybe<String>,
    /// WorkspaceName is the human-readable name of the HCP Terraform workspace. At least one project or workspace value is required, either ID or name.
    pub workspace_name: Maybe<String>,
    /// RunPhase is the phase of the run the token was issued for, e.g. `plan` or `apply`
    pub run_phase: Maybe<String>,
}

impl TerraformCloudRule {
    /// The attributes of `spec.terraform_cloud.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("organization_id").optional().description(concat!(
                "OrganizationID is the ID of the HCP Terraform organization. At least one ",
                "organization value is required, either ID or name."
            )),
            Attribute::string("organization_name").optional().description(concat!(
                "OrganizationName is the human-readable name of the HCP Terraform organization. ",
                "At least one organization value is required, either ID or name."
            )),
            Attribute::string("project_id").optional().description(concat!(
                "ProjectID is the ID of the HCP Terraform project. At least one project or ",
                "workspace value is required, either ID or name."
            )),
            Attribute::string("project_name").optional().description(concat!(
                "ProjectName is the human-readable name for the HCP Terraform project. At least ",
                "one project or workspace value is required, either ID or name."
            )),
            Attribute::string("workspace_id").optional().description(concat!(
                "WorkspaceID is the ID of the HCP Terraform workspace. At least one project or ",
                "workspace value is required, either ID or name."
            )),
            Attribute::string("workspace_name").optional().description(concat!(
                "WorkspaceName is the human-readable name of the HCP Terraform workspace. At ",
                "least one project or workspace value is required, either ID or name."
            )),
            Attribute::string("run_phase").optional().description(concat!(
                "RunPhase is the phase of the run the token was issued for, e.g. `plan` or ",
                "`apply`"
            )),
        ]
    }
}

impl ProtoModel for TerraformCloudRule {
    type Proto = pb::provision_token_spec_v2_terraform_cloud::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            organization_id: self.organization_id.known_or_default(),
            organization_name: self.organization_name.known_or_default(),
            project_id: self.project_id.known_or_default(),
            project_name: self.project_name.known_or_default(),
            workspace_id: self.workspace_id.known_or_default(),
            workspace_name: self.workspace_name.known_or_default(),
            run_phase: self.run_phase.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            organization_id: c::string(&server.organization_id, &reference.organization_id),
            organization_name: c::string(&server.organization_name, &reference.organization_name),
            project_id: c::string(&server.project_id, &reference.project_id),
            project_name: c::string(&server.project_name, &reference.project_name),
            workspace_id: c::string(&server.workspace_id, &reference.workspace_id),
            workspace_name: c::string(&server.workspace_name, &reference.workspace_name),
            run_phase: c::string(&server.run_phase, &reference.run_phase),
        }
    }
}

/// `spec.bitbucket` (`types.ProvisionTokenSpecV2Bitbucket`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Bitbucket {
    /// Allow is a list of Rules, nodes using this token must match one allow rule to use this token.
    pub allow: Maybe<Vec<BitbucketRule>>,
    /// Audience is a Bitbucket-specified audience value for this token. It is unique to each Bitbucket repository, and must be set to the value as written in the Pipelines -> OpenID Connect section of the repository settings.
    pub audience: Maybe<String>,
    /// IdentityProviderURL is a Bitbucket-specified issuer URL for incoming OIDC tokens. It is unique to each Bitbucket repository, and must be set to the value as written in the Pipelines -> OpenID Connect section of the repository settings.
    pub identity_provider_url: Maybe<String>,
}

impl Bitbucket {
    /// The attributes of `spec.bitbucket`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list_nested("allow", BitbucketRule::attributes()).optional().description(concat!(
                "Allow is a list of Rules, nodes using this token must match one allow rule to ",
                "use this token."
            )),
            Attribute::string("audience").optional().description(concat!(
                "Audience is a Bitbucket-specified audience value for this token. It is unique ",
                "to each Bitbucket repository, and must be set to the value as written in the ",
                "Pipelines -> OpenID Connect section of the repository settings."
            )),
            Attribute::string("identity_provider_url").optional().description(concat!(
                "IdentityProviderURL is a Bitbucket-specified issuer URL for incoming OIDC ",
                "tokens. It is unique to each Bitbucket repository, and must be set to the value ",
                "as written in the Pipelines -> OpenID Connect section of the repository ",
                "settings."
            )),
        ]
    }
}

impl ProtoModel for Bitbucket {
    type Proto = pb::ProvisionTokenSpecV2Bitbucket;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?,
            audience: self.audience.known_or_default(),
            identity_provider_url: self.identity_provider_url.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            allow: c::messages(&server.allow, &reference.allow),
            audience: c::string(&server.audience, &reference.audience),
            identity_provider_url: c::string(&server.identity_provider_url, &reference.identity_provider_url),
        }
    }
}

/// `spec.bitbucket.allow` (`types.ProvisionTokenSpecV2Bitbucket.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BitbucketRule {
    /// WorkspaceUUID is the UUID of the workspace for which this token was issued. Bitbucket UUIDs must begin and end with braces, e.g. `{...}`. This value may be found in the Pipelines -> OpenID Connect section of the repository settings.
    pub workspace_uuid: Maybe<String>,
    /// RepositoryUUID is the UUID of the repository for which this token was issued. Bitbucket UUIDs must begin and end with braces, e.g. `{...}`. This value may be found in the Pipelines -> OpenID Connect section of the repository settings.
    pub repository_uuid: Maybe<String>,
    /// DeploymentEnvironmentUUID is the UUID of the deployment environment targeted by this pipelines run, if any. These values may be found in the "Pipelines -> OpenID Connect -> Deployment environments" section of the repository settings.
    pub deployment_environment_uuid: Maybe<String>,
    /// BranchName is the name of the branch on which this pipeline executed.
    pub branch_name: Maybe<String>,
}

impl BitbucketRule {
    /// The attributes of `spec.bitbucket.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("workspace_uuid").optional().description(concat!(
                "WorkspaceUUID is the UUID of the workspace for which this token was issued. ",
                "Bitbucket UUIDs must begin and end with braces, e.g. `{...}`. This value may be ",
                "found in the Pipelines -> OpenID Connect section of the repository settings."
            )),
            Attribute::string("repository_uuid").optional().description(concat!(
                "RepositoryUUID is the UUID of the repository for which this token was issued. ",
                "Bitbucket UUIDs must begin and end with braces, e.g. `{...}`. This value may be ",
                "found in the Pipelines -> OpenID Connect section of the repository settings."
            )),
            Attribute::string("deployment_environment_uuid").optional().description(concat!(
                "DeploymentEnvironmentUUID is the UUID of the deployment environment targeted by ",
                "this pipelines run, if any. These values may be found in the \"Pipelines -> ",
                "OpenID Connect -> Deployment environments\" section of the repository settings."
            )),
            Attribute::string("branch_name")
                .optional()
                .description("BranchName is the name of the branch on which this pipeline executed."),
        ]
    }
}

impl ProtoModel for BitbucketRule {
    type Proto = pb::provision_token_spec_v2_bitbucket::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            workspace_uuid: self.workspace_uuid.known_or_default(),
            repository_uuid: self.repository_uuid.known_or_default(),
            deployment_environment_uuid: self.deployment_environment_uuid.known_or_default(),
            branch_name: self.branch_name.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            workspace_uuid: c::string(&server.workspace_uuid, &reference.workspace_uuid),
            repository_uuid: c::string(&server.repository_uuid, &reference.repository_uuid),
            deployment_environment_uuid: c::string(
                &server.deployment_environment_uuid,
                &reference.deployment_environment_uuid,
            ),
            branch_name: c::string(&server.branch_name, &reference.branch_name),
        }
    }
}

/// `spec.oracle` (`types.ProvisionTokenSpecV2Oracle`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Oracle {
    /// Allow is a list of Rules, nodes using this token must match one allow rule to use this token.
    pub allow: Maybe<Vec<OracleRule>>,
}

impl Oracle {
    /// The attributes of `spec.oracle`.
    pub fn attributes() -> Vec<Attribute> {
        vec![Attribute::list_nested("allow", OracleRule::attributes()).optional().description(concat!(
            "Allow is a list of Rules, nodes using this token must match one allow rule to ",
            "use this token."
        ))]
    }
}

impl ProtoModel for Oracle {
    type Proto = pb::ProvisionTokenSpecV2Oracle;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto { allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?, ..Default::default() })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self { allow: c::messages(&server.allow, &reference.allow) }
    }
}

/// `spec.oracle.allow` (`types.ProvisionTokenSpecV2Oracle.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OracleRule {
    /// Tenancy is the OCID of the instance's tenancy. Required.
    pub tenancy: Maybe<String>,
    /// ParentCompartments is a list of the OCIDs of compartments an instance is allowed to join from. Only direct parents are allowed, i.e. no nested compartments. If empty, any compartment is allowed.
    pub parent_compartments: Maybe<Vec<String>>,
    /// Regions is a list of regions an instance is allowed to join from. Both full region names ("us-phoenix-1") and abbreviations ("phx") are allowed. If empty, any region is allowed.
    pub regions: Maybe<Vec<String>>,
}

impl OracleRule {
    /// The attributes of `spec.oracle.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("tenancy")
                .optional()
                .description("Tenancy is the OCID of the instance's tenancy. Required."),
            Attribute::list("parent_compartments", Type::String).optional().description(concat!(
                "ParentCompartments is a list of the OCIDs of compartments an instance is ",
                "allowed to join from. Only direct parents are allowed, i.e. no nested ",
                "compartments. If empty, any compartment is allowed."
            )),
            Attribute::list("regions", Type::String).optional().description(concat!(
                "Regions is a list of regions an instance is allowed to join from. Both full ",
                "region names (\"us-phoenix-1\") and abbreviations (\"phx\") are allowed. If empty, ",
                "any region is allowed."
            )),
        ]
    }
}

impl ProtoModel for OracleRule {
    type Proto = pb::provision_token_spec_v2_oracle::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            tenancy: self.tenancy.known_or_default(),
            parent_compartments: self.parent_compartments.known_or_default(),
            regions: self.regions.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            tenancy: c::string(&server.tenancy, &reference.tenancy),
            parent_compartments: c::string_list(&server.parent_compartments, &reference.parent_compartments),
            regions: c::string_list(&server.regions, &reference.regions),
        }
    }
}

/// `spec.bound_keypair` (`types.ProvisionTokenSpecV2BoundKeypair`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BoundKeypair {
    /// Onboarding contains parameters related to initial onboarding and keypair registration.
    pub onboarding: Maybe<BoundKeypairOnboardingSpec>,
    /// Recovery contains parameters related to recovery after identity expiration.
    pub recovery: Maybe<BoundKeypairRecoverySpec>,
    /// RotateAfter is an optional timestamp that forces clients to perform a keypair rotation on the next join or recovery attempt after the given date. If `LastRotatedAt` is unset or before this timestamp, a rotation will be requested. It is recommended to set this value to the current timestamp if a rotation should be triggered on the next join attempt.
    pub rotate_after: Maybe<String>,
}

impl BoundKeypair {
    /// The attributes of `spec.bound_keypair`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::single_nested("onboarding", BoundKeypairOnboardingSpec::attributes()).optional().description(
                concat!("Onboarding contains parameters related to initial onboarding and keypair ", "registration."),
            ),
            Attribute::single_nested("recovery", BoundKeypairRecoverySpec::attributes())
                .optional()
                .description("Recovery contains parameters related to recovery after identity expiration."),
            Attribute::string("rotate_after").optional().description(concat!(
                "RotateAfter is an optional timestamp that forces clients to perform a keypair ",
                "rotation on the next join or recovery attempt after the given date. If ",
                "`LastRotatedAt` is unset or before this timestamp, a rotation will be ",
                "requested. It is recommended to set this value to the current timestamp if a ",
                "rotation should be triggered on the next join attempt."
            )),
        ]
    }
}

impl ProtoModel for BoundKeypair {
    type Proto = pb::ProvisionTokenSpecV2BoundKeypair;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            onboarding: c::message_to_proto(&self.onboarding, &at.attr("onboarding"))?,
            recovery: c::message_to_proto(&self.recovery, &at.attr("recovery"))?,
            rotate_after: c::timestamp_to_proto(&self.rotate_after, &at.attr("rotate_after"))?,
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            onboarding: c::message(server.onboarding.as_ref(), &reference.onboarding),
            recovery: c::message(server.recovery.as_ref(), &reference.recovery),
            rotate_after: c::timestamp(server.rotate_after.as_ref(), &reference.rotate_after),
        }
    }
}

/// `spec.bound_keypair.onboarding` (`types.ProvisionTokenSpecV2BoundKeypair.OnboardingSpec`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BoundKeypairOnboardingSpec {
    /// InitialPublicKey is used to preregister a public key generated by `tbot keypair create`. When set, no initial join secret is generated or made available for use, and clients must have the associated private key available to join. If set, `initial_join_secret` and `must_register_before` are ignored. This value is written in SSH authorized_keys format.
    pub initial_public_key: Maybe<String>,
    /// RegistrationSecret is a secret joining clients may use to register their public key on first join, which may be used instead of preregistering a public key with `initial_public_key`. If `initial_public_key` is set, this value is ignored. Otherwise, if set, this value will be used to populate `.status.bound_keypair.registration_secret`. If unset and no `initial_public_key` is provided, a random secure value will be generated server-side to populate the status field.
    pub registration_secret: Maybe<String>,
    /// MustRegisterBefore is an optional time before which registration via initial join secret must be performed. Attempts to register using an initial join secret after this timestamp will not be allowed. This may be modified after creation if necessary to allow the initial registration to take place. This value is ignored if `initial_public_key` is set.
    pub must_register_before: Maybe<String>,
}

impl BoundKeypairOnboardingSpec {
    /// The attributes of `spec.bound_keypair.onboarding`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("initial_public_key").optional().description(concat!(
                "InitialPublicKey is used to preregister a public key generated by `tbot keypair ",
                "create`. When set, no initial join secret is generated or made available for ",
                "use, and clients must have the associated private key available to join. If ",
                "set, `initial_join_secret` and `must_register_before` are ignored. This value ",
                "is written in SSH authorized_keys format."
            )),
            Attribute::string("registration_secret").optional().description(concat!(
                "RegistrationSecret is a secret joining clients may use to register their public ",
                "key on first join, which may be used instead of preregistering a public key ",
                "with `initial_public_key`. If `initial_public_key` is set, this value is ",
                "ignored. Otherwise, if set, this value will be used to populate ",
                "`.status.bound_keypair.registration_secret`. If unset and no ",
                "`initial_public_key` is provided, a random secure value will be generated ",
                "server-side to populate the status field."
            )),
            Attribute::string("must_register_before").optional().description(concat!(
                "MustRegisterBefore is an optional time before which registration via initial ",
                "join secret must be performed. Attempts to register using an initial join ",
                "secret after this timestamp will not be allowed. This may be modified after ",
                "creation if necessary to allow the initial registration to take place. This ",
                "value is ignored if `initial_public_key` is set."
            )),
        ]
    }
}

impl ProtoModel for BoundKeypairOnboardingSpec {
    type Proto = pb::provision_token_spec_v2_bound_keypair::OnboardingSpec;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            initial_public_key: self.initial_public_key.known_or_default(),
            registration_secret: self.registration_secret.known_or_default(),
            must_register_before: c::timestamp_to_proto(&self.must_register_before, &at.attr("must_register_before"))?,
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            initial_public_key: c::string(&server.initial_public_key, &reference.initial_public_key),
            registration_secret: c::string(&server.registration_secret, &reference.registration_secret),
            must_register_before: c::timestamp(server.must_register_before.as_ref(), &reference.must_register_before),
        }
    }
}

/// `spec.bound_keypair.recovery` (`types.ProvisionTokenSpecV2BoundKeypair.RecoverySpec`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BoundKeypairRecoverySpec {
    /// Limit is the maximum number of allowed recovery attempts. This value may be raised or lowered after creation to allow additional recovery attempts should the initial limit be exhausted. If `mode` is set to `standard`, recovery attempts will only be allowed if `.status.bound_keypair.recovery_count` is less than this limit. This limit is not enforced if `mode` is set to `relaxed` or `insecure`. This value must be at least 1 to allow for the initial join during onboarding, which counts as a recovery.
    pub limit: Maybe<u32>,
    /// Mode sets the recovery rule enforcement mode. It may be one of these values: - standard (or unset): all configured rules enforced. The recovery limit and client join state are required and verified. This is the most secure recovery mode. - relaxed: recovery limit is not enforced, but client join state is still required. This effectively allows unlimited recovery attempts, but client join state still helps mitigate stolen credentials. - insecure: neither the recovery limit nor client join state are enforced. This allows any client with the private key to join freely. This is less secure, but can be useful in certain situations, like in otherwise unsupported CI/CD providers. This mode should be used with care, and RBAC rules should be configured to heavily restrict which resources this identity can access.
    pub mode: Maybe<String>,
}

impl BoundKeypairRecoverySpec {
    /// The attributes of `spec.bound_keypair.recovery`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::number("limit").optional().description(concat!(
                "Limit is the maximum number of allowed recovery attempts. This value may be ",
                "raised or lowered after creation to allow additional recovery attempts should ",
                "the initial limit be exhausted. If `mode` is set to `standard`, recovery ",
                "attempts will only be allowed if `.status.bound_keypair.recovery_count` is less ",
                "than this limit. This limit is not enforced if `mode` is set to `relaxed` or ",
                "`insecure`. This value must be at least 1 to allow for the initial join during ",
                "onboarding, which counts as a recovery."
            )),
            Attribute::string("mode").optional().description(concat!(
                "Mode sets the recovery rule enforcement mode. It may be one of these values: - ",
                "standard (or unset): all configured rules enforced. The recovery limit and ",
                "client join state are required and verified. This is the most secure recovery ",
                "mode. - relaxed: recovery limit is not enforced, but client join state is still ",
                "required. This effectively allows unlimited recovery attempts, but client join ",
                "state still helps mitigate stolen credentials. - insecure: neither the recovery ",
                "limit nor client join state are enforced. This allows any client with the ",
                "private key to join freely. This is less secure, but can be useful in certain ",
                "situations, like in otherwise unsupported CI/CD providers. This mode should be ",
                "used with care, and RBAC rules should be configured to heavily restrict which ",
                "resources this identity can access."
            )),
        ]
    }
}

impl ProtoModel for BoundKeypairRecoverySpec {
    type Proto = pb::provision_token_spec_v2_bound_keypair::RecoverySpec;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            limit: self.limit.known_or_default(),
            mode: self.mode.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            limit: c::number_or_default(server.limit, 1, &reference.limit),
            mode: c::string(&server.mode, &reference.mode),
        }
    }
}

/// `spec.azure_devops` (`types.ProvisionTokenSpecV2AzureDevops`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AzureDevops {
    /// Allow is a list of TokenRules, nodes using this token must match one allow rule to use this token. At least one allow rule must be specified.
    pub allow: Maybe<Vec<AzureDevopsRule>>,
    /// OrganizationID specifies the UUID of the Azure DevOps organization that this join token will grant access to. This is used to identify the correct issuer verification of the ID token. This is a required field.
    pub organization_id: Maybe<String>,
}

impl AzureDevops {
    /// The attributes of `spec.azure_devops`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::list_nested("allow", AzureDevopsRule::attributes()).optional().description(concat!(
                "Allow is a list of TokenRules, nodes using this token must match one allow rule ",
                "to use this token. At least one allow rule must be specified."
            )),
            Attribute::string("organization_id").optional().description(concat!(
                "OrganizationID specifies the UUID of the Azure DevOps organization that this ",
                "join token will grant access to. This is used to identify the correct issuer ",
                "verification of the ID token. This is a required field."
            )),
        ]
    }
}

impl ProtoModel for AzureDevops {
    type Proto = pb::ProvisionTokenSpecV2AzureDevops;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            allow: c::messages_to_proto(&self.allow, &at.attr("allow"))?,
            organization_id: self.organization_id.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            allow: c::messages(&server.allow, &reference.allow),
            organization_id: c::string(&server.organization_id, &reference.organization_id),
        }
    }
}

/// `spec.azure_devops.allow` (`types.ProvisionTokenSpecV2AzureDevops.Rule`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AzureDevopsRule {
    /// Sub also known as Subject is a string that roughly uniquely identifies the workload. Example: `p://my-organization/my-project/my-pipeline` Mapped from the `sub` claim.
    pub sub: Maybe<String>,
    /// The name of the AZDO project. Example: `my-project`. Mapped out of the `sub` claim.
    pub project_name: Maybe<String>,
    /// The name of the AZDO pipeline. Example: `my-pipeline`. Mapped out of the `sub` claim.
    pub pipeline_name: Maybe<String>,
    /// The ID of the AZDO pipeline. Example: `271ef6f7-0000-0000-0000-4b54d9129990` Mapped from the `prj_id` claim.
    pub project_id: Maybe<String>,
    /// The ID of the AZDO pipeline definition. Example: `1` Mapped from the `def_id` claim.
    pub definition_id: Maybe<String>,
    /// The URI of the repository the pipeline is using. Example: `https://github.com/gravitational/teleport.git`. Mapped from the `rpo_uri` claim.
    pub repository_uri: Maybe<String>,
    /// The individual commit of the repository the pipeline is using. Example: `e6b9eb29a288b27a3a82cc19c48b9d94b80aff36`. Mapped from the `rpo_ver` claim.
    pub repository_version: Maybe<String>,
    /// The reference of the repository the pipeline is using. Example: `refs/heads/main`. Mapped from the `rpo_ref` claim.
    pub repository_ref: Maybe<String>,
}

impl AzureDevopsRule {
    /// The attributes of `spec.azure_devops.allow`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("sub").optional().description(concat!(
                "Sub also known as Subject is a string that roughly uniquely identifies the ",
                "workload. Example: `p://my-organization/my-project/my-pipeline` Mapped from the ",
                "`sub` claim."
            )),
            Attribute::string("project_name").optional().description(concat!(
                "The name of the AZDO project. Example: `my-project`. Mapped out of the `sub` ",
                "claim."
            )),
            Attribute::string("pipeline_name").optional().description(concat!(
                "The name of the AZDO pipeline. Example: `my-pipeline`. Mapped out of the `sub` ",
                "claim."
            )),
            Attribute::string("project_id").optional().description(concat!(
                "The ID of the AZDO pipeline. Example: `271ef6f7-0000-0000-0000-4b54d9129990` ",
                "Mapped from the `prj_id` claim."
            )),
            Attribute::string("definition_id").optional().description(concat!(
                "The ID of the AZDO pipeline definition. Example: `1` Mapped from the `def_id` ",
                "claim."
            )),
            Attribute::string("repository_uri").optional().description(concat!(
                "The URI of the repository the pipeline is using. Example: ",
                "`https://github.com/gravitational/teleport.git`. Mapped from the `rpo_uri` ",
                "claim."
            )),
            Attribute::string("repository_version").optional().description(concat!(
                "The individual commit of the repository the pipeline is using. Example: ",
                "`e6b9eb29a288b27a3a82cc19c48b9d94b80aff36`. Mapped from the `rpo_ver` claim."
            )),
            Attribute::string("repository_ref").optional().description(concat!(
                "The reference of the repository the pipeline is using. Example: ",
                "`refs/heads/main`. Mapped from the `rpo_ref` claim."
            )),
        ]
    }
}

impl ProtoModel for AzureDevopsRule {
    type Proto = pb::provision_token_spec_v2_azure_devops::Rule;

    fn to_proto(&self, _at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            sub: self.sub.known_or_default(),
            project_name: self.project_name.known_or_default(),
            pipeline_name: self.pipeline_name.known_or_default(),
            project_id: self.project_id.known_or_default(),
            definition_id: self.definition_id.known_or_default(),
            repository_uri: self.repository_uri.known_or_default(),
            repository_version: self.repository_version.known_or_default(),
            repository_ref: self.repository_ref.known_or_default(),
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            sub: c::string(&server.sub, &reference.sub),
            project_name: c::string(&server.project_name, &reference.project_name),
            pipeline_name: c::string(&server.pipeline_name, &reference.pipeline_name),
            project_id: c::string(&server.project_id, &reference.project_id),
            definition_id: c::string(&server.definition_id, &reference.definition_id),
            repository_uri: c::string(&server.repository_uri, &reference.repository_uri),
            repository_version: c::string(&server.repository_version, &reference.repository_version),
            repository_ref: c::string(&server.repository_ref, &reference.repository_ref),
        }
    }
}

/// `status` (`types.ProvisionTokenStatusV2`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenStatus {
    /// BoundKeypair contains status information related to bound_keypair type tokens.
    pub bound_keypair: Maybe<BoundKeypairStatus>,
}

impl TokenStatus {
    /// The attributes of `status`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::single_nested("bound_keypair", BoundKeypairStatus::attributes())
                .optional()
                .computed()
                .description("BoundKeypair contains status information related to bound_keypair type tokens."),
        ]
    }
}

impl ProtoModel for TokenStatus {
    type Proto = pb::ProvisionTokenStatusV2;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            bound_keypair: c::message_to_proto(&self.bound_keypair, &at.attr("bound_keypair"))?,
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self { bound_keypair: c::message(server.bound_keypair.as_ref(), &reference.bound_keypair) }
    }
}

/// `status.bound_keypair` (`types.ProvisionTokenStatusV2BoundKeypair`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BoundKeypairStatus {
    /// RegistrationSecret contains a secret value that may be used for public key registration during the initial join process if no public key is preregistered. If `.spec.bound_keypair.onboarding.initial_public_key` is set, this field will remain empty. Otherwise, if `.spec.bound_keypair.onboarding.registration_secret` is set, that value will be copied here. If that field is unset, a value will be randomly generated.
    pub registration_secret: Maybe<String>,
    /// BoundPublicKey contains the currently bound public key. If `.spec.bound_keypair.onboarding.initial_public_key` is set, that value will be copied here on creation, otherwise it will be populated as part of public key registration process. This value will be updated over time if keypair rotation takes place, and will always reflect the currently trusted public key. This value is written in SSH authorized_keys format.
    pub bound_public_key: Maybe<String>,
    /// BoundBotInstanceID is the ID of the currently associated bot instance. A new bot instance is issued on each join; the new bot instance will have a `previous_bot_instance` set to this value, if any.
    pub bound_bot_instance_id: Maybe<String>,
    /// RecoveryCount is a count of the total number of recoveries performed using this token. It is incremented for every successful join or rejoin. Recovery is only allowed if this value is less than `.spec.bound_keypair.recovery.limit`, or if the recovery mode is `relaxed` or `insecure`.
    pub recovery_count: Maybe<u32>,
    /// LastRecoveredAt contains a timestamp of the last successful recovery attempt. Note that normal renewals with valid client certificates do not count as a recovery attempt, however the initial join during onboarding does. This corresponds with the last time `bound_bot_instance_id` was updated.
    pub last_recovered_at: Maybe<String>,
    /// LastRotatedAt contains a timestamp of the last time the keypair was rotated, if any. This is not set at initial join.
    pub last_rotated_at: Maybe<String>,
}

impl BoundKeypairStatus {
    /// The attributes of `status.bound_keypair`.
    pub fn attributes() -> Vec<Attribute> {
        vec![
            Attribute::string("registration_secret").optional().computed().description(concat!(
                "RegistrationSecret contains a secret value that may be used for public key ",
                "registration during the initial join process if no public key is preregistered. ",
                "If `.spec.bound_keypair.onboarding.initial_public_key` is set, this field will ",
                "remain empty. Otherwise, if ",
                "`.spec.bound_keypair.onboarding.registration_secret` is set, that value will be ",
                "copied here. If that field is unset, a value will be randomly generated."
            )),
            Attribute::string("bound_public_key").optional().computed().description(concat!(
                "BoundPublicKey contains the currently bound public key. If ",
                "`.spec.bound_keypair.onboarding.initial_public_key` is set, that value will be ",
                "copied here on creation, otherwise it will be populated as part of public key ",
                "registration process. This value will be updated over time if keypair rotation ",
                "takes place, and will always reflect the currently trusted public key. This ",
                "value is written in SSH authorized_keys format."
            )),
            Attribute::string("bound_bot_instance_id").optional().computed().description(concat!(
                "BoundBotInstanceID is the ID of the currently associated bot instance. A new ",
                "bot instance is issued on each join; the new bot instance will have a ",
                "`previous_bot_instance` set to this value, if any."
            )),
            Attribute::number("recovery_count").optional().computed().description(concat!(
                "RecoveryCount is a count of the total number of recoveries performed using this ",
                "token. It is incremented for every successful join or rejoin. Recovery is only ",
                "allowed if this value is less than `.spec.bound_keypair.recovery.limit`, or if ",
                "the recovery mode is `relaxed` or `insecure`."
            )),
            Attribute::string("last_recovered_at").optional().computed().description(concat!(
                "LastRecoveredAt contains a timestamp of the last successful recovery attempt. ",
                "Note that normal renewals with valid client certificates do not count as a ",
                "recovery attempt, however the initial join during onboarding does. This ",
                "corresponds with the last time `bound_bot_instance_id` was updated."
            )),
            Attribute::string("last_rotated_at").optional().computed().description(concat!(
                "LastRotatedAt contains a timestamp of the last time the keypair was rotated, if ",
                "any. This is not set at initial join."
            )),
        ]
    }
}

impl ProtoModel for BoundKeypairStatus {
    type Proto = pb::ProvisionTokenStatusV2BoundKeypair;

    fn to_proto(&self, at: &AttributePath) -> Result<Self::Proto, Diagnostics> {
        Ok(Self::Proto {
            registration_secret: self.registration_secret.known_or_default(),
            bound_public_key: self.bound_public_key.known_or_default(),
            bound_bot_instance_id: self.bound_bot_instance_id.known_or_default(),
            recovery_count: self.recovery_count.known_or_default(),
            last_recovered_at: c::timestamp_to_proto(&self.last_recovered_at, &at.attr("last_recovered_at"))?,
            last_rotated_at: c::timestamp_to_proto(&self.last_rotated_at, &at.attr("last_rotated_at"))?,
            ..Default::default()
        })
    }

    fn to_state(server: &Self::Proto, reference: &Self) -> Self {
        Self {
            registration_secret: c::string_computed(&server.registration_secret),
            bound_public_key: c::string_computed(&server.bound_public_key),
            bound_bot_instance_id: c::string_computed(&server.bound_bot_instance_id),
            recovery_count: Maybe::Known(server.recovery_count),
            last_recovered_at: c::timestamp(server.last_recovered_at.as_ref(), &reference.last_recovered_at),
            last_rotated_at: c::timestamp(server.last_rotated_at.as_ref(), &reference.last_rotated_at),
        }
    }
}
