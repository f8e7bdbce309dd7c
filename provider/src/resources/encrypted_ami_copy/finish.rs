//! Finishing a create: a copy that became available is recorded (its
//! controls set, its creation mark taken off, an adopted copy's tags
//! brought in line); one still running when the wait stopped is recorded
//! as `pending`.

use crate::aws::image::{find_image_by_id, Image};
use crate::aws::tags::sync_tags;
use crate::aws::AwsClients;
use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::protocol::managed::Applied;
use crate::protocol::typed::Field;
use crate::shared::Shared;

use super::aws_state::{
    confirm_change, record_copy, settle_controls, settled_state, sync_all_tags,
};
use super::mark;
use super::model::{CopyModel, Tags};
use super::rules::{summary, TAG_CREATING};

/// The state of a finished copy; an adopted copy's tags are brought in line.
pub(super) async fn finish(
    mut planned: CopyModel,
    clients: &AwsClients,
    facts: Image,
    tags_all: &Tags,
    adopted: bool,
    what: &str,
) -> Applied<CopyModel> {
    let creating = summary("creating", &planned);
    planned.id = Field::Known(facts.id.clone());
    if let Some(refused) = taken_over_elsewhere(&creating, &facts, adopted, what) {
        return Applied::failed(refused);
    }
    let mut diagnostics = match controls_before_unmark(clients, &facts, &planned, what).await {
        Ok(diagnostics) => diagnostics,
        Err(detail) => return Applied::failed(Diagnostic::error(&creating, detail)),
    };
    // The adopted copy's tags are synced below, which takes the mark off.
    if !adopted {
        let unmarked = unmark(clients, &facts.id).await;
        if unmarked.is_empty() {
            await_unmarked(clients, &facts.id).await;
        }
        diagnostics.extend(unmarked);
    }
    if adopted {
        if let Err(err) = sync_all_tags(clients, &facts, tags_all).await {
            record_copy(&mut planned, clients, &facts).await;
            planned.tags_all = Field::Known(facts.tags.clone());
            return Applied::partial(
                planned,
                Diagnostic::error(
                    creating,
                    err.context(what)
                        .context("tagging the adopted copy")
                        .to_string(),
                ),
            );
        }
    }
    record_copy(&mut planned, clients, &facts).await;
    planned.state = settled_state(&planned);
    planned.tags_all = Field::Known(tags_all.clone());
    if !adopted {
        return Applied {
            state: Some(planned),
            diagnostics,
        };
    }
    Applied {
        state: Some(planned),
        diagnostics: Diagnostics::from(adoption_warning(&facts, what)),
    }
}

/// A copy this create started carries its mark until recorded; another
/// process's mark means another run took it over while this one could
/// not renew the mark (see `mark`), and that run records it: the error
/// to fail with, recording nothing.
fn taken_over_elsewhere(
    creating: &str,
    facts: &Image,
    adopted: bool,
    what: &str,
) -> Option<Diagnostic> {
    let other = mark::of(facts).filter(|m| !adopted && !mark::is_ours(m))?;
    Some(Diagnostic::error(
        creating,
        format!(
            "{what}: the copy {} was taken over by another Terraform run (its creation mark is now {other:?}) \
             while this one could not renew the mark for {} s; that run records it. Nothing is recorded here.",
            facts.id,
            mark::STALE_AFTER.as_secs()
        ),
    ))
}

/// Sets the lifecycle controls before the creation mark comes off: should
/// one fail, the copy is left marked, and the next apply takes it over and
/// tries again, with nothing copied twice and nothing tainted (the error's
/// detail). A copy no longer marked is recorded with a warning instead.
async fn controls_before_unmark(
    clients: &AwsClients,
    facts: &Image,
    planned: &CopyModel,
    what: &str,
) -> Result<Diagnostics, String> {
    let mut diagnostics = Diagnostics::new();
    if let Err(err) = settle_controls(clients, facts, planned).await {
        let err = err
            .context(what)
            .context("setting the copy's lifecycle controls");
        if facts.tags.contains_key(TAG_CREATING) {
            return Err(format!(
                "{err}. The copy {} is kept, marked unfinished ({TAG_CREATING}): the next apply takes it over \
                 and sets them again, without copying.",
                facts.id
            ));
        }
        diagnostics.push(Diagnostic::warning(
            "Lifecycle controls not set",
            format!(
                "{err}. The copy {} is recorded in state; the next plan shows what differs, and apply sets it again.",
                facts.id
            ),
        ));
    }
    Ok(diagnostics)
}

/// Creation completing "after 0s" would otherwise hide that nothing was
/// copied in this run: say which copy was taken over, and why.
fn adoption_warning(facts: &Image, what: &str) -> Diagnostic {
    Diagnostic::warning(
        "Adopted an existing EC2 AMI copy",
        format!(
            "{what}: found {} named {:?}, a copy of the same source started by an earlier apply that was \
             interrupted before it could record it in state: its creation mark had not been renewed for {} s, so \
             the run that made it is gone. It is now managed by this resource; nothing was copied again.",
            facts.id,
            facts.name,
            mark::STALE_AFTER.as_secs()
        ),
    )
}

/// A copy still running when we stopped waiting: recorded, with a warning
/// (or an error that is not about the copy itself), never tainted.
pub(super) async fn pending(
    shared: &Shared,
    mut planned: CopyModel,
    clients: &AwsClients,
    last: Option<Image>,
    tags_all: &Tags,
    diagnostic: Diagnostic,
) -> Applied<CopyModel> {
    let id = planned.id.known().cloned().unwrap_or_default();
    // Stopped before the first status look: one look now, so that state
    // records the snapshots EC2 has named (destroy deletes them even if the
    // AMI is deregistered by hand before the next apply).
    let last = match last.filter(|image| !image.snapshot_ids.is_empty()) {
        Some(image) => Some(image),
        None => find_image_by_id(clients, &id).await.ok(),
    };
    let facts = last.unwrap_or_else(|| Image {
        id,
        state: "pending".to_owned(),
        owner_id: clients.account_id.clone(),
        ..Image::default()
    });
    // Recorded in state now: no later create may take it for abandoned.
    // Unless Terraform is gone: then nothing records it, and the mark, no
    // longer renewed, is what lets a rerun take it over.
    let unmarked = match shared.is_abandoned() {
        true => Diagnostics::new(),
        false => unmark(clients, &facts.id).await,
    };
    record_copy(&mut planned, clients, &facts).await;
    planned.state = Field::Known("pending".to_owned());
    planned.tags_all = Field::Known(tags_all.clone());
    let mut diagnostics = Diagnostics::from(diagnostic);
    diagnostics.extend(unmarked);
    Applied::partial(planned, diagnostics)
}

/// Reads the copy back until its creation mark shows as gone (see
/// [`confirm_change`]). Under EC2's tag lag, a plan right after this apply
/// could otherwise still see the mark on this copy and, when a
/// `create_before_destroy` replacement wants its name, take it for what an
/// interrupted create left: the replacement would then stop (the mark comes
/// off while it watches) or, under a longer lag, adopt the very copy
/// Terraform destroys next.
async fn await_unmarked(clients: &AwsClients, image_id: &str) {
    let read = || find_image_by_id(clients, image_id);
    let unmarked = |image: &Image| !image.tags.contains_key(TAG_CREATING);
    confirm_change(read, unmarked, image_id, "its creation mark removed").await;
}

/// Takes the mark off `image_id` once the copy is recorded in state. A
/// failure is a warning: the copy is recorded all the same, and the next
/// plan shows the mark in `tags_all` as drift, which its apply removes.
async fn unmark(clients: &AwsClients, image_id: &str) -> Diagnostics {
    let mark = Tags::from([(TAG_CREATING.to_owned(), String::new())]);
    match sync_tags(clients, image_id, &mark, &Tags::new()).await {
        Ok(()) => Diagnostics::new(),
        Err(err) => Diagnostics::from(Diagnostic::warning(
            "Could not remove the creation mark",
            format!(
                "The copy {image_id} is recorded in state, but its tag {TAG_CREATING} could not be removed ({err}). \
                 The next apply removes it."
            ),
        )),
    }
}
