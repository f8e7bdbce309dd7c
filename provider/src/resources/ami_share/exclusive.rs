//! What `exclusive = true` will take away, said in the plan.
//!
//! When a share becomes exclusive (created so, or switched on), the grants
//! it removes are not in any prior state, so Terraform's diff cannot show
//! them: an AMI that is public, or shared with an account nobody listed,
//! would lose that access without a word in the plan. The plan therefore
//! carries a warning naming each grant, public access first, because that
//! is the one a reviewer most needs to see.

use crate::aws::image::{find_image_by_id, Image};
use crate::aws::{AwsClients, AwsError};
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};

use super::aws_state::load_actual;
use super::rules::{changes, Changes, Managed};

/// The warning for a plan that makes the share of `image_id` exclusive with
/// `desired` principals; empty when nothing outside the configuration exists.
/// `image` is the AMI when the plan has already read it.
pub(super) async fn removal_warning(
    clients: &AwsClients,
    image_id: &str,
    image: Option<Image>,
    desired: &Managed,
) -> Result<Diagnostics, AwsError> {
    let image = match image {
        Some(image) => image,
        None => find_image_by_id(clients, image_id).await?,
    };
    let actual = load_actual(clients, &image).await?;
    let removals = describe_removals(image_id, &changes(desired, &Managed::default(), &actual));
    if removals.is_empty() {
        return Ok(Diagnostics::new());
    }
    let list: String = removals.iter().map(|r| format!("\n  - {r}")).collect();
    Ok(Diagnostic::warning(
        "exclusive = true removes grants not in this configuration",
        format!(
            "Applying this plan removes {} grant(s) that exist on EC2 AMI ({image_id}) or its snapshots and \
             are not in this configuration:{list}\n\nAdd a principal to the configuration to keep its access, or \
             set exclusive = false to leave other grants alone.",
            removals.len()
        ),
    )
    .at(AttrPath::root("exclusive"))
    .into())
}

/// One line per grant `changes` revokes: public access first, then
/// launch permissions, then snapshot permissions, each in id order.
pub(super) fn describe_removals(image_id: &str, changes: &Changes) -> Vec<String> {
    let mut public = Vec::new();
    let mut others = Vec::new();
    let launch = &changes.launch_remove;
    if launch.public {
        public.push(format!(
            "public launch permission on {image_id} (anyone can launch it today)"
        ));
    }
    for account in &launch.accounts {
        others.push(format!(
            "launch permission on {image_id} for account {account}"
        ));
    }
    for org in &launch.organizations {
        others.push(format!(
            "launch permission on {image_id} for organization {org}"
        ));
    }
    for ou in &launch.organizational_units {
        others.push(format!(
            "launch permission on {image_id} for organizational unit {ou}"
        ));
    }
    for (snapshot, accounts, is_public) in &changes.volume_remove {
        if *is_public {
            public.push(format!(
                "public createVolumePermission on {snapshot} (anyone can create volumes from it today)"
            ));
        }
        for account in accounts {
            others.push(format!(
                "createVolumePermission on {snapshot} for account {account}"
            ));
        }
    }
    public.extend(others);
    public
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::aws::permissions::LaunchGrants;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn public_access_comes_first() {
        let changes = Changes {
            launch_remove: LaunchGrants {
                accounts: set(&["444444444444"]),
                public: true,
                ..LaunchGrants::default()
            },
            volume_remove: vec![
                ("snap-1".into(), set(&["444444444444"]), false),
                ("snap-2".into(), BTreeSet::new(), true),
            ],
            ..Changes::default()
        };
        assert_eq!(
            describe_removals("ami-1", &changes),
            [
                "public launch permission on ami-1 (anyone can launch it today)",
                "public createVolumePermission on snap-2 (anyone can create volumes from it today)",
                "launch permission on ami-1 for account 444444444444",
                "createVolumePermission on snap-1 for account 444444444444",
            ]
        );
        assert!(describe_removals("ami-1", &Changes::default()).is_empty());
    }
}
