//! A share's refresh from the bake account's listings (see `crate::aws::bulk`):
//! per target account, the AMIs it may launch and the snapshots it may
//! restore, listed once per Terraform command, so a hundred shares with the
//! same accounts cost a few calls instead of several each.
//!
//! The listings answer only explicit account grants. A share that manages
//! organizations or OUs, or is `exclusive` (and must see every grant,
//! public ones included), is read per image, as is a public AMI (whose
//! launch permission an account listing cannot tell from its own).

use std::sync::Arc;

use futures_util::{stream, StreamExt, TryStreamExt};

use crate::aws::bulk::Listing;
use crate::aws::image::{find_image_by_id, Image};
use crate::aws::permissions::{LaunchGrants, VolumeGrants};
use crate::aws::snapshot::{find_snapshots_by_ids, Snapshot};
use crate::aws::{AwsClients, AwsError};

use super::rules::{Actual, Managed};

/// Accounts whose listings are made at once (two calls each). The first
/// share read of a command waits for every managed account's listing, so
/// with dozens of accounts one after another it would wait dozens of round
/// trips. EC2 throttles each API per account and Region with a token bucket
/// (EC2 Developer Guide, "Request throttling for the Amazon EC2 API"); four
/// DescribeImages and five DescribeSnapshots in flight stay far inside it.
const CONCURRENT_ACCOUNT_LISTINGS: usize = 4;

/// Whether the listings can answer what a refresh of `managed` needs.
pub(super) fn answers(managed: &Managed) -> bool {
    !managed.exclusive
        && managed.organizations.is_empty()
        && managed.organizational_units.is_empty()
        && !managed.accounts.is_empty()
}

/// One grantee account and what it may launch and restore.
type AccountListing = (String, Arc<Listing>);

/// What a refresh found: the image, its grants, its snapshots.
pub(super) type Found = (Image, Actual, Vec<Snapshot>);

/// What the listings could tell about one image.
pub(super) enum Listed {
    /// The image is gone.
    Gone,
    /// Everything the refresh needs.
    Found(Found),
    /// The image is public: read its grants per image after all.
    PerImage(Image),
}

/// The image, its grants for the managed accounts, and its snapshots.
pub(super) async fn read(
    clients: &AwsClients,
    image_id: &str,
    managed: &Managed,
) -> Result<Listed, AwsError> {
    // Owned account ids: a stream of futures borrowing them would not be
    // `Send` for every lifetime, as the resource's async trait requires.
    let accounts = stream::iter(managed.accounts.iter().cloned())
        .map(|account| async move {
            let listing = clients.grantee_listing(&account).await?;
            Ok::<_, AwsError>((account, listing))
        })
        .buffered(CONCURRENT_ACCOUNT_LISTINGS)
        .try_collect::<Vec<_>>();
    // The public snapshots' listing is made beside them rather than after;
    // only a public AMI or one that is gone leaves it unused (one call per
    // command, shared by every share).
    let public = async {
        match managed.share_snapshots {
            true => clients.grantee_listing("all").await.map(Some),
            false => Ok(None),
        }
    };
    let (listings, public): (Vec<AccountListing>, Option<Arc<Listing>>) =
        tokio::try_join!(accounts, public)?;
    let listed = listings
        .iter()
        .find_map(|(_, listing)| listing.images.get(image_id).cloned());
    let image = match listed {
        Some(image) => image,
        // No managed account may launch it any more: read it by id.
        None => match find_image_by_id(clients, image_id).await {
            Ok(image) => image,
            Err(err) if err.is_not_found() => return Ok(Listed::Gone),
            Err(err) => return Err(err),
        },
    };
    if image.public {
        return Ok(Listed::PerImage(image));
    }
    let launch = LaunchGrants {
        accounts: listings
            .iter()
            .filter(|(_, listing)| listing.images.contains_key(image_id))
            .map(|(account, _)| account.clone())
            .collect(),
        ..LaunchGrants::default()
    };
    let volumes = image
        .snapshot_ids
        .iter()
        .map(|snapshot| {
            let grants = VolumeGrants {
                accounts: listings
                    .iter()
                    .filter(|(_, listing)| listing.snapshots.contains_key(snapshot))
                    .map(|(account, _)| account.clone())
                    .collect(),
                public: public
                    .as_ref()
                    .is_some_and(|p| p.snapshots.contains_key(snapshot)),
            };
            (snapshot.clone(), grants)
        })
        .collect();
    // The snapshots' own facts (encryption, keys) come with any listing
    // that holds them; the rest are read by id.
    let mut snapshots = Vec::with_capacity(image.snapshot_ids.len());
    let mut unlisted = Vec::new();
    for id in &image.snapshot_ids {
        let found = listings
            .iter()
            .map(|(_, listing)| listing)
            .chain(public.as_ref())
            .find_map(|listing| listing.snapshots.get(id).cloned());
        match found {
            Some(snapshot) => snapshots.push(snapshot),
            None => unlisted.push(id.clone()),
        }
    }
    snapshots.extend(find_snapshots_by_ids(clients, &unlisted).await?);
    Ok(Listed::Found((
        image,
        Actual { launch, volumes },
        snapshots,
    )))
}
