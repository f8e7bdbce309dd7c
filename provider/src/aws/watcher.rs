//! One poll loop per account and region for every copy in flight there.
//!
//! A fan-out apply waits for dozens of copies at once. Polling each alone
//! costs one DescribeImages per copy per look, so either the looks are
//! rare (and a finished copy is noticed late) or the calls pile up into
//! throttling. Here every copy waiting in one account and region is looked
//! at by the same DescribeImages (the `image-id` filter with all their ids,
//! `Owners=self`, which unlike `ImageIds` does not fail the whole call when
//! one id is not visible yet), once a second: a finished copy is seen within
//! about a second, however long it took, and the account-region sees at
//! most one poll a second, however many copies wait. The loop runs while
//! anyone waits and ends when the last waiter leaves.
//!
//! The same loop keeps the marks of the copies it watches fresh: a copy
//! watched with a [`Mark`] gets its tag rewritten every [`MARK_RENEWAL`],
//! all of an account-region's marked copies in one CreateTags call, so that
//! another process can tell a copy whose creator still waits for it from
//! one whose creator is gone.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use super::backoff::{next_poll_delay, MAX_POLL_DELAY};
use super::clients::AwsClients;
use super::errors::{is_throttling, AwsError};
use super::image::Image;
use super::image_search::find_own_images_by_ids;
use super::tags::set_tag_on;
use crate::log;

/// The pause between two looks while nothing is throttled.
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
}

#[derive(Debug, Default)]
struct LoopState {
    watched: HashMap<String, watch::Sender<Seen>>,
    /// The marks to renew, by image id, for as long as the image is watched.
    marks: HashMap<String, Mark>,
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

/// The loop: look, tell every waiter, pause; end when nobody waits.
async fn run(poll_loop: Arc<Loop>, clients: AwsClients) {
    let mut pause = POLL_INTERVAL;
    // Looks start a pause apart (not a pause after the previous answer), so
    // the lag stays within a second however long each call takes.
    let mut look_started = tokio::time::Instant::now();
    let mut renewed = look_started;
    loop {
        tokio::time::sleep_until(look_started + pause).await;
        look_started = tokio::time::Instant::now();
        let (ids, marks) = {
            let mut state = lock(&poll_loop.state);
            state.watched.retain(|_, sender| !sender.is_closed());
            let LoopState { watched, marks, .. } = &mut *state;
            marks.retain(|id, _| watched.contains_key(id));
            if state.watched.is_empty() {
                state.running = false;
                return;
            }
            let ids: Vec<String> = state.watched.keys().cloned().collect();
            let due = look_started.duration_since(renewed) >= MARK_RENEWAL;
            (ids, due.then(|| state.marks.clone()))
        };
        // Renewed beside the look, not before it: a slow CreateTags must not
        // delay the look, and the looks stay a second apart.
        if let Some(marks) = marks {
            renewed = look_started;
            let clients = clients.clone();
            tokio::spawn(async move { renew(&clients, marks).await });
        }
        let result = find_own_images_by_ids(&clients, &ids).await;
        let state = lock(&poll_loop.state);
        match result {
            Ok(images) => {
                pause = POLL_INTERVAL;
                for (id, sender) in &state.watched {
                    let seen = images
                        .iter()
                        .find(|image| &image.id == id)
                        .map_or(Seen::Missing, |image| Seen::Image(Box::new(image.clone())));
                    sender.send_replace(seen);
                }
            }
            Err(err) if err.code().is_some_and(is_throttling) => {
                // Back off for everyone at once: the account-region is
                // throttled, not one copy.
                pause = next_poll_delay(pause.max(POLL_INTERVAL * 2)).min(MAX_POLL_DELAY);
                log::warn(
                    "EC2 throttled a status check of copies in flight; waiting longer",
                    &[
                        ("region", &clients.region),
                        ("copies", &ids.len().to_string()),
                        ("next_look_seconds", &pause.as_secs().to_string()),
                    ],
                );
            }
            Err(err) => {
                pause = POLL_INTERVAL;
                for sender in state.watched.values() {
                    sender.send_replace(Seen::Failed(err.clone()));
                }
            }
        }
    }
}
