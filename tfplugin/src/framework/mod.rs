//! The resource framework: what a provider author writes against.
//!
//! A provider is four things:
//! - a [`Schema`] per provider/resource/data source, built declaratively from
//!   [`Attribute`]s with validators and plan modifiers;
//! - a typed [`model`] per resource and data source: a struct with one field
//!   per attribute, which the framework converts from and to Terraform's
//!   values and checks against the schema (attribute names live in the
//!   schema and the struct, nowhere else);
//! - a [`Provider`] that turns its configuration into a client;
//! - [`Resource`]s and [`DataSource`]s that use that client.
//!
//! [`ProviderService`] implements the tfplugin6 gRPC service on top, doing
//! what terraform-plugin-framework does for Go providers: planning
//! (defaults, "(known after apply)", plan modifiers, `requires_replace`),
//! state upgrades, private data, and diagnostics with attribute paths.
//!
//! ```no_run
//! use joinery_tfplugin::{self as plugin, ServeOptions};
//! use joinery_tfplugin::framework::*;
//! use serde::{Deserialize, Serialize};
//!
//! struct Client; // e.g. an API client
//!
//! /// The model: every attribute of a resource can be unknown somewhere
//! /// (in a configuration being validated, or computed in a plan), so every
//! /// field is a `Maybe`.
//! #[derive(Serialize, Deserialize, Default)]
//! struct ThingModel {
//!     id: Maybe<String>,
//!     name: Maybe<String>,
//! }
//!
//! struct Thing;
//!
//! #[async_trait::async_trait]
//! impl Resource<Client> for Thing {
//!     type Model = ThingModel;
//!     fn type_name(&self) -> &str { "example_thing" }
//!     fn schema(&self) -> Schema {
//!         Schema::new()
//!             .attribute(Attribute::string("id").computed().use_state_for_unknown())
//!             .attribute(Attribute::string("name").required().requires_replace())
//!     }
//!     async fn create(&self, _c: &Client, req: CreateRequest<ThingModel>) -> Result<ThingModel, Diagnostics> {
//!         // At apply, only computed attributes can still be unknown.
//!         let id = format!("id-{}", req.plan.name.known_or_default());
//!         Ok(ThingModel { id: Maybe::Known(id), ..req.plan })
//!     }
//!     async fn read(&self, _c: &Client, req: ReadRequest<ThingModel>) -> Result<Option<ThingModel>, Diagnostics> {
//!         Ok(Some(req.state))
//!     }
//!     async fn update(&self, _c: &Client, req: UpdateRequest<ThingModel>) -> Result<ThingModel, Diagnostics> {
//!         Ok(req.plan)
//!     }
//!     async fn delete(&self, _c: &Client, _req: DeleteRequest<ThingModel>) -> Result<(), Diagnostics> {
//!         Ok(())
//!     }
//! }
//!
//! struct Example;
//!
//! #[async_trait::async_trait]
//! impl Provider for Example {
//!     type Client = Client;
//!     fn schema(&self) -> Schema { Schema::new() }
//!     async fn configure(&self, _req: ConfigureRequest) -> Result<Client, Diagnostics> { Ok(Client) }
//!     fn resources(&self) -> Vec<AnyResource<Client>> { vec![AnyResource::new(Thing)] }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     plugin::serve(Example, ServeOptions::new("registry.terraform.io/example/example"))
//! }
//! ```
//!
//! A unit test per resource keeps model and schema in step:
//! `model::check::<ThingModel>(&Thing.schema(), model::Role::Resource).unwrap()`.
//! `examples/demo_provider.rs` is a complete provider.

mod diagnostics;
mod erased;
pub mod model;
mod path;
mod plan;
pub mod plan_modifiers;
mod schema;
mod service;
mod traits;
pub mod validators;

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use erased::{AnyDataSource, AnyResource};
pub use model::Maybe;
pub use path::{AttributePath, PathStep};
pub use plan_modifiers::{PlanModifier, RequiresReplace, RequiresReplaceIfConfigured, UseStateForUnknown};
pub use schema::{Attribute, AttributeKind, Nesting, Schema};
pub use service::ProviderService;
pub use traits::{
    ConfigureRequest, CreateRequest, DataSource, DeleteRequest, ModifyPlan, Provider, ReadRequest, Resource,
    UpdateRequest, import_passthrough,
};
pub use validators::Validator;
