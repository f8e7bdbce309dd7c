//! `list "imagecopier_encrypted_ami_copy"` for `terraform query`: the
//! encrypted AMIs of the account and region that look like copies, each as
//! import would take it over, so that `-generate-config-out` writes
//! configuration that plans no change once imported. This is how a copy
//! made by a Lambda copier, by hand or by another tool is adopted.

use crate::aws::image_search::{search_images, ImageQuery};
use crate::protocol::declare::{model, Declared};
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::schema::Schema;
use crate::protocol::typed::{Field, FromValue};
use crate::protocol::value::Value;
use crate::resources::reach;
use crate::shared::Shared;

use super::aws_state::import_image;
use super::model::{CopyModel, Tags};
use super::rules::TAG_COPIED_FROM;

model! {
    /// A list block's `config` for copies.
    pub(crate) struct CopyListModel("Which encrypted copies to list.") {
        region: String [optional] "The region to list in. Default: the provider's region.",
        source_ami_id: String [optional]
            "Only copies of this AMI (by SourceImageId, or the `CopiedFromAMI` tag when EC2 does not report one).",
        tags: Tags [optional] "Only copies carrying each of these tags with that value.",
    }
}

/// The list block's `config` schema.
pub(super) fn schema() -> Schema {
    Schema::new(0, CopyListModel::block())
}

/// The copies `config` selects, newest first, at most `limit`; with `full`,
/// each as import records it, else only what its identity needs (no call
/// per copy).
pub(super) async fn list(
    shared: &Shared,
    config: &Value,
    limit: usize,
    full: bool,
) -> Result<Vec<(String, CopyModel)>, Diagnostics> {
    let config = if config.is_null() {
        CopyListModel::default()
    } else {
        CopyListModel::from_value(config, &AttrPath::default()).map_err(Diagnostics::from)?
    };
    if let Some(source) = config.source_ami_id.known() {
        crate::validate::ami_id(source)
            .map_err(|reason| reach::invalid_list_config("source_ami_id", &reason))?;
    }
    // Any key may be filtered on (aws: keys too), but an empty one matches nothing.
    if config
        .tags
        .known()
        .is_some_and(|tags| tags.contains_key(""))
    {
        return Err(reach::invalid_list_config(
            "tags",
            "has an empty key, which no tag can have",
        ));
    }
    let clients = reach::list_clients(shared, &config.region).await?;
    let mut filters = vec![(
        "block-device-mapping.encrypted".to_owned(),
        vec!["true".to_owned()],
    )];
    for (key, value) in config.tags.known().into_iter().flatten() {
        filters.push((format!("tag:{key}"), vec![value.clone()]));
    }
    let query = ImageQuery {
        owners: vec!["self".to_owned()],
        filters,
        include_deprecated: true,
        // A disabled copy is still a copy (and holds its snapshots).
        include_disabled: true,
    };
    let images = search_images(&clients, &query).await.map_err(|err| {
        Diagnostics::from(Diagnostic::error("listing EC2 AMI copies", err.to_string()))
    })?;
    let wanted = config.source_ami_id.known();
    let mut listed = Vec::new();
    for image in images {
        let source = Some(image.source_image_id.as_str())
            .filter(|s| !s.is_empty())
            .or_else(|| image.tags.get(TAG_COPIED_FROM).map(String::as_str));
        let Some(source) = source.filter(|_| image.encrypted) else {
            continue; // not an encrypted copy: no source is known, or it is not encrypted
        };
        if wanted.is_some_and(|w| w != source) || !image.is_available() && image.state != "disabled"
        {
            continue;
        }
        let display = format!("{} ({}, copy of {source})", image.name, image.id);
        let state = if full {
            import_image(shared, &clients, &image).await?
        } else {
            CopyModel {
                id: Field::Known(image.id.clone()),
                region: Field::Known(clients.region.clone()),
                owner_id: Field::Known(image.owner_id.clone()),
                ..CopyModel::default()
            }
        };
        listed.push((display, state));
        if listed.len() >= limit {
            break;
        }
    }
    Ok(listed)
}
