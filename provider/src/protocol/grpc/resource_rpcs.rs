//! The managed resources' RPCs: validation, state and identity upgrades,
//! read, plan and apply.

use tfplugin_proto::tfplugin6 as pb;
use tonic::{Request, Response, Status};

use crate::protocol::catalog::ResourceEntry;
use crate::protocol::convert::{decode, diagnostics_to_proto, encode, path_to_proto};
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::protocol::listing;
use crate::protocol::resource::{ApplyRequest, PlanRequest, ProviderService};
use crate::protocol::value::Value;

use super::{encode_or_report, respond, split, Adapter};

impl<P: ProviderService> Adapter<P> {
    pub(super) async fn validate_resource_config(
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

    pub(super) async fn upgrade_resource_state(
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

    pub(super) async fn get_resource_identity_schemas(
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

    pub(super) async fn upgrade_resource_identity(
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

    pub(super) async fn read_resource(
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
            let (new_state, new_identity) = new_state_and_identity(
                entry,
                &response.new_state,
                &response.identity,
                "refreshed state",
                &mut diagnostics,
            );
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

    pub(super) async fn plan_resource_change(
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

    pub(super) async fn apply_resource_change(
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
            let (new_state, new_identity) = new_state_and_identity(
                entry,
                &response.new_state,
                &response.identity,
                "new state",
                &mut diagnostics,
            );
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
}

/// A read's or an apply's new state and identity, encoded for Terraform.
/// A failure to encode either is added to `diagnostics` and reported beside
/// the other, never instead of it.
fn new_state_and_identity(
    entry: &ResourceEntry,
    state: &Value,
    identity: &Value,
    what: &str,
    diagnostics: &mut Diagnostics,
) -> (Option<pb::DynamicValue>, Option<pb::ResourceIdentityData>) {
    let new_state = encode_or_report(state, &entry.ty, what, diagnostics);
    let new_identity = entry.identity_to(identity).unwrap_or_else(|diags| {
        diagnostics.extend(diags);
        None
    });
    (new_state, new_identity)
}
