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

use async_trait::async_trait;
use joinery_tfplugin::cty::Type;
use joinery_tfplugin::framework::{
    AnyResource, Attribute, AttributePath, ConfigureRequest, CreateRequest, DeleteRequest, Diagnostics, Maybe,
    Provider, ReadRequest, Resource, Schema, UpdateRequest, validators,
};
use joinery_tfplugin::{self as plugin, ServeOptions};
use serde::{Deserialize, Serialize};

/// The model of a `demo_thing`: one field per attribute of its schema
/// (checked by the framework, and by `model_matches_schema` below). Every
/// attribute of a resource can be unknown somewhere, so every field is a
/// `Maybe`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Thing {
    id: Maybe<String>,
    name: Maybe<String>,
    revision: Maybe<i64>,
    spec: Maybe<Spec>,
}

/// The `spec = { … }` nested attribute.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Spec {
    tags: Maybe<BTreeMap<String, Vec<String>>>,
    secret: Maybe<String>,
    mode: Maybe<String>,
}

/// What the store keeps per object, as JSON (the spec as the model has it).
#[derive(Serialize, Deserialize)]
struct Stored {
    name: String,
    revision: i64,
    spec: Maybe<Spec>,
}

impl Stored {
    fn state(&self, id: &str) -> Thing {
        Thing {
            id: Maybe::Known(id.to_string()),
            name: Maybe::Known(self.name.clone()),
            revision: Maybe::Known(self.revision),
            spec: self.spec.clone(),
        }
    }
}

/// The "API client": where objects are stored.
struct Store {
    path: PathBuf,
}

impl Store {
    fn load(&self) -> Result<BTreeMap<String, Stored>, Diagnostics> {
        match std::fs::read(&self.path) {
            Ok(bytes) if bytes.is_empty() => Ok(BTreeMap::new()),
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Diagnostics::error("Corrupt store", format!("{}: {e}", self.path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(Diagnostics::error("Cannot read store", format!("{}: {e}", self.path.display()))),
        }
    }

    fn save(&self, objects: &BTreeMap<String, Stored>) -> Result<(), Diagnostics> {
        let text = serde_json::to_string_pretty(objects).unwrap_or_default();
        // Write then rename, so a crash never leaves half a file.
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| Diagnostics::error("Cannot write store", format!("{}: {e}", self.path.display())))
    }
}

struct DemoThing;

fn schema() -> Schema {
    Schema::new()
        .description("A demo object stored in a JSON file.")
        .attribute(Attribute::string("id").computed().use_state_for_unknown().description("Identifier, `id-<name>`."))
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

#[async_trait]
impl Resource<Store> for DemoThing {
    type Model = Thing;

    fn type_name(&self) -> &str {
        "demo_thing"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn create(&self, store: &Store, req: CreateRequest<Thing>) -> Result<Thing, Diagnostics> {
        // At apply only computed attributes can still be unknown: `name` is known.
        let name = req.plan.name.known_or_default();
        let id = format!("id-{name}");
        let mut objects = store.load()?;
        if objects.contains_key(&id) {
            return Err(Diagnostics::attribute_error(
                AttributePath::root("name"),
                "Object already exists",
                format!("{id} exists; import it with `terraform import demo_thing.<name> {id}`."),
            ));
        }
        let object = Stored { name, revision: 1, spec: req.plan.spec };
        let state = object.state(&id);
        objects.insert(id, object);
        store.save(&objects)?;
        Ok(state)
    }

    async fn read(&self, store: &Store, req: ReadRequest<Thing>) -> Result<Option<Thing>, Diagnostics> {
        let id = req.state.id.known_or_default();
        Ok(store.load()?.get(&id).map(|o| o.state(&id)))
    }

    async fn update(&self, store: &Store, req: UpdateRequest<Thing>) -> Result<Thing, Diagnostics> {
        let id = req.state.id.known_or_default();
        let mut objects = store.load()?;
        let Some(old) = objects.get(&id) else {
            return Err(Diagnostics::error("Object vanished", format!("{id} no longer exists.")));
        };
        let object = Stored { name: req.plan.name.known_or_default(), revision: old.revision + 1, spec: req.plan.spec };
        let state = object.state(&id);
        objects.insert(id, object);
        store.save(&objects)?;
        Ok(state)
    }

    async fn delete(&self, store: &Store, req: DeleteRequest<Thing>) -> Result<(), Diagnostics> {
        let mut objects = store.load()?;
        objects.remove(&req.state.id.known_or_default());
        store.save(&objects)
    }

    async fn import(&self, _store: &Store, id: &str) -> Result<Thing, Diagnostics> {
        // Read fills in the rest.
        Ok(Thing { id: Maybe::Known(id.to_string()), ..Thing::default() })
    }
}

struct DemoProvider;

/// The provider configuration, decoded once it is wholly known (so plain
/// `Option`s do).
#[derive(Deserialize)]
struct DemoConfig {
    store_path: Option<String>,
}

fn provider_schema() -> Schema {
    Schema::new().attribute(
        Attribute::string("store_path")
            .optional()
            .description("JSON file holding the objects. Environment variable: `DEMO_THING_STORE`."),
    )
}

#[async_trait]
impl Provider for DemoProvider {
    type Client = Store;

    fn schema(&self) -> Schema {
        provider_schema()
    }

    async fn configure(&self, req: ConfigureRequest) -> Result<Store, Diagnostics> {
        let config: DemoConfig = req.model()?;
        let path =
            config.store_path.or_else(|| std::env::var("DEMO_THING_STORE").ok()).filter(|p| !p.is_empty()).ok_or_else(
                || {
                    Diagnostics::attribute_error(
                        AttributePath::root("store_path"),
                        "Missing store path",
                        "Set store_path or the DEMO_THING_STORE environment variable.",
                    )
                },
            )?;
        Ok(Store { path: PathBuf::from(path) })
    }

    fn resources(&self) -> Vec<AnyResource<Store>> {
        vec![AnyResource::new(DemoThing)]
    }
}

fn main() -> ExitCode {
    plugin::serve(DemoProvider, ServeOptions::new("registry.terraform.io/joinery/demo"))
}

#[cfg(test)]
mod tests {
    use joinery_tfplugin::framework::model::{Role, check};

    use super::*;

    #[test]
    fn models_match_schemas() {
        check::<Thing>(&schema(), Role::Resource).unwrap();
        check::<DemoConfig>(&provider_schema(), Role::Provider).unwrap();
    }
}
