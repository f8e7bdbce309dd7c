//! The copy's tag maps, as pure rules: `tags_all` merged from its layers,
//! the checks of `tags` and `source_tags`, EC2's tag limit, and the tags
//! found on an AMI and its snapshots (at adoption and at refresh). No AWS
//! here, so all of it is unit-tested table by table.

use std::collections::{BTreeMap, BTreeSet};

use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};

use super::model::Tags;
use super::rules::{TAG_COPIED_FROM, TAG_ENCRYPTED};

/// `tags_all`: default tags, then source tags, then tags, then the two facts.
pub(super) fn merge_tags(
    default_tags: &Tags,
    source_tags: &Tags,
    tags: &Tags,
    source_ami_id: &str,
) -> Tags {
    let mut all = default_tags.clone();
    all.extend(source_tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    all.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    all.retain(|k, _| !k.starts_with("aws:"));
    all.insert(TAG_ENCRYPTED.to_owned(), "true".to_owned());
    all.insert(TAG_COPIED_FROM.to_owned(), source_ami_id.to_owned());
    all
}

/// Problems with tag map `attribute`: keys and values EC2 refuses (see
/// [`crate::validate::tag_key`]), and in `tags` the two fact keys, which
/// this resource reserves (in `source_tags` they are data from the source,
/// and the facts win).
pub(super) fn validate_tags(attribute: &str, tags: &Tags) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for (key, value) in tags {
        let path = AttrPath::root(attribute).key(key);
        let problem = if attribute == "tags" && (key == TAG_ENCRYPTED || key == TAG_COPIED_FROM) {
            Some((
                "Reserved tag key",
                format!("{path}: this resource sets {key} itself, so the copy always tells the truth about it."),
            ))
        } else if let Err(reason) = crate::validate::tag_key(key) {
            Some(("Invalid tag key", format!("{path}: {reason}.")))
        } else if let Err(reason) = crate::validate::tag_value(value) {
            Some(("Invalid tag value", format!("{path}: {reason}.")))
        } else {
            None
        };
        if let Some((summary, detail)) = problem {
            diags.push(Diagnostic::error(summary, detail).at(path));
        }
    }
    diags
}

/// The attribute whose tags take the copy over EC2's tag limit, and the
/// total it reaches. Tags are counted as `merge_tags` merges them (default
/// tags, source tags, tags, then the two facts), so the attribute named is
/// the one whose keys, added to what comes before it, cross the limit.
/// Default tags alone cannot: the provider refuses more than leave room for
/// the facts.
pub(super) fn over_tag_limit<'a>(
    default_tags: &'a Tags,
    source_tags: &'a Tags,
    tags: &'a Tags,
) -> Option<(&'static str, usize)> {
    let mut keys: BTreeSet<&str> = [TAG_ENCRYPTED, TAG_COPIED_FROM].into();
    let mut add = |map: &'a Tags| {
        keys.extend(
            map.keys()
                .map(String::as_str)
                .filter(|k| !k.starts_with("aws:")),
        );
        keys.len()
    };
    add(default_tags);
    [("source_tags", source_tags), ("tags", tags)]
        .into_iter()
        .map(|(attribute, map)| (attribute, add(map)))
        .find(|(_, total)| *total > crate::validate::MAX_TAGS_PER_RESOURCE)
}

/// The tags an adoption (import, `terraform query`) takes as intended: every
/// tag on the AMI or on any of its snapshots, the AMI's value first where
/// they disagree. Nothing any object carries is dropped: the apply that
/// follows only adds, bringing every snapshot up to the AMI's tags (which
/// copiers such as `aws_ami_copy` or a Lambda often never put on them).
pub(super) fn adopted_tags(
    image: &Tags,
    snapshot_ids: &[String],
    snapshots: &BTreeMap<String, Tags>,
) -> Tags {
    let mut adopted = Tags::new();
    for tags in snapshot_ids.iter().rev().filter_map(|id| snapshots.get(id)) {
        adopted.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    adopted.extend(image.iter().map(|(k, v)| (k.clone(), v.clone())));
    adopted
}

/// The tags found on the AMI and its snapshots, as one map that shows every
/// difference from `expected` (the tags last applied, `tags_all` in state).
///
/// A key on which the AMI and every snapshot agree has that value. A key on
/// which they disagree takes the first value (AMI first, then snapshots in
/// mapping order) that differs from the expected one, absent included. So
/// an edited tag shows the value found (`"edited" -> "platform"`), an extra
/// tag on a single snapshot shows as one to remove, a tag missing from one
/// snapshot as one to add, and apply brings every object back. Snapshots
/// that no longer exist are left out (destroy deals with them).
pub(super) fn found_tags(
    image: &Tags,
    snapshot_ids: &[String],
    snapshots: &BTreeMap<String, Tags>,
    expected: Option<&Tags>,
) -> Tags {
    let objects: Vec<&Tags> = std::iter::once(image)
        .chain(snapshot_ids.iter().filter_map(|id| snapshots.get(id)))
        .collect();
    let keys: BTreeSet<&String> = objects.iter().flat_map(|tags| tags.keys()).collect();
    let mut found = Tags::new();
    for key in keys {
        let values: Vec<Option<&String>> = objects.iter().map(|tags| tags.get(key)).collect();
        let agreed = values.iter().all(|v| *v == values[0]);
        let wanted = expected.and_then(|e| e.get(key));
        let value = if agreed {
            values[0]
        } else {
            values
                .iter()
                .copied()
                .find(|v| *v != wanted)
                .unwrap_or(values[0])
        };
        if let Some(value) = value {
            found.insert(key.clone(), value.clone());
        }
    }
    found
}
