//! Waiting for a copied AMI to become available.
//!
//! The SDK's waiter never polls sooner than 15 s, which makes a short copy
//! look slow, and one loop per copy multiplies the calls in a fan-out. The
//! wait here listens to the account-region's one poll loop (`watcher`),
//! which looks at every copy in flight there once a second. It gives up at
//! a deadline (the resource's timeout) or when Terraform asks the provider
//! to stop, and in both cases reports what it last saw rather than
//! failing, so the caller can record the copy in state.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::clients::AwsClients;
use super::errors::AwsError;
use super::image::Image;
use super::snapshot::find_snapshots_by_ids;
use super::watcher::{Mark, Seen};
use crate::log;

/// How long a copy CopyImage just returned may stay invisible to
/// DescribeImages before we call it gone. EC2 is eventually consistent ("Eventual
/// consistency in the Amazon EC2 API"): a new resource can take a while to
/// show in reads, and terraform-provider-aws waits minutes for it. Calling a
/// copy gone too soon starts a second one (and frees the first one's
/// snapshot-copy slots while it still runs). A copy seen once and then
/// missing is gone at once: that is a deregistration, not a lag.
pub const NOT_FOUND_GRACE: Duration = Duration::from_secs(300);
/// How often a long wait says it is still waiting.
const PROGRESS_LOG_INTERVAL: Duration = Duration::from_secs(30);

/// How a wait for an available image ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The image is available.
    Available(Image),
    /// The copy ended in `failed` (or another terminal state that is not
    /// available); `state_reason` says why.
    Failed(Image),
    /// The image does not exist (deregistered, or never became visible).
    Gone,
    /// Terraform asked the provider to stop; the last state seen, if any.
    Stopped(Option<Image>),
    /// The deadline passed; the last state seen, if any.
    TimedOut(Option<Image>),
}

/// What one look means for the wait: an outcome, or keep waiting.
fn judge(
    seen: Seen,
    last_seen: &mut Option<Image>,
    waited: Duration,
) -> Result<Option<WaitOutcome>, AwsError> {
    match seen {
        Seen::NotYet => Ok(None),
        Seen::Image(image) => match image.state.as_str() {
            "available" => Ok(Some(WaitOutcome::Available(*image))),
            "pending" | "transient" => {
                *last_seen = Some(*image);
                Ok(None)
            }
            _ => Ok(Some(WaitOutcome::Failed(*image))),
        },
        Seen::Missing if last_seen.is_some() || waited >= NOT_FOUND_GRACE => {
            Ok(Some(WaitOutcome::Gone))
        }
        Seen::Missing => Ok(None),
        Seen::Failed(err) => Err(err),
    }
}

/// Waits until `image_id` is available, failed or gone, `deadline` passes or
/// `stop` is cancelled, renewing `mark` on it meanwhile. Throttled looks are
/// retried by the poll loop.
pub async fn wait_image_available(
    clients: &AwsClients,
    image_id: &str,
    mark: Option<Mark>,
    deadline: Instant,
    stop: &CancellationToken,
) -> Result<WaitOutcome, AwsError> {
    let started = Instant::now();
    let mut seen = clients.watch_image(image_id, mark);
    let mut last_seen: Option<Image> = None;
    let mut next_log = started + PROGRESS_LOG_INTERVAL;
    loop {
        if stop.is_cancelled() {
            return Ok(WaitOutcome::Stopped(last_seen));
        }
        tokio::select! {
            changed = seen.changed() => {
                if changed.is_err() {
                    // The loop ended without us (it never does while we
                    // listen); watch again rather than wait forever.
                    seen = clients.watch_image(image_id, mark);
                    continue;
                }
            }
            () = tokio::time::sleep_until(deadline) => return Ok(WaitOutcome::TimedOut(last_seen)),
            () = stop.cancelled() => return Ok(WaitOutcome::Stopped(last_seen)),
        }
        let look = seen.borrow_and_update().clone();
        if let Some(outcome) = judge(look, &mut last_seen, started.elapsed())? {
            return Ok(outcome);
        }
        if Instant::now() >= next_log {
            next_log += PROGRESS_LOG_INTERVAL;
            log_progress(clients, image_id, last_seen.as_ref(), started.elapsed()).await;
        }
    }
}

/// The line a long wait writes every [`PROGRESS_LOG_INTERVAL`]: where the
/// copy is (account and Region, so a fan-out's lines can be told apart),
/// its state, and how far its snapshots are, which is all EC2 reports of a
/// copy's progress (one DescribeSnapshots per copy per interval; without it
/// the line says only that the copy is still pending).
async fn log_progress(
    clients: &AwsClients,
    image_id: &str,
    last_seen: Option<&Image>,
    waited: Duration,
) {
    let snapshot_ids = last_seen.map_or(&[][..], |i| i.snapshot_ids.as_slice());
    let progress = match find_snapshots_by_ids(clients, snapshot_ids).await {
        Ok(snapshots) if !snapshots.is_empty() => snapshots
            .iter()
            .map(|s| format!("{} {}", s.id, s.progress.as_deref().unwrap_or("?")))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "not reported yet".to_owned(),
    };
    log::info(
        "waiting for EC2 AMI copy",
        &[
            ("account_id", &clients.account_id),
            ("region", &clients.region),
            ("image_id", image_id),
            (
                "state",
                last_seen.map_or("not visible yet", |i| i.state.as_str()),
            ),
            ("snapshot_progress", &progress),
            ("waited_seconds", &waited.as_secs().to_string()),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(state: &str) -> Image {
        Image {
            id: "ami-1".into(),
            state: state.into(),
            ..Image::default()
        }
    }

    #[test]
    fn each_look_decides_or_keeps_waiting() -> Result<(), AwsError> {
        let mut last = None;
        let early = Duration::from_secs(1);
        assert_eq!(judge(Seen::NotYet, &mut last, early)?, None);
        assert_eq!(
            judge(Seen::Missing, &mut last, early)?,
            None,
            "not visible yet"
        );
        assert_eq!(
            judge(Seen::Missing, &mut last, NOT_FOUND_GRACE)?,
            Some(WaitOutcome::Gone),
            "still invisible after the grace"
        );
        assert_eq!(
            judge(Seen::Image(Box::new(image("pending"))), &mut last, early)?,
            None
        );
        assert_eq!(last, Some(image("pending")));
        assert_eq!(
            judge(Seen::Missing, &mut last, early)?,
            Some(WaitOutcome::Gone),
            "seen, then gone: deregistered while pending"
        );
        assert_eq!(
            judge(Seen::Image(Box::new(image("available"))), &mut last, early)?,
            Some(WaitOutcome::Available(image("available")))
        );
        assert_eq!(
            judge(Seen::Image(Box::new(image("failed"))), &mut last, early)?,
            Some(WaitOutcome::Failed(image("failed")))
        );
        let err = AwsError::config("boom");
        assert_eq!(judge(Seen::Failed(err.clone()), &mut last, early), Err(err));
        Ok(())
    }
}
