//! The `tfplugin6.Provider` gRPC service, implemented once for any
//! [`Provider`]: decodes Terraform's msgpack with the right schema, runs the
//! framework's bookkeeping and calls into the provider's resources (through
//! [`super::erased`], which converts values to and from their models).
//!
//! One method per RPC of `tfplugin6.Provider`, kept in one file (about 500
//! lines) so the whole protocol reads top to bottom; the planning and
//! validation walks live in [`super::plan`], the tests in `tests.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tonic::{Request, Response, Status};

use super::erased::{AnyDataSource, AnyResource, ErasedDataSource, ErasedResource};
use super::plan::{plan, validate_config};
use super::{ConfigureRequest, Diagnostics, ModifyPlan, Provider, Schema};
use crate::cty::{Type, Value, json, msgpack};
use crate::proto::tfplugin6 as pb;
use crate::proto::tfplugin6::provider_server::Provider as ProviderRpc;

struct ResourceEntry<C> {
    resource: Arc<dyn ErasedResource<C>>,
    schema: Schema,
    ty: Type,
}

struct DataSourceEntry<C> {
    data_source: Arc<dyn ErasedDataSource<C>>,
    schema: Schema,
    ty: Type,
}

/// Serves a [`Provider`] over tfplugin6.
pub struct ProviderService<P: Provider> {
    provider: P,
    provider_schema: Schema,
    provider_type: Type,
    resources: BTreeMap<String, ResourceEntry<P::Client>>,
    data_sources: BTreeMap<String, DataSourceEntry<P::Client>>,
    /// Set by ConfigureProvider; each provider process is configured at most
    /// once, and Terraform starts a fresh process per command.
    client: RwLock<Option<Arc<P::Client>>>,
}

impl<P: Provider> ProviderService<P> {
    /// Collects the provider's schemas and resources once, up front.
    pub fn new(provider: P) -> ProviderService<P> {
        let provider_schema = provider.schema();
        let provider_type = provider_schema.value_type();
        let resources = provider
            .resources()
            .into_iter()
            .map(|AnyResource(resource)| {
                let schema = resource.schema();
                let ty = schema.value_type();
                (resource.type_name().to_string(), ResourceEntry { resource, schema, ty })
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|AnyDataSource(data_source)| {
                let schema = data_source.schema();
                let ty = schema.value_type();
                (data_source.type_name().to_string(), DataSourceEntry { data_source, schema, ty })
            })
            .collect();
        ProviderService { provider, provider_schema, provider_type, resources, data_sources, client: RwLock::new(None) }
    }

    fn resource(&self, type_name: &str) -> Result<&ResourceEntry<P::Client>, Diagnostics> {
        self.resources.get(type_name).ok_or_else(|| {
            Diagnostics::error(
                "Unknown resource type",
                format!("This provider does not have a resource type named {type_name:?}."),
            )
        })
    }

    fn data_source(&self, type_name: &str) -> Result<&DataSourceEntry<P::Client>, Diagnostics> {
        self.data_sources.get(type_name).ok_or_else(|| {
            Diagnostics::error(
                "Unknown data source type",
                format!("This provider does not have a data source named {type_name:?}."),
            )
        })
    }

    fn client(&self) -> Option<Arc<P::Client>> {
        // A poisoned lock only means a panic elsewhere; the value is still usable.
        self.client.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn require_client(&self) -> Result<Arc<P::Client>, Diagnostics> {
        self.client().ok_or_else(|| {
            Diagnostics::error(
                "Provider not configured",
                "The provider has not been configured, so it cannot reach its API. This happens when \
                 the provider configuration depends on values that are not known until apply, such \
                 as attributes of other resources. Apply those resources first (for example with \
                 `terraform apply -target=...`), or configure the provider with known values.",
            )
        })
    }
}

fn decode(dv: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Diagnostics> {
    // Terraform always sends msgpack; an absent or empty value means null.
    let Some(dv) = dv else { return Ok(Value::Null) };
    let value = if !dv.msgpack.is_empty() {
        msgpack::decode(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        json::decode(&dv.json, ty)
    } else {
        Ok(Value::Null)
    };
    value.map_err(|e| Diagnostics::error("Invalid value from Terraform", e.to_string()))
}

fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostics> {
    let msgpack = msgpack::encode(value, ty).map_err(|e| {
        Diagnostics::error(
            "Provider produced a value that does not match its schema",
            format!("{e}. This is a bug in the provider."),
        )
    })?;
    Ok(pb::DynamicValue { msgpack, json: Vec::new() })
}

/// Decodes a configuration, runs the schema's attribute validators, then
/// `check` (the provider's, resource's or data source's own).
fn validate(
    config: Option<&pb::DynamicValue>,
    schema: &Schema,
    ty: &Type,
    check: impl FnOnce(&Value, &mut Diagnostics) -> Result<(), Diagnostics>,
) -> Vec<pb::Diagnostic> {
    let mut diags = Diagnostics::new();
    let body = decode(config, ty).and_then(|config| {
        validate_config(schema, &config, &mut diags);
        check(&config, &mut diags)
    });
    finish(diags, body).1
}

/// Runs `body`, turning its error into diagnostics next to any warnings.
fn finish<T>(mut diags: Diagnostics, body: Result<T, Diagnostics>) -> (Option<T>, Vec<pb::Diagnostic>) {
    match body {
        Ok(v) => (Some(v), diags.into_proto()),
        Err(e) => {
            diags.extend(e);
            (None, diags.into_proto())
        }
    }
}

fn check_wholly_known(value: &Value, what: &str) -> Result<(), Diagnostics> {
    if value.is_wholly_known() {
        Ok(())
    } else {
        Err(Diagnostics::error(
            "Provider returned unknown values",
            format!("The {what} result still contains unknown values. This is a bug in the provider."),
        ))
    }
}

fn server_capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        // Schemas never change within a provider binary, so Terraform may
        // cache them instead of asking every short-lived process.
        get_provider_schema_optional: true,
        plan_destroy: false,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

#[tonic::async_trait]
impl<P: Provider> ProviderRpc for ProviderService<P> {
    async fn get_metadata(
        &self,
        _req: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(server_capabilities()),
            resources: self
                .resources
                .keys()
                .map(|n| pb::get_metadata::ResourceMetadata { type_name: n.clone() })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|n| pb::get_metadata::DataSourceMetadata { type_name: n.clone() })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _req: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let mut diags = Diagnostics::new();
        let mut check = |kind: &str, name: &str, schema: &Schema, model_problems: Vec<String>| {
            for problem in schema.problems().into_iter().chain(model_problems) {
                diags.add_error("Invalid provider schema", format!("{kind} {name}: {problem}"));
            }
        };
        check("provider", "configuration", &self.provider_schema, Vec::new());
        for (name, r) in &self.resources {
            check("resource", name, &r.schema, r.resource.model_problems(&r.schema));
        }
        for (name, d) in &self.data_sources {
            check("data source", name, &d.schema, d.data_source.model_problems(&d.schema));
        }
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(self.provider_schema.to_proto()),
            resource_schemas: self.resources.iter().map(|(n, r)| (n.clone(), r.schema.to_proto())).collect(),
            data_source_schemas: self.data_sources.iter().map(|(n, d)| (n.clone(), d.schema.to_proto())).collect(),
            server_capabilities: Some(server_capabilities()),
            diagnostics: diags.into_proto(),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = req.into_inner();
        let diagnostics = validate(req.config.as_ref(), &self.provider_schema, &self.provider_type, |config, diags| {
            self.provider.validate(config, diags);
            Ok(())
        });
        Ok(Response::new(pb::validate_provider_config::Response { diagnostics }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ValidateResourceConfig", type_name = %req.type_name, "handling");
        let diagnostics = match self.resource(&req.type_name) {
            Ok(e) => validate(req.config.as_ref(), &e.schema, &e.ty, |c, d| e.resource.validate(c, d)),
            Err(d) => d.into_proto(),
        };
        Ok(Response::new(pb::validate_resource_config::Response { diagnostics }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ValidateDataResourceConfig", type_name = %req.type_name, "handling");
        let diagnostics = match self.data_source(&req.type_name) {
            Ok(e) => validate(req.config.as_ref(), &e.schema, &e.ty, |c, d| e.data_source.validate(c, d)),
            Err(d) => d.into_proto(),
        };
        Ok(Response::new(pb::validate_data_resource_config::Response { diagnostics }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = req.into_inner();
        let body = async {
            let config = decode(req.config.as_ref(), &self.provider_type)?;
            if !config.is_wholly_known() {
                // Leave the provider unconfigured; operations that need the
                // client explain why (see `require_client`).
                tracing::info!("provider configuration has unknown values; not configuring yet");
                return Ok(());
            }
            let client = self
                .provider
                .configure(ConfigureRequest { terraform_version: req.terraform_version.clone(), config })
                .await?;
            *self.client.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(client));
            tracing::debug!(terraform_version = %req.terraform_version, "provider configured");
            Ok(())
        }
        .await;
        let (_, diagnostics) = finish(Diagnostics::new(), body);
        Ok(Response::new(pb::configure_provider::Response { diagnostics }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "UpgradeResourceState", type_name = %req.type_name, "handling");
        let body = self.resource(&req.type_name).and_then(|entry| {
            let raw = req.raw_state.as_ref().map(|r| r.json.as_slice()).unwrap_or_default();
            if raw.is_empty() {
                if req.raw_state.as_ref().is_some_and(|r| !r.flatmap.is_empty()) {
                    return Err(Diagnostics::error(
                        "Unsupported state format",
                        "This state was written by Terraform 0.11 or older (flatmap format), which this provider cannot read.",
                    ));
                }
                return encode(&Value::Null, &entry.ty);
            }
            let current = entry.schema.version;
            let state = if req.version == current {
                // Called on every plan even without a version change: decode
                // in the current schema, dropping attributes it no longer has.
                json::decode(raw, &entry.ty)
                    .map_err(|e| Diagnostics::error("Unable to read prior state", e.to_string()))?
            } else if req.version < current {
                entry.resource.upgrade_state(req.version, raw)?
            } else {
                return Err(Diagnostics::error(
                    "Resource instance managed by newer provider version",
                    format!(
                        "The state of this {} was written with schema version {}, but this provider only \
                         knows version {current}. Upgrade the provider.",
                        req.type_name, req.version
                    ),
                ));
            };
            encode(&state, &entry.ty)
        });
        let (upgraded_state, diagnostics) = finish(Diagnostics::new(), body);
        Ok(Response::new(pb::upgrade_resource_state::Response { upgraded_state, diagnostics }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ReadResource", type_name = %req.type_name, "handling");
        let body = async {
            let entry = self.resource(&req.type_name)?;
            let state = decode(req.current_state.as_ref(), &entry.ty)?;
            if state.is_null() {
                return encode(&Value::Null, &entry.ty);
            }
            let client = self.require_client()?;
            let new_state = entry.resource.read(&client, &state).await?;
            check_wholly_known(&new_state, "read")?;
            encode(&new_state, &entry.ty)
        }
        .await;
        let (new_state, diagnostics) = finish(Diagnostics::new(), body);
        Ok(Response::new(pb::read_resource::Response {
            // On error keep what Terraform had rather than dropping the object.
            new_state: new_state.or(req.current_state),
            diagnostics,
            // Terraform replaces stored private data with what Read returns.
            private: req.private,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "PlanResourceChange", type_name = %req.type_name, "handling");
        let mut requires_replace = Vec::new();
        let mut diags = Diagnostics::new();
        let body = async {
            let entry = self.resource(&req.type_name)?;
            let prior = decode(req.prior_state.as_ref(), &entry.ty)?;
            let proposed = decode(req.proposed_new_state.as_ref(), &entry.ty)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            let framework = plan(&entry.schema, &prior, &proposed, &config);
            diags.extend(framework.diagnostics);
            if diags.has_errors() || framework.planned.is_null() {
                requires_replace = framework.requires_replace;
                return encode(&framework.planned, &entry.ty);
            }
            let mut modify = ModifyPlan {
                config,
                state: (!prior.is_null()).then_some(prior),
                plan: framework.planned,
                requires_replace: framework.requires_replace,
                diagnostics: Diagnostics::new(),
            };
            let client = self.client();
            entry.resource.modify_plan(client.as_deref(), &mut modify).await?;
            diags.extend(modify.diagnostics);
            requires_replace = modify.requires_replace;
            encode(&modify.plan, &entry.ty)
        }
        .await;
        let (planned_state, diagnostics) = finish(diags, body);
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state,
            requires_replace: requires_replace.iter().map(|p| p.to_proto()).collect(),
            planned_private: req.prior_private,
            diagnostics,
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ApplyResourceChange", type_name = %req.type_name, "handling");
        let mut fallback = None;
        let body = async {
            let entry = self.resource(&req.type_name)?;
            let prior = decode(req.prior_state.as_ref(), &entry.ty)?;
            let planned = decode(req.planned_state.as_ref(), &entry.ty)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            // If anything fails after this point, Terraform keeps the prior
            // object (null for a failed create).
            fallback = Some(encode(&prior, &entry.ty)?);
            let client = self.require_client()?;
            let new_state = if planned.is_null() {
                entry.resource.delete(&client, &prior).await?;
                Value::Null
            } else if prior.is_null() {
                let state = entry.resource.create(&client, &config, &planned).await?;
                if state.is_null() {
                    return Err(Diagnostics::error(
                        "Provider returned no state after create",
                        "The resource was created but the provider returned no state. This is a bug in the provider.",
                    ));
                }
                state
            } else {
                entry.resource.update(&client, &config, &planned, &prior).await?
            };
            check_wholly_known(&new_state, "apply")?;
            encode(&new_state, &entry.ty)
        }
        .await;
        let (new_state, diagnostics) = finish(Diagnostics::new(), body);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: new_state.or(fallback),
            private: req.planned_private,
            diagnostics,
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ImportResourceState", type_name = %req.type_name, "handling");
        let body = async {
            let entry = self.resource(&req.type_name)?;
            let client = self.require_client()?;
            let state = entry.resource.import(&client, &req.id).await?;
            Ok(pb::import_resource_state::ImportedResource {
                type_name: req.type_name.clone(),
                state: Some(encode(&state, &entry.ty)?),
                ..Default::default()
            })
        }
        .await;
        let (imported, diagnostics) = finish(Diagnostics::new(), body);
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported.into_iter().collect(),
            diagnostics,
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ReadDataSource", type_name = %req.type_name, "handling");
        let body = async {
            let entry = self.data_source(&req.type_name)?;
            let config = decode(req.config.as_ref(), &entry.ty)?;
            let client = self.require_client()?;
            let state = entry.data_source.read(&client, &config).await?;
            check_wholly_known(&state, "data source read")?;
            encode(&state, &entry.ty)
        }
        .await;
        let (state, diagnostics) = finish(Diagnostics::new(), body);
        Ok(Response::new(pb::read_data_source::Response { state, diagnostics, ..Default::default() }))
    }

    async fn stop_provider(
        &self,
        _req: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        // Operations are short RPCs that Terraform cancels itself; there is
        // no long-running work to interrupt.
        tracing::info!("StopProvider received");
        Ok(Response::new(pb::stop_provider::Response { error: String::new() }))
    }
}

#[cfg(test)]
mod tests;
