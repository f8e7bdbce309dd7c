//! Tags on an AMI and its snapshots: reading them together and bringing each
//! resource to exactly the wanted set with the fewest calls.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::Tag;
use aws_sdk_ec2::Client;

use super::copy::tag_map;
use super::errors::AwsError;

/// Tags of each snapshot in `snapshot_ids` that still exists, by id.
pub async fn snapshot_tags(
    client: &Client,
    snapshot_ids: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, AwsError> {
    if snapshot_ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let result = client
        .describe_snapshots()
        .set_snapshot_ids(Some(snapshot_ids.to_vec()))
        .send()
        .await;
    match result {
        Ok(output) => Ok(output
            .snapshots()
            .iter()
            .filter_map(|s| Some((s.snapshot_id()?.to_owned(), tag_map(s.tags()))))
            .collect()),
        // One missing snapshot fails the whole call; ask one by one so the
        // others still report.
        Err(err) => {
            let err = AwsError::from_sdk("calling EC2 DescribeSnapshots", err);
            if err.code() != Some("InvalidSnapshot.NotFound") || snapshot_ids.len() == 1 {
                return if err.code() == Some("InvalidSnapshot.NotFound") {
                    Ok(BTreeMap::new())
                } else {
                    Err(err)
                };
            }
            let mut found = BTreeMap::new();
            for id in snapshot_ids {
                found.extend(Box::pin(snapshot_tags(client, std::slice::from_ref(id))).await?);
            }
            Ok(found)
        }
    }
}

/// The changes that bring `current` to `wanted`: tags to set (new or with
/// another value) and keys to remove.
pub fn tag_changes(
    current: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let set = wanted
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = current
        .keys()
        .filter(|k| !wanted.contains_key(*k) && !k.starts_with("aws:"))
        .cloned()
        .collect();
    (set, remove)
}

/// Brings resource `resource_id` (an AMI or snapshot) from `current` to
/// exactly `wanted`: removals first, so a failure half way never leaves a
/// tag that should be gone.
pub async fn sync_tags(
    client: &Client,
    resource_id: &str,
    current: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let (set, remove) = tag_changes(current, wanted);
    if !remove.is_empty() {
        let keys: Vec<Tag> = remove
            .iter()
            .map(|k| Tag::builder().key(k).build())
            .collect();
        client
            .delete_tags()
            .resources(resource_id)
            .set_tags(Some(keys))
            .send()
            .await
            .map_err(|err| {
                AwsError::from_sdk(format!("calling EC2 DeleteTags on {resource_id}"), err)
            })?;
    }
    if !set.is_empty() {
        let tags: Vec<Tag> = set
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        client
            .create_tags()
            .resources(resource_id)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|err| {
                AwsError::from_sdk(format!("calling EC2 CreateTags on {resource_id}"), err)
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn changes_set_what_differs_and_remove_what_is_extra() {
        let cases = [
            (map(&[]), map(&[("a", "1")]), map(&[("a", "1")]), vec![]),
            (map(&[("a", "1")]), map(&[("a", "1")]), map(&[]), vec![]),
            (
                map(&[("a", "1")]),
                map(&[("a", "2")]),
                map(&[("a", "2")]),
                vec![],
            ),
            (
                map(&[("a", "1"), ("b", "x")]),
                map(&[("a", "1")]),
                map(&[]),
                vec!["b"],
            ),
            (map(&[("aws:x", "1")]), map(&[]), map(&[]), vec![]),
        ];
        for (current, wanted, want_set, want_remove) in cases {
            let (set, remove) = tag_changes(&current, &wanted);
            assert_eq!(set, want_set, "{current:?} -> {wanted:?}");
            let want_remove: BTreeSet<String> =
                want_remove.into_iter().map(str::to_owned).collect();
            assert_eq!(remove, want_remove, "{current:?} -> {wanted:?}");
        }
    }
}
