//! The RPCs whose answers take more than a lookup: listing for `terraform
//! query` (Terraform 1.14+), identity upgrades (1.12+) and function calls
//! (1.8+).

use tfplugin_proto::tfplugin6 as pb;

use super::catalog::Catalog;
use super::convert::{decode, diagnostics_to_proto, encode};
use super::diagnostics::{Diagnostic, Diagnostics};
use super::json;
use super::resource::ListRequest;

/// Terraform's default when a list block sets no `limit`; a request with
/// none (0) gets the same, so an account with thousands of AMIs never
/// streams them all by accident.
const DEFAULT_LIMIT: usize = 100;

/// The events answering a ListResource request: one per object found, or a
/// single event carrying the diagnostics when the list fails.
pub(super) async fn list(
    catalog: &Catalog,
    request: pb::list_resource::Request,
) -> Vec<pb::list_resource::Event> {
    match events(catalog, request).await {
        Ok(events) => events,
        Err(diags) => vec![pb::list_resource::Event {
            diagnostic: diagnostics_to_proto(&diags),
            ..Default::default()
        }],
    }
}

async fn events(
    catalog: &Catalog,
    request: pb::list_resource::Request,
) -> Result<Vec<pb::list_resource::Event>, Diagnostics> {
    let (entry, (_, config_type)) = catalog.list(&request.type_name)?;
    let config = decode(request.config.as_ref(), config_type, "list configuration")?;
    let limit = usize::try_from(request.limit)
        .ok()
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_LIMIT);
    let listed = entry
        .resource
        .list(ListRequest {
            config,
            include_object: request.include_resource_object,
            limit,
        })
        .await?;
    listed
        .into_iter()
        .map(|item| {
            let resource_object = if request.include_resource_object {
                Some(encode(&item.found.state, &entry.ty, "listed object")?)
            } else {
                None
            };
            Ok(pb::list_resource::Event {
                identity: entry.identity_to(&item.found.identity)?,
                display_name: item.display_name,
                resource_object,
                diagnostic: Vec::new(),
            })
        })
        .collect()
}

/// CallFunction: the arguments decoded with the parameters' types, the
/// function called, its result encoded with the return type. A failure is
/// the response's error, naming the argument at fault when there is one.
pub(super) fn call_function(
    catalog: &Catalog,
    request: pb::call_function::Request,
) -> pb::call_function::Response {
    let failed = |text: String, argument: Option<usize>| pb::call_function::Response {
        result: None,
        error: Some(pb::FunctionError {
            text,
            function_argument: argument.and_then(|a| i64::try_from(a).ok()),
        }),
    };
    let Some(entry) = catalog.functions.get(request.name.as_str()) else {
        return failed(
            format!(
                "The imagecopier provider has no function {:?}.",
                request.name
            ),
            None,
        );
    };
    let mut arguments = Vec::with_capacity(request.arguments.len());
    let types = entry
        .parameters
        .iter()
        .chain(std::iter::from_fn(|| entry.variadic.as_ref()));
    for (index, (value, ty)) in request.arguments.iter().zip(types).enumerate() {
        match decode(Some(value), ty, "function argument") {
            Ok(value) => arguments.push(value),
            Err(diags) => {
                let text = diags
                    .0
                    .first()
                    .map(|d| d.detail.clone())
                    .unwrap_or_default();
                return failed(text, Some(index));
            }
        }
    }
    match entry.function.call(&arguments) {
        Ok(result) => match encode(&result, &entry.returns, "function result") {
            Ok(result) => pb::call_function::Response {
                result: Some(result),
                error: None,
            },
            Err(diags) => failed(
                diags
                    .0
                    .first()
                    .map(|d| d.detail.clone())
                    .unwrap_or_default(),
                None,
            ),
        },
        Err(err) => failed(err.text, err.argument),
    }
}

/// UpgradeResourceIdentity: identity stored as JSON by an earlier identity
/// version. Every identity so far is version 0, so this reads it with the
/// current type and refuses a newer version.
pub(super) fn upgrade_identity(
    catalog: &Catalog,
    request: &pb::upgrade_resource_identity::Request,
) -> Result<Option<pb::ResourceIdentityData>, Diagnostics> {
    let entry = catalog.resource(&request.type_name)?;
    let Some((schema, ty)) = &entry.identity else {
        return Err(Diagnostic::error(
            "No resource identity",
            format!("{} has no resource identity to upgrade.", request.type_name),
        )
        .into());
    };
    if request.version > schema.version {
        return Err(Diagnostic::error(
            "Identity from a newer provider",
            format!(
                "This identity was written by a newer version of the provider (identity version {}, this provider \
                 knows {}). Upgrade the provider.",
                request.version, schema.version
            ),
        )
        .into());
    }
    let raw = request
        .raw_identity
        .as_ref()
        .map(|raw| raw.json.as_slice())
        .unwrap_or_default();
    let identity = json::decode(raw, ty).map_err(|err| {
        Diagnostics::from(Diagnostic::error(
            "Invalid stored identity",
            format!("The stored resource identity could not be read: {err}"),
        ))
    })?;
    entry.identity_to(&identity)
}
