//! The tfplugin6 `Provider` gRPC service, adapted onto [`ProviderService`].
//!
//! This is the protocol boundary: requests are decoded with the schema's
//! type, handed to the provider or resource as [`Value`]s, and results and
//! errors come back as protobuf values and diagnostics.

use std::sync::Arc;

use futures_util::stream;
use tfplugin_proto::tfplugin6 as pb;
use tonic::{Request, Response, Status};

use super::catalog::Catalog;
use super::convert::{decode, diagnostics_to_proto, encode, path_to_proto, schema_to_proto};
use super::diagnostics::{Diagnostic, Diagnostics};
use super::listing;
use super::resource::{ApplyRequest, ImportRequest, MoveRequest, PlanRequest, ProviderService};
use super::value::{Type, Value};

/// Serves a [`ProviderService`] as Terraform's `Provider` gRPC service.
pub(super) struct Adapter<P> {
    provider: Arc<P>,
    provider_schema: pb::Schema,
    provider_type: Type,
    catalog: Catalog,
}

impl<P> std::fmt::Debug for Adapter<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adapter")
            .field(
                "resources",
                &self.catalog.resources.keys().collect::<Vec<_>>(),
            )
            .field(
                "data_sources",
                &self.catalog.data_sources.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<P: ProviderService> Adapter<P> {
    /// Builds the adapter; schemas are converted once, up front.
    pub(super) fn new(provider: Arc<P>) -> Self {
        let schema = provider.schema();
        Self {
            provider_type: schema.block.value_type(),
            provider_schema: schema_to_proto(&schema),
            catalog: Catalog::of(provider.as_ref()),
            provider,
        }
    }

    fn capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            // Destroy plans go through the resource too, so it can warn early.
            plan_destroy: true,
            // The schema never changes within a binary and every RPC works
            // without a GetProviderSchema first, so Terraform (1.6+) may
            // reuse the one it fetched from the first provider process
            // instead of asking each of the others again.
            get_provider_schema_optional: true,
            // A `moved` block from another type reaches the target resource,
            // which refuses what it cannot take over.
            move_resource_state: true,
        }
    }
}

#[tonic::async_trait]
impl<P: ProviderService> pb::provider_server::Provider for Adapter<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        let catalog = &self.catalog;
        let resources = catalog
            .resources
            .keys()
            .map(|name| pb::get_metadata::ResourceMetadata {
                type_name: (*name).to_owned(),
            })
            .collect();
        let data_sources = catalog
            .data_sources
            .keys()
            .map(|name| pb::get_metadata::DataSourceMetadata {
                type_name: (*name).to_owned(),
            })
            .collect();
        let list_resources = catalog
            .resources
            .iter()
            .filter(|(_, entry)| entry.list.is_some())
            .map(|(name, _)| pb::get_metadata::ListResourceMetadata {
                type_name: (*name).to_owned(),
            })
            .collect();
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(Self::capabilities()),
            diagnostics: Vec::new(),
            data_sources,
            resources,
            functions: catalog
                .functions
                .keys()
                .map(|name| pb::get_metadata::FunctionMetadata {
                    name: (*name).to_owned(),
                })
                .collect(),
            list_resources,
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let catalog = &self.catalog;
        let resource_schemas = catalog
            .resources
            .iter()
            .map(|(name, entry)| ((*name).to_owned(), entry.schema.clone()))
            .collect();
        let data_source_schemas = catalog
            .data_sources
            .iter()
            .map(|(name, entry)| ((*name).to_owned(), entry.schema.clone()))
            .collect();
        // A Terraform older than 1.14 skips the field it does not know.
        let list_resource_schemas = catalog
            .resources
            .iter()
            .filter_map(|(name, entry)| Some(((*name).to_owned(), entry.list.as_ref()?.0.clone())))
            .collect();
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(self.provider_schema.clone()),
            resource_schemas,
            data_source_schemas,
            functions: catalog.function_signatures(),
            list_resource_schemas,
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
        let diagnostics = match self.catalog.resource(&request.type_name) {
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
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let request = request.into_inner();
        let diagnostics = match self.catalog.data_source(&request.type_name) {
            Ok(entry) => match decode(
                request.config.as_ref(),
                &entry.ty,
                "data source configuration",
            ) {
                Ok(config) => entry.source.validate(&config).await,
                Err(diags) => diags,
            },
            Err(diags) => diags,
        };
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diagnostics),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let request = request.into_inner();
        let result = async {
            let entry = self.catalog.resource(&request.type_name)?;
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
        let identity_schemas = self
            .catalog
            .resources
            .iter()
            .filter_map(|(name, entry)| {
                Some(((*name).to_owned(), entry.identity.as_ref()?.0.clone()))
            })
            .collect();
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas,
            diagnostics: Vec::new(),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let request = request.into_inner();
        let result = listing::upgrade_identity(&self.catalog, &request);
        let (upgraded_identity, diagnostics) = split(result);
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity: upgraded_identity.flatten(),
            diagnostics: diagnostics_to_proto(&diagnostics),
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
            let entry = self.catalog.resource(&request.type_name)?;
            let state = decode(request.current_state.as_ref(), &entry.ty, "current state")?;
            let response = entry.resource.read(state, request.private).await;
            response
                .diagnostics
                .log_errors("ReadResource", &request.type_name);
            let mut diagnostics = response.diagnostics;
            let new_state = encode_or_report(
                &response.new_state,
                &entry.ty,
                "refreshed state",
                &mut diagnostics,
            );
            // Like the state: a failure is reported beside the new state,
            // never instead of it.
            let new_identity = entry
                .identity_to(&response.identity)
                .unwrap_or_else(|diags| {
                    diagnostics.extend(diags);
                    None
                });
            Ok::<_, Diagnostics>(pb::read_resource::Response {
                new_state,
                diagnostics: diagnostics_to_proto(&diagnostics),
                private: response.private,
                new_identity,
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
            let entry = self.catalog.resource(&request.type_name)?;
            let plan = PlanRequest {
                prior_state: decode(request.prior_state.as_ref(), &entry.ty, "prior state")?,
                proposed_new_state: decode(
                    request.proposed_new_state.as_ref(),
                    &entry.ty,
                    "proposed state",
                )?,
                config: decode(request.config.as_ref(), &entry.ty, "resource configuration")?,
                prior_private: request.prior_private,
                prior_identity: entry.identity_from(request.prior_identity.as_ref())?,
            };
            let response = entry.resource.plan(plan).await;
            response
                .diagnostics
                .log_errors("PlanResourceChange", &request.type_name);
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
                planned_identity: entry.identity_to(&response.planned_identity)?,
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
            let entry = self.catalog.resource(&request.type_name)?;
            let apply = ApplyRequest {
                prior_state: decode(request.prior_state.as_ref(), &entry.ty, "prior state")?,
                planned_state: decode(request.planned_state.as_ref(), &entry.ty, "planned state")?,
                config: decode(request.config.as_ref(), &entry.ty, "resource configuration")?,
                planned_private: request.planned_private,
            };
            let response = entry.resource.apply(apply).await;
            response
                .diagnostics
                .log_errors("ApplyResourceChange", &request.type_name);
            let mut diagnostics = response.diagnostics;
            // The new state is returned even alongside errors: it records
            // what already exists in AWS, so nothing is orphaned.
            let new_state = encode_or_report(
                &response.new_state,
                &entry.ty,
                "new state",
                &mut diagnostics,
            );
            // Like the state: a failure is reported beside the new state,
            // never instead of it.
            let new_identity = entry
                .identity_to(&response.identity)
                .unwrap_or_else(|diags| {
                    diagnostics.extend(diags);
                    None
                });
            Ok::<_, Diagnostics>(pb::apply_resource_change::Response {
                new_state,
                private: response.private,
                diagnostics: diagnostics_to_proto(&diagnostics),
                new_identity,
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
            let entry = self.catalog.resource(&request.type_name)?;
            let identity = entry.identity_from(request.identity.as_ref())?;
            // Terraform sends an identity instead of an id for an `import`
            // block that names one.
            let named = if identity.is_null() {
                ImportRequest::Id(request.id.clone())
            } else {
                ImportRequest::Identity(identity)
            };
            let response = entry.resource.import(named).await;
            response
                .diagnostics
                .log_errors("ImportResourceState", &request.type_name);
            let mut diagnostics = response.diagnostics;
            let mut imported = Vec::new();
            for found in &response.found {
                match (
                    encode(&found.state, &entry.ty, "imported state"),
                    entry.identity_to(&found.identity),
                ) {
                    (Ok(state), Ok(identity)) => {
                        imported.push(pb::import_resource_state::ImportedResource {
                            type_name: request.type_name.clone(),
                            state: Some(state),
                            private: Vec::new(),
                            identity,
                        })
                    }
                    (Err(diags), _) | (_, Err(diags)) => diagnostics.extend(diags),
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
        let result = async {
            let entry = self.catalog.resource(&request.target_type_name)?;
            let moved = MoveRequest {
                source_provider_address: request.source_provider_address,
                source_type_name: request.source_type_name,
                source_schema_version: request.source_schema_version,
                source_state_json: request.source_state.map(|raw| raw.json).unwrap_or_default(),
            };
            let found = entry.resource.move_from(moved).await.inspect_err(|diags| {
                diags.log_errors("MoveResourceState", &request.target_type_name);
            })?;
            Ok::<_, Diagnostics>(pb::move_resource_state::Response {
                target_state: Some(encode(&found.state, &entry.ty, "moved state")?),
                target_identity: entry.identity_to(&found.identity)?,
                target_private: Vec::new(),
                diagnostics: Vec::new(),
            })
        }
        .await;
        respond(result)
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let request = request.into_inner();
        let result = async {
            let entry = self.catalog.data_source(&request.type_name)?;
            let config = decode(
                request.config.as_ref(),
                &entry.ty,
                "data source configuration",
            )?;
            let state = entry.source.read(config).await?;
            Ok::<_, Diagnostics>(pb::read_data_source::Response {
                state: Some(encode(&state, &entry.ty, "data source state")?),
                diagnostics: Vec::new(),
            })
        }
        .await;
        respond(result)
    }

    type ListResourceStream =
        stream::Iter<std::vec::IntoIter<Result<pb::list_resource::Event, Status>>>;

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let events = listing::list(&self.catalog, request.into_inner()).await;
        Ok(Response::new(stream::iter(
            events.into_iter().map(Ok).collect::<Vec<_>>(),
        )))
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let request = request.into_inner();
        let diagnostics = match self.catalog.list(&request.type_name) {
            Ok((_, (_, ty))) => decode(request.config.as_ref(), ty, "list configuration")
                .err()
                .unwrap_or_default(),
            Err(diags) => diags,
        };
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diagnostics),
        }))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response {
            functions: self.catalog.function_signatures(),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        Ok(Response::new(listing::call_function(
            &self.catalog,
            request.into_inner(),
        )))
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
    pb::move_resource_state::Response,
    pb::read_data_source::Response,
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
