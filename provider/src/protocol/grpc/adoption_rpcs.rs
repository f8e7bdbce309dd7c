//! How existing objects come under a resource: import (by id or by
//! identity) and `moved` from another resource type.

use tfplugin_proto::tfplugin6 as pb;
use tonic::{Request, Response, Status};

use crate::protocol::convert::{diagnostics_to_proto, encode};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::resource::{ImportRequest, MoveRequest, ProviderService};

use super::{respond, Adapter};

impl<P: ProviderService> Adapter<P> {
    pub(super) async fn import_resource_state(
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

    pub(super) async fn move_resource_state(
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
}
