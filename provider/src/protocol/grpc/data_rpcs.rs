//! The data sources' and list blocks' RPCs: validation and reading.

use tfplugin_proto::tfplugin6 as pb;
use tonic::{Request, Response, Status};

use crate::protocol::convert::{decode, diagnostics_to_proto, encode};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::resource::ProviderService;

use super::{respond, Adapter};

impl<P: ProviderService> Adapter<P> {
    pub(super) async fn validate_data_resource_config(
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

    pub(super) async fn read_data_source(
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

    pub(super) async fn validate_list_resource_config(
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
}
