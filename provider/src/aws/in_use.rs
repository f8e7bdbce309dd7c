//! What still uses an AMI in its account and region: launch templates whose
//! default or latest version launches it (an Auto Scaling group using one
//! would fail to launch once the AMI is gone), and instances launched from
//! it (which deregistration does not affect).

use std::sync::Arc;

use aws_sdk_ec2::types::Filter;

use super::clients::AwsClients;
use super::errors::AwsError;
use super::memo::{Forgotten, Memo};

/// A launch template version that launches the AMI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateUse {
    /// `lt-...`.
    pub template_id: String,
    /// The template's name.
    pub template_name: String,
    /// The version number.
    pub version: i64,
    /// Whether it is the template's default version (else its latest).
    pub default: bool,
}

impl std::fmt::Display for TemplateUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let which = if self.default { "default" } else { "latest" };
        write!(
            f,
            "launch template {} ({}) version {} ({which})",
            self.template_name, self.template_id, self.version
        )
    }
}

/// Instance states in which an instance exists and can run again.
const LIVE_INSTANCE_STATES: &[&str] = &["pending", "running", "stopping", "stopped"];

/// Every launch template in the account and region whose default or latest
/// version names `image_id`: one paged DescribeLaunchTemplateVersions
/// without a template id, asking for `$Latest` and `$Default` (the form the
/// API reference documents for all templates at once) filtered by
/// `image-id`. A template naming an SSM parameter (`resolve:ssm:`) is not
/// seen: what the parameter holds is resolved only at launch. Always asked
/// afresh: a destroy must see a template moved moments ago.
pub async fn launch_templates_using(
    clients: &AwsClients,
    image_id: &str,
) -> Result<Vec<TemplateUse>, AwsError> {
    let found = template_versions(clients, Some(image_id)).await?;
    Ok(found
        .into_iter()
        .filter(|(image, _)| image == image_id)
        .map(|(_, used)| used)
        .collect())
}

/// [`launch_templates_using`] for a plan: the default and latest versions
/// of every template, listed once per process (a plan changes no template),
/// so a plan destroying a hundred copies asks once per account and region.
pub async fn launch_templates_using_at_plan(
    clients: &AwsClients,
    image_id: &str,
) -> Result<Vec<TemplateUse>, AwsError> {
    let key = (clients.caller_arn.clone(), clients.region.clone());
    let all = PLAN_LISTINGS
        .get_or_ask(key, || async {
            template_versions(clients, None).await.map(Arc::new)
        })
        .await?;
    Ok(all
        .iter()
        .filter(|(image, _)| image == image_id)
        .map(|(_, used)| used.clone())
        .collect())
}

/// The plan-time listings of this provider process, by caller and region:
/// each template version listed once per process (a plan changes no
/// template, and apply asks again without it).
static PLAN_LISTINGS: Memo<(String, String), Arc<Versions>> = Memo::new(Forgotten::Never);

/// Template versions as (image id, use).
type Versions = Vec<(String, TemplateUse)>;

/// The default and latest version of every template, as (image id, use),
/// only those naming `image_id` when given.
async fn template_versions(
    clients: &AwsClients,
    image_id: Option<&str>,
) -> Result<Vec<(String, TemplateUse)>, AwsError> {
    let mut request = clients
        .ec2
        .describe_launch_template_versions()
        .versions("$Latest")
        .versions("$Default")
        .max_results(200);
    if let Some(image_id) = image_id {
        request = request.filters(Filter::builder().name("image-id").values(image_id).build());
    }
    let mut pages = request.into_paginator().send();
    let mut found: Vec<(String, TemplateUse)> = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(|err| AwsError::from_sdk("calling EC2 DescribeLaunchTemplateVersions", err))?;
        for version in page.launch_template_versions() {
            let Some(image) = version.launch_template_data().and_then(|d| d.image_id()) else {
                continue;
            };
            let used = TemplateUse {
                template_id: version.launch_template_id().unwrap_or_default().to_owned(),
                template_name: version
                    .launch_template_name()
                    .unwrap_or_default()
                    .to_owned(),
                version: version.version_number().unwrap_or_default(),
                default: version.default_version().unwrap_or(false),
            };
            let entry = (image.to_owned(), used);
            if !found.contains(&entry) {
                found.push(entry);
            }
        }
    }
    Ok(found)
}

/// How many instances launched from `image_id` exist (pending, running,
/// stopping or stopped).
pub async fn instances_using(clients: &AwsClients, image_id: &str) -> Result<usize, AwsError> {
    let mut pages = clients
        .ec2
        .describe_instances()
        .filters(Filter::builder().name("image-id").values(image_id).build())
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .set_values(Some(
                    LIVE_INSTANCE_STATES
                        .iter()
                        .map(|s| (*s).to_owned())
                        .collect(),
                ))
                .build(),
        )
        .max_results(1000)
        .into_paginator()
        .send();
    let mut count = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|err| AwsError::from_sdk("calling EC2 DescribeInstances", err))?;
        count += page
            .reservations()
            .iter()
            .map(|r| r.instances().len())
            .sum::<usize>();
    }
    Ok(count)
}
