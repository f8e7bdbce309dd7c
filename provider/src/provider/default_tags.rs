//! Checks of the provider's `default_tags`: they reach every copy the
//! configuration manages, so a tag EC2 refuses would fail each of them, and
//! only after the plan was approved.

use std::collections::BTreeMap;

use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::validate::{tag_key, tag_value, MAX_TAGS_PER_RESOURCE};

/// Tags a copy adds to every AMI and snapshot besides the user's
/// (`Encrypted` and `CopiedFromAMI`), which default tags must leave room for.
const TAGS_EVERY_COPY_ADDS: usize = 2;

/// Problems with the tags of `default_tags` block `index`.
pub(super) fn check(index: usize, tags: &BTreeMap<String, String>) -> Diagnostics {
    let block = AttrPath::root("default_tags")
        .index(index as i64)
        .attr("tags");
    let mut diags = Diagnostics::new();
    for (key, value) in tags {
        let path = block.clone().key(key);
        let problem = tag_key(key)
            .map_err(|reason| ("Invalid tag key", reason))
            .and_then(|()| tag_value(value).map_err(|reason| ("Invalid tag value", reason)));
        if let Err((summary, reason)) = problem {
            diags.push(Diagnostic::error(summary, format!("{path}: {reason}.")).at(path));
        }
    }
    let room = MAX_TAGS_PER_RESOURCE - TAGS_EVERY_COPY_ADDS;
    if tags.len() > room {
        diags.push(
            Diagnostic::error(
                "Too many default tags",
                format!(
                    "default_tags sets {} tags; EC2 allows {MAX_TAGS_PER_RESOURCE} on an AMI and on each snapshot, \
                     and every copy adds Encrypted and CopiedFromAMI, so at most {room} can be defaults.",
                    tags.len()
                ),
            )
            .at(block),
        );
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(keys: &[&str]) -> BTreeMap<String, String> {
        keys.iter()
            .map(|k| ((*k).to_owned(), "v".to_owned()))
            .collect()
    }

    #[test]
    fn problems_name_the_key() {
        let path = |key: &str| {
            AttrPath::root("default_tags")
                .index(0)
                .attr("tags")
                .key(key)
        };
        let cases = [
            (tags(&["Owner"]), vec![]),
            (tags(&["aws:created-by"]), vec![path("aws:created-by")]),
            (
                [("Note".to_owned(), "n".repeat(257))].into(),
                vec![path("Note")],
            ),
        ];
        for (map, want) in cases {
            let got: Vec<_> = check(0, &map)
                .0
                .into_iter()
                .filter_map(|d| d.path)
                .collect();
            assert_eq!(got, want, "{map:?}");
        }
    }

    #[test]
    fn defaults_leave_room_for_the_copy_facts() {
        let many = |n: usize| -> BTreeMap<String, String> {
            (0..n).map(|i| (format!("k{i}"), "v".to_owned())).collect()
        };
        assert!(check(0, &many(48)).is_empty());
        let diags = check(0, &many(49));
        assert_eq!(diags.0.len(), 1);
        assert!(diags.0[0].detail.contains("at most 48"), "{diags:?}");
    }
}
