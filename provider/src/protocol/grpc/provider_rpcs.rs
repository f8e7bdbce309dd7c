//! The provider's own RPCs: what it serves (metadata, schemas, functions),
//! its configuration, and stopping.

use tfplugin_proto::tfplugin6 as pb;
use tonic::{Request, Response, Status};

use crate::protocol::convert::{decode, diagnostics_to_proto};
use crate::protocol::listing;
use crate::protocol::resource::ProviderService;

use super::Adapter;

impl<P: ProviderService> Adapter<P> {
    pub(super) async fn get_metadata(
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

    pub(super) async fn get_provider_schema(
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

    pub(super) async fn validate_provider_config(
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

    pub(super) async fn configure_provider(
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

    pub(super) async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response {
            functions: self.catalog.function_signatures(),
            diagnostics: Vec::new(),
        }))
    }

    pub(super) async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        Ok(Response::new(listing::call_function(
            &self.catalog,
            request.into_inner(),
        )))
    }

    pub(super) async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        self.provider.stop();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
