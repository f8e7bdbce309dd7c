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
use super::convert::{diagnostics_to_proto, encode, schema_to_proto};
use super::diagnostics::Diagnostics;
use super::listing;
use super::resource::ProviderService;
use super::value::{Type, Value};

mod adoption_rpcs;
mod data_rpcs;
mod provider_rpcs;
mod resource_rpcs;

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

// Each RPC is answered by the inherent method of the same name, kept with
// its family (`grpc/provider_rpcs.rs`, `resource_rpcs.rs`, `adoption_rpcs.rs`,
// `data_rpcs.rs`); `Adapter::name` finds that method, never this trait's
// (inherent items are looked up first).
#[tonic::async_trait]
impl<P: ProviderService> pb::provider_server::Provider for Adapter<P> {
    async fn get_metadata(
        &self,
        request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        Adapter::get_metadata(self, request).await
    }

    async fn get_provider_schema(
        &self,
        request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        Adapter::get_provider_schema(self, request).await
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        Adapter::validate_provider_config(self, request).await
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        Adapter::validate_resource_config(self, request).await
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        Adapter::validate_data_resource_config(self, request).await
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        Adapter::upgrade_resource_state(self, request).await
    }

    async fn get_resource_identity_schemas(
        &self,
        request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        Adapter::get_resource_identity_schemas(self, request).await
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        Adapter::upgrade_resource_identity(self, request).await
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        Adapter::configure_provider(self, request).await
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        Adapter::read_resource(self, request).await
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        Adapter::plan_resource_change(self, request).await
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        Adapter::apply_resource_change(self, request).await
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        Adapter::import_resource_state(self, request).await
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        Adapter::move_resource_state(self, request).await
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        Adapter::read_data_source(self, request).await
    }

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
        Adapter::validate_list_resource_config(self, request).await
    }

    async fn get_functions(
        &self,
        request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Adapter::get_functions(self, request).await
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        Adapter::call_function(self, request).await
    }

    async fn stop_provider(
        &self,
        request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        Adapter::stop_provider(self, request).await
    }

    type ListResourceStream =
        stream::Iter<std::vec::IntoIter<Result<pb::list_resource::Event, Status>>>;
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
