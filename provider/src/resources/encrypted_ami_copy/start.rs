//! Starting a copy, or adopting the one an earlier run started: the name
//! is looked up first, the source checked, snapshot-copy slots taken, and
//! CopyImage called one at a time into the account-region (see
//! `crate::aws::copy_slots`). What follows, the wait and the record, is
//! `create.rs` and `finish.rs`.

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::aws::backoff::{next_poll_delay, FIRST_POLL_DELAY};
use crate::aws::copy::{copy_image, CopyRequest};
use crate::aws::copy_slots::SlotsHeld;
use crate::aws::image::{find_own_image_by_name, Image};
use crate::aws::tags::set_tag_on;
use crate::aws::{is_throttling, AwsClients, AwsError};
use crate::log;
use crate::protocol::diagnostics::Diagnostics;

use super::mark::{self, Creator};
use super::model::Tags;
use super::naming::take_over;
use super::rules::TAG_CREATING;
use super::source::wait_source_copyable;

/// CopyImage answers that mean "not now": throttling, or too many copies in
/// flight in the region (the copy quota).
const COPY_QUOTA_CODE: &str = "ResourceLimitExceeded";
/// How often a create looks again at a marked copy whose creator may still
/// be alive (see `mark`): often enough to see a renewal within a few
/// seconds of it, for at most `mark::STALE_AFTER`.
const MARK_LOOK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// A copy to wait for, with the snapshot-copy slots it holds until the
/// wait ends.
pub(super) struct Started {
    pub(super) image_id: String,
    pub(super) adopted: bool,
    /// Its snapshot count, which a replacement attempt takes slots for.
    pub(super) snapshots: usize,
    _slots: SlotsHeld,
}

/// Why no copy was started or adopted.
pub(super) enum NotStarted {
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
pub(super) async fn start_or_adopt(
    clients: &AwsClients,
    request: &CopyRequest,
    known_snapshots: Option<usize>,
    deadline: Instant,
    stop: &CancellationToken,
) -> Result<Option<Started>, NotStarted> {
    let mut start = Start {
        clients,
        request,
        deadline,
        stop,
        source_snapshots: known_snapshots,
        held: None,
        delay: FIRST_POLL_DELAY,
        watching: None,
    };
    start.run().await
}

/// One start or adoption under way, and what it has learnt so far.
struct Start<'a> {
    clients: &'a AwsClients,
    request: &'a CopyRequest,
    deadline: Instant,
    stop: &'a CancellationToken,
    /// The source's snapshot count, once known (its check passed).
    source_snapshots: Option<usize>,
    held: Option<SlotsHeld>,
    /// The pause before the next look after a refusal.
    delay: std::time::Duration,
    /// A marked copy under the name: its mark as first seen, and when.
    watching: Option<(String, Instant)>,
}

/// What a step of [`Start::run`] leads to.
enum Next {
    Started(Started),
    Stopped,
    /// Look again at once.
    Now,
    /// Look again after the current back-off pause.
    AfterPause,
}

impl Start<'_> {
    async fn run(&mut self) -> Result<Option<Started>, NotStarted> {
        loop {
            if self.stop.is_cancelled() || Instant::now() >= self.deadline {
                return Ok(None);
            }
            let found = find_own_image_by_name(self.clients, &self.request.name).await;
            if let (Ok(None), None) = (&found, self.source_snapshots) {
                let (source, region) = (&self.request.source_image_id, &self.request.source_region);
                let count =
                    wait_source_copyable(self.clients, source, region, self.deadline, self.stop)
                        .await
                        .map_err(NotStarted::Source)?;
                self.source_snapshots = Some(count);
            }
            let snapshots = match &found {
                Ok(Some(existing)) => existing.snapshot_ids.len(),
                _ => self.source_snapshots.unwrap_or(1),
            };
            if self.held.is_none() {
                let asked = Instant::now();
                let Some(slots) = self
                    .clients
                    .copy_slots(snapshots, self.deadline, self.stop)
                    .await
                else {
                    return Ok(None);
                };
                self.held = Some(slots);
                // After a real wait for a slot the name may have been taken
                // meanwhile (an earlier attempt's copy became visible): look again.
                if asked.elapsed() > FIRST_POLL_DELAY && found.as_ref().is_ok_and(Option::is_none) {
                    continue;
                }
            }
            let next = match found {
                Ok(Some(existing)) => self.existing(existing).await?,
                Ok(None) => self.call(snapshots).await?,
                Err(err) => self.refused(err)?,
            };
            match next {
                Next::Started(started) => return Ok(Some(started)),
                Next::Stopped => return Ok(None),
                Next::Now => continue,
                Next::AfterPause => {}
            }
            if !self.pause(self.delay).await {
                return Ok(None);
            }
            self.delay = next_poll_delay(self.delay);
        }
    }

    /// A copy holds the name: adopt it once its creator is gone, look
    /// again shortly while that is not known.
    async fn existing(&mut self, existing: Image) -> Result<Next, NotStarted> {
        match creator_gone(&existing, self.request, &mut self.watching) {
            Ok(true) => {
                let slots = self.held.take().expect("slots are held here");
                let since = self.watching.as_ref().map(|(_, since)| *since);
                adopt(self.clients, existing, slots, since)
                    .await
                    .map(Next::Started)
                    .map_err(NotStarted::Aws)
            }
            Ok(false) => match self.pause(MARK_LOOK_INTERVAL).await {
                true => Ok(Next::Now),
                false => Ok(Next::Stopped),
            },
            Err(err) => Err(NotStarted::Aws(err)),
        }
    }

    /// One CopyImage at a time into the account-region, and only by a copy
    /// that still fits the room EC2 has shown (see `copy_slots`): one that
    /// does not queues again. The turn is kept until a refusal has been
    /// learnt from.
    async fn call(&mut self, snapshots: usize) -> Result<Next, NotStarted> {
        let slots = self.held.as_ref().expect("slots are held here");
        let turn = slots.turn_to_call().await;
        if !slots.fits() {
            self.held = None;
            return Ok(Next::Now);
        }
        match copy_image(self.clients, self.request).await {
            Ok(image_id) => {
                let mut slots = self.held.take().expect("slots are held here");
                slots.started();
                Ok(Next::Started(Started {
                    image_id,
                    adopted: false,
                    snapshots,
                    _slots: slots,
                }))
            }
            Err(err) => {
                let next = self.refused(err);
                drop(turn);
                next
            }
        }
    }

    /// What a failed look or CopyImage leads to: a refusal for now is
    /// waited out, anything else ends the create.
    fn refused(&mut self, err: AwsError) -> Result<Next, NotStarted> {
        // Same name taken between our lookup and the call: look again.
        if err.code() == Some("InvalidAMIName.Duplicate") {
            return Ok(Next::AfterPause);
        }
        // The account's quota is full: when this process's own copies
        // fill it, queue behind them (see `copy_slots`), at once.
        if err.code() == Some(COPY_QUOTA_CODE) && self.held.is_some() {
            self.held = self
                .held
                .take()
                .and_then(|slots| self.clients.copy_refused(slots));
            if self.held.is_none() {
                self.delay = FIRST_POLL_DELAY;
                return Ok(Next::Now);
            }
            log::warn(
                "EC2 refused the copy for now (its quota is taken by copies outside this run); waiting",
                &[("code", COPY_QUOTA_CODE)],
            );
            return Ok(Next::AfterPause);
        }
        if err
            .code()
            .is_some_and(|c| is_throttling(c) || c == COPY_QUOTA_CODE)
        {
            log::warn(
                "EC2 refused the copy for now; waiting",
                &[("code", err.code().unwrap_or_default())],
            );
            return Ok(Next::AfterPause);
        }
        Err(NotStarted::Aws(err))
    }

    /// Sleeps `pause` (no later than the deadline); `false` when stopped.
    async fn pause(&self, pause: std::time::Duration) -> bool {
        let pause = pause.min(self.deadline.saturating_duration_since(Instant::now()));
        tokio::select! {
            () = tokio::time::sleep(pause) => true,
            () = self.stop.cancelled() => false,
        }
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
