//! Create: adopt the copy a previous run started, or start one; then wait.
//!
//! The copy's name is deterministic and unique per account and region, so
//! looking it up first finds a copy that an earlier, interrupted run started
//! even if Terraform never saved its state (Terraform killed outright). The
//! ClientToken covers the remaining race, a copy started but not yet visible.
//! A stop or timeout returns the copy as `pending` with a warning (recorded
//! untainted); a failed copy is removed entirely before the error returns.

use std::sync::Arc;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::aws::backoff::{next_poll_delay, FIRST_POLL_DELAY};
use crate::aws::copy::{copy_image, CopyRequest};
use crate::aws::copy_slots::SlotsHeld;
use crate::aws::image::{find_image_by_id, find_own_image_by_name, Image};
use crate::aws::kms::describe_key;
use crate::aws::tags::{set_tag_on, sync_tags};
use crate::aws::wait::{wait_image_available, WaitOutcome};
use crate::aws::{is_throttling, AwsClients, AwsError};
use crate::log;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::managed::Applied;
use crate::protocol::typed::Field;
use crate::resources::reach;
use crate::shared::Shared;

use super::aws_state::{failed_copy, record_copy, settle_controls, settled_state, sync_all_tags};
use super::mark::{self, Creator};
use super::model::{CopyModel, Tags};
use super::naming::{settle_name, take_over};
use super::rules::{client_token, merge_tags, new_attempt, TAG_CREATING};
use super::source::wait_source_copyable;
use super::{summary, timeout};

/// Copy attempts before giving up: a new one is started only each time the
/// copy the previous one started is found gone before it became available.
const MAX_COPY_ATTEMPTS: u32 = 5;
/// CopyImage answers that mean "not now": throttling, or too many copies in
/// flight in the region (the copy quota).
const COPY_QUOTA_CODE: &str = "ResourceLimitExceeded";
/// How often a create looks again at a marked copy whose creator may still
/// be alive (see `mark`): often enough to see a renewal within a few
/// seconds of it, for at most `mark::STALE_AFTER`.
const MARK_LOOK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// A copy to wait for, with the snapshot-copy slots it holds until the
/// wait ends.
struct Started {
    image_id: String,
    adopted: bool,
    /// Its snapshot count, which a replacement attempt takes slots for.
    snapshots: usize,
    _slots: SlotsHeld,
}

/// Creates the copy; see the module documentation.
pub(super) async fn create(shared: &Shared, mut planned: CopyModel) -> Applied<CopyModel> {
    let clients = match reach::clients_for(shared, &planned.region, &planned.assume_role).await {
        Ok(clients) => clients,
        Err(diags) => return Applied::failed(diags),
    };
    let held = match settle_name(&clients, &mut planned).await {
        Ok(held) => held,
        Err(err) => {
            return Applied::failed(Diagnostic::error(
                summary("creating", &planned),
                err.context("choosing the copy's name").to_string(),
            ))
        }
    };
    let mut applied = copy(shared, clients, planned).await;
    if let Some(warning) = held {
        applied.diagnostics.push(warning);
    }
    applied
}

/// Copies (or adopts) and waits, once the name is settled.
async fn copy(
    shared: &Shared,
    clients: Arc<AwsClients>,
    mut planned: CopyModel,
) -> Applied<CopyModel> {
    let (Some(source), Some(region), Some(name)) = (
        planned.source_ami_id.known().cloned(),
        planned.source_region.known().cloned(),
        planned.name.known().cloned(),
    ) else {
        return Applied::failed(Diagnostic::error(
            summary("creating", &planned),
            "source_ami_id, source_region and name must be known at apply. This is a bug.",
        ));
    };
    let creating = summary("creating", &planned);
    // A key the plan could not find (one this apply was to make) must exist
    // now: say so at kms_key_id before anything is copied.
    if let (Field::Unknown, Some(key)) = (&planned.kms_key_arn, planned.kms_key_id.known()) {
        match describe_key(&clients, key).await {
            Ok(facts) if facts.usable() && facts.symmetric() => {}
            Ok(facts) => {
                return Applied::failed(
                    Diagnostic::error(
                        "KMS key not usable",
                        format!(
                            "kms_key_id {key:?} ({}) is {} ({}); the copy would fail. Nothing was copied.",
                            facts.arn, facts.state, facts.spec
                        ),
                    )
                    .at(AttrPath::root("kms_key_id")),
                )
            }
            Err(err) => {
                return Applied::failed(
                    Diagnostic::error(
                        "KMS key not usable",
                        format!(
                            "kms_key_id {key:?} cannot be used by account {}: {err}. Nothing was copied.",
                            clients.account_id
                        ),
                    )
                    .at(AttrPath::root("kms_key_id")),
                )
            }
        }
    }
    let tags_all = planned.tags_all.known().cloned().unwrap_or_else(|| {
        let known = |f: &Field<Tags>| f.known().cloned().unwrap_or_default();
        merge_tags(
            &shared.default_tags(),
            &known(&planned.source_tags),
            &known(&planned.tags),
            &source,
        )
    });
    let what = format!(
        "copying EC2 AMI ({source}) to account {}",
        clients.account_id
    );
    let stop = shared.stop_token();
    let deadline = Instant::now() + timeout(&planned, true);
    let mut request = CopyRequest {
        source_image_id: source.clone(),
        source_region: region,
        name,
        description: planned.description.known().cloned(),
        kms_key_id: planned.kms_key_id.known().cloned(),
        client_token: String::new(),
        tags: tags_all.clone(),
        image_only_tags: mark::initial(&tags_all),
        completion_duration_minutes: planned.completion_duration_minutes.known().copied(),
    };
    let fail = |err: AwsError| {
        Applied::failed(Diagnostic::error(&creating, err.context(&what).to_string()))
    };
    // Only the first attempt checks the source: later attempts replace a
    // copy that was started, so the source was copyable.
    let mut known_snapshots = None;
    for _ in 0..MAX_COPY_ATTEMPTS {
        request.client_token = client_token(
            &clients.account_id,
            &clients.region,
            &request.source_image_id,
            &request.source_region,
            &request.name,
            request.kms_key_id.as_deref(),
            &new_attempt(),
        );
        let started = match start_or_adopt(&clients, &request, known_snapshots, deadline, &stop)
            .await
        {
            Ok(Some(started)) => started,
            Ok(None) => {
                return Applied::failed(Diagnostic::error(
                    &creating,
                    format!("{what}: stopped before the copy started (Terraform interrupted, or the create timeout passed); nothing was created"),
                ))
            }
            Err(NotStarted::Aws(err)) => return fail(err),
            Err(NotStarted::Source(diags)) => return Applied::failed(diags),
        };
        log::info(
            "waiting for EC2 AMI copy",
            &[
                ("image_id", &started.image_id),
                ("adopted", &started.adopted.to_string()),
            ],
        );
        let outcome = match wait_image_available(
            &clients,
            &started.image_id,
            Some(mark::renewed()),
            deadline,
            &stop,
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(err) => {
                planned.id = Field::Known(started.image_id.clone());
                return pending(
                    shared,
                    planned,
                    &clients,
                    None,
                    &tags_all,
                    Diagnostic::error(&creating, err.context(&what).to_string()),
                )
                .await;
            }
        };
        match outcome {
            WaitOutcome::Available(facts) => {
                return finish(planned, &clients, facts, &tags_all, started.adopted, &what).await
            }
            // The copy vanished before it became available (deregistered
            // by someone else, or never became visible): start another.
            WaitOutcome::Gone => {
                known_snapshots = Some(started.snapshots);
                log::warn(
                    "the copy started is gone before it became available; starting a new one",
                    &[("image_id", &started.image_id)],
                );
                continue;
            }
            WaitOutcome::Failed(facts) => {
                return failed_copy(&clients, &planned, facts, &what).await
            }
            WaitOutcome::Stopped(last) | WaitOutcome::TimedOut(last) => {
                planned.id = Field::Known(started.image_id.clone());
                let warning = Diagnostic::warning(
                    "EC2 AMI copy still in progress",
                    format!(
                        "{what}: the copy {} is still pending (Terraform stopped the provider, or timeouts.create \
                         passed). It is recorded in state as pending; the next apply waits for it, without copying again.",
                        started.image_id
                    ),
                );
                return pending(shared, planned, &clients, last, &tags_all, warning).await;
            }
        }
    }
    fail(crate::aws::copy::failure(
        "calling EC2 CopyImage",
        "CopyKeptVanishing",
        &format!("{MAX_COPY_ATTEMPTS} copies in a row disappeared before they became available"),
    ))
}

/// Why no copy was started or adopted.
enum NotStarted {
    /// An AWS call failed.
    Aws(AwsError),
    /// The source is not copyable by this account (diagnostics name why).
    Source(Diagnostics),
}

/// Finds the copy an earlier run started (by name), or starts one. Before
/// starting one, unless `known_snapshots` already says how many snapshots
/// the source has, makes sure the source is copyable: the
/// plan let it pass, since a share earlier in this apply may have granted it
/// moments ago; adopting needs no check. Either way the copy first takes a
/// snapshot-copy slot per snapshot in its account and region, waiting in
/// the provider rather than running into EC2's quota. Waits out slots,
/// throttling and a quota refusal (copies started elsewhere) until
/// `deadline`. `None` when stopped first.
async fn start_or_adopt(
    clients: &AwsClients,
    request: &CopyRequest,
    known_snapshots: Option<usize>,
    deadline: Instant,
    stop: &CancellationToken,
) -> Result<Option<Started>, NotStarted> {
    let mut source_snapshots = known_snapshots;
    let mut held: Option<SlotsHeld> = None;
    let mut delay = FIRST_POLL_DELAY;
    // A marked copy under the name: its mark as first seen, and when.
    let mut watching: Option<(String, Instant)> = None;
    loop {
        if stop.is_cancelled() || Instant::now() >= deadline {
            return Ok(None);
        }
        let found = find_own_image_by_name(clients, &request.name).await;
        if let (Ok(None), None) = (&found, source_snapshots) {
            let (source, region) = (&request.source_image_id, &request.source_region);
            let count = wait_source_copyable(clients, source, region, deadline, stop)
                .await
                .map_err(NotStarted::Source)?;
            source_snapshots = Some(count);
        }
        let snapshots = match &found {
            Ok(Some(existing)) => existing.snapshot_ids.len(),
            _ => source_snapshots.unwrap_or(1),
        };
        if held.is_none() {
            let asked = Instant::now();
            let Some(slots) = clients.copy_slots(snapshots, deadline, stop).await else {
                return Ok(None);
            };
            held = Some(slots);
            // After a real wait for a slot the name may have been taken
            // meanwhile (an earlier attempt's copy became visible): look again.
            if asked.elapsed() > FIRST_POLL_DELAY && found.as_ref().is_ok_and(Option::is_none) {
                continue;
            }
        }
        // This account-region's turn to call CopyImage, kept until a
        // refusal has been learnt from (see `copy_slots`).
        let mut turn = None;
        let result = match found {
            Ok(Some(existing)) => match creator_gone(&existing, request, &mut watching) {
                Ok(true) => {
                    let slots = held.take().expect("slots are held here");
                    return adopt(clients, existing, slots, watching.map(|(_, since)| since))
                        .await
                        .map(Some)
                        .map_err(NotStarted::Aws);
                }
                Ok(false) => {
                    let pause =
                        MARK_LOOK_INTERVAL.min(deadline.saturating_duration_since(Instant::now()));
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = stop.cancelled() => return Ok(None),
                    }
                    continue;
                }
                Err(err) => return Err(NotStarted::Aws(err)),
            },
            Ok(None) => {
                // One CopyImage at a time into the account-region, and only
                // by a copy that still fits the room EC2 has shown (see
                // `copy_slots`): one that does not queues again.
                let slots = held.as_ref().expect("slots are held here");
                turn = Some(slots.turn_to_call().await);
                if !slots.fits() {
                    held = None;
                    continue;
                }
                copy_image(clients, request).await.map(|image_id| {
                    let mut slots = held.take().expect("slots are held here");
                    slots.started();
                    Some(Started {
                        image_id,
                        adopted: false,
                        snapshots,
                        _slots: slots,
                    })
                })
            }
            Err(err) => Err(err),
        };
        match result {
            Ok(started) => return Ok(started),
            // Same name taken between our lookup and the call: look again.
            Err(err) if err.code() == Some("InvalidAMIName.Duplicate") => {}
            // The account's quota is full: when this process's own copies
            // fill it, queue behind them (see `copy_slots`), at once.
            Err(err) if err.code() == Some(COPY_QUOTA_CODE) && held.is_some() => {
                held = held.take().and_then(|slots| clients.copy_refused(slots));
                if held.is_none() {
                    delay = FIRST_POLL_DELAY;
                    continue;
                }
                log::warn(
                    "EC2 refused the copy for now (its quota is taken by copies outside this run); waiting",
                    &[("code", COPY_QUOTA_CODE)],
                );
            }
            Err(err)
                if err
                    .code()
                    .is_some_and(|c| is_throttling(c) || c == COPY_QUOTA_CODE) =>
            {
                log::warn(
                    "EC2 refused the copy for now; waiting",
                    &[("code", err.code().unwrap_or_default())],
                );
            }
            Err(err) => return Err(NotStarted::Aws(err)),
        }
        drop(turn);
        let pause = delay.min(deadline.saturating_duration_since(Instant::now()));
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.cancelled() => return Ok(None),
        }
        delay = next_poll_delay(delay);
    }
}

/// Whether `existing`, holding the copy's name, may be taken over now:
/// `Ok(true)` when it is a marked copy of the same source whose creator is
/// gone, `Ok(false)` while that is not known yet (look again), an error
/// when it is not such a copy or another apply still creates it (its mark
/// changed, or came off, while `watching` it).
fn creator_gone(
    existing: &Image,
    request: &CopyRequest,
    watching: &mut Option<(String, Instant)>,
) -> Result<bool, AwsError> {
    let now_value = mark::of(existing);
    if watching.is_none() {
        take_over(existing, &request.source_image_id, &request.name)?;
    }
    let (first, since) = watching.get_or_insert_with(|| {
        let first = now_value.unwrap_or_default().to_owned();
        log::info(
            "a copy under this name is marked as being created; taking it over only once its creator is gone",
            &[("image_id", &existing.id), ("mark", &first)],
        );
        (first, Instant::now())
    });
    // This process's own mark on a copy this create did not start: another
    // resource of the same configuration copies the same source with the
    // same key into the same account and Region.
    let verdict = match mark::is_ours(first) {
        true => Creator::Alive,
        false => mark::judge(
            first,
            now_value,
            since.elapsed(),
            std::time::SystemTime::now(),
        ),
    };
    match verdict {
        Creator::Gone => Ok(true),
        Creator::Unknown => Ok(false),
        Creator::Alive => Err(crate::aws::copy::failure(
            "looking up the copy's name",
            "CopyOwnedElsewhere",
            &format!(
                "AMI {} named {:?} is being created by another Terraform run right now (its creation mark {}). \
                 Two states (workspaces, a CI job and a laptop, copies of one directory), or two resources of one \
                 configuration, manage the same copy of {} in this account and Region, and only one may own it. \
                 Nothing was copied or taken over. Let the other run finish; if this state should own the copy, \
                 remove it from the other state and import it here",
                existing.id,
                request.name,
                match (now_value, mark::is_ours(first)) {
                    (_, true) => "was set by another resource of this run".to_owned(),
                    (None, _) => "came off: that run recorded it in its state".to_owned(),
                    (Some(_), _) => "was renewed while this run watched it".to_owned(),
                },
                request.source_image_id
            ),
        )),
    }
}

/// Takes `existing` over: the creator that marked it is gone. The mark is
/// made this process's at once, so the old creator, should it come back,
/// sees it was taken over (see [`finish`]).
async fn adopt(
    clients: &AwsClients,
    existing: Image,
    slots: SlotsHeld,
    watched_since: Option<Instant>,
) -> Result<Started, AwsError> {
    let waited = watched_since.map_or(0, |since| since.elapsed().as_secs());
    log::info(
        "adopting the copy an earlier run started",
        &[
            ("image_id", &existing.id),
            ("mark", mark::of(&existing).unwrap_or_default()),
            ("watched_seconds", &waited.to_string()),
        ],
    );
    // A pending copy runs in EC2: its slots count as running there.
    let mut slots = slots;
    if existing.state == "pending" {
        slots.started();
    }
    if existing.tags.contains_key(TAG_CREATING) {
        let ours = mark::initial(&Tags::new());
        if let Some(value) = ours.get(TAG_CREATING) {
            set_tag_on(
                clients,
                std::slice::from_ref(&existing.id),
                TAG_CREATING,
                value,
            )
            .await?;
        }
    }
    Ok(Started {
        snapshots: existing.snapshot_ids.len(),
        image_id: existing.id,
        adopted: true,
        _slots: slots,
    })
}

/// The state of a finished copy; an adopted copy's tags are brought in line.
async fn finish(
    mut planned: CopyModel,
    clients: &AwsClients,
    facts: Image,
    tags_all: &Tags,
    adopted: bool,
    what: &str,
) -> Applied<CopyModel> {
    let creating = summary("creating", &planned);
    planned.id = Field::Known(facts.id.clone());
    // A copy this create started carries its mark until recorded; another
    // process's mark means another run took it over while this one could
    // not renew the mark (see `mark`), and that run records it.
    if let Some(other) = mark::of(&facts).filter(|m| !adopted && !mark::is_ours(m)) {
        return Applied::failed(Diagnostic::error(
            &creating,
            format!(
                "{what}: the copy {} was taken over by another Terraform run (its creation mark is now {other:?}) \
                 while this one could not renew the mark for {} s; that run records it. Nothing is recorded here.",
                facts.id,
                mark::STALE_AFTER.as_secs()
            ),
        ));
    }
    let mut diagnostics = Diagnostics::new();
    // Before the creation mark comes off: should a control fail, the copy
    // is left marked, and the next apply takes it over and tries again,
    // with nothing copied twice and nothing tainted.
    if let Err(err) = settle_controls(clients, &facts, &planned).await {
        let err = err
            .context(what)
            .context("setting the copy's lifecycle controls");
        if facts.tags.contains_key(TAG_CREATING) {
            return Applied::failed(Diagnostic::error(
                &creating,
                format!(
                    "{err}. The copy {} is kept, marked unfinished ({TAG_CREATING}): the next apply takes it over \
                     and sets them again, without copying.",
                    facts.id
                ),
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
    // The adopted copy's tags are synced below, which takes the mark off.
    if !adopted {
        diagnostics.extend(unmark(clients, &facts.id).await);
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
    // Creation completing "after 0s" would otherwise hide that nothing was
    // copied in this run: say which copy was taken over, and why.
    let warning = Diagnostic::warning(
        "Adopted an existing EC2 AMI copy",
        format!(
            "{what}: found {} named {:?}, a copy of the same source started by an earlier apply that was \
             interrupted before it could record it in state: its creation mark had not been renewed for {} s, so \
             the run that made it is gone. It is now managed by this resource; nothing was copied again.",
            facts.id,
            facts.name,
            mark::STALE_AFTER.as_secs()
        ),
    );
    Applied {
        state: Some(planned),
        diagnostics: Diagnostics::from(warning),
    }
}

/// A copy still running when we stopped waiting: recorded, with a warning
/// (or an error that is not about the copy itself), never tainted.
async fn pending(
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
