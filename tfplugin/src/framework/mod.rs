//! The resource framework: what a provider author writes against.
//!
//! A provider is three things:
//! - a [`Schema`] per provider/resource/data source, built declaratively from
//!   [`Attribute`]s with validators and plan modifiers;
//! - a [`Provider`] that turns its configuration into a client;
//! - [`Resource`]s and [`DataSource`]s that use that client.
//!
//! [`ProviderService`] implements the tfplugin6 gRPC service on top, doing
//! what terraform-plugin-framework does for Go providers: planning
//! (defaults, "(known after apply)", plan modifiers, `requires_replace`),
//! state upgrades, private data, and diagnostics with attribute paths.
//!
//! ```no_run
//! use std::sync::Arc;
//! use joinery_tfplugin::{self as plugin, ServeOptions};
//! use joinery_tfplugin::cty::Value;
//! use joinery_tfplugin::framework::*;
//!
//! struct Client; // e.g. an API client
//!
//! struct Thing;
//!
//! #[async_trait::async_trait]
//! impl Resource<Client> for Thing {
//!     fn type_name(&self) -> &str { "example_thing" }
//!     fn schema(&self) -> Schema {
//!         Schema::new()
//!             .attribute(Attribute::string("id").computed().use_state_for_unknown())
//!             .attribute(Attribute::string("name").required().requires_replace())
//!     }
//!     async fn create(&self, _c: &Client, req: CreateRequest) -> Result<Value, Diagnostics> {
//!         let name = req.plan.attr("name").as_str().unwrap_or_default().to_string();
//!         Ok(req.plan.with_attr("id", Value::from(name)))
//!     }
//!     async fn read(&self, _c: &Client, req: ReadRequest) -> Result<Option<Value>, Diagnostics> {
//!         Ok(Some(req.state))
//!     }
//!     async fn update(&self, _c: &Client, req: UpdateRequest) -> Result<Value, Diagnostics> {
//!         Ok(req.plan)
//!     }
//!     async fn delete(&self, _c: &Client, _req: DeleteRequest) -> Result<(), Diagnostics> {
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
//!     fn resources(&self) -> Vec<Arc<dyn Resource<Client>>> { vec![Arc::new(Thing)] }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     plugin::serve(Example, ServeOptions::new("registry.terraform.io/example/example"))
//! }
//! ```

mod diagnostics;
mod path;
mod plan;
pub mod plan_modifiers;
mod schema;
mod service;
mod traits;
pub mod validators;

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use path::{AttributePath, PathStep};
pub use plan_modifiers::{PlanModifier, RequiresReplace, RequiresReplaceIfConfigured, UseStateForUnknown};
pub use schema::{Attribute, AttributeKind, Nesting, Schema};
pub use service::ProviderService;
pub use traits::{
    ConfigureRequest, CreateRequest, DataSource, DeleteRequest, ModifyPlan, Provider, ReadRequest, Resource,
    UpdateRequest, import_passthrough,
};
pub use validators::Validator;
