//! `teleport_provision_token`: join tokens, resource and data source.
//!
//! Compatible with the official provider's schema (generated from
//! `types.ProvisionTokenV2`), with three deliberate improvements: `id` is
//! the revision after both create and import (never the secret name);
//! attributes the server fills in (`kind`, `metadata.namespace`,
//! `spec.join_method`, `spec.aws_iid_ttl`) are optional+computed so an
//! import plans clean; and server-managed labels never show up as drift.

use std::time::Duration;

use async_trait::async_trait;
use joinery_teleport::Error as TeleportError;
use joinery_teleport::proto::types::{
    Metadata, ProvisionTokenSpecV2, ProvisionTokenSpecV2Azure, ProvisionTokenSpecV2CircleCi,
    ProvisionTokenSpecV2GitHub, ProvisionTokenSpecV2gcp, ProvisionTokenV2, TokenRule, provision_token_spec_v2_azure,
    provision_token_spec_v2_circle_ci, provision_token_spec_v2_git_hub, provision_token_spec_v2gcp,
};
use joinery_teleport::proto::wrappers::{LabelValues, StringValues};

use super::convert::{self, get_elements, get_map_of_lists, get_string, get_string_map, get_strings};
use crate::connect::TeleportClient;
use joinery_tfplugin::cty::{Type, Value};
use joinery_tfplugin::framework::{
    Attribute, AttributePath, CreateRequest, DataSource, DeleteRequest, Diagnostics, ReadRequest, Resource, Schema,
    UpdateRequest, validators,
};
use joinery_util::guid::is_guid;

/// The resource type name.
pub const TYPE_NAME: &str = "teleport_provision_token";

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
                "metadata",
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
                "spec",
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

/// Cross-attribute checks, each reported on the attribute at fault.
fn validate_config(config: &Value, diags: &mut Diagnostics) {
    let spec = config.attr("spec");
    let roles = spec.attr("roles");
    let bot_name = spec.attr("bot_name");
    if let Some(roles) = roles.as_string_vec() {
        let has_bot = roles.iter().any(|r| r.eq_ignore_ascii_case("bot"));
        match bot_name {
            Value::String(b) if !b.is_empty() && !has_bot => diags.add_attribute_error(
                AttributePath::root("spec").attr("bot_name"),
                "bot_name requires the Bot role",
                "spec.bot_name can only be set when spec.roles contains \"Bot\".",
            ),
            Value::Null if has_bot => diags.add_attribute_error(
                AttributePath::root("spec").attr("bot_name"),
                "Missing bot_name",
                "A token with the \"Bot\" role must set spec.bot_name to the bot that joins with it.",
            ),
            _ => {}
        }
    }
    if spec.attr("join_method").as_str() == Some("azure") {
        let allow = spec.attr("azure").attr("allow");
        let empty =
            spec.attr("azure").is_null() || allow.is_null() || allow.as_elements().is_some_and(|a| a.is_empty());
        if empty {
            diags.add_attribute_error(
                AttributePath::root("spec").attr("azure"),
                "Missing Azure allow rules",
                "join_method = \"azure\" needs at least one rule in spec.azure.allow with a subscription.",
            );
        }
        if let Some(rules) = allow.as_elements() {
            for (i, rule) in rules.iter().enumerate() {
                if rule.attr("subscription").is_null() {
                    diags.add_attribute_error(
                        AttributePath::root("spec").attr("azure").attr("allow").index(i).attr("subscription"),
                        "Missing Azure subscription",
                        "Every Azure allow rule needs a subscription.",
                    );
                }
            }
        }
    }
}

// ---- Terraform value -> protobuf ------------------------------------------

fn label_values(m: std::collections::BTreeMap<String, Vec<String>>) -> Option<LabelValues> {
    if m.is_empty() {
        return None;
    }
    Some(LabelValues { values: m.into_iter().map(|(k, v)| (k, StringValues { values: v })).collect() })
}

/// Builds the protobuf token from a plan (or configuration).
fn to_proto(v: &Value, name: String) -> Result<ProvisionTokenV2, Diagnostics> {
    let meta = v.attr("metadata");
    let spec = v.attr("spec");
    let expires = match meta.attr("expires").as_str() {
        Some(e) => Some(convert::parse_time(e).map_err(|m| {
            Diagnostics::attribute_error(AttributePath::root("metadata").attr("expires"), "Invalid expiry time", m)
        })?),
        None => None,
    };
    let aws_iid_ttl = match spec.attr("aws_iid_ttl").as_str() {
        Some(d) => joinery_util::duration::parse(d)
            .map_err(|e| {
                Diagnostics::attribute_error(
                    AttributePath::root("spec").attr("aws_iid_ttl"),
                    "Invalid duration",
                    e.to_string(),
                )
            })?
            .as_nanos() as i64,
        None => 0,
    };
    let azure = &spec.attr("azure");
    let gcp = &spec.attr("gcp");
    let github = &spec.attr("github");
    let circleci = &spec.attr("circleci");
    Ok(ProvisionTokenV2 {
        kind: Some(get_string(v, "kind")).filter(|k| !k.is_empty()).unwrap_or_else(|| "token".into()),
        sub_kind: get_string(v, "sub_kind"),
        version: get_string(v, "version"),
        metadata: Some(Metadata {
            name,
            namespace: get_string(meta, "namespace"),
            description: get_string(meta, "description"),
            labels: get_string_map(meta, "labels"),
            expires,
            revision: get_string(meta, "revision"),
        }),
        spec: Some(ProvisionTokenSpecV2 {
            roles: get_strings(spec, "roles"),
            allow: get_elements(spec, "allow")
                .iter()
                .map(|r| TokenRule {
                    aws_account: get_string(r, "aws_account"),
                    aws_regions: get_strings(r, "aws_regions"),
                    aws_role: get_string(r, "aws_role"),
                    awsarn: get_string(r, "aws_arn"),
                })
                .collect(),
            awsiidttl: aws_iid_ttl,
            join_method: get_string(spec, "join_method"),
            bot_name: get_string(spec, "bot_name"),
            suggested_labels: label_values(get_map_of_lists(spec, "suggested_labels")),
            suggested_agent_matcher_labels: label_values(get_map_of_lists(spec, "suggested_agent_matcher_labels")),
            azure: (!azure.is_null()).then(|| ProvisionTokenSpecV2Azure {
                allow: get_elements(azure, "allow")
                    .iter()
                    .map(|r| provision_token_spec_v2_azure::Rule {
                        subscription: get_string(r, "subscription"),
                        resource_groups: get_strings(r, "resource_groups"),
                    })
                    .collect(),
            }),
            gcp: (!gcp.is_null()).then(|| ProvisionTokenSpecV2gcp {
                allow: get_elements(gcp, "allow")
                    .iter()
                    .map(|r| provision_token_spec_v2gcp::Rule {
                        project_i_ds: get_strings(r, "project_ids"),
                        locations: get_strings(r, "locations"),
                        service_accounts: get_strings(r, "service_accounts"),
                    })
                    .collect(),
            }),
            git_hub: (!github.is_null()).then(|| ProvisionTokenSpecV2GitHub {
                allow: get_elements(github, "allow")
                    .iter()
                    .map(|r| provision_token_spec_v2_git_hub::Rule {
                        sub: get_string(r, "sub"),
                        repository: get_string(r, "repository"),
                        repository_owner: get_string(r, "repository_owner"),
                        workflow: get_string(r, "workflow"),
                        environment: get_string(r, "environment"),
                        actor: get_string(r, "actor"),
                        r#ref: get_string(r, "ref"),
                        ref_type: get_string(r, "ref_type"),
                    })
                    .collect(),
                enterprise_server_host: get_string(github, "enterprise_server_host"),
                enterprise_slug: get_string(github, "enterprise_slug"),
                static_jwks: get_string(github, "static_jwks"),
            }),
            circle_ci: (!circleci.is_null()).then(|| ProvisionTokenSpecV2CircleCi {
                allow: get_elements(circleci, "allow")
                    .iter()
                    .map(|r| provision_token_spec_v2_circle_ci::Rule {
                        project_id: get_string(r, "project_id"),
                        context_id: get_string(r, "context_id"),
                    })
                    .collect(),
                organization_id: get_string(circleci, "organization_id"),
            }),
            ..Default::default()
        }),
    })
}

// ---- protobuf -> Terraform state -------------------------------------------

fn map_of_lists(l: &Option<LabelValues>, reference: &Value) -> Value {
    let m =
        l.as_ref().map(|l| l.values.iter().map(|(k, v)| (k.clone(), v.values.clone())).collect()).unwrap_or_default();
    convert::map_of_lists(&m, reference)
}

/// Builds state from the server's token; `reference` is the plan, the prior
/// state, or null on import; `id` is kept from it when known.
fn to_state(t: &ProvisionTokenV2, reference: &Value) -> Value {
    let m = t.metadata.clone().unwrap_or_default();
    let sp = t.spec.clone().unwrap_or_default();
    let (rm, rs) = (reference.attr("metadata"), reference.attr("spec"));
    let id = match reference.attr("id") {
        Value::String(id) => Value::string(id.clone()),
        _ => Value::string(m.revision.clone()),
    };
    let (ra, rg, rgh, rc) = (rs.attr("azure"), rs.attr("gcp"), rs.attr("github"), rs.attr("circleci"));
    let azure = sp.azure.as_ref().map(|a| {
        Value::object([(
            "allow",
            convert::object_list(&a.allow, ra.attr("allow"), |r, e| {
                Value::object([
                    ("subscription", convert::string(&r.subscription, e.attr("subscription"))),
                    ("resource_groups", convert::string_list(&r.resource_groups, e.attr("resource_groups"))),
                ])
            }),
        )])
    });
    let gcp = sp.gcp.as_ref().map(|g| {
        Value::object([(
            "allow",
            convert::object_list(&g.allow, rg.attr("allow"), |r, e| {
                Value::object([
                    ("project_ids", convert::string_list(&r.project_i_ds, e.attr("project_ids"))),
                    ("locations", convert::string_list(&r.locations, e.attr("locations"))),
                    ("service_accounts", convert::string_list(&r.service_accounts, e.attr("service_accounts"))),
                ])
            }),
        )])
    });
    let github = sp.git_hub.as_ref().map(|g| {
        Value::object([
            (
                "allow",
                convert::object_list(&g.allow, rgh.attr("allow"), |r, e| {
                    Value::object([
                        ("sub", convert::string(&r.sub, e.attr("sub"))),
                        ("repository", convert::string(&r.repository, e.attr("repository"))),
                        ("repository_owner", convert::string(&r.repository_owner, e.attr("repository_owner"))),
                        ("workflow", convert::string(&r.workflow, e.attr("workflow"))),
                        ("environment", convert::string(&r.environment, e.attr("environment"))),
                        ("actor", convert::string(&r.actor, e.attr("actor"))),
                        ("ref", convert::string(&r.r#ref, e.attr("ref"))),
                        ("ref_type", convert::string(&r.ref_type, e.attr("ref_type"))),
                    ])
                }),
            ),
            ("enterprise_server_host", convert::string(&g.enterprise_server_host, rgh.attr("enterprise_server_host"))),
            ("enterprise_slug", convert::string(&g.enterprise_slug, rgh.attr("enterprise_slug"))),
            ("static_jwks", convert::string(&g.static_jwks, rgh.attr("static_jwks"))),
        ])
    });
    let circleci = sp.circle_ci.as_ref().map(|c| {
        Value::object([
            (
                "allow",
                convert::object_list(&c.allow, rc.attr("allow"), |r, e| {
                    Value::object([
                        ("project_id", convert::string(&r.project_id, e.attr("project_id"))),
                        ("context_id", convert::string(&r.context_id, e.attr("context_id"))),
                    ])
                }),
            ),
            ("organization_id", convert::string(&c.organization_id, rc.attr("organization_id"))),
        ])
    });
    Value::object([
        ("id", id),
        ("kind", Value::string(t.kind.clone())),
        ("sub_kind", convert::string(&t.sub_kind, reference.attr("sub_kind"))),
        ("version", Value::string(t.version.clone())),
        (
            "metadata",
            Value::object([
                ("name", Value::string(m.name.clone())),
                (
                    "namespace",
                    Value::string(if m.namespace.is_empty() { "default".to_string() } else { m.namespace.clone() }),
                ),
                ("description", convert::string(&m.description, rm.attr("description"))),
                ("labels", convert::labels(&m.labels, rm.attr("labels"))),
                ("expires", convert::timestamp(m.expires.as_ref(), rm.attr("expires"))),
                // Sent back on update when set; the server's value is not tracked.
                (
                    "revision",
                    match rm.attr("revision") {
                        Value::String(r) => Value::string(r.clone()),
                        _ => Value::Null,
                    },
                ),
            ]),
        ),
        (
            "spec",
            Value::object([
                ("roles", convert::string_list_ci(&sp.roles, rs.attr("roles"))),
                ("join_method", Value::string(sp.join_method.clone())),
                ("bot_name", convert::string(&sp.bot_name, rs.attr("bot_name"))),
                (
                    "allow",
                    convert::object_list(&sp.allow, rs.attr("allow"), |r, e| {
                        Value::object([
                            ("aws_account", convert::string(&r.aws_account, e.attr("aws_account"))),
                            ("aws_regions", convert::string_list(&r.aws_regions, e.attr("aws_regions"))),
                            ("aws_role", convert::string(&r.aws_role, e.attr("aws_role"))),
                            ("aws_arn", convert::string(&r.awsarn, e.attr("aws_arn"))),
                        ])
                    }),
                ),
                (
                    "aws_iid_ttl",
                    convert::duration(Duration::from_nanos(sp.awsiidttl.max(0) as u64), rs.attr("aws_iid_ttl")),
                ),
                ("suggested_labels", map_of_lists(&sp.suggested_labels, rs.attr("suggested_labels"))),
                (
                    "suggested_agent_matcher_labels",
                    map_of_lists(&sp.suggested_agent_matcher_labels, rs.attr("suggested_agent_matcher_labels")),
                ),
                ("azure", azure.unwrap_or(Value::Null)),
                ("gcp", gcp.unwrap_or(Value::Null)),
                ("github", github.unwrap_or(Value::Null)),
                ("circleci", circleci.unwrap_or(Value::Null)),
            ]),
        ),
    ])
}

fn api_error(action: &str, e: TeleportError) -> Diagnostics {
    Diagnostics::error(format!("Error {action} ProvisionToken"), e.to_string())
}

fn name_of(v: &Value) -> String {
    get_string(v.attr("metadata"), "name")
}

fn mask(name: &str) -> String {
    let n = name.chars().count();
    name.chars().enumerate().map(|(i, c)| if i < n * 3 / 4 { '*' } else { c }).collect()
}

/// Polls `GetToken` until `done` accepts the token, with the provider's
/// retry policy (Teleport's caches make writes visible with a delay).
async fn wait_for(
    c: &TeleportClient,
    name: &str,
    done: impl Fn(&ProvisionTokenV2) -> bool,
) -> Result<ProvisionTokenV2, Diagnostics> {
    let tries = c.retry.max_tries.max(1);
    for attempt in 1..=tries {
        match c.client.get_token(name).await {
            Ok(t) if done(&t) => return Ok(t),
            Ok(_) | Err(TeleportError::NotFound(_)) => {}
            Err(e) => return Err(api_error("reading", e)),
        }
        if attempt < tries {
            tokio::time::sleep(c.retry.delay(attempt)).await;
        }
    }
    Err(Diagnostics::error(
        "Error reading ProvisionToken",
        format!("the token was written but not visible after {tries} tries - state outdated, please import resource"),
    ))
}

/// The resource.
pub struct ProvisionTokenResource;

#[async_trait]
impl Resource<TeleportClient> for ProvisionTokenResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_config(config, diags);
    }

    async fn create(&self, c: &TeleportClient, req: CreateRequest) -> Result<Value, Diagnostics> {
        let name = match req.plan.attr("metadata").attr("name").as_str() {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => hex::encode(rand::random::<[u8; 32]>()),
        };
        match c.client.get_token(&name).await {
            Ok(_) => {
                return Err(Diagnostics::error(
                    "ProvisionToken exists in Teleport",
                    format!(
                        "A token named {} already exists. Either remove it (tctl rm token/<name>) or import it \
                         (terraform import {TYPE_NAME}.<resource name> <token name>).",
                        mask(&name)
                    ),
                ));
            }
            Err(TeleportError::NotFound(_)) => {}
            Err(e) => return Err(api_error("reading", e)),
        }
        let token = to_proto(&req.plan, name.clone())?;
        c.client.upsert_token(token).await.map_err(|e| api_error("creating", e))?;
        let created = wait_for(c, &name, |_| true).await?;
        Ok(to_state(&created, &req.plan.with_attr("id", Value::Unknown)))
    }

    async fn read(&self, c: &TeleportClient, req: ReadRequest) -> Result<Option<Value>, Diagnostics> {
        let name = name_of(&req.state);
        match c.client.get_token(&name).await {
            Ok(t) => Ok(Some(to_state(&t, &req.state))),
            Err(TeleportError::NotFound(_)) => Ok(None),
            Err(e) => Err(api_error("reading", e)),
        }
    }

    async fn update(&self, c: &TeleportClient, req: UpdateRequest) -> Result<Value, Diagnostics> {
        let name = name_of(&req.state);
        let before = c.client.get_token(&name).await.map_err(|e| api_error("reading", e))?;
        let before_rev = before.metadata.map(|m| m.revision).unwrap_or_default();
        c.client.upsert_token(to_proto(&req.plan, name.clone())?).await.map_err(|e| api_error("updating", e))?;
        let updated = wait_for(c, &name, |t| t.metadata.as_ref().is_some_and(|m| m.revision != before_rev)).await?;
        Ok(to_state(&updated, &req.plan))
    }

    async fn delete(&self, c: &TeleportClient, req: DeleteRequest) -> Result<(), Diagnostics> {
        match c.client.delete_token(&name_of(&req.state)).await {
            // Already gone (expired, or deleted by hand): the goal is reached.
            Ok(()) | Err(TeleportError::NotFound(_)) => Ok(()),
            Err(e) => Err(api_error("deleting", e)),
        }
    }

    async fn import(&self, c: &TeleportClient, id: &str) -> Result<Value, Diagnostics> {
        let t = c.client.get_token(id).await.map_err(|e| match e {
            TeleportError::NotFound(_) => Diagnostics::error(
                "Cannot import ProvisionToken",
                "No token with that name exists (or it has expired).",
            ),
            e => api_error("reading", e),
        })?;
        Ok(to_state(&t, &Value::Null))
    }
}

/// The data source: reads a token by `metadata.name` alone.
pub struct ProvisionTokenDataSource;

#[async_trait]
impl DataSource<TeleportClient> for ProvisionTokenDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        super::data_source_schema(schema(), &["metadata.name"])
            .description("Reads a Teleport join token by name (`metadata = { name = \"…\" }`).")
    }

    async fn read(&self, c: &TeleportClient, config: Value) -> Result<Value, Diagnostics> {
        let name = name_of(&config);
        let t = c.client.get_token(&name).await.map_err(|e| match e {
            TeleportError::NotFound(_) => Diagnostics::attribute_error(
                AttributePath::root("metadata").attr("name"),
                "Token not found",
                "No token with that name exists (or it has expired).",
            ),
            e => api_error("reading", e),
        })?;
        Ok(to_state(&t, &Value::Null))
    }
}
