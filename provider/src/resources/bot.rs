//! `teleport_bot`: Machine ID bots, resource and data source.
//!
//! The layout is the official provider's current one (RFD 153 style):
//! `metadata = { name, … }`, `spec = { roles, traits, max_session_ttl }`,
//! computed `status = { user_name, role_name }`. Changes are applied in
//! place with `UpsertBot`; only a new name replaces the bot.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use joinery_teleport::Error as TeleportError;
use joinery_teleport::proto::teleport::header::v1::Metadata;
use joinery_teleport::proto::teleport::machineid::v1::{Bot, BotSpec, Trait};

use super::convert::{self, get_map_of_lists, get_string, get_string_map, get_strings};
use crate::connect::TeleportClient;
use joinery_tfplugin::cty::{Type, Value};
use joinery_tfplugin::framework::{
    Attribute, AttributePath, CreateRequest, DataSource, DeleteRequest, Diagnostics, ReadRequest, Resource, Schema,
    UpdateRequest, validators,
};

/// The resource type name.
pub const TYPE_NAME: &str = "teleport_bot";

/// Largest `max_session_ttl` Teleport accepts for a bot.
const MAX_SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The resource schema.
pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Manages a Teleport Machine ID bot: a non-human identity that joins the cluster with a join token \
             (see `teleport_provision_token`) and gets short-lived certificates for the roles listed here. \
             Teleport creates the bot's user and role, both named `bot-<name>`.",
        )
        .attribute(
            Attribute::string("id").computed().use_state_for_unknown().description("The bot name."),
        )
        .attribute(
            Attribute::string("kind").optional().computed().use_state_for_unknown().description("Resource kind; always `bot`."),
        )
        .attribute(
            Attribute::string("sub_kind").optional().computed().use_state_for_unknown().description("Resource sub-kind; unused."),
        )
        .attribute(
            Attribute::string("version")
                .optional()
                .computed()
                .use_state_for_unknown()
                .validator(validators::one_of(["v1"]))
                .description("Resource version; `v1`."),
        )
        .attribute(
            Attribute::single_nested(
                "metadata",
                [
                    Attribute::string("name")
                        .required()
                        .requires_replace()
                        .validator(validators::not_empty())
                        .description("The bot's name. Changing it replaces the bot."),
                    Attribute::string("namespace")
                        .optional()
                        .computed()
                        .use_state_for_unknown()
                        .description("Namespace; always `default`."),
                    Attribute::string("description").optional().description("A description of the bot."),
                    Attribute::map("labels", Type::String)
                        .optional()
                        .description("Labels. Labels the server adds itself (`teleport.dev/…`) are ignored unless listed here."),
                    Attribute::string("expires").optional().description("When the bot expires, as an RFC 3339 time."),
                    Attribute::string("revision").optional().description("The revision to update; usually left unset."),
                ],
            )
            .required()
            .description("Resource metadata."),
        )
        .attribute(
            Attribute::single_nested(
                "spec",
                [
                    Attribute::list("roles", Type::String)
                        .optional()
                        .description("Roles the bot may impersonate for the certificates it issues to its outputs."),
                    Attribute::map("traits", Type::list(Type::String))
                        .optional()
                        .description("Traits, as a map of lists: `{ logins = [\"root\"] }`. They fill role templates."),
                    Attribute::string("max_session_ttl")
                        .optional()
                        .computed()
                        .use_state_for_unknown()
                        .validator(validators::from_fn("must be a Go duration of at most 168h", |value| {
                            let v = value.as_str()?;
                            match joinery_util::duration::parse(v) {
                                Ok(d) if d > MAX_SESSION_TTL => Some(format!("{v:?} is longer than Teleport's maximum of 168h.")),
                                Ok(_) => None,
                                Err(e) => Some(e.to_string()),
                            }
                        }))
                        .description("Longest certificate the bot may get (Go duration, at most `168h`). Teleport's default is 12h."),
                ],
            )
            .required()
            .description("The bot specification."),
        )
        .attribute(
            Attribute::single_nested(
                "status",
                [
                    Attribute::string("user_name").computed().description("The bot's user, `bot-<name>`."),
                    Attribute::string("role_name").computed().description("The bot's role, `bot-<name>`."),
                ],
            )
            .computed()
            .use_state_for_unknown()
            .description("What Teleport created for the bot."),
        )
}

fn to_proto(v: &Value) -> Result<Bot, Diagnostics> {
    let meta = v.attr("metadata");
    let spec = v.attr("spec");
    let expires = match meta.attr("expires").as_str() {
        Some(e) => Some(convert::parse_time(e).map_err(|m| {
            Diagnostics::attribute_error(AttributePath::root("metadata").attr("expires"), "Invalid expiry time", m)
        })?),
        None => None,
    };
    let max_session_ttl = match spec.attr("max_session_ttl").as_str() {
        Some(d) => {
            let d = joinery_util::duration::parse(d).map_err(|e| {
                Diagnostics::attribute_error(
                    AttributePath::root("spec").attr("max_session_ttl"),
                    "Invalid duration",
                    e.to_string(),
                )
            })?;
            Some(prost_types::Duration { seconds: d.as_secs() as i64, nanos: d.subsec_nanos() as i32 })
        }
        None => None,
    };
    Ok(Bot {
        kind: Some(get_string(v, "kind")).filter(|k| !k.is_empty()).unwrap_or_else(|| "bot".into()),
        sub_kind: get_string(v, "sub_kind"),
        version: Some(get_string(v, "version")).filter(|k| !k.is_empty()).unwrap_or_else(|| "v1".into()),
        metadata: Some(Metadata {
            name: get_string(meta, "name"),
            namespace: get_string(meta, "namespace"),
            description: get_string(meta, "description"),
            labels: get_string_map(meta, "labels"),
            expires,
            revision: get_string(meta, "revision"),
        }),
        spec: Some(BotSpec {
            roles: get_strings(spec, "roles"),
            traits: get_map_of_lists(spec, "traits").into_iter().map(|(name, values)| Trait { name, values }).collect(),
            max_session_ttl,
        }),
        status: None,
        scope: String::new(),
    })
}

fn to_state(b: &Bot, reference: &Value) -> Value {
    let m = b.metadata.clone().unwrap_or_default();
    let sp = b.spec.clone().unwrap_or_default();
    let st = b.status.clone().unwrap_or_default();
    let (rm, rs) = (reference.attr("metadata"), reference.attr("spec"));
    // Teleport merges repeated trait names; values keep their order, without duplicates.
    let mut traits: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in &sp.traits {
        let entry = traits.entry(t.name.clone()).or_default();
        for v in &t.values {
            if !entry.contains(v) {
                entry.push(v.clone());
            }
        }
    }
    let max_ttl = sp
        .max_session_ttl
        .map(|d| {
            convert::duration(Duration::new(d.seconds.max(0) as u64, d.nanos.max(0) as u32), rs.attr("max_session_ttl"))
        })
        .unwrap_or(Value::Null);
    Value::object([
        ("id", Value::string(m.name.clone())),
        ("kind", Value::string(b.kind.clone())),
        ("sub_kind", Value::string(b.sub_kind.clone())),
        ("version", Value::string(b.version.clone())),
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
                ("roles", convert::string_list(&sp.roles, rs.attr("roles"))),
                ("traits", convert::map_of_lists(&traits, rs.attr("traits"))),
                ("max_session_ttl", max_ttl),
            ]),
        ),
        (
            "status",
            Value::object([("user_name", Value::string(st.user_name)), ("role_name", Value::string(st.role_name))]),
        ),
    ])
}

fn api_error(action: &str, e: TeleportError) -> Diagnostics {
    Diagnostics::error(format!("Error {action} Bot"), e.to_string())
}

fn name_of(v: &Value) -> String {
    get_string(v.attr("metadata"), "name")
}

/// The resource.
pub struct BotResource;

#[async_trait]
impl Resource<TeleportClient> for BotResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn create(&self, c: &TeleportClient, req: CreateRequest) -> Result<Value, Diagnostics> {
        let bot = c.client.create_bot(to_proto(&req.plan)?).await.map_err(|e| match e {
            TeleportError::AlreadyExists(m) => Diagnostics::error(
                "Bot exists in Teleport",
                format!(
                    "{m}. Either remove it (tctl bots rm {name}) or import it (terraform import {TYPE_NAME}.<resource name> {name}).",
                    name = name_of(&req.plan)
                ),
            ),
            e => api_error("creating", e),
        })?;
        Ok(to_state(&bot, &req.plan))
    }

    async fn read(&self, c: &TeleportClient, req: ReadRequest) -> Result<Option<Value>, Diagnostics> {
        match c.client.get_bot(&name_of(&req.state)).await {
            Ok(b) => Ok(Some(to_state(&b, &req.state))),
            Err(TeleportError::NotFound(_)) => Ok(None),
            Err(e) => Err(api_error("reading", e)),
        }
    }

    async fn update(&self, c: &TeleportClient, req: UpdateRequest) -> Result<Value, Diagnostics> {
        let bot = c.client.upsert_bot(to_proto(&req.plan)?).await.map_err(|e| api_error("updating", e))?;
        Ok(to_state(&bot, &req.plan))
    }

    async fn delete(&self, c: &TeleportClient, req: DeleteRequest) -> Result<(), Diagnostics> {
        match c.client.delete_bot(&name_of(&req.state)).await {
            Ok(()) | Err(TeleportError::NotFound(_)) => Ok(()),
            Err(e) => Err(api_error("deleting", e)),
        }
    }

    async fn import(&self, c: &TeleportClient, id: &str) -> Result<Value, Diagnostics> {
        let b = c.client.get_bot(id).await.map_err(|e| match e {
            TeleportError::NotFound(_) => {
                Diagnostics::error("Cannot import Bot", format!("No bot named {id:?} exists."))
            }
            e => api_error("reading", e),
        })?;
        Ok(to_state(&b, &Value::Null))
    }
}

/// The data source: reads a bot by `metadata.name` alone.
pub struct BotDataSource;

#[async_trait]
impl DataSource<TeleportClient> for BotDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        super::data_source_schema(schema(), &["metadata.name"]).description("Reads a Teleport bot by name.")
    }

    async fn read(&self, c: &TeleportClient, config: Value) -> Result<Value, Diagnostics> {
        let name = name_of(&config);
        let b = c.client.get_bot(&name).await.map_err(|e| match e {
            TeleportError::NotFound(_) => Diagnostics::attribute_error(
                AttributePath::root("metadata").attr("name"),
                "Bot not found",
                format!("No bot named {name:?} exists."),
            ),
            e => api_error("reading", e),
        })?;
        Ok(to_state(&b, &Value::Null))
    }
}
