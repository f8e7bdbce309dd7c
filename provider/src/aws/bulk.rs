//! Reads in bulk, so a refresh costs calls per account and region rather
//! than per resource and snapshot.
//!
//! A plan refreshes every resource of the configuration, each with a read
//! of its own: a copy is a DescribeImages and a DescribeSnapshots, a share a
//! DescribeImages, a DescribeImageAttribute and a DescribeSnapshotAttribute
//! per snapshot. At a hundred resources that is hundreds of calls, which is
//! what trips EC2's throttling in large accounts. Instead the first read in
//! an account and region asks once for everything of its kind there:
//!
//! - the caller's AMIs and snapshots carrying a tag key (every copy carries
//!   `CopiedFromAMI`): DescribeImages `Owners=self` and DescribeSnapshots
//!   `OwnerIds=self` with the `tag-key` filter;
//! - what one grantee account may use: the caller's AMIs it has explicit
//!   launch permission on (DescribeImages `ExecutableUsers`) and the
//!   caller's snapshots it may create volumes from (DescribeSnapshots
//!   `RestorableByUserIds`); `all` lists the public snapshots.
//!
//! A listing lives as long as the provider process (one Terraform command)
//! and is forgotten by every write in its caller and region, so nothing
//! read before a change is served after it. What a listing does not hold
//! (an AMI whose tag was removed by hand, a copy gone) the caller reads
//! one by one, as before.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_ec2::types::{Filter, ImageState};

use super::clients::AwsClients;
use super::errors::AwsError;
use super::image::{image_from_sdk, Image};
use super::memo::{Forgotten, Memo};
use super::snapshot::{snapshot_from_sdk, Snapshot};

/// Results per page: the most DescribeImages and DescribeSnapshots return.
const PAGE_SIZE: i32 = 1000;

/// The caller's AMIs and snapshots one listing found, by id.
#[derive(Debug, Default)]
pub struct Listing {
    /// AMIs, deregistered ones left out.
    pub images: HashMap<String, Image>,
    /// Snapshots.
    pub snapshots: HashMap<String, Snapshot>,
}

/// What a listing selects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Selection {
    /// Carrying this tag key.
    Tagged(String),
    /// Usable by this account (`all`: public).
    Grantee(String),
}

/// A caller's ARN, a region, and what is listed there.
type ListingKey = (String, String, Selection);

/// The listings of this provider process (one Terraform command), by
/// caller, region and selection, forgotten by every EC2 write in that
/// caller and region (see [`AwsClients::ec2_write`]).
static LISTINGS: Memo<ListingKey, Arc<Listing>> = Memo::new(Forgotten::ByEc2Writes);

impl AwsClients {
    /// The caller's AMIs and snapshots here that carry `tag_key`, listed
    /// once per process.
    pub async fn tagged_listing(&self, tag_key: &str) -> Result<Arc<Listing>, AwsError> {
        self.listing(Selection::Tagged(tag_key.to_owned())).await
    }

    /// The caller's AMIs here that `account` has explicit launch permission
    /// on, and the caller's snapshots it may create volumes from, listed
    /// once per process. With `all`, the public snapshots (and no AMIs).
    pub async fn grantee_listing(&self, account: &str) -> Result<Arc<Listing>, AwsError> {
        self.listing(Selection::Grantee(account.to_owned())).await
    }

    /// EC2, for a call that changes something. This caller's and region's
    /// listings are forgotten first, so no later read is served from
    /// before the change. Every EC2 write in this layer goes through here
    /// (or [`Self::ec2_marks`]): `provider/tests/architecture.rs` refuses a
    /// mutating call made on the bare client, so a new write cannot forget.
    pub(super) fn ec2_write(&self) -> &aws_sdk_ec2::Client {
        self.forget_listings();
        &self.ec2
    }

    /// EC2, for rewriting the creation marks of copies in flight (see
    /// `watcher`): a tag whose value no listing reader uses, written every
    /// 10 s, so the listings are kept (forgetting them would make every
    /// refresh during a long copy list everything again).
    pub(super) fn ec2_marks(&self) -> &aws_sdk_ec2::Client {
        &self.ec2
    }

    /// Forgets every listing of this caller and region (see
    /// [`Self::ec2_write`]).
    fn forget_listings(&self) {
        LISTINGS.forget(|(caller, region, _)| caller == &self.caller_arn && region == &self.region);
    }

    async fn listing(&self, selection: Selection) -> Result<Arc<Listing>, AwsError> {
        let key = (
            self.caller_arn.clone(),
            self.region.clone(),
            selection.clone(),
        );
        LISTINGS
            .get_or_ask(key, || async {
                // The AMI and snapshot halves are independent paged calls: made at
                // once, every read waiting on the listing waits one round trip, not two.
                let listing = match &selection {
                    Selection::Tagged(key) => {
                        let (images, snapshots) = tokio::try_join!(
                            self.list_images(None, Some(key)),
                            self.list_snapshots(None, Some(key)),
                        )?;
                        Listing { images, snapshots }
                    }
                    Selection::Grantee(account) if account == "all" => Listing {
                        images: HashMap::new(),
                        snapshots: self.list_snapshots(Some(account), None).await?,
                    },
                    Selection::Grantee(account) => {
                        let (images, snapshots) = tokio::try_join!(
                            self.list_images(Some(account), None),
                            self.list_snapshots(Some(account), None),
                        )?;
                        Listing { images, snapshots }
                    }
                };
                crate::log::debug(
                    "listed for the refresh",
                    &[
                        ("account_id", &self.account_id),
                        ("region", &self.region),
                        ("selection", &format!("{selection:?}")),
                        ("images", &listing.images.len().to_string()),
                        ("snapshots", &listing.snapshots.len().to_string()),
                    ],
                );
                Ok(Arc::new(listing))
            })
            .await
    }

    async fn list_images(
        &self,
        executable_by: Option<&str>,
        tag_key: Option<&str>,
    ) -> Result<HashMap<String, Image>, AwsError> {
        let mut request = self
            .ec2
            .describe_images()
            .owners("self")
            // A disabled copy is still a copy (see `image::find_image_by_id`);
            // disabled AMIs have no launch permissions, so no grantee listing
            // changes.
            .include_disabled(true)
            .max_results(PAGE_SIZE);
        if let Some(account) = executable_by {
            request = request.executable_users(account);
        }
        if let Some(key) = tag_key {
            request = request.filters(Filter::builder().name("tag-key").values(key).build());
        }
        let mut pages = request.into_paginator().send();
        let mut found = HashMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| AwsError::from_sdk("calling EC2 DescribeImages", err))?;
            for image in page.images() {
                if image.state() != Some(&ImageState::Deregistered) {
                    let image = image_from_sdk(image);
                    found.insert(image.id.clone(), image);
                }
            }
        }
        Ok(found)
    }

    async fn list_snapshots(
        &self,
        restorable_by: Option<&str>,
        tag_key: Option<&str>,
    ) -> Result<HashMap<String, Snapshot>, AwsError> {
        let mut request = self
            .ec2
            .describe_snapshots()
            .owner_ids("self")
            .max_results(PAGE_SIZE);
        if let Some(account) = restorable_by {
            request = request.restorable_by_user_ids(account);
        }
        if let Some(key) = tag_key {
            request = request.filters(Filter::builder().name("tag-key").values(key).build());
        }
        let mut pages = request.into_paginator().send();
        let mut found = HashMap::new();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|err| AwsError::from_sdk("calling EC2 DescribeSnapshots", err))?;
            for snapshot in page.snapshots() {
                let snapshot = snapshot_from_sdk(snapshot);
                found.insert(snapshot.id.clone(), snapshot);
            }
        }
        Ok(found)
    }
}
