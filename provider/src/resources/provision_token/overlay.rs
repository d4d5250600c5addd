//! What `teleport_provision_token`'s schema says beyond Teleport's
//! `types.ProvisionTokenV2`: the official provider's flags (its generator
//! config, `integrations/terraform/protoc-gen-terraform-teleport-token.yaml`,
//! and the published reference page), Joinery's validators and deliberate
//! improvements, and the values the server fills in itself. `protogen`
//! turns this and the protos into `model.rs`.
//!
//! Matched: Teleport v18's reference page, gravitational/teleport@1c075a17
//! `docs/pages/reference/infrastructure-as-code/terraform-provider/resources/provision_token.mdx`
//! (<https://goteleport.com/docs/reference/infrastructure-as-code/terraform-provider/resources/provision_token/>);
//! the protos' header says where their text comes from.

use crate::resources::protogen::{Extra, ExtraType, Overlay, Rule::*};

/// The overlay of `teleport_provision_token`.
pub(crate) const OVERLAY: Overlay = Overlay {
    resource: "teleport_provision_token",
    root: "types.ProvisionTokenV2",
    names: &[
        ("types.ProvisionTokenV2", "TokenModel"),
        ("types.ProvisionTokenSpecV2", "TokenSpec"),
        ("types.ProvisionTokenStatusV2", "TokenStatus"),
        ("types.ProvisionTokenStatusV2BoundKeypair", "BoundKeypairStatus"),
        ("types.TokenRule", "AwsRule"),
    ],
    strip: &["ProvisionTokenSpecV2"],
    extras: &[Extra {
        name: "id",
        ty: ExtraType::String,
        rules: &[
            ReadOnly,
            UseStateForUnknown,
            // Joinery: the revision after create *and* import; the official
            // provider puts the (secret) name here after an import.
            Description(
                "The token's revision when Terraform created or imported it. Never the token name, which is secret.",
            ),
        ],
    }],
    rules: &[
        ("kind", &[Computed, UseStateForUnknown]),
        ("version", &[Required, Validator("validators::one_of([\"v2\"])")]),
        // Joinery: computed too, because the name is generated when omitted.
        ("metadata", &[External("crate::resources::metadata::MetadataModel"), Computed, UseStateForUnknown]),
        // Order matters: keep the known name before deciding on replacement.
        ("metadata.name", &[Computed, Sensitive, UseStateForUnknown, RequiresReplace]),
        ("metadata.namespace", &[Computed, UseStateForUnknown]),
        ("metadata.expires", &[Validator("crate::resources::metadata::expires_in_the_future()")]),
        ("spec", &[Required]),
        ("spec.roles", &[Required, CaseInsensitive]),
        // Joinery: computed, so an import (which reads the server's default) plans clean.
        ("spec.join_method", &[Computed, UseStateForUnknown]),
        ("spec.aws_iid_ttl", &[Computed, UseStateForUnknown]),
        ("spec.azure.allow.subscription", &[Validator("super::schema::subscription_guid()")]),
        // The official provider has no description for CircleCI's fields.
        (
            "spec.circleci.organization_id",
            &[Description("OrganizationID is the ID of the CircleCI organization whose jobs may join.")],
        ),
        (
            "spec.circleci.allow.project_id",
            &[Description("ProjectID is the ID of the CircleCI project a job must run in.")],
        ),
        (
            "spec.circleci.allow.context_id",
            &[Description("ContextID is the ID of a CircleCI context the job must use.")],
        ),
        // `CheckAndSetDefaults` fills these in when they are empty.
        ("spec.gitlab.domain", &[ServerDefault("\"gitlab.com\"")]),
        ("spec.kubernetes.type", &[ServerDefault("\"in_cluster\"")]),
        ("spec.bound_keypair.recovery.limit", &[ServerDefault("1")]),
        // Teleport writes the status; Joinery sends back the server's own on update.
        ("status", &[Computed, PlanModifier("super::StatusFollowsJoinMethod")]),
        ("status.bound_keypair", &[Computed]),
        ("status.bound_keypair.registration_secret", &[Computed]),
        ("status.bound_keypair.bound_public_key", &[Computed]),
        ("status.bound_keypair.bound_bot_instance_id", &[Computed]),
        ("status.bound_keypair.recovery_count", &[Computed]),
        ("status.bound_keypair.last_recovered_at", &[Computed]),
        ("status.bound_keypair.last_rotated_at", &[Computed]),
    ],
};
