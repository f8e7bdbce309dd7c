//! The tfplugin6 `Provider` gRPC service, adapted onto [`ProviderService`].
//!
//! This is the protocol boundary: requests are decoded with the schema's
//! type, handed to the provider or resource as [`Value`]s, and results and
//! errors come back as protobuf values and diagnostics.

use std::collections::HashMap;
use std::sync::Arc;

use tfplugin_proto::tfplugin6 as pb;
use tonic::{Request, Response, Status};

use super::convert::{decode, diagnostics_to_proto, encode, path_to_proto, schema_to_proto};
use super::diagnostics::{Diagnostic, Diagnostics};
use super::resource::{ApplyRequest, PlanRequest, ProviderService, Resource};
use super::value::{Type, Value};

struct Entry {
    resource: Arc<dyn Resource>,
    schema: pb::Schema,
    ty: Type,
}

/// Serves a [`ProviderService`] as Terraform's `Provider` gRPC service.
pub(super) struct Adapter<P> {
    provider: Arc<P>,
    provider_schema: pb::Schema,
    provider_type: Type,
    resources: HashMap<&'static str, Entry>,
}

impl<P> std::fmt::Debug for Adapter<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adapter")
            .field("resources", &self.resources.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl<P: ProviderService> Adapter<P> {
    /// Builds the adapter; schemas are converted once, up front.
    pub(super) fn new(provider: Arc<P>) -> Self {
        let schema = provider.schema();
        let resources = provider
            .resources()
            .into_iter()
            .map(|resource| {
                let schema = resource.schema();
                let entry = Entry {
                    ty: schema.block.value_type(),
                    schema: schema_to_proto(&schema),
                    resource: resource.clone(),
                };
                (resource.type_name(), entry)
            })
            .collect();
        Self {
            provider_type: schema.block.value_type(),
            provider_schema: schema_to_proto(&schema),
            provider,
            resources,
        }
    }

    fn entry(&self, type_name: &str) -> Result<&Entry, Diagnostics> {
        self.resources.get(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!("The imagecopier provider has no resource type {type_name:?}."),
            )
            .into()
        })
    }

    fn capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            // Destroy plans go through the resource too, so it can warn early.
            plan_destroy: true,
            get_provider_schema_optional: false,
            move_resource_state: false,
        }
    }
}

fn no_data_sources() -> Diagnostics {
    Diagnostic::error(
        "Unknown data source",
        "The imagecopier provider has no data sources.",
    )
    .into()
}

#[tonic::async_trait]
impl<P: ProviderService> pb::provider_server::Provider for Adapter<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        let resources = self
            .resources
            .keys()
            .map(|name| pb::get_metadata::ResourceMetadata {
                type_name: (*name).to_owned(),
            })
            .collect();
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(Self::capabilities()),
            diagnostics: Vec::new(),
            data_sources: Vec::new(),
            resources,
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let resource_schemas = self
            .resources
            .iter()
            .map(|(name, entry)| ((*name).to_owned(), entry.schema.clone()))
            .collect();
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(self.provider_schema.clone()),
            resource_schemas,
            data_source_schemas: HashMap::new(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(Self::capabilities()),
        }))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let request = request.into_inner();
        let diagnostics = match decode(
            request.config.as_ref(),
            &self.provider_type,
            "provider configuration",
        ) {
            Ok(config) => self.provider.validate(&config).await,
            Err(diags) => diags,
        };
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics_to_proto(&diagnostics),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let request = request.into_inner();
        let diagnostics = match self.entry(&request.type_name) {
            Ok(entry) => match decode(request.config.as_ref(), &entry.ty, "resource configuration")
            {
                Ok(config) => entry.resource.validate(&config).await,
                Err(diags) => diags,
            },
            Err(diags) => diags,
        };
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diagnostics),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        _request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics_to_proto(&no_data_sources()),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let request = request.into_inner();
        let result = async {
            let entry = self.entry(&request.type_name)?;
            let json = request.raw_state.map(|raw| raw.json).unwrap_or_default();
            if json.is_empty() {
                return Err(Diagnostic::error(
                    "Unsupported state format",
                    "The stored state has no JSON form (it predates Terraform 0.12); it cannot be upgraded.",
                )
                .into());
            }
            let upgraded = entry.resource.upgrade(request.version, &json).await?;
            encode(&upgraded, &entry.ty, "upgraded state")
        }
        .await;
        let (upgraded_state, diagnostics) = split(result);
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: diagnostics_to_proto(&diagnostics),
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            diagnostics: Vec::new(),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let request = request.into_inner();
        let diagnostics = match decode(
            request.config.as_ref(),
            &self.provider_type,
            "provider configuration",
        ) {
            Ok(config) => {
                self.provider
                    .configure(&config, &request.terraform_version)
                    .await
            }
            Err(diags) => diags,
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics_to_proto(&diagnostics),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let request = request.into_inner();
        let result = async {
            let entry = self.entry(&request.type_name)?;
            let state = decode(request.current_state.as_ref(), &entry.ty, "current state")?;
            let response = entry.resource.read(state, request.private).await;
            let mut diagnostics = response.diagnostics;
            let new_state = encode_or_report(
                &response.new_state,
                &entry.ty,
                "refreshed state",
                &mut diagnostics,
            );
            Ok::<_, Diagnostics>(pb::read_resource::Response {
                new_state,
                diagnostics: diagnostics_to_proto(&diagnostics),
                private: response.private,
            })
        }
        .await;
        respond(result)
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let request = request.into_inner();
        let result = async {
            let entry = self.entry(&request.type_name)?;
            let plan = PlanRequest {
                prior_state: decode(request.prior_state.as_ref(), &entry.ty, "prior state")?,
                proposed_new_state: decode(
                    request.proposed_new_state.as_ref(),
                    &entry.ty,
                    "proposed state",
                )?,
                config: decode(request.config.as_ref(), &entry.ty, "resource configuration")?,
                prior_private: request.prior_private,
            };
            let response = entry.resource.plan(plan).await;
            let mut diagnostics = response.diagnostics;
            let planned_state = if diagnostics.has_errors() {
                None
            } else {
                encode_or_report(
                    &response.planned_state,
                    &entry.ty,
                    "planned state",
                    &mut diagnostics,
                )
            };
            Ok::<_, Diagnostics>(pb::plan_resource_change::Response {
                planned_state,
                requires_replace: response
                    .requires_replace
                    .iter()
                    .map(path_to_proto)
                    .collect(),
                planned_private: response.planned_private,
                diagnostics: diagnostics_to_proto(&diagnostics),
            })
        }
        .await;
        respond(result)
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let request = request.into_inner();
        let result = async {
            let entry = self.entry(&request.type_name)?;
            let apply = ApplyRequest {
                prior_state: decode(request.prior_state.as_ref(), &entry.ty, "prior state")?,
                planned_state: decode(request.planned_state.as_ref(), &entry.ty, "planned state")?,
                config: decode(request.config.as_ref(), &entry.ty, "resource configuration")?,
                planned_private: request.planned_private,
            };
            let response = entry.resource.apply(apply).await;
            let mut diagnostics = response.diagnostics;
            // The new state is returned even alongside errors: it records
            // what already exists in AWS, so nothing is orphaned.
            let new_state = encode_or_report(
                &response.new_state,
                &entry.ty,
                "new state",
                &mut diagnostics,
            );
            Ok::<_, Diagnostics>(pb::apply_resource_change::Response {
                new_state,
                private: response.private,
                diagnostics: diagnostics_to_proto(&diagnostics),
            })
        }
        .await;
        respond(result)
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let request = request.into_inner();
        let result = async {
            let entry = self.entry(&request.type_name)?;
            let response = entry.resource.import(&request.id).await;
            let mut diagnostics = response.diagnostics;
            let mut imported = Vec::new();
            for state in &response.states {
                match encode(state, &entry.ty, "imported state") {
                    Ok(value) => imported.push(pb::import_resource_state::ImportedResource {
                        type_name: request.type_name.clone(),
                        state: Some(value),
                        private: Vec::new(),
                    }),
                    Err(diags) => diagnostics.extend(diags),
                }
            }
            Ok::<_, Diagnostics>(pb::import_resource_state::Response {
                imported_resources: imported,
                diagnostics: diagnostics_to_proto(&diagnostics),
            })
        }
        .await;
        respond(result)
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let request = request.into_inner();
        let diagnostics: Diagnostics = Diagnostic::error(
            "Moving resources is not supported",
            format!(
                "{} cannot be moved into {}: the imagecopier provider accepts no resources from other types. \
                 Import the AMI instead.",
                request.source_type_name, request.target_type_name
            ),
        )
        .into();
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: diagnostics_to_proto(&diagnostics),
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        _request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        Ok(Response::new(pb::read_data_source::Response {
            state: None,
            diagnostics: diagnostics_to_proto(&no_data_sources()),
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        self.provider.stop();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

/// A response that carries diagnostics, so that a request failing before
/// its handler could answer becomes a response holding only those.
trait Answer: Default {
    fn set_diagnostics(&mut self, diagnostics: Vec<pb::Diagnostic>);
}

macro_rules! answers {
    ($($response:ty),* $(,)?) => {
        $(impl Answer for $response {
            fn set_diagnostics(&mut self, diagnostics: Vec<pb::Diagnostic>) {
                self.diagnostics = diagnostics;
            }
        })*
    };
}

answers!(
    pb::read_resource::Response,
    pb::plan_resource_change::Response,
    pb::apply_resource_change::Response,
    pb::import_resource_state::Response,
);

/// The handler's response, or one with only the diagnostics it failed with.
fn respond<T: Answer>(result: Result<T, Diagnostics>) -> Result<Response<T>, Status> {
    Ok(Response::new(result.unwrap_or_else(|diags| {
        let mut response = T::default();
        response.set_diagnostics(diagnostics_to_proto(&diags));
        response
    })))
}

/// `value` encoded for Terraform; `None`, with the reason added to
/// `diagnostics`, when it cannot be.
fn encode_or_report(
    value: &Value,
    ty: &Type,
    what: &str,
    diagnostics: &mut Diagnostics,
) -> Option<pb::DynamicValue> {
    match encode(value, ty, what) {
        Ok(value) => Some(value),
        Err(diags) => {
            diagnostics.extend(diags);
            None
        }
    }
}

fn split<T>(result: Result<T, Diagnostics>) -> (Option<T>, Diagnostics) {
    match result {
        Ok(value) => (Some(value), Diagnostics::new()),
        Err(diags) => (None, diags),
    }
}
