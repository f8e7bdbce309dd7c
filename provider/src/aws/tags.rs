//! Tags on an AMI and its snapshots: reading them together and bringing each
//! resource to exactly the wanted set with the fewest calls.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::Tag;

use super::clients::AwsClients;
use super::errors::AwsError;

/// EC2 tags as a map, the one conversion the layer has. A tag without a key
/// cannot exist; one without a value has the empty value, as the console
/// shows it. `aws:` keys are left out: AWS reserves them, nobody can set or
/// remove them, and no copy can carry them.
pub(crate) fn tags_from_sdk(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .filter(|(k, _)| !k.starts_with("aws:"))
        .collect()
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
    clients: &AwsClients,
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
        clients
            .ec2_write()
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
        clients
            .ec2_write()
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

/// Sets one tag on many resources with one CreateTags call (at most 1,000
/// resources per call, as EC2 allows). For marks a process renews, whose
/// value no refresh reads: listings are left as they are.
pub async fn set_tag_on(
    clients: &AwsClients,
    resource_ids: &[String],
    key: &str,
    value: &str,
) -> Result<(), AwsError> {
    for chunk in resource_ids.chunks(CREATE_TAGS_RESOURCES) {
        clients
            .ec2_marks()
            .create_tags()
            .set_resources(Some(chunk.to_vec()))
            .tags(Tag::builder().key(key).value(value).build())
            .send()
            .await
            .map_err(|err| AwsError::from_sdk("calling EC2 CreateTags", err))?;
    }
    Ok(())
}

/// The most resources one CreateTags call may name.
const CREATE_TAGS_RESOURCES: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_tags_are_left_out() {
        let tags = [
            Tag::builder()
                .key("aws:cloudformation:stack-name")
                .value("x")
                .build(),
            Tag::builder().key("Name").value("app").build(),
            Tag::builder().key("Empty").build(),
        ];
        assert_eq!(tags_from_sdk(&tags), map(&[("Name", "app"), ("Empty", "")]));
    }

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
