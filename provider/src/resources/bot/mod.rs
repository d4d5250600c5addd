//! `teleport_bot`: Machine ID bots, resource and data source.
//!
//! The layout is the official provider's current one (RFD 153 style):
//! `metadata = { name, … }`, `spec = { roles, traits, max_session_ttl }`,
//! computed `status = { user_name, role_name }`. Changes are applied in
//! place with `UpsertBot`; only a new name replaces the bot.
//!
//! [`schema`](schema::schema) is the schema, `model` the typed model and
//! its conversion from and to Teleport's `Bot`; here are the API calls.

mod model;
mod schema;

use async_trait::async_trait;
use joinery_teleport::Error as TeleportError;

pub use self::model::BotModel;
use self::model::{to_proto, to_state};
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

    async fn create(&self, c: &TeleportClient, req: CreateRequest<BotModel>) -> Result<BotModel, Diagnostics> {
        let name = MetadataModel::name_of(&req.plan.metadata);
        let exists = || KIND.exists(TYPE_NAME, &format!("The bot {name:?}"), &name, &format!("tctl bots rm {name}"));
        match c.client.create_bot(to_proto(&req.plan)?).await {
            Ok(bot) => Ok(to_state(&bot, &req.plan)),
            // The answer to an earlier try of this very call was lost: if the
            // bot there is the one planned, that try created it.
            Err(TeleportError::MaybeCreated(_)) => {
                let bot = KIND.existing(c.client.get_bot(&name).await, exists)?;
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
        let name = MetadataModel::name_of(&req.state.metadata);
        Ok(KIND.found(c.client.get_bot(&name).await)?.map(|b| to_state(&b, &req.state)))
    }

    async fn update(&self, c: &TeleportClient, req: UpdateRequest<BotModel>) -> Result<BotModel, Diagnostics> {
        let bot = c.client.upsert_bot(to_proto(&req.plan)?).await.map_err(|e| KIND.error("updating", e))?;
        Ok(to_state(&bot, &req.plan))
    }

    async fn delete(&self, c: &TeleportClient, req: DeleteRequest<BotModel>) -> Result<(), Diagnostics> {
        KIND.deleted(c.client.delete_bot(&MetadataModel::name_of(&req.state.metadata)).await)
    }

    async fn import(&self, c: &TeleportClient, id: &str) -> Result<BotModel, Diagnostics> {
        let b = KIND.existing(c.client.get_bot(id).await, || {
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
        let b = KIND.existing(c.client.get_bot(&name).await, || {
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
