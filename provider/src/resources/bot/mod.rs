//! `teleport_bot`: Machine ID bots, resource and data source.
//!
//! The official provider's v18 schema: `metadata = { name, … }`,
//! `spec = { roles, traits, max_session_ttl }`, computed
//! `status = { user_name, role_name }`, and the deprecated top-level `name`,
//! `roles`, `traits`, `token_id`, `token_ttl`, `user_name` and `role_name`
//! of configurations written for older versions. Changes are applied in
//! place with `UpsertBot`; only a new name replaces the bot.
//!
//! - `overlay` (tests only): what the schema says beyond the protos;
//! - [`model`]: generated from both by `protogen` — the typed model
//!   ([`BotModel`]), its attributes, the spec and status conversions;
//! - [`schema`](schema::schema): the schema and the layout rules;
//! - `proto`: model ↔ `Bot` in either layout;
//! - here: the API calls.

pub mod model;
#[cfg(test)]
mod overlay;
mod proto;
mod schema;

use async_trait::async_trait;
use joinery_teleport::Error as TeleportError;

pub use self::model::BotModel;
use self::proto::{name_of, to_proto, to_state};
pub use self::schema::schema;
use super::api::ObjectKind;
use super::metadata::MetadataModel;
use crate::connect::TeleportClient;
use joinery_tfplugin::framework::model::to_value;
use joinery_tfplugin::framework::{
    CreateRequest, DataSource, DeleteRequest, Diagnostics, ReadRequest, Resource, Schema, UpdateRequest,
};

/// The resource type name.
pub const TYPE_NAME: &str = "teleport_bot";

/// How API errors name bots.
const KIND: ObjectKind = ObjectKind("Bot");

/// The resource.
pub struct BotResource;

#[async_trait]
impl Resource<TeleportClient> for BotResource {
    type Model = BotModel;

    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &BotModel, diags: &mut Diagnostics) {
        schema::validate(config, diags);
    }

    async fn create(&self, c: &TeleportClient, req: CreateRequest<BotModel>) -> Result<BotModel, Diagnostics> {
        let name = name_of(&req.plan);
        let exists = || KIND.exists(TYPE_NAME, &format!("The bot {name:?}"), &name, &format!("tctl bots rm {name}"));
        match c.client().await?.create_bot(to_proto(&req.plan)?).await {
            Ok(bot) => Ok(to_state(&bot, &req.plan)),
            // The answer to an earlier try of this very call was lost: if the
            // bot there is the one planned, that try created it.
            Err(TeleportError::MaybeCreated(_)) => {
                let bot = KIND.existing(c.client().await?.get_bot(&name).await, exists)?;
                let state = to_state(&bot, &req.plan);
                if planned(&state, &req.plan) {
                    tracing::info!(bot = %name, "a retried create found the bot it had created");
                    Ok(state)
                } else {
                    Err(exists())
                }
            }
            Err(TeleportError::AlreadyExists(_)) => Err(exists()),
            Err(e) => Err(KIND.error("creating", e)),
        }
    }

    async fn read(&self, c: &TeleportClient, req: ReadRequest<BotModel>) -> Result<Option<BotModel>, Diagnostics> {
        Ok(KIND.found(c.client().await?.get_bot(&name_of(&req.state)).await)?.map(|b| to_state(&b, &req.state)))
    }

    async fn update(&self, c: &TeleportClient, req: UpdateRequest<BotModel>) -> Result<BotModel, Diagnostics> {
        let bot = c.client().await?.upsert_bot(to_proto(&req.plan)?).await.map_err(|e| KIND.error("updating", e))?;
        Ok(to_state(&bot, &req.plan))
    }

    async fn delete(&self, c: &TeleportClient, req: DeleteRequest<BotModel>) -> Result<(), Diagnostics> {
        KIND.deleted(c.client().await?.delete_bot(&name_of(&req.state)).await)
    }

    async fn import(&self, c: &TeleportClient, id: &str) -> Result<BotModel, Diagnostics> {
        let b = KIND.existing(c.client().await?.get_bot(id).await, || {
            Diagnostics::error("Cannot import Bot", format!("No bot named {id:?} exists."))
        })?;
        Ok(to_state(&b, &BotModel::default()))
    }
}

/// Whether `state` is what `plan` promised (Terraform's own post-apply check).
fn planned(state: &BotModel, plan: &BotModel) -> bool {
    match (to_value(state), to_value(plan)) {
        (Ok(state), Ok(plan)) => state.satisfies_plan(&plan),
        _ => false,
    }
}

/// The data source: reads a bot by `metadata.name` alone.
pub struct BotDataSource;

#[async_trait]
impl DataSource<TeleportClient> for BotDataSource {
    type Model = BotModel;

    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        super::data_source_schema(schema(), &["metadata.name"]).description("Reads a Teleport bot by name.")
    }

    async fn read(&self, c: &TeleportClient, config: BotModel) -> Result<BotModel, Diagnostics> {
        let name = MetadataModel::name_of(&config.metadata);
        let b = KIND.existing(c.client().await?.get_bot(&name).await, || {
            Diagnostics::attribute_error(
                MetadataModel::path("name"),
                "Bot not found",
                format!("No bot named {name:?} exists."),
            )
        })?;
        Ok(to_state(&b, &BotModel::default()))
    }
}

#[cfg(test)]
mod tests {
    use joinery_teleport::proto::teleport::machineid::v1::{Bot, BotSpec, BotStatus, Trait};
    use joinery_tfplugin::cty::Value;
    use joinery_tfplugin::framework::model::{self, Role, check};

    use super::*;
    use crate::resources::protogen;

    #[test]
    fn generated_model_is_current() {
        protogen::assert_current(&overlay::OVERLAY, "src/resources/bot/model.rs");
    }

    #[test]
    fn every_field_of_the_protos_has_an_attribute() {
        assert_eq!(protogen::uncovered(&overlay::OVERLAY, &schema()), Vec::<String>::new());
    }

    fn validate(config: Value) -> Vec<String> {
        let mut d = Diagnostics::new();
        schema::validate(&model::from_value(&config).unwrap(), &mut d);
        d.0.iter().map(|x| x.path.as_ref().map(ToString::to_string).unwrap_or_default()).collect()
    }

    #[test]
    fn layouts_are_not_mixed() {
        let metadata = Value::object([("name", "b".into())]);
        assert!(
            validate(Value::object([
                ("metadata", metadata.clone()),
                ("spec", Value::object(Vec::<(&str, Value)>::new()))
            ]))
            .is_empty()
        );
        assert!(validate(Value::object([("name", "b".into()), ("roles", Value::string_list(["access"]))])).is_empty());
        assert_eq!(validate(Value::object([("metadata", metadata), ("roles", Value::string_list(["a"]))])), ["roles"]);
        assert_eq!(validate(Value::object(Vec::<(&str, Value)>::new())), ["metadata", "spec"]);
        assert_eq!(validate(Value::object([("roles", Value::string_list(["a"]))])), ["name"]);
    }

    #[test]
    fn legacy_layout_reads_back_in_its_own_attributes() {
        let server = Bot {
            kind: "bot".into(),
            version: "v1".into(),
            metadata: Some(joinery_teleport::proto::teleport::header::v1::Metadata {
                name: "b".into(),
                ..Default::default()
            }),
            spec: Some(BotSpec { roles: vec!["access".into()], ..Default::default() }),
            status: Some(BotStatus { user_name: "bot-b".into(), role_name: "bot-b".into() }),
            ..Default::default()
        };
        let plan: BotModel = model::from_value(&Value::object([
            ("name", "b".into()),
            ("roles", Value::string_list(["access"])),
            ("token_ttl", Value::Unknown),
        ]))
        .unwrap();
        let bot = to_proto(&plan).unwrap();
        assert_eq!(bot.metadata.as_ref().unwrap().name, "b");
        assert_eq!(bot.spec.as_ref().unwrap().roles, ["access"]);
        let state = model::to_value(&to_state(&server, &plan)).unwrap();
        assert_eq!(state.attr("name").as_str(), Some("b"));
        assert_eq!(state.attr("roles"), &Value::string_list(["access"]));
        assert!(state.attr("metadata").is_null() && state.attr("spec").is_null());
        assert_eq!(state.attr("user_name").as_str(), Some("bot-b"));
        assert!(state.attr("token_ttl").is_null());
        assert!(state.is_wholly_known());
        // An import reads the current layout.
        let imported = model::to_value(&to_state(&server, &BotModel::default())).unwrap();
        assert!(imported.attr("name").is_null());
        assert_eq!(imported.attr("metadata").attr("name").as_str(), Some("b"));
    }

    #[test]
    fn models_match_schemas() {
        check::<BotModel>(&schema(), Role::Resource).unwrap();
        check::<BotModel>(&DataSource::schema(&BotDataSource), Role::DataSource).unwrap();
    }

    #[test]
    fn state_merges_traits_and_keeps_the_users_ttl() {
        let server = Bot {
            kind: "bot".into(),
            version: "v1".into(),
            metadata: Some(Default::default()),
            spec: Some(BotSpec {
                roles: vec!["access".into()],
                traits: vec![
                    Trait { name: "logins".into(), values: vec!["root".into()] },
                    Trait { name: "logins".into(), values: vec!["root".into(), "ubuntu".into()] },
                ],
                max_session_ttl: Some(prost_types::Duration { seconds: 3600, nanos: 0 }),
            }),
            status: Some(BotStatus { user_name: "bot-b".into(), role_name: "bot-b".into() }),
            ..Default::default()
        };
        let plan: BotModel = model::from_value(&Value::object([(
            "spec",
            Value::object([("max_session_ttl", "60m".into()), ("roles", Value::string_list(["access"]))]),
        )]))
        .unwrap();
        let state = model::to_value(&to_state(&server, &plan)).unwrap();
        let spec = state.attr("spec");
        assert_eq!(spec.attr("max_session_ttl").as_str(), Some("60m"));
        assert_eq!(
            spec.as_entries().unwrap()["traits"],
            Value::Map([("logins".to_string(), Value::string_list(["root", "ubuntu"]))].into())
        );
        assert_eq!(state.attr("status").attr("user_name").as_str(), Some("bot-b"));
    }
}
