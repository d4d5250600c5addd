use super::*;
use crate::framework::{
    AnyResource, Attribute, AttributePath, CreateRequest, DeleteRequest, Maybe, ReadRequest, Resource, UpdateRequest,
    validators,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

struct Thing;

#[derive(Serialize, Deserialize)]
struct ThingModel {
    id: Maybe<String>,
    name: Maybe<String>,
}

#[async_trait]
impl Resource<String> for Thing {
    type Model = ThingModel;
    fn type_name(&self) -> &str {
        "t_thing"
    }
    fn schema(&self) -> Schema {
        Schema::new()
            .version(1)
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("name").required().requires_replace().validator(validators::not_empty()))
    }
    async fn create(&self, client: &String, req: CreateRequest<ThingModel>) -> Result<ThingModel, Diagnostics> {
        Ok(ThingModel { id: Maybe::Known(client.clone()), ..req.plan })
    }
    async fn read(&self, _c: &String, req: ReadRequest<ThingModel>) -> Result<Option<ThingModel>, Diagnostics> {
        Ok((req.state.id.known_str() != Some("gone")).then_some(req.state))
    }
    async fn update(&self, _c: &String, req: UpdateRequest<ThingModel>) -> Result<ThingModel, Diagnostics> {
        Ok(req.plan)
    }
    async fn delete(&self, _c: &String, _req: DeleteRequest<ThingModel>) -> Result<(), Diagnostics> {
        Ok(())
    }
}

struct TestProvider;

#[async_trait]
impl Provider for TestProvider {
    type Client = String;
    fn schema(&self) -> Schema {
        Schema::new().attribute(Attribute::string("token").optional())
    }
    async fn configure(&self, req: ConfigureRequest) -> Result<String, Diagnostics> {
        Ok(req.config.attr("token").as_str().unwrap_or("none").to_string())
    }
    fn resources(&self) -> Vec<AnyResource<String>> {
        vec![AnyResource::new(Thing)]
    }
}

fn ty() -> Type {
    Resource::schema(&Thing).value_type()
}

fn dv(v: &Value) -> Option<pb::DynamicValue> {
    Some(encode(v, &ty()).unwrap())
}

fn val(d: Option<pb::DynamicValue>) -> Value {
    decode(d.as_ref(), &ty()).unwrap()
}

async fn configure(svc: &ProviderService<TestProvider>, token: Value) -> Vec<pb::Diagnostic> {
    let config = msgpack::encode(&Value::object([("token", token)]), &svc.provider_type).unwrap();
    svc.configure_provider(Request::new(pb::configure_provider::Request {
        terraform_version: "1.15.5".into(),
        config: Some(pb::DynamicValue { msgpack: config, json: vec![] }),
        client_capabilities: None,
    }))
    .await
    .unwrap()
    .into_inner()
    .diagnostics
}

#[tokio::test]
async fn schema_advertises_capabilities() {
    let svc = ProviderService::new(TestProvider);
    let r = svc.get_provider_schema(Request::new(pb::get_provider_schema::Request {})).await.unwrap().into_inner();
    assert!(r.provider.is_some(), "provider schema must be non-nil");
    let caps = r.server_capabilities.unwrap();
    assert!(caps.get_provider_schema_optional && !caps.plan_destroy);
    assert_eq!(r.resource_schemas["t_thing"].version, 1);
    assert!(r.diagnostics.is_empty());
}

#[tokio::test]
async fn upgrade_same_version_drops_removed_attributes() {
    let svc = ProviderService::new(TestProvider);
    let r = svc
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "t_thing".into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: br#"{ "id": "x", "name": "n", "removed": 1 }"#.to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(val(r.upgraded_state), Value::object([("id", Value::from("x")), ("name", Value::from("n"))]));

    let newer = svc
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "t_thing".into(),
            version: 2,
            raw_state: Some(pb::RawState { json: b"{}".to_vec(), flatmap: Default::default() }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(newer.diagnostics[0].summary, "Resource instance managed by newer provider version");
}

#[tokio::test]
async fn unconfigured_provider_is_reported() {
    let svc = ProviderService::new(TestProvider);
    // Unknown provider config: configure is skipped without error ...
    assert!(configure(&svc, Value::Unknown).await.is_empty());
    // ... and operations needing the client say why they can't run.
    let state = Value::object([("id", Value::from("a")), ("name", Value::from("n"))]);
    let r = svc
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: "t_thing".into(),
            current_state: dv(&state),
            private: b"keep".to_vec(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.diagnostics[0].summary, "Provider not configured");
    assert_eq!(val(r.new_state), state, "state is kept on error");
}

#[tokio::test]
async fn read_echoes_private_and_null_means_gone() {
    let svc = ProviderService::new(TestProvider);
    configure(&svc, Value::from("tok")).await;
    let read = |id: &str| pb::read_resource::Request {
        type_name: "t_thing".into(),
        current_state: dv(&Value::object([("id", Value::from(id)), ("name", Value::from("n"))])),
        private: b"keep".to_vec(),
        ..Default::default()
    };
    let r = svc.read_resource(Request::new(read("a"))).await.unwrap().into_inner();
    assert_eq!(r.private, b"keep");
    assert!(!val(r.new_state).is_null());
    let gone = svc.read_resource(Request::new(read("gone"))).await.unwrap().into_inner();
    assert!(val(gone.new_state).is_null());
    assert!(gone.diagnostics.is_empty());
}

#[tokio::test]
async fn plan_and_apply_create_then_replace() {
    let svc = ProviderService::new(TestProvider);
    configure(&svc, Value::from("tok")).await;
    let config = Value::object([("name", Value::from("n"))]);
    let plan = svc
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "t_thing".into(),
            prior_state: dv(&Value::Null),
            proposed_new_state: dv(&config),
            config: dv(&config),
            prior_private: b"p".to_vec(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let planned = val(plan.planned_state.clone());
    assert!(planned.attr("id").is_unknown());
    assert_eq!(plan.planned_private, b"p");
    let applied = svc
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: "t_thing".into(),
            prior_state: dv(&Value::Null),
            planned_state: plan.planned_state,
            config: dv(&config),
            planned_private: b"p".to_vec(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let state = val(applied.new_state);
    assert_eq!(state.attr("id").as_str(), Some("tok"));
    assert_eq!(applied.private, b"p");

    let config2 = Value::object([("name", Value::from("m"))]);
    let proposed = state.clone().with_attr("name", Value::from("m"));
    let replan = svc
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "t_thing".into(),
            prior_state: dv(&state),
            proposed_new_state: dv(&proposed),
            config: dv(&config2),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replan.requires_replace, vec![AttributePath::root("name").to_proto()]);
}

#[tokio::test]
async fn validation_errors_carry_paths() {
    let svc = ProviderService::new(TestProvider);
    let r = svc
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "t_thing".into(),
            config: dv(&Value::object([("name", Value::from(""))])),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(r.diagnostics[0].attribute, Some(AttributePath::root("name").to_proto()));
    let unknown = svc
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "t_nope".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unknown.diagnostics[0].summary, "Unknown resource type");
}
