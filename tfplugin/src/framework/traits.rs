//! The three traits a provider implements: [`Provider`], [`Resource`] and
//! [`DataSource`].
//!
//! Resources and data sources are typed: each names its [`Model`], a struct
//! mirroring its schema (see [`super::model`]), and the framework converts
//! Terraform's values from and to it. The provider configuration arrives as
//! a [`Value`], because providers usually combine it with environment
//! variables before it means anything; [`ConfigureRequest::model`] decodes it.
//! Every method returns `Result<_, Diagnostics>`: an `Err` is shown to the
//! user as-is.

use async_trait::async_trait;
use serde::de::DeserializeOwned;

use super::erased::{AnyDataSource, AnyResource};
use super::model::{self, Model};
use super::{AttributePath, Diagnostics, Schema};
use crate::cty::Value;

/// A Terraform provider: its configuration schema, how to turn that
/// configuration into a client, and what it manages.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// What `configure` produces and resources receive, e.g. an API client.
    type Client: Send + Sync + 'static;

    /// The schema of the `provider "…" { … }` block.
    fn schema(&self) -> Schema;

    /// Checks across attributes of the provider configuration. Attribute
    /// validators run before this.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Builds the client from the configuration.
    ///
    /// The framework calls it only when the configuration is wholly known;
    /// otherwise resources that need the client report "Provider not
    /// configured".
    async fn configure(&self, req: ConfigureRequest) -> Result<Self::Client, Diagnostics>;

    /// The managed resources: `vec![AnyResource::new(MyResource), …]`.
    fn resources(&self) -> Vec<AnyResource<Self::Client>>;

    /// The data sources: `vec![AnyDataSource::new(MyDataSource), …]`.
    fn data_sources(&self) -> Vec<AnyDataSource<Self::Client>> {
        Vec::new()
    }
}

/// Input to [`Provider::configure`].
#[derive(Debug, Clone)]
pub struct ConfigureRequest {
    /// The Terraform CLI version, e.g. `1.15.5`.
    pub terraform_version: String,
    /// The provider configuration (wholly known).
    pub config: Value,
}

impl ConfigureRequest {
    /// The configuration as a typed model.
    pub fn model<M: DeserializeOwned>(&self) -> Result<M, Diagnostics> {
        Ok(model::from_value(&self.config)?)
    }
}

/// A managed resource type, e.g. `teleport_provision_token`.
///
/// The framework does the Terraform bookkeeping — defaults, "(known after
/// apply)", plan modifiers, `requires_replace`, state upgrades of the
/// current version, private data, converting values to and from
/// [`Resource::Model`] — so a resource only talks to its API.
#[async_trait]
pub trait Resource<C: Send + Sync>: Send + Sync + 'static {
    /// The Rust shape of this resource's configuration, plan and state.
    /// Every attribute can be unknown somewhere, so every field is a
    /// [`super::model::Maybe`]; the framework checks the model against
    /// [`Resource::schema`] when Terraform asks for the schema.
    type Model: Model;

    /// The full type name, including the provider prefix.
    fn type_name(&self) -> &str;

    /// The resource's schema.
    fn schema(&self) -> Schema;

    /// Checks across attributes; attribute validators run before this.
    /// Values may be unknown here.
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    /// Adjusts the plan after the framework's own planning (optional). The
    /// client is `None` when the provider is not configured yet.
    async fn modify_plan(&self, _client: Option<&C>, _plan: &mut ModifyPlan<Self::Model>) -> Result<(), Diagnostics> {
        Ok(())
    }

    /// Creates the object; returns the new state, with every value planned
    /// as unknown now known and every known planned value unchanged.
    async fn create(&self, client: &C, req: CreateRequest<Self::Model>) -> Result<Self::Model, Diagnostics>;

    /// Refreshes the state; `Ok(None)` means the object is gone and will be
    /// planned for creation.
    async fn read(&self, client: &C, req: ReadRequest<Self::Model>) -> Result<Option<Self::Model>, Diagnostics>;

    /// Updates the object in place; returns the new state.
    async fn update(&self, client: &C, req: UpdateRequest<Self::Model>) -> Result<Self::Model, Diagnostics>;

    /// Deletes the object.
    async fn delete(&self, client: &C, req: DeleteRequest<Self::Model>) -> Result<(), Diagnostics>;

    /// Turns an import ID into a (possibly partial) state that
    /// [`Resource::read`] then completes.
    async fn import(&self, _client: &C, _id: &str) -> Result<Self::Model, Diagnostics> {
        Err(Diagnostics::error(
            "Resource Import Not Implemented",
            format!("The resource type {} does not support import.", self.type_name()),
        ))
    }

    /// Upgrades state stored by an older schema version (`version` is lower
    /// than the current one). `raw_json` is the stored attributes object;
    /// decode it with the old type via [`crate::cty::json::decode`] and
    /// return a value of the current schema.
    /// State of the current version is handled by the framework.
    fn upgrade_state(&self, version: i64, _raw_json: &[u8]) -> Result<Value, Diagnostics> {
        Err(Diagnostics::error(
            "Unable to Upgrade Resource State",
            format!("The resource type {} has no upgrade from schema version {version}.", self.type_name()),
        ))
    }
}

/// A state holding only `path = id`: the usual import when an ID attribute
/// is all [`Resource::read`] needs. Decode it with
/// [`super::model::from_value`].
pub fn import_passthrough(path: &AttributePath, id: &str) -> Value {
    // Build from the leaf outwards: {a = {b = id}}.
    path.steps.iter().rev().fold(Value::String(id.to_string()), |inner, step| match step {
        super::PathStep::Attribute(name) => Value::object([(name.clone(), inner)]),
        // Element steps make no sense for an import ID; ignore them.
        super::PathStep::Key(_) | super::PathStep::Index(_) => inner,
    })
}

/// Input to [`Resource::create`].
#[derive(Debug, Clone)]
pub struct CreateRequest<M> {
    /// The configuration.
    pub config: M,
    /// The plan (configured values, defaults, unknowns to fill in).
    pub plan: M,
}

/// Input to [`Resource::read`].
#[derive(Debug, Clone)]
pub struct ReadRequest<M> {
    /// The current state (possibly partial, right after import).
    pub state: M,
}

/// Input to [`Resource::update`].
#[derive(Debug, Clone)]
pub struct UpdateRequest<M> {
    /// The configuration.
    pub config: M,
    /// The plan.
    pub plan: M,
    /// The prior state.
    pub state: M,
}

/// Input to [`Resource::delete`].
#[derive(Debug, Clone)]
pub struct DeleteRequest<M> {
    /// The prior state.
    pub state: M,
}

/// The plan as [`Resource::modify_plan`] may change it.
///
/// Only what the resource changes is written back: attributes it leaves
/// alone keep Terraform's exact planned value, even where the model holds
/// it less precisely (an unknown element makes a whole `Maybe` unknown).
#[derive(Debug, Clone)]
pub struct ModifyPlan<M> {
    /// The configuration.
    pub config: M,
    /// The prior state; `None` on create.
    pub state: Option<M>,
    /// The plan so far; change it in place.
    pub plan: M,
    /// Paths whose change forces replacement; push to add one.
    pub requires_replace: Vec<AttributePath>,
    /// Warnings to show.
    pub diagnostics: Diagnostics,
}

/// A data source type, e.g. `teleport_provision_token`.
#[async_trait]
pub trait DataSource<C: Send + Sync>: Send + Sync + 'static {
    /// The Rust shape of this data source's configuration and state.
    /// Attributes set in configuration can be unknown while validating, so
    /// their fields are [`super::model::Maybe`]s; computed-only ones may be
    /// `Option`s.
    type Model: Model;

    /// The full type name, including the provider prefix.
    fn type_name(&self) -> &str;

    /// The data source's schema.
    fn schema(&self) -> Schema;

    /// Checks across attributes; attribute validators run before this.
    /// Values may be unknown here.
    fn validate(&self, _config: &Self::Model, _diags: &mut Diagnostics) {}

    /// Reads the data; returns the state (wholly known). Terraform reads a
    /// data source only once its configuration is wholly known.
    async fn read(&self, client: &C, config: Self::Model) -> Result<Self::Model, Diagnostics>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passthrough_builds_nested_objects() {
        let v = import_passthrough(&AttributePath::root("metadata").attr("name"), "tok");
        assert_eq!(v.attr("metadata").attr("name").as_str(), Some("tok"));
        let v = import_passthrough(&AttributePath::root("id"), "x");
        assert_eq!(v.attr("id").as_str(), Some("x"));
    }
}
