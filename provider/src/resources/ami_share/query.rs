//! `list "imagecopier_ami_share"` for `terraform query`: the account's own
//! AMIs in the region that are shared with an account, organization or OU,
//! each as import would take it over.

use crate::aws::image_search::{search_images, ImageQuery};
use crate::protocol::declare::{model, Declared};
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::schema::Schema;
use crate::protocol::typed::FromValue;
use crate::protocol::value::Value;
use crate::resources::reach;
use crate::shared::Shared;

use super::model::{set_of, AmiShareModel};
use super::read::import_image;

model! {
    /// A list block's `config` for shares.
    pub(crate) struct ShareListModel("Which shared AMIs to list.") {
        region: String [optional] "The region to list in. Default: the provider's region.",
        name_pattern: String [optional]
            "Only AMIs whose name matches, with `*` and `?` wildcards (DescribeImages' `name` filter).",
    }
}

/// The list block's `config` schema.
pub(super) fn schema() -> Schema {
    Schema::new(0, ShareListModel::block())
}

/// The shared AMIs `config` selects, newest first, at most `limit`. Whether
/// an AMI is shared takes its launch permissions (DescribeImageAttribute),
/// so this makes one such read per AMI of the account until `limit` are found.
pub(super) async fn list(
    shared: &Shared,
    config: &Value,
    limit: usize,
) -> Result<Vec<(String, AmiShareModel)>, Diagnostics> {
    let config = if config.is_null() {
        ShareListModel::default()
    } else {
        ShareListModel::from_value(config, &AttrPath::default()).map_err(Diagnostics::from)?
    };
    if config.name_pattern.known().is_some_and(String::is_empty) {
        return Err(reach::invalid_list_config(
            "name_pattern",
            "must not be empty (leave it out to list every shared AMI)",
        ));
    }
    let clients = reach::list_clients(shared, &config.region).await?;
    let mut filters = vec![("state".to_owned(), vec!["available".to_owned()])];
    if let Some(pattern) = config.name_pattern.known() {
        filters.push(("name".to_owned(), vec![pattern.clone()]));
    }
    let query = ImageQuery {
        owners: vec!["self".to_owned()],
        filters,
        include_deprecated: true,
        include_disabled: false,
    };
    let images = search_images(&clients, &query).await.map_err(|err| {
        Diagnostics::from(Diagnostic::error(
            "listing shared EC2 AMIs",
            err.to_string(),
        ))
    })?;
    let mut listed = Vec::new();
    for image in images {
        let share = import_image(&clients, &image).await?;
        let grants = [
            &share.account_ids,
            &share.organization_arns,
            &share.organizational_unit_arns,
        ]
        .iter()
        .map(|set| set_of(set).map_or(0, |s| s.len()))
        .sum::<usize>();
        if grants == 0 {
            continue;
        }
        let display = format!("{} ({}, {grants} grantee(s))", image.name, image.id);
        listed.push((display, share));
        if listed.len() >= limit {
            break;
        }
    }
    Ok(listed)
}
