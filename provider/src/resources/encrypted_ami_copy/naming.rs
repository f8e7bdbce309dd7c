//! Which name a new copy gets, and which AMI already holding it a create
//! may take over.
//!
//! A create looks its name up first, so that a rerun after Terraform was
//! killed finds the copy the interrupted attempt started, and AMI names are
//! unique per account and region. But the AMI holding the name is not
//! always such an orphan: under `create_before_destroy` a replacement with
//! the same source, region and key (`-replace`, a failed copy) is created
//! while the copy it replaces still holds the default name, and Terraform
//! tells the provider nothing about that. Taking that copy over would make
//! it the new object, which Terraform then destroys as the old one: the
//! account would be left with no copy at all.
//!
//! So only what an interrupted attempt leaves is taken over: a copy of the
//! same source, pending or finished, that still carries the mark every
//! create puts on the AMI it starts and removes once it has recorded it
//! (`TAG_CREATING`), and whose creator has stopped renewing it (see
//! `mark`); a copy in some state always lost that mark when its create
//! finished. A default name held by
//! any other AMI is left to its holder, and the new copy gets a name of its
//! own, derived from the holder's id; the plan shows that name as known
//! after apply. A name the user chose is theirs: if another AMI holds it,
//! the create stops before copying and says what to change.

use crate::aws::image::{find_own_image_by_name, Image};
use crate::aws::{AwsClients, AwsError};
use crate::protocol::diagnostics::Diagnostic;
use crate::protocol::typed::Field;

use super::model::CopyModel;
use super::rules::{default_name, name_beside, TAG_COPIED_FROM, TAG_CREATING};

/// Whether `holder`, found under the name a create of `source` wants, may
/// be the copy an interrupted earlier attempt started: a copy of `source`,
/// pending or available, still marked as being created ([`TAG_CREATING`],
/// which a create removes once it records the copy). Whether its creator
/// is really gone is for the create to find out (see `mark`).
pub(super) fn adoptable(holder: &Image, source: &str) -> bool {
    let in_creation = (holder.state == "pending" || holder.state == "available")
        && holder.tags.contains_key(TAG_CREATING);
    in_creation && copy_of(holder, source)
}

/// Plan time: the default name `name` for a copy of `source`, known when no
/// AMI holds it or the holder can be taken over, else decided at apply.
/// When the lookup fails the name stays known: apply looks again.
pub(super) async fn check_default_name(
    clients: &AwsClients,
    name: String,
    source: &str,
) -> Field<String> {
    match find_own_image_by_name(clients, &name).await {
        Ok(Some(holder)) if !adoptable(&holder, source) => {
            crate::log::info(
                "the default name is held by another AMI; the new copy's name is decided at apply",
                &[
                    ("name", &name),
                    ("holder", &holder.id),
                    ("state", &holder.state),
                ],
            );
            Field::Unknown
        }
        _ => Field::Known(name),
    }
}

/// Apply time: settles a name the plan left unknown. The default name if
/// nothing holds it or its holder can be taken over; else the name beside
/// the holder, with a warning naming the holder, which this resource does
/// not manage (unless it is the copy being replaced, deleted next).
pub(super) async fn settle_name(
    clients: &AwsClients,
    planned: &mut CopyModel,
) -> Result<Option<Diagnostic>, AwsError> {
    if !planned.name.is_unknown() {
        return Ok(None);
    }
    let (Some(source), Some(region)) =
        (planned.source_ami_id.known(), planned.source_region.known())
    else {
        return Ok(None);
    };
    let key = planned.kms_key_id.known().map(String::as_str);
    let wanted = default_name(source, region, key);
    let (name, warning) = match find_own_image_by_name(clients, &wanted).await? {
        Some(holder) if !adoptable(&holder, source) => {
            let name = free_name_beside(clients, source, region, key, &holder.id).await?;
            crate::log::info(
                "the default name is held by another AMI; the new copy gets a name of its own",
                &[("holder", &holder.id), ("name", &name)],
            );
            let warning = Diagnostic::warning(
                "Default name held by another AMI",
                format!(
                    "The default name {wanted:?} is held by {} ({}), which this copy does not take over; the copy \
                     is named {name:?} instead. If {} is the copy this one replaces (create_before_destroy), \
                     Terraform deletes it next. Otherwise it is not managed by this resource (another \
                     configuration's, or made by hand). Import or deregister it if nothing uses it.",
                    holder.id, holder.state, holder.id
                ),
            );
            (name, Some(warning))
        }
        _ => (wanted, None),
    };
    planned.name = Field::Known(name);
    Ok(warning)
}

/// How many names beside a holder a create tries before giving up: each is
/// derived from the AMI holding the one before, so only a chain of copies
/// each holding the next name (a replacement of a copy that was itself named
/// beside another) takes more than one.
const NAMES_BESIDE_TRIED: usize = 5;

/// The name beside `holder_id` (see [`name_beside`]) that no AMI holds, or
/// that a marked copy of `source` holds (which the create then considers
/// taking over). When the name beside is held too, as it is by the copy a
/// `create_before_destroy` replacement replaces when that copy was itself
/// named beside the holder, the next name is derived from that AMI.
async fn free_name_beside(
    clients: &AwsClients,
    source: &str,
    region: &str,
    key: Option<&str>,
    holder_id: &str,
) -> Result<String, AwsError> {
    let mut name = name_beside(source, region, key, holder_id);
    for _ in 0..NAMES_BESIDE_TRIED {
        match find_own_image_by_name(clients, &name).await? {
            Some(next) if !adoptable(&next, source) => {
                crate::log::info(
                    "the name beside the default name's holder is held too; deriving the next one",
                    &[("name", &name), ("holder", &next.id)],
                );
                name = name_beside(source, region, key, &next.id);
            }
            _ => return Ok(name),
        }
    }
    Ok(name)
}

/// Whether a create of `source` named `name` may take `existing`, found
/// under that name, over; the error says what holds the name and what to
/// change.
pub(super) fn take_over(existing: &Image, source: &str, name: &str) -> Result<(), AwsError> {
    if adoptable(existing, source) {
        return Ok(());
    }
    let holder = if copy_of(existing, source) {
        format!(
            "{} (a copy of the same source, {}): it is not taken over, because it may be the copy this one replaces \
             under create_before_destroy, or belong to another configuration",
            existing.id, existing.state
        )
    } else {
        format!("{}, which is not a copy of {source}", existing.id)
    };
    Err(crate::aws::copy::failure(
        "looking up the copy's name",
        "InvalidAMIName.Duplicate",
        &format!(
            "AMI name {name:?} is already used in this account by {holder}. Nothing was copied. Set a name that \
             changes with the source (for example one that includes source_ami_id), leave name unset to use the \
             default, or import {}",
            existing.id
        ),
    ))
}

/// Whether `image` is a copy of `source` (EC2's SourceImageId, or the tag
/// this resource writes).
fn copy_of(image: &Image, source: &str) -> bool {
    image.source_image_id == source
        || image.tags.get(TAG_COPIED_FROM).map(String::as_str) == Some(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_an_interrupted_create_left_is_taken_over() {
        let image = |state: &str, source: &str, tagged: Option<&str>| Image {
            id: "ami-1".into(),
            state: state.into(),
            source_image_id: source.into(),
            tags: tagged
                .map(|s| [("CopiedFromAMI".to_owned(), s.to_owned())].into())
                .unwrap_or_default(),
            ..Image::default()
        };
        let cases = [
            // Unmarked, even while pending: a copy recorded in some state (an
            // interrupted apply records its pending copy and unmarks it), which
            // may be another state's.
            (image("pending", "ami-src", None), false),
            (image("pending", "", Some("ami-src")), false),
            // What a finished copy holds may be the copy being replaced.
            (image("available", "ami-src", None), false),
            (image("failed", "ami-src", None), false),
            (image("pending", "ami-other", None), false),
        ];
        for (holder, want) in cases {
            assert_eq!(adoptable(&holder, "ami-src"), want, "{holder:?}");
        }
        // Finished, but still marked by the create that started it: that create never recorded it.
        let marked = |state: &str, source: &str| {
            let mut holder = image(state, source, None);
            holder.tags.insert(TAG_CREATING.to_owned(), "0f".into());
            holder
        };
        assert!(adoptable(&marked("available", "ami-src"), "ami-src"));
        assert!(adoptable(&marked("pending", "ami-src"), "ami-src"));
        assert!(!adoptable(&marked("available", "ami-other"), "ami-src"));
        assert!(
            !adoptable(&marked("failed", "ami-src"), "ami-src"),
            "a failed copy is not the copy wanted"
        );
    }
}
