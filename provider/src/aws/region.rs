//! Which regions exist, and whether this account may use them.
//!
//! A region name can be well formed and still not be a region (`eu-wst-1`),
//! or be a region the account has not opted in to. Either way every call
//! there fails, and a copy would only find out after waiting for a share
//! that can never become visible. EC2 DescribeRegions with `AllRegions`
//! lists every region of the partition with its opt-in status, so one call
//! answers both questions for every region; the answer is kept for the
//! provider process, since regions appear far more rarely than Terraform
//! runs.

use super::clients::AwsClients;
use super::errors::AwsError;

/// What DescribeRegions says about one region name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionStatus {
    /// Enabled for the account (`opt-in-not-required` or `opted-in`).
    Enabled,
    /// A region of the partition that the account has not enabled; the
    /// status is AWS's (`not-opted-in`).
    NotEnabled(String),
    /// No region of that name in the caller's partition.
    Unknown,
}

/// The status of `region` for the caller's account.
pub async fn region_status(clients: &AwsClients, region: &str) -> Result<RegionStatus, AwsError> {
    let regions = clients
        .regions
        .get_or_try_init(|| describe_all_regions(clients))
        .await?;
    Ok(status_of(regions, region))
}

/// Every region of the partition as (name, opt-in status).
async fn describe_all_regions(clients: &AwsClients) -> Result<Vec<(String, String)>, AwsError> {
    let output = clients
        .ec2
        .describe_regions()
        .all_regions(true)
        .send()
        .await
        .map_err(|err| AwsError::from_sdk("calling EC2 DescribeRegions", err))?;
    Ok(output
        .regions()
        .iter()
        .filter_map(|r| {
            // An answer without a status comes from a partition with no
            // opt-in regions.
            let status = r.opt_in_status().unwrap_or("opt-in-not-required");
            Some((r.region_name()?.to_owned(), status.to_owned()))
        })
        .collect())
}

fn status_of(regions: &[(String, String)], region: &str) -> RegionStatus {
    match regions.iter().find(|(name, _)| name == region) {
        None => RegionStatus::Unknown,
        Some((_, status)) if status == "opt-in-not-required" || status == "opted-in" => {
            RegionStatus::Enabled
        }
        Some((_, status)) => RegionStatus::NotEnabled(status.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let info = |name: &str, status: &str| (name.to_owned(), status.to_owned());
        let regions = [
            info("eu-west-1", "opt-in-not-required"),
            info("af-south-1", "opted-in"),
            info("me-south-1", "not-opted-in"),
        ];
        let cases = [
            ("eu-west-1", RegionStatus::Enabled),
            ("af-south-1", RegionStatus::Enabled),
            (
                "me-south-1",
                RegionStatus::NotEnabled("not-opted-in".to_owned()),
            ),
            ("eu-wst-1", RegionStatus::Unknown),
        ];
        for (name, want) in cases {
            assert_eq!(status_of(&regions, name), want, "{name}");
        }
    }
}
