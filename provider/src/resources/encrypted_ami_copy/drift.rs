//! Tag drift, told object by object at plan.
//!
//! `tags_all` is one map for the AMI and its snapshots together (see
//! `tag_rules::found_tags`), so a tag missing from one snapshot shows as a tag
//! to add although the AMI has it. When the refreshed `tags_all` differs
//! from the plan's, the plan reads the AMI's and snapshots' tags once more
//! and names, in a warning, which object lacks or differs in which tag. A
//! plan without tag drift makes no call here.

use std::collections::BTreeSet;

use crate::aws::image::find_image_by_id;
use crate::aws::snapshot::snapshot_tags;
use crate::aws::AwsClients;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};

use super::model::{CopyModel, Tags};
use super::rules::TAG_CREATING;

/// A warning naming each object whose tags differ from the planned
/// `tags_all`, when the refreshed `prior` differs from it.
pub(super) async fn warning(
    clients: &AwsClients,
    prior: &CopyModel,
    planned: &CopyModel,
) -> Diagnostics {
    let (Some(id), Some(before), Some(wanted)) = (
        prior.id.known(),
        prior.tags_all.known(),
        planned.tags_all.known(),
    ) else {
        return Diagnostics::new();
    };
    if before == wanted {
        return Diagnostics::new();
    }
    let Ok(image) = find_image_by_id(clients, id).await else {
        return Diagnostics::new();
    };
    let Ok(snapshots) = snapshot_tags(clients, &image.snapshot_ids).await else {
        return Diagnostics::new();
    };
    let mut objects = vec![(format!("AMI {id}"), image.tags.clone())];
    objects.extend(image.snapshot_ids.iter().filter_map(|snapshot| {
        snapshots
            .get(snapshot)
            .map(|tags| (format!("snapshot {snapshot}"), tags.clone()))
    }));
    let lines = differences(&objects, wanted);
    if lines.is_empty() {
        return Diagnostics::new();
    }
    Diagnostic::warning(
        "Tags differ on the copy's AMI or snapshots",
        format!(
            "tags_all is applied to the AMI and each of its snapshots; the apply brings each object to it:\n{}",
            lines.join("\n")
        ),
    )
    .at(AttrPath::root("tags_all"))
    .into()
}

/// One line per object and tag where the objects disagree with each other
/// and this object differs from `wanted`. A tag all objects lack or share is
/// left out: `tags_all` in the plan already says it as it is.
fn differences(objects: &[(String, Tags)], wanted: &Tags) -> Vec<String> {
    let keys: BTreeSet<&String> = objects
        .iter()
        .flat_map(|(_, tags)| tags.keys())
        .chain(wanted.keys())
        .filter(|key| key.as_str() != TAG_CREATING)
        .collect();
    let mut lines = Vec::new();
    for key in keys {
        let values: Vec<Option<&String>> = objects.iter().map(|(_, tags)| tags.get(key)).collect();
        if values.iter().all(|v| *v == values[0]) {
            continue;
        }
        for ((name, _), value) in objects.iter().zip(values) {
            let line = match (value, wanted.get(key)) {
                (None, Some(_)) => format!("{name} lacks {key:?}"),
                (Some(found), Some(want)) if found != want => {
                    format!("{name} has {key:?} = {found:?}, not {want:?}")
                }
                (Some(_), None) => format!("{name} also has {key:?}"),
                _ => continue,
            };
            lines.push(line);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::super::model::tags;
    use super::*;

    #[test]
    fn names_each_object_that_disagrees() {
        let wanted = tags(&[
            ("team", "images"),
            ("Encrypted", "true"),
            ("CopiedFromAMI", "ami-0"),
        ]);
        let objects = vec![
            (
                "AMI ami-1".to_owned(),
                tags(&[("team", "images"), ("Encrypted", "true")]),
            ),
            ("snapshot snap-1".to_owned(), tags(&[("Encrypted", "true")])),
            (
                "snapshot snap-2".to_owned(),
                tags(&[("team", "edited"), ("Encrypted", "true"), ("App", "web")]),
            ),
        ];
        // CopiedFromAMI is missing everywhere: tags_all says so, no line.
        assert_eq!(
            differences(&objects, &wanted),
            vec![
                "snapshot snap-2 also has \"App\"".to_owned(),
                "snapshot snap-1 lacks \"team\"".to_owned(),
                "snapshot snap-2 has \"team\" = \"edited\", not \"images\"".to_owned(),
            ]
        );
        assert!(differences(&objects[..1], &wanted).is_empty());
    }
}
