//! The untyped face of typed resources and data sources: what the service
//! calls, with [`Value`]s in and out. Implemented once, here, for every
//! [`Resource`] and [`DataSource`]; a provider only wraps its resources in
//! [`AnyResource`] and [`AnyDataSource`] to list them together.

use std::sync::Arc;

use async_trait::async_trait;

use super::model::{self, Role};
use super::{
    CreateRequest, DataSource, DeleteRequest, Diagnostics, ModifyPlan, ReadRequest, Resource, Schema, UpdateRequest,
};
use crate::cty::Value;

/// Any [`Resource`] of a provider, whatever its model:
/// `AnyResource::new(MyResource)`.
pub struct AnyResource<C>(pub(crate) Arc<dyn ErasedResource<C>>);

impl<C: Send + Sync + 'static> AnyResource<C> {
    /// Wraps a resource.
    pub fn new(resource: impl Resource<C>) -> AnyResource<C> {
        AnyResource(Arc::new(resource))
    }
}

/// Any [`DataSource`] of a provider, whatever its model:
/// `AnyDataSource::new(MyDataSource)`.
pub struct AnyDataSource<C>(pub(crate) Arc<dyn ErasedDataSource<C>>);

impl<C: Send + Sync + 'static> AnyDataSource<C> {
    /// Wraps a data source.
    pub fn new(data_source: impl DataSource<C>) -> AnyDataSource<C> {
        AnyDataSource(Arc::new(data_source))
    }
}

/// A [`Resource`] with its model erased. Implemented for every `Resource`.
#[async_trait]
pub(crate) trait ErasedResource<C: Send + Sync>: Send + Sync {
    /// See [`Resource::type_name`].
    fn type_name(&self) -> &str;
    /// See [`Resource::schema`].
    fn schema(&self) -> Schema;
    /// Where the model and `schema` disagree (see [`model::check`]).
    fn model_problems(&self, schema: &Schema) -> Vec<String>;
    /// See [`Resource::validate`].
    fn validate(&self, config: &Value, diags: &mut Diagnostics) -> Result<(), Diagnostics>;
    /// See [`Resource::modify_plan`].
    async fn modify_plan(&self, client: Option<&C>, plan: &mut ModifyPlan<Value>) -> Result<(), Diagnostics>;
    /// See [`Resource::create`].
    async fn create(&self, client: &C, config: &Value, plan: &Value) -> Result<Value, Diagnostics>;
    /// See [`Resource::read`]; null when the object is gone.
    async fn read(&self, client: &C, state: &Value) -> Result<Value, Diagnostics>;
    /// See [`Resource::update`].
    async fn update(&self, client: &C, config: &Value, plan: &Value, state: &Value) -> Result<Value, Diagnostics>;
    /// See [`Resource::delete`].
    async fn delete(&self, client: &C, state: &Value) -> Result<(), Diagnostics>;
    /// See [`Resource::import`].
    async fn import(&self, client: &C, id: &str) -> Result<Value, Diagnostics>;
    /// See [`Resource::upgrade_state`].
    fn upgrade_state(&self, version: i64, raw_json: &[u8]) -> Result<Value, Diagnostics>;
}

fn decode<M: model::Model>(value: &Value) -> Result<M, Diagnostics> {
    Ok(model::from_value(value)?)
}

fn encode<M: model::Model>(m: &M) -> Result<Value, Diagnostics> {
    Ok(model::to_value(m)?)
}

fn problems<M: model::Model>(schema: &Schema, role: Role) -> Vec<String> {
    model::check::<M>(schema, role).err().map(|m| m.problems).unwrap_or_default()
}

#[async_trait]
impl<C: Send + Sync, R: Resource<C>> ErasedResource<C> for R {
    fn type_name(&self) -> &str {
        Resource::type_name(self)
    }

    fn schema(&self) -> Schema {
        Resource::schema(self)
    }

    fn model_problems(&self, schema: &Schema) -> Vec<String> {
        problems::<R::Model>(schema, Role::Resource)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) -> Result<(), Diagnostics> {
        // Terraform always sends an object; nothing to check otherwise.
        if !config.is_null() {
            Resource::validate(self, &decode(config)?, diags);
        }
        Ok(())
    }

    async fn modify_plan(&self, client: Option<&C>, values: &mut ModifyPlan<Value>) -> Result<(), Diagnostics> {
        let mut typed = ModifyPlan {
            config: decode::<R::Model>(&values.config)?,
            state: values.state.as_ref().map(decode).transpose()?,
            plan: decode(&values.plan)?,
            requires_replace: std::mem::take(&mut values.requires_replace),
            diagnostics: Diagnostics::new(),
        };
        let before = encode(&typed.plan)?;
        let result = Resource::modify_plan(self, client, &mut typed).await;
        values.requires_replace = typed.requires_replace;
        values.diagnostics.extend(typed.diagnostics);
        result?;
        values.plan = patch(&values.plan, &before, &encode(&typed.plan)?);
        Ok(())
    }

    async fn create(&self, client: &C, config: &Value, plan: &Value) -> Result<Value, Diagnostics> {
        let req = CreateRequest { config: decode(config)?, plan: decode(plan)? };
        encode(&Resource::create(self, client, req).await?)
    }

    async fn read(&self, client: &C, state: &Value) -> Result<Value, Diagnostics> {
        let req = ReadRequest { state: decode(state)? };
        match Resource::read(self, client, req).await? {
            Some(m) => encode(&m),
            None => Ok(Value::Null),
        }
    }

    async fn update(&self, client: &C, config: &Value, plan: &Value, state: &Value) -> Result<Value, Diagnostics> {
        let req = UpdateRequest { config: decode(config)?, plan: decode(plan)?, state: decode(state)? };
        encode(&Resource::update(self, client, req).await?)
    }

    async fn delete(&self, client: &C, state: &Value) -> Result<(), Diagnostics> {
        Resource::delete(self, client, DeleteRequest { state: decode(state)? }).await
    }

    async fn import(&self, client: &C, id: &str) -> Result<Value, Diagnostics> {
        encode(&Resource::import(self, client, id).await?)
    }

    fn upgrade_state(&self, version: i64, raw_json: &[u8]) -> Result<Value, Diagnostics> {
        Resource::upgrade_state(self, version, raw_json)
    }
}

/// `original` with the changes from `before` to `after` applied, object
/// attribute by object attribute: what the model left alone keeps
/// Terraform's exact value (the model may hold it less precisely).
fn patch(original: &Value, before: &Value, after: &Value) -> Value {
    if before == after {
        return original.clone();
    }
    match (original, before, after) {
        (Value::Object(o), Value::Object(b), Value::Object(a)) => {
            let mut out = o.clone();
            for key in a.keys().chain(b.keys()) {
                let get = |m: &std::collections::BTreeMap<String, Value>| m.get(key).cloned().unwrap_or_default();
                out.insert(key.clone(), patch(&get(o), &get(b), &get(a)));
            }
            Value::Object(out)
        }
        _ => after.clone(),
    }
}

/// A [`DataSource`] with its model erased. Implemented for every `DataSource`.
#[async_trait]
pub(crate) trait ErasedDataSource<C: Send + Sync>: Send + Sync {
    /// See [`DataSource::type_name`].
    fn type_name(&self) -> &str;
    /// See [`DataSource::schema`].
    fn schema(&self) -> Schema;
    /// Where the model and `schema` disagree (see [`model::check`]).
    fn model_problems(&self, schema: &Schema) -> Vec<String>;
    /// See [`DataSource::validate`].
    fn validate(&self, config: &Value, diags: &mut Diagnostics) -> Result<(), Diagnostics>;
    /// See [`DataSource::read`].
    async fn read(&self, client: &C, config: &Value) -> Result<Value, Diagnostics>;
}

#[async_trait]
impl<C: Send + Sync, D: DataSource<C>> ErasedDataSource<C> for D {
    fn type_name(&self) -> &str {
        DataSource::type_name(self)
    }

    fn schema(&self) -> Schema {
        DataSource::schema(self)
    }

    fn model_problems(&self, schema: &Schema) -> Vec<String> {
        problems::<D::Model>(schema, Role::DataSource)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) -> Result<(), Diagnostics> {
        if !config.is_null() {
            DataSource::validate(self, &decode(config)?, diags);
        }
        Ok(())
    }

    async fn read(&self, client: &C, config: &Value) -> Result<Value, Diagnostics> {
        encode(&DataSource::read(self, client, decode(config)?).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_keeps_what_the_model_did_not_change() {
        // Terraform's plan: a set with an unknown element, which a model
        // holds as a wholly unknown `Maybe<Vec<String>>`.
        let original = Value::object([
            ("ids", Value::Set(vec![Value::from("a"), Value::Unknown])),
            ("scope", Value::Unknown),
            ("nested", Value::object([("x", Value::from("1")), ("y", Value::Unknown)])),
        ]);
        let before = Value::object([
            ("ids", Value::Unknown),
            ("scope", Value::Unknown),
            ("nested", Value::object([("x", Value::from("1")), ("y", Value::Unknown)])),
        ]);
        let mut after = before.clone();
        after.set_attr("scope", Value::from("/subscriptions/s"));
        after.set_attr("nested", Value::object([("x", Value::from("1")), ("y", Value::from("2"))]));
        let patched = patch(&original, &before, &after);
        assert_eq!(patched.attr("ids"), original.attr("ids"));
        assert_eq!(patched.attr("scope").as_str(), Some("/subscriptions/s"));
        assert_eq!(patched.attr("nested").attr("y").as_str(), Some("2"));
    }
}
