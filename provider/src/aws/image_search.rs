//! Searching the AMIs a caller can see: the data source's "newest AMI by
//! owner and name", the listings `terraform query` reports, and the poll
//! of the caller's copies in flight by id.

use aws_sdk_ec2::types::{Filter, ImageState};

use super::clients::AwsClients;
use super::errors::AwsError;
use super::image::{image_from_sdk, Image};

/// One DescribeImages search: the owners to ask about (account ids, `self`,
/// `amazon`, ...), DescribeImages filters as (name, values), and whether
/// deprecated or disabled AMIs count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageQuery {
    /// DescribeImages `Owners`; empty: every AMI the caller may launch.
    pub owners: Vec<String>,
    /// DescribeImages filters (`name` takes `*` and `?` wildcards, `tag:K` a tag's value).
    pub filters: Vec<(String, Vec<String>)>,
    /// `IncludeDeprecated`: EC2 leaves deprecated AMIs out of searches unless asked.
    pub include_deprecated: bool,
    /// `IncludeDisabled`: only the owner sees disabled AMIs, and only when asked.
    pub include_disabled: bool,
}

/// Every AMI matching `query`, newest first (by creation date, which EC2
/// reports in one ISO 8601 form, so text order is time order), over every
/// page; deregistered AMIs are left out.
pub async fn search_images(
    clients: &AwsClients,
    query: &ImageQuery,
) -> Result<Vec<Image>, AwsError> {
    let filters = query
        .filters
        .iter()
        .map(|(name, values)| {
            Filter::builder()
                .name(name)
                .set_values(Some(values.clone()))
                .build()
        })
        .collect::<Vec<_>>();
    let mut request = clients
        .ec2
        .describe_images()
        .set_filters(Some(filters))
        .include_deprecated(query.include_deprecated)
        .include_disabled(query.include_disabled)
        .max_results(1000);
    if !query.owners.is_empty() {
        request = request.set_owners(Some(query.owners.clone()));
    }
    let mut pages = request.into_paginator().send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|err| AwsError::from_sdk("calling EC2 DescribeImages", err))?;
        found.extend(
            page.images()
                .iter()
                .filter(|image| image.state() != Some(&ImageState::Deregistered))
                .map(image_from_sdk),
        );
    }
    found.sort_by(|a, b| {
        b.creation_date
            .cmp(&a.creation_date)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(found)
}

/// Ids per DescribeImages `image-id` filter. EC2 refuses too many filter
/// values (`FilterLimitExceeded`) without documenting the number; 200 is
/// the limit users report, and far above what one account-region has in
/// flight (its snapshot-copy quota is 20).
const MAX_FILTER_VALUES: usize = 200;

/// The caller's own AMIs among `ids`, in any state but deregistered, by the
/// `image-id` filter: an id not visible (yet) is simply not in the answer,
/// where `ImageIds` would fail the whole call. One call per
/// [`MAX_FILTER_VALUES`] ids.
pub async fn find_own_images_by_ids(
    clients: &AwsClients,
    ids: &[String],
) -> Result<Vec<Image>, AwsError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(MAX_FILTER_VALUES) {
        let query = ImageQuery {
            owners: vec!["self".to_owned()],
            filters: vec![("image-id".to_owned(), chunk.to_vec())],
            // A deprecated copy still exists; its owner must see it.
            include_deprecated: true,
            include_disabled: true,
        };
        found.extend(search_images(clients, &query).await?);
    }
    Ok(found)
}
