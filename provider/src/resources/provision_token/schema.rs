//! The schema of `teleport_provision_token`, and the checks on configured
//! values that go with it.

use super::model::TokenModel;
use crate::resources::{convert, metadata};
use joinery_tfplugin::cty::Type;
use joinery_tfplugin::framework::{Attribute, AttributePath, Diagnostics, Maybe, Schema, validators};
use joinery_util::guid::is_guid;

/// The `spec` attribute's name.
const SPEC: &str = "spec";

fn s(name: &str, description: &str) -> Attribute {
    Attribute::string(name).optional().description(description)
}
fn list(name: &str, description: &str) -> Attribute {
    Attribute::list(name, Type::String).optional().description(description)
}

/// The resource schema.
pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Manages a Teleport join token (`ProvisionTokenV2`): how bots and agents prove who they are when they \
             join the cluster. Use `join_method = \"azure\"` with `spec.azure.allow` to let Azure VMs join with \
             their managed identity — no secret on the VM.",
        )
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .description("The token's revision when Terraform created or imported it. Never the token name, which is secret."),
        )
        .attribute(
            Attribute::string("kind").optional().computed().use_state_for_unknown().description("Resource kind; always `token`."),
        )
        .attribute(s("sub_kind", "Resource sub-kind; unused by tokens."))
        .attribute(
            Attribute::string("version")
                .required()
                .validator(validators::one_of(["v2"]))
                .description("Resource version. Must be `v2`."),
        )
        .attribute(
            Attribute::single_nested(
                metadata::ATTRIBUTE,
                [
                    Attribute::string("name")
                        .optional()
                        .computed()
                        .sensitive()
                        // Order matters: keep the known name before deciding on replacement.
                        .use_state_for_unknown()
                        .requires_replace()
                        .description(
                            "The token value, which is a secret for the `token` join method. When omitted, a random \
                             64-character hex value is generated. Changing it replaces the token.",
                        ),
                    Attribute::string("namespace")
                        .optional()
                        .computed()
                        .use_state_for_unknown()
                        .description("Namespace; always `default`."),
                    s("description", "A description of the token."),
                    Attribute::map("labels", Type::String).optional().description(
                        "Labels. Labels the server adds itself (`teleport.dev/…`) are ignored unless listed here.",
                    ),
                    Attribute::string("expires").optional().validator(validators::from_fn(
                        "must be an RFC 3339 time in the future, without fractional seconds",
                        |value| value.as_str().and_then(|v| check_expires(v).err()),
                    ))
                    .description(
                        "When the token expires, as an RFC 3339 time (e.g. `2030-01-01T00:00:00Z`). Must be in the \
                         future when planned. Teleport deletes expired tokens; the next plan recreates it.",
                    ),
                    s("revision", "The revision to update; usually left unset."),
                ],
            )
            .optional()
            .computed()
            .use_state_for_unknown()
            .description("Resource metadata."),
        )
        .attribute(
            Attribute::single_nested(
                SPEC,
                [
                    Attribute::list("roles", Type::String).required().description(
                        "System roles the token grants, e.g. `[\"Bot\"]`, `[\"Node\"]`. Case-insensitive.",
                    ),
                    Attribute::string("join_method").optional().computed().use_state_for_unknown().description(
                        "How joiners prove their identity: `token`, `azure`, `ec2`, `iam`, `github`, `gitlab`, \
                         `kubernetes`, `gcp`, `circleci`, … Defaults to `token` (or `ec2` when `allow` is set).",
                    ),
                    s("bot_name", "The bot this token is for. Required when `roles` contains `Bot`, and only then."),
                    Attribute::list_nested(
                        "allow",
                        [
                            s("aws_account", "AWS account ID."),
                            list("aws_regions", "AWS regions."),
                            s("aws_role", "AWS role to assume."),
                            s("aws_arn", "AWS ARN (IAM join)."),
                        ],
                    )
                    .optional()
                    .description("Allow rules for the `ec2` and `iam` join methods."),
                    Attribute::string("aws_iid_ttl").optional().computed().use_state_for_unknown().description(
                        "How old an EC2 instance identity document may be (Go duration). The server defaults it \
                         for `ec2`.",
                    ),
                    Attribute::map("suggested_labels", Type::list(Type::String))
                        .optional()
                        .description("Labels suggested to agents that join with this token."),
                    Attribute::map("suggested_agent_matcher_labels", Type::list(Type::String))
                        .optional()
                        .description("Labels agents joining with this token should match on."),
                    Attribute::single_nested(
                        "azure",
                        [Attribute::list_nested(
                            "allow",
                            [
                                Attribute::string("subscription")
                                    .optional()
                                    .validator(validators::from_fn("must be a subscription GUID", |value| {
                                        value.as_str().filter(|v| !is_guid(v)).map(|v| {
                                            format!("{v:?} is not a subscription ID (a GUID such as 11111111-2222-3333-4444-555555555555).")
                                        })
                                    }))
                                    .description("Azure subscription ID the VM must be in (exact match)."),
                                list("resource_groups", "Resource groups the VM must be in (case-insensitive). Empty: any."),
                            ],
                        )
                        .optional()
                        .description("A VM joins if any rule matches its subscription and resource group.")],
                    )
                    .optional()
                    .description("Rules for the `azure` join method: VMs prove who they are with their managed identity."),
                    Attribute::single_nested(
                        "gcp",
                        [Attribute::list_nested(
                            "allow",
                            [
                                list("project_ids", "GCP project IDs."),
                                list("locations", "GCP locations."),
                                list("service_accounts", "Service account emails."),
                            ],
                        )
                        .optional()
                        .description("Allow rules.")],
                    )
                    .optional()
                    .description("Rules for the `gcp` join method."),
                    Attribute::single_nested(
                        "github",
                        [
                            Attribute::list_nested(
                                "allow",
                                [
                                    s("sub", "Subject claim."),
                                    s("repository", "Repository (`owner/name`)."),
                                    s("repository_owner", "Repository owner."),
                                    s("workflow", "Workflow name."),
                                    s("environment", "Deployment environment."),
                                    s("actor", "User who triggered the run."),
                                    s("ref", "Git ref."),
                                    s("ref_type", "`branch` or `tag`."),
                                ],
                            )
                            .optional()
                            .description("Allow rules."),
                            s("enterprise_server_host", "GitHub Enterprise Server host."),
                            s("enterprise_slug", "GitHub Enterprise slug."),
                            s("static_jwks", "Static JWKS to verify tokens with."),
                        ],
                    )
                    .optional()
                    .description("Rules for the `github` join method."),
                    Attribute::single_nested(
                        "circleci",
                        [
                            Attribute::list_nested(
                                "allow",
                                [s("project_id", "CircleCI project ID."), s("context_id", "CircleCI context ID.")],
                            )
                            .optional()
                            .description("Allow rules."),
                            s("organization_id", "CircleCI organization ID."),
                        ],
                    )
                    .optional()
                    .description("Rules for the `circleci` join method."),
                ],
            )
            .required()
            .description("The token specification."),
        )
}

/// Checks an `expires` value the way the official provider does, at plan time.
fn check_expires(v: &str) -> Result<(), String> {
    let ts = convert::parse_time(v)?;
    if ts.nanos != 0 {
        return Err(format!("{v:?}: time must not contain fractional seconds"));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    if ts.seconds <= now as i64 {
        return Err(format!("{v:?} is in the past: the token would expire before it is created. Set a future time."));
    }
    Ok(())
}

/// The path of `spec.<attribute>`, for diagnostics.
pub(super) fn spec_path(attribute: &str) -> AttributePath {
    AttributePath::root(SPEC).attr(attribute)
}

/// Cross-attribute checks, each reported on the attribute at fault. Values
/// may be unknown here; a check needing one that is not known yet waits.
pub(super) fn validate(config: &TokenModel, diags: &mut Diagnostics) {
    let Some(spec) = config.spec.known() else { return };
    if let Some(roles) = spec.roles.known() {
        let has_bot = roles.iter().any(|r| r.eq_ignore_ascii_case("bot"));
        match &spec.bot_name {
            Maybe::Known(b) if !b.is_empty() && !has_bot => diags.add_attribute_error(
                spec_path("bot_name"),
                "bot_name requires the Bot role",
                "spec.bot_name can only be set when spec.roles contains \"Bot\".",
            ),
            Maybe::Null if has_bot => diags.add_attribute_error(
                spec_path("bot_name"),
                "Missing bot_name",
                "A token with the \"Bot\" role must set spec.bot_name to the bot that joins with it.",
            ),
            _ => {}
        }
    }
    if spec.join_method.known_str() == Some("azure") {
        // An azure block that is null or not known yet has no rules yet.
        let allow = spec.azure.known().map_or(&Maybe::Null, |a| &a.allow);
        if allow.is_null() || allow.known().is_some_and(Vec::is_empty) {
            diags.add_attribute_error(
                spec_path("azure"),
                "Missing Azure allow rules",
                "join_method = \"azure\" needs at least one rule in spec.azure.allow with a subscription.",
            );
        }
        for (i, rule) in allow.known().into_iter().flatten().enumerate() {
            if rule.subscription.is_null() {
                diags.add_attribute_error(
                    spec_path("azure").attr("allow").index(i).attr("subscription"),
                    "Missing Azure subscription",
                    "Every Azure allow rule needs a subscription.",
                );
            }
        }
    }
}
