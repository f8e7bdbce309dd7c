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

#[cfg(test)]
mod tests {
    use super::super::model::tags;
    use super::*;
    use crate::protocol::diagnostics::AttrPath;

    #[test]
    fn tags_all_layers_default_source_tags_then_facts() {
        let cases = [
            (
                tags(&[]),
                tags(&[]),
                tags(&[]),
                tags(&[("Encrypted", "true"), ("CopiedFromAMI", "ami-1")]),
            ),
            (
                tags(&[("Owner", "platform"), ("Team", "a")]),
                tags(&[("Team", "b"), ("App", "web")]),
                tags(&[("App", "api")]),
                tags(&[
                    ("Owner", "platform"),
                    ("Team", "b"),
                    ("App", "api"),
                    ("Encrypted", "true"),
                    ("CopiedFromAMI", "ami-1"),
                ]),
            ),
            // The facts win over anything a source carried (a copy of a copy).
            (
                tags(&[]),
                tags(&[
                    ("Encrypted", "false"),
                    ("CopiedFromAMI", "ami-0"),
                    ("aws:x", "1"),
                ]),
                tags(&[]),
                tags(&[("Encrypted", "true"), ("CopiedFromAMI", "ami-1")]),
            ),
        ];
        for (default_tags, source_tags, extra, want) in cases {
            assert_eq!(
                merge_tags(&default_tags, &source_tags, &extra, "ami-1"),
                want,
                "{source_tags:?} {extra:?}"
            );
        }
    }

    #[test]
    fn tag_validation_names_the_attribute_and_key() {
        let long = "v".repeat(257);
        let cases: [(&str, Tags, Option<AttrPath>); 7] = [
            ("tags", tags(&[("Stage", "PROD")]), None),
            ("tags", tags(&[("Note", &long[..256])]), None),
            (
                "tags",
                tags(&[("Note", &long)]),
                Some(AttrPath::root("tags").key("Note")),
            ),
            (
                "tags",
                tags(&[("aws:cloudformation", "x")]),
                Some(AttrPath::root("tags").key("aws:cloudformation")),
            ),
            (
                "tags",
                tags(&[("Encrypted", "false")]),
                Some(AttrPath::root("tags").key("Encrypted")),
            ),
            (
                "tags",
                tags(&[("CopiedFromAMI", "x")]),
                Some(AttrPath::root("tags").key("CopiedFromAMI")),
            ),
            (
                "source_tags",
                tags(&[("AWS:x", "1")]),
                Some(AttrPath::root("source_tags").key("AWS:x")),
            ),
        ];
        for (attribute, map, want) in cases {
            let diags = validate_tags(attribute, &map);
            assert_eq!(
                diags.0.first().and_then(|d| d.path.clone()),
                want,
                "{attribute} {map:?}"
            );
        }
        // In source_tags the facts are data, not an error.
        assert!(validate_tags("source_tags", &tags(&[("Encrypted", "true")])).is_empty());
    }

    #[test]
    fn the_tag_limit_names_the_attribute_that_crosses_it() {
        let numbered = |prefix: &str, n: usize| -> Tags {
            (0..n)
                .map(|i| (format!("{prefix}{i}"), "x".to_owned()))
                .collect()
        };
        let none = Tags::new();
        // 48 keys plus the two facts is exactly the limit.
        let cases = [
            (numbered("d", 48), none.clone(), none.clone(), None),
            (
                numbered("d", 40),
                numbered("s", 9),
                none.clone(),
                Some(("source_tags", 51)),
            ),
            (numbered("d", 40), numbered("s", 7), numbered("t", 1), None),
            (
                numbered("d", 40),
                numbered("s", 7),
                numbered("t", 2),
                Some(("tags", 51)),
            ),
            // Keys tags and source_tags share count once, aws: keys and the facts not again.
            (numbered("d", 40), numbered("s", 8), numbered("s", 8), None),
            (
                none.clone(),
                numbered("s", 48),
                tags(&[("aws:x", "1"), ("Encrypted", "true")]),
                None,
            ),
        ];
        for (default_tags, source_tags, extra, want) in cases {
            assert_eq!(
                over_tag_limit(&default_tags, &source_tags, &extra),
                want,
                "{} {} {}",
                default_tags.len(),
                source_tags.len(),
                extra.len()
            );
        }
    }

    #[test]
    fn found_tags_show_every_difference_from_what_was_applied() {
        let applied = tags(&[("App", "web"), ("Encrypted", "true")]);
        let ids = vec!["snap-1".to_owned(), "snap-2".to_owned()];
        // (AMI, second snapshot, what the state shows); the first snapshot is as applied.
        let cases = [
            (applied.clone(), applied.clone(), applied.clone()),
            // Edited on one snapshot: the value found, so the plan shows "api" -> "web".
            (
                applied.clone(),
                tags(&[("App", "api"), ("Encrypted", "true")]),
                tags(&[("App", "api"), ("Encrypted", "true")]),
            ),
            // Missing from one snapshot: absent, so the plan adds it.
            (
                applied.clone(),
                tags(&[("Encrypted", "true")]),
                tags(&[("Encrypted", "true")]),
            ),
            // Extra on one snapshot only: present, so the plan removes it.
            (
                applied.clone(),
                tags(&[("App", "web"), ("Encrypted", "true"), ("Extra", "x")]),
                tags(&[("App", "web"), ("Encrypted", "true"), ("Extra", "x")]),
            ),
            // Edited on the AMI only.
            (
                tags(&[("App", "edited"), ("Encrypted", "true")]),
                applied.clone(),
                tags(&[("App", "edited"), ("Encrypted", "true")]),
            ),
            // Edited everywhere alike.
            (
                tags(&[("App", "edited"), ("Encrypted", "true")]),
                tags(&[("App", "edited"), ("Encrypted", "true")]),
                tags(&[("App", "edited"), ("Encrypted", "true")]),
            ),
        ];
        for (image, second, want) in cases {
            let snapshots: BTreeMap<String, Tags> = [
                ("snap-1".to_owned(), applied.clone()),
                ("snap-2".to_owned(), second.clone()),
            ]
            .into();
            assert_eq!(
                found_tags(&image, &ids, &snapshots, Some(&applied)),
                want,
                "AMI {image:?}, snapshot {second:?}"
            );
        }
        // A snapshot that no longer exists does not count.
        let one: BTreeMap<String, Tags> = [("snap-1".to_owned(), applied.clone())].into();
        assert_eq!(found_tags(&applied, &ids, &one, Some(&applied)), applied);
    }

    #[test]
    fn adoption_keeps_every_tag_any_object_carries() {
        let image = tags(&[("App", "web"), ("CopiedBy", "lambda"), ("team", "ami")]);
        let ids = vec!["snap-1".to_owned(), "snap-2".to_owned()];
        let snapshots = BTreeMap::from([
            ("snap-1".to_owned(), tags(&[("CopiedBy", "lambda")])),
            (
                "snap-2".to_owned(),
                tags(&[
                    ("CopiedBy", "lambda"),
                    ("Backup", "daily"),
                    ("team", "other"),
                ]),
            ),
        ]);
        assert_eq!(
            adopted_tags(&image, &ids, &snapshots),
            tags(&[
                ("App", "web"),
                ("Backup", "daily"),
                ("CopiedBy", "lambda"),
                ("team", "ami")
            ]),
            "the AMI's App kept, a snapshot's Backup kept, the AMI's value wins"
        );
    }
}
