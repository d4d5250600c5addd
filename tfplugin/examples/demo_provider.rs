//! A small provider used to test the plugin runtime end to end with real
//! Terraform, and a worked example of the framework.
//!
//! It manages `demo_thing` objects stored in a JSON file: the provider's
//! `store_path`, or the `DEMO_THING_STORE` environment variable.
//!
//! ```hcl
//! resource "demo_thing" "a" {
//!   name = "alpha"                       # required, forces replacement
//!   spec = {
//!     tags   = { env = ["dev", "test"] } # map(list(string))
//!     secret = "hunter22"                # sensitive
//!     mode   = "standard"                # default "standard", one of standard/fast
//!   }
//! }
//! ```
//!
//! Build: `cargo build -p joinery-tfplugin --example demo_provider`.

// This target links every dependency of its package; unused ones are
// caught on the library target.
#![allow(unused_crate_dependencies)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use joinery_tfplugin::cty::{Type, Value};
use joinery_tfplugin::framework::{
    Attribute, AttributePath, ConfigureRequest, CreateRequest, DeleteRequest, Diagnostics, Provider, ReadRequest,
    Resource, Schema, UpdateRequest, import_passthrough, validators,
};
use joinery_tfplugin::{self as plugin, ServeOptions};
use serde_json::{Value as Json, json};

/// The "API client": where objects are stored.
struct Store {
    path: PathBuf,
}

impl Store {
    fn load(&self) -> Result<BTreeMap<String, Json>, Diagnostics> {
        match std::fs::read(&self.path) {
            Ok(bytes) if bytes.is_empty() => Ok(BTreeMap::new()),
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Diagnostics::error("Corrupt store", format!("{}: {e}", self.path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(Diagnostics::error("Cannot read store", format!("{}: {e}", self.path.display()))),
        }
    }

    fn save(&self, objects: &BTreeMap<String, Json>) -> Result<(), Diagnostics> {
        let text = serde_json::to_string_pretty(objects).unwrap_or_default();
        // Write then rename, so a crash never leaves half a file.
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| Diagnostics::error("Cannot write store", format!("{}: {e}", self.path.display())))
    }
}

struct DemoThing;

fn spec_to_json(spec: &Value) -> Json {
    if spec.is_null() {
        return Json::Null;
    }
    let tags = spec.attr("tags").as_entries().map(|m| {
        m.iter()
            .map(|(k, v)| (k.clone(), json!(v.as_string_vec().unwrap_or_default())))
            .collect::<serde_json::Map<_, _>>()
    });
    json!({
        "tags": tags,
        "secret": spec.attr("secret").as_str(),
        "mode": spec.attr("mode").as_str(),
    })
}

fn spec_from_json(spec: &Json) -> Value {
    if spec.is_null() {
        return Value::Null;
    }
    let tags = spec["tags"].as_object().map(|m| {
        Value::Map(
            m.iter()
                .map(|(k, v)| {
                    let items = v.as_array().map(|a| a.iter().filter_map(Json::as_str).map(str::to_string));
                    (k.clone(), items.map(Value::string_list).unwrap_or(Value::Null))
                })
                .collect(),
        )
    });
    Value::object([
        ("tags", tags.unwrap_or(Value::Null)),
        ("secret", spec["secret"].as_str().map(Value::from).unwrap_or(Value::Null)),
        ("mode", spec["mode"].as_str().map(Value::from).unwrap_or(Value::Null)),
    ])
}

fn state_from_json(id: &str, object: &Json) -> Value {
    Value::object([
        ("id", Value::from(id)),
        ("name", object["name"].as_str().map(Value::from).unwrap_or(Value::Null)),
        ("revision", object["revision"].as_i64().map(Value::from).unwrap_or(Value::Null)),
        ("spec", spec_from_json(&object["spec"])),
    ])
}

fn name_of(v: &Value) -> String {
    v.attr("name").as_str().unwrap_or_default().to_string()
}

#[async_trait]
impl Resource<Store> for DemoThing {
    fn type_name(&self) -> &str {
        "demo_thing"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .description("A demo object stored in a JSON file.")
            .attribute(
                Attribute::string("id").computed().use_state_for_unknown().description("Identifier, `id-<name>`."),
            )
            .attribute(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validator(validators::not_empty())
                    .validator(validators::from_fn("lowercase letters, digits and dashes", |v| {
                        let s = v.as_str()?;
                        (!s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
                            .then(|| format!("{s:?} must contain only lowercase letters, digits and dashes."))
                    }))
                    .description("Name; changing it replaces the object."),
            )
            .attribute(Attribute::number("revision").computed().description("Bumped on every update."))
            .attribute(
                Attribute::single_nested(
                    "spec",
                    [
                        Attribute::map("tags", Type::list(Type::String)).optional().description("Tags."),
                        Attribute::string("secret").optional().sensitive().description("A secret."),
                        Attribute::string("mode")
                            .optional()
                            .default("standard")
                            .validator(validators::one_of(["standard", "fast"]))
                            .description("`standard` (default) or `fast`."),
                    ],
                )
                .optional(),
            )
    }

    async fn create(&self, store: &Store, req: CreateRequest) -> Result<Value, Diagnostics> {
        let name = name_of(&req.plan);
        let id = format!("id-{name}");
        let mut objects = store.load()?;
        if objects.contains_key(&id) {
            return Err(Diagnostics::attribute_error(
                AttributePath::root("name"),
                "Object already exists",
                format!("{id} exists; import it with `terraform import demo_thing.<name> {id}`."),
            ));
        }
        let object = json!({ "name": name, "revision": 1, "spec": spec_to_json(req.plan.attr("spec")) });
        let state = state_from_json(&id, &object);
        objects.insert(id, object);
        store.save(&objects)?;
        Ok(state)
    }

    async fn read(&self, store: &Store, req: ReadRequest) -> Result<Option<Value>, Diagnostics> {
        let id = req.state.attr("id").as_str().unwrap_or_default().to_string();
        Ok(store.load()?.get(&id).map(|o| state_from_json(&id, o)))
    }

    async fn update(&self, store: &Store, req: UpdateRequest) -> Result<Value, Diagnostics> {
        let id = req.state.attr("id").as_str().unwrap_or_default().to_string();
        let mut objects = store.load()?;
        let Some(old) = objects.get(&id) else {
            return Err(Diagnostics::error("Object vanished", format!("{id} no longer exists.")));
        };
        let revision = old["revision"].as_i64().unwrap_or(0) + 1;
        let object =
            json!({ "name": name_of(&req.plan), "revision": revision, "spec": spec_to_json(req.plan.attr("spec")) });
        let state = state_from_json(&id, &object);
        objects.insert(id, object);
        store.save(&objects)?;
        Ok(state)
    }

    async fn delete(&self, store: &Store, req: DeleteRequest) -> Result<(), Diagnostics> {
        let id = req.state.attr("id").as_str().unwrap_or_default().to_string();
        let mut objects = store.load()?;
        objects.remove(&id);
        store.save(&objects)
    }

    async fn import(&self, _store: &Store, id: &str) -> Result<Value, Diagnostics> {
        // Read fills in the rest.
        Ok(import_passthrough(&AttributePath::root("id"), id))
    }
}

struct DemoProvider;

#[async_trait]
impl Provider for DemoProvider {
    type Client = Store;

    fn schema(&self) -> Schema {
        Schema::new().attribute(
            Attribute::string("store_path")
                .optional()
                .description("JSON file holding the objects. Environment variable: `DEMO_THING_STORE`."),
        )
    }

    async fn configure(&self, req: ConfigureRequest) -> Result<Store, Diagnostics> {
        let path = req
            .config
            .attr("store_path")
            .as_str()
            .map(str::to_string)
            .or_else(|| std::env::var("DEMO_THING_STORE").ok())
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                Diagnostics::attribute_error(
                    AttributePath::root("store_path"),
                    "Missing store path",
                    "Set store_path or the DEMO_THING_STORE environment variable.",
                )
            })?;
        Ok(Store { path: PathBuf::from(path) })
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Store>>> {
        vec![Arc::new(DemoThing)]
    }
}

fn main() -> ExitCode {
    plugin::serve(DemoProvider, ServeOptions::new("registry.terraform.io/joinery/demo"))
}
