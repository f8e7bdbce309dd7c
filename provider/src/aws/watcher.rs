//! One poll loop per account and region for every copy in flight there.
//!
//! A fan-out apply waits for dozens of copies at once. Polling each alone
//! costs one DescribeImages per copy per look, so either the looks are
//! rare (and a finished copy is noticed late) or the calls pile up into
//! throttling. Here every copy waiting in one account and region is looked
//! at by the same DescribeImages (the `image-id` filter with all their ids,
//! `Owners=self`, which unlike `ImageIds` does not fail the whole call when
//! one id is not visible yet), at most once a second however many copies
//! wait, and only as often as the copies' progress calls for (`pace`): once
//! a second near a copy's start and end, so a finished copy is seen within
//! about a second, sparsely while its snapshots' progress says the end is
//! far. The loop runs while anyone waits and ends when the last waiter
//! leaves.
//!
//! The same loop keeps the marks of the copies it watches fresh: a copy
//! watched with a [`Mark`] gets its tag rewritten every [`MARK_RENEWAL`],
//! all of an account-region's marked copies in one CreateTags call, so that
//! another process can tell a copy whose creator still waits for it from
//! one whose creator is gone.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::backoff::{next_poll_delay, MAX_POLL_DELAY};
use super::clients::AwsClients;
use super::errors::{is_throttling, AwsError};
use super::image::Image;
use super::image_search::find_own_images_by_ids;
use super::pace::Pace;
use super::snapshot::find_snapshots_by_ids;
use super::tags::set_tag_on;
use crate::log;

/// The shortest pause between two looks (a copy near its start or end; see
/// `pace` for the longer ones).
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How often the marks of watched copies are rewritten. One CreateTags per
/// account-region each time, from the mutating-actions bucket that EC2
/// refills at a few requests a second (EC2 Developer Guide, "Request
/// throttling for the Amazon EC2 API"): a small fraction of it.
pub const MARK_RENEWAL: Duration = Duration::from_secs(10);

/// A tag a watched copy carries while its creator waits for it; the value
/// is made anew at each renewal (it says when it was written).
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    /// The tag key.
    pub key: &'static str,
    /// The value to write now.
    pub value: fn() -> String,
}

/// What the last look saw of one copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Not looked at yet.
    NotYet,
    /// The copy, in whatever state it is (boxed: an image is large, and
    /// the other answers are small).
    Image(Box<Image>),
    /// The copy is not visible (deregistered, or not visible yet).
    Missing,
    /// The look failed with an error that is not throttling.
    Failed(AwsError),
}

/// A caller's ARN and a region.
type CallerRegion = (String, String);

/// The poll loops of this process, one per caller and region (the
/// caller's ARN names the account and the credentials, so a loop polls
/// with a session that may see the images it watches).
static LOOPS: LazyLock<Mutex<HashMap<CallerRegion, Arc<Loop>>>> = LazyLock::new(Mutex::default);

/// The copies one loop watches, and whether its task is running.
#[derive(Debug, Default)]
struct Loop {
    state: Mutex<LoopState>,
    /// Wakes the loop when a copy joins, so it is looked at within a second
    /// even when the others asked for a long pause.
    joined: Notify,
}

#[derive(Debug, Default)]
struct LoopState {
    watched: HashMap<String, watch::Sender<Seen>>,
    /// The marks to renew, by image id, for as long as the image is watched.
    marks: HashMap<String, Mark>,
    /// How fast each watched copy moves (see `pace`), by image id.
    paces: HashMap<String, Pace>,
    running: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AwsClients {
    /// Watches `image_id` in these clients' account and region: the
    /// receiver gets what each look saw, about once a second, for as long as
    /// it is kept; `mark`, if any, is renewed on the image every
    /// [`MARK_RENEWAL`] meanwhile.
    pub fn watch_image(&self, image_id: &str, mark: Option<Mark>) -> watch::Receiver<Seen> {
        let key = (self.caller_arn.clone(), self.region.clone());
        let poll_loop = lock(&LOOPS).entry(key).or_default().clone();
        let mut state = lock(&poll_loop.state);
        if let Some(mark) = mark {
            state.marks.insert(image_id.to_owned(), mark);
        }
        let receiver = match state.watched.get(image_id) {
            Some(sender) if !sender.is_closed() => sender.subscribe(),
            _ => {
                let (sender, receiver) = watch::channel(Seen::NotYet);
                state.watched.insert(image_id.to_owned(), sender);
                state
                    .paces
                    .insert(image_id.to_owned(), Pace::new(Instant::now()));
                poll_loop.joined.notify_one();
                receiver
            }
        };
        if !state.running {
            state.running = true;
            tokio::spawn(run(poll_loop.clone(), self.clone()));
        }
        receiver
    }
}

/// Rewrites every mark, one CreateTags per tag key. A failure is only
/// logged: the next renewal tries again, and a mark left stale for long is
/// what another process may take over, which the creator notices when it
/// finishes (see `encrypted_ami_copy::mark`).
async fn renew(clients: &AwsClients, marks: HashMap<String, Mark>) {
    let mut by_key: HashMap<&'static str, (Mark, Vec<String>)> = HashMap::new();
    for (id, mark) in marks {
        by_key
            .entry(mark.key)
            .or_insert((mark, Vec::new()))
            .1
            .push(id);
    }
    for (key, (mark, ids)) in by_key {
        if let Err(err) = set_tag_on(clients, &ids, key, &(mark.value)()).await {
            log::warn(
                "could not renew the marks of copies in flight",
                &[
                    ("region", &clients.region),
                    ("copies", &ids.len().to_string()),
                    ("error", &err.to_string()),
                ],
            );
        }
    }
}

/// The loop: look, tell every waiter, pause as the copies' pace says (see
/// `pace`); renew the marks every [`MARK_RENEWAL`] whatever the pause; end
/// when nobody waits.
async fn run(poll_loop: Arc<Loop>, clients: AwsClients) {
    let mut throttled_pause = POLL_INTERVAL;
    // Looks are scheduled from the start of the previous one (not a pause
    // after its answer), so a slow answer does not add to the lag.
    let mut look_started = Instant::now();
    let mut next_look = look_started + POLL_INTERVAL;
    let mut renewed = look_started;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(next_look.min(renewed + MARK_RENEWAL)) => {}
            () = poll_loop.joined.notified() => {
                // A copy joined: looked at within a second of the last look.
                next_look = next_look.min(look_started + POLL_INTERVAL);
                continue;
            }
        }
        let now = Instant::now();
        let (ids, marks) = {
            let mut state = lock(&poll_loop.state);
            state.watched.retain(|_, sender| !sender.is_closed());
            let LoopState {
                watched,
                marks,
                paces,
                ..
            } = &mut *state;
            marks.retain(|id, _| watched.contains_key(id));
            paces.retain(|id, _| watched.contains_key(id));
            if state.watched.is_empty() {
                state.running = false;
                return;
            }
            let ids: Vec<String> = state.watched.keys().cloned().collect();
            let due = now.duration_since(renewed) >= MARK_RENEWAL;
            (ids, due.then(|| state.marks.clone()))
        };
        if now >= next_look {
            look_started = now;
            next_look = look(&poll_loop, &clients, &ids, &mut throttled_pause, now).await;
        }
        // After the look, so a copy it saw finished is not marked again
        // while its creator takes the mark off; spawned, so a slow
        // CreateTags does not delay the next look.
        if let Some(marks) = marks {
            renewed = now;
            let marks = still_marked(&poll_loop, marks);
            if !marks.is_empty() {
                let clients = clients.clone();
                tokio::spawn(async move { renew(&clients, marks).await });
            }
        }
    }
}

/// One look at every watched copy, its news told to their waiters: when the
/// next look is due.
async fn look(
    poll_loop: &Loop,
    clients: &AwsClients,
    ids: &[String],
    throttled_pause: &mut Duration,
    look_started: Instant,
) -> Instant {
    match find_own_images_by_ids(clients, ids).await {
        Ok(images) => {
            *throttled_pause = POLL_INTERVAL;
            tell(poll_loop, &images);
            read_progress(poll_loop, clients, &images).await;
            look_started + pause(poll_loop)
        }
        Err(err) if err.code().is_some_and(is_throttling) => {
            // Back off for everyone at once: the account-region is
            // throttled, not one copy.
            *throttled_pause =
                next_poll_delay((*throttled_pause).max(POLL_INTERVAL * 2)).min(MAX_POLL_DELAY);
            log::warn(
                "EC2 throttled a status check of copies in flight; waiting longer",
                &[
                    ("region", &clients.region),
                    ("copies", &ids.len().to_string()),
                    ("next_look_seconds", &throttled_pause.as_secs().to_string()),
                ],
            );
            look_started + *throttled_pause
        }
        Err(err) => {
            let state = lock(&poll_loop.state);
            for sender in state.watched.values() {
                sender.send_replace(Seen::Failed(err.clone()));
            }
            look_started + POLL_INTERVAL
        }
    }
}

/// The marks in `due` of the copies still watched and still marked (see
/// [`tell`]).
fn still_marked(poll_loop: &Loop, mut due: HashMap<String, Mark>) -> HashMap<String, Mark> {
    let state = lock(&poll_loop.state);
    due.retain(|id, _| state.marks.contains_key(id));
    due
}

/// Tells each waiter what the look saw of its copy. A copy seen finished
/// (available, failed) is marked no more: its creator takes the mark off
/// next, and a renewal landing after that would put it back.
fn tell(poll_loop: &Loop, images: &[Image]) {
    let mut state = lock(&poll_loop.state);
    let LoopState { watched, marks, .. } = &mut *state;
    for (id, sender) in watched.iter() {
        let found = images.iter().find(|image| &image.id == id);
        if found.is_some_and(|image| !matches!(image.state.as_str(), "pending" | "transient")) {
            marks.remove(id);
        }
        let seen = found.map_or(Seen::Missing, |image| Seen::Image(Box::new(image.clone())));
        sender.send_replace(seen);
    }
}

/// Reads the snapshots' progress of the pending copies whose pace wants it,
/// all in one DescribeSnapshots. A failed read is only logged: those copies
/// keep the pause they had.
async fn read_progress(poll_loop: &Loop, clients: &AwsClients, images: &[Image]) {
    let now = Instant::now();
    let wanted: Vec<&Image> = {
        let state = lock(&poll_loop.state);
        images
            .iter()
            .filter(|image| image.state == "pending" && !image.snapshot_ids.is_empty())
            .filter(|image| {
                state
                    .paces
                    .get(&image.id)
                    .is_some_and(|p| p.wants_progress(now))
            })
            .collect()
    };
    if wanted.is_empty() {
        return;
    }
    let snapshot_ids: Vec<String> = wanted
        .iter()
        .flat_map(|image| image.snapshot_ids.iter().cloned())
        .collect();
    let snapshots = match find_snapshots_by_ids(clients, &snapshot_ids).await {
        Ok(snapshots) => snapshots,
        Err(err) => {
            log::debug(
                "could not read the progress of copies in flight",
                &[("region", &clients.region), ("error", &err.to_string())],
            );
            return;
        }
    };
    let mut state = lock(&poll_loop.state);
    for image in wanted {
        let progress = snapshots
            .iter()
            .filter(|s| image.snapshot_ids.contains(&s.id))
            .filter_map(|s| s.progress.as_deref());
        if let Some(pace) = state.paces.get_mut(&image.id) {
            pace.record(now, progress);
        }
    }
}

/// The pause before the next look: the shortest any watched copy asks for.
fn pause(poll_loop: &Loop) -> Duration {
    let now = Instant::now();
    let state = lock(&poll_loop.state);
    state
        .paces
        .values()
        .map(|pace| pace.pause(now))
        .min()
        .unwrap_or(POLL_INTERVAL)
}
