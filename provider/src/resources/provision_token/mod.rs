//! `teleport_provision_token`: join tokens, resource and data source.
//!
//! The official provider's schema, like it generated from Teleport's
//! `types.ProvisionTokenV2` (every join method of Teleport v18 and the
//! token's status), with deliberate improvements: `id` is the revision after
//! both create and import (never the secret name); attributes the server
//! fills in (`kind`, `metadata.namespace`, `spec.join_method`,
//! `spec.aws_iid_ttl`) are optional+computed so an import plans clean;
//! values the server defaults (a GitLab domain, a Kubernetes type) and
//! server-managed labels never show up as drift; an update keeps the
//! server's status (a bound keypair's key and recovery count).
//!
//! - `overlay` (tests only): what the schema says beyond the protos;
//! - [`model`]: generated from both by `protogen` — the typed model
//!   ([`TokenModel`]), its attributes, the spec and status conversions;
//! - [`schema`](schema::schema): the schema and the cross-attribute checks;
//! - `proto`: the rest of model ↔ `ProvisionTokenV2` (id, header, metadata);
//! - here: the API calls.

pub mod model;
#[cfg(test)]
mod overlay;
mod proto;
mod schema;

use async_trait::async_trait;
use joinery_teleport::proto::types::ProvisionTokenV2;

pub use self::model::TokenModel;
use self::proto::{to_proto, to_state};
pub use self::schema::{StatusFollowsJoinMethod, schema};
use super::api::ObjectKind;
use super::metadata::MetadataModel;
use crate::connect::TeleportClient;
use joinery_tfplugin::framework::{
    CreateRequest, DataSource, DeleteRequest, Diagnostics, Maybe, ReadRequest, Resource, Schema, UpdateRequest,
};

/// The resource type name.
pub const TYPE_NAME: &str = "teleport_provision_token";

/// How API errors name tokens.
pub(crate) const KIND: ObjectKind = ObjectKind("ProvisionToken");

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
        if let Some(t) = KIND.found(c.client().await?.get_token(name).await)?
            && done(&t)
        {
            return Ok(t);
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
    type Model = TokenModel;

    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &TokenModel, diags: &mut Diagnostics) {
        schema::validate(config, diags);
    }

    async fn create(&self, c: &TeleportClient, req: CreateRequest<TokenModel>) -> Result<TokenModel, Diagnostics> {
        let name = match MetadataModel::name_of(&req.plan.metadata) {
            n if !n.is_empty() => n,
            _ => hex::encode(rand::random::<[u8; 32]>()),
        };
        if KIND.found(c.client().await?.get_token(&name).await)?.is_some() {
            // Token names can be secrets: the message shows the masked name.
            let masked = mask(&name);
            let what = format!("A token named {masked}");
            return Err(KIND.exists(TYPE_NAME, &what, "<the token's name>", "tctl rm token/<the token's name>"));
        }
        let token = to_proto(&req.plan, name.clone())?;
        c.client().await?.upsert_token(token).await.map_err(|e| KIND.error("creating", e))?;
        let created = wait_for(c, &name, |_| true).await?;
        // The id is the new revision, whatever the plan says.
        Ok(to_state(&created, &TokenModel { id: Maybe::Unknown, ..req.plan }))
    }

    async fn read(&self, c: &TeleportClient, req: ReadRequest<TokenModel>) -> Result<Option<TokenModel>, Diagnostics> {
        let name = MetadataModel::name_of(&req.state.metadata);
        Ok(KIND.found(c.client().await?.get_token(&name).await)?.map(|t| to_state(&t, &req.state)))
    }

    async fn update(&self, c: &TeleportClient, req: UpdateRequest<TokenModel>) -> Result<TokenModel, Diagnostics> {
        let name = MetadataModel::name_of(&req.state.metadata);
        let before = c.client().await?.get_token(&name).await.map_err(|e| KIND.error("reading", e))?;
        let before_rev = before.metadata.map(|m| m.revision).unwrap_or_default();
        // The status is Teleport's (a bound keypair's key, its recoveries):
        // send back what the server holds, never a plan's copy of it.
        let token = ProvisionTokenV2 { status: before.status, ..to_proto(&req.plan, name.clone())? };
        c.client().await?.upsert_token(token).await.map_err(|e| KIND.error("updating", e))?;
        let updated = wait_for(c, &name, |t| t.metadata.as_ref().is_some_and(|m| m.revision != before_rev)).await?;
        Ok(to_state(&updated, &req.plan))
    }

    async fn delete(&self, c: &TeleportClient, req: DeleteRequest<TokenModel>) -> Result<(), Diagnostics> {
        KIND.deleted(c.client().await?.delete_token(&MetadataModel::name_of(&req.state.metadata)).await)
    }

    async fn import(&self, c: &TeleportClient, id: &str) -> Result<TokenModel, Diagnostics> {
        let t = KIND.existing(c.client().await?.get_token(id).await, || {
            Diagnostics::error("Cannot import ProvisionToken", "No token with that name exists (or it has expired).")
        })?;
        Ok(to_state(&t, &TokenModel::default()))
    }
}

/// The data source: reads a token by `metadata.name` alone.
pub struct ProvisionTokenDataSource;

#[async_trait]
impl DataSource<TeleportClient> for ProvisionTokenDataSource {
    type Model = TokenModel;

    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        super::data_source_schema(schema(), &["metadata.name"])
            .description("Reads a Teleport join token by name (`metadata = { name = \"…\" }`).")
    }

    async fn read(&self, c: &TeleportClient, config: TokenModel) -> Result<TokenModel, Diagnostics> {
        let name = MetadataModel::name_of(&config.metadata);
        let t = KIND.existing(c.client().await?.get_token(&name).await, || {
            Diagnostics::attribute_error(
                MetadataModel::path("name"),
                "Token not found",
                "No token with that name exists (or it has expired).",
            )
        })?;
        Ok(to_state(&t, &TokenModel::default()))
    }
}

#[cfg(test)]
mod tests {
    use joinery_tfplugin::cty::Value;
    use joinery_tfplugin::framework::AttributeKind;
    use joinery_tfplugin::framework::model::{self, Role, check};

    use crate::resources::protogen;

    use super::*;

    #[test]
    fn generated_model_is_current() {
        protogen::assert_current(&overlay::OVERLAY, "src/resources/provision_token/model.rs");
    }

    #[test]
    fn every_field_of_the_protos_has_an_attribute() {
        assert_eq!(protogen::uncovered(&overlay::OVERLAY, &schema()), Vec::<String>::new());
        // A field Teleport adds and the schema lacks is reported.
        let mut lacking = schema();
        let spec = lacking.attributes.iter_mut().find(|a| a.name == "spec").unwrap();
        let AttributeKind::Nested { attributes, .. } = &mut spec.kind else { panic!("spec is nested") };
        let gitlab = attributes.iter_mut().find(|a| a.name == "gitlab").unwrap();
        let AttributeKind::Nested { attributes, .. } = &mut gitlab.kind else { panic!("gitlab is nested") };
        attributes.retain(|a| a.name != "static_jwks");
        assert_eq!(
            protogen::uncovered(&overlay::OVERLAY, &lacking),
            ["spec.gitlab.static_jwks: field StaticJWKS of types.ProvisionTokenSpecV2GitLab has no attribute"]
        );
    }

    #[test]
    fn models_match_schemas() {
        check::<TokenModel>(&schema(), Role::Resource).unwrap();
        check::<TokenModel>(&DataSource::schema(&ProvisionTokenDataSource), Role::DataSource).unwrap();
    }

    fn validate(config: Value) -> Vec<String> {
        let mut d = Diagnostics::new();
        schema::validate(&model::from_value(&config).unwrap(), &mut d);
        d.0.iter().map(|x| x.path.as_ref().map(ToString::to_string).unwrap_or_default()).collect()
    }

    fn spec(attrs: Vec<(&str, Value)>) -> Value {
        Value::object([("spec", Value::object(attrs))])
    }

    #[test]
    fn cross_attribute_checks_wait_for_unknowns() {
        let bot = Value::string_list(["Bot"]);
        assert_eq!(validate(spec(vec![("roles", bot.clone())])), ["spec.bot_name"]);
        assert!(validate(spec(vec![("roles", bot), ("bot_name", Value::Unknown)])).is_empty());
        assert_eq!(
            validate(spec(vec![("roles", Value::string_list(["Node"])), ("bot_name", "b".into())])),
            ["spec.bot_name"]
        );
        let azure =
            |allow: Value| spec(vec![("join_method", "azure".into()), ("azure", Value::object([("allow", allow)]))]);
        assert_eq!(validate(azure(Value::List(vec![]))), ["spec.azure"]);
        assert!(validate(azure(Value::Unknown)).is_empty());
        assert_eq!(
            validate(azure(Value::List(vec![Value::object([("resource_groups", Value::Null)])]))),
            ["spec.azure.allow[0].subscription"]
        );
        // Every join method with a block needs it, except bound_keypair's, which Teleport fills in.
        let method = |m: &str, block: Option<Value>| {
            let mut attrs = vec![("roles", Value::string_list(["Node"])), ("join_method", m.into())];
            if let Some(b) = block {
                attrs.push((m, b));
            }
            validate(spec(attrs))
        };
        assert_eq!(method("gitlab", None), ["spec.gitlab"]);
        assert_eq!(method("azure_devops", None), ["spec.azure_devops"]);
        assert!(method("gitlab", Some(Value::Unknown)).is_empty());
        assert!(method("bound_keypair", None).is_empty());
        assert!(method("token", None).is_empty() && method("ec2", None).is_empty());
    }

    #[test]
    fn state_keeps_the_users_spelling_and_hides_server_labels() {
        use joinery_teleport::proto::types::{Metadata, ProvisionTokenSpecV2};
        let server = ProvisionTokenV2 {
            kind: "token".into(),
            version: "v2".into(),
            metadata: Some(Metadata {
                name: "n".into(),
                revision: "rev-1".into(),
                labels: [("teleport.dev/origin".to_string(), "x".to_string())].into(),
                ..Default::default()
            }),
            spec: Some(ProvisionTokenSpecV2 {
                roles: vec!["Bot".into()],
                join_method: "token".into(),
                bot_name: "b".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let plan: TokenModel = model::from_value(&Value::object([
            ("id", Value::Unknown),
            ("metadata", Value::Unknown),
            (
                "spec",
                Value::object([
                    ("roles", Value::string_list(["bot"])),
                    ("bot_name", "b".into()),
                    ("join_method", Value::Unknown),
                ]),
            ),
        ]))
        .unwrap();
        let state = model::to_value(&to_state(&server, &plan)).unwrap();
        assert_eq!(state.attr("id").as_str(), Some("rev-1"), "id is the revision on create");
        assert_eq!(state.attr("spec").attr("roles"), &Value::string_list(["bot"]));
        assert!(state.attr("metadata").attr("labels").is_null());
        assert!(state.attr("spec").attr("azure").is_null());
        assert!(state.is_wholly_known());
        let imported = model::to_value(&to_state(&server, &TokenModel::default())).unwrap();
        assert_eq!(imported.attr("spec").attr("roles"), &Value::string_list(["Bot"]));
    }
}
