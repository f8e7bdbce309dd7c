//! Waiting for a copied AMI to become available, in our own loop.
//!
//! The SDK's waiter never polls sooner than 15 s, which makes a short copy
//! look slow; this loop looks after about a second, then backs off to a cap.
//! It gives up at a deadline (the resource's timeout) or when Terraform asks
//! the provider to stop, and in both cases reports what it last saw rather
//! than failing, so the caller can record the copy in state.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::clients::AwsClients;
use super::errors::{is_throttling, AwsError, Optional};
use super::image::{find_image_by_id, Image};
use super::snapshot::find_snapshots_by_ids;
use crate::log;

/// The first look at a new copy.
pub const FIRST_POLL_DELAY: Duration = Duration::from_secs(1);
/// The longest pause between two looks; a late copy is noticed within this.
pub const MAX_POLL_DELAY: Duration = Duration::from_secs(15);
/// Growth of the pause after each look that found the copy still pending.
const POLL_BACKOFF_FACTOR: f64 = 1.5;
/// How long a copy CopyImage just returned may stay invisible to
/// DescribeImages (EC2 is eventually consistent) before we call it gone.
pub const NOT_FOUND_GRACE: Duration = Duration::from_secs(10);

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

/// The next pause of the poll loop after `previous`.
pub fn next_poll_delay(previous: Duration) -> Duration {
    previous.mul_f64(POLL_BACKOFF_FACTOR).min(MAX_POLL_DELAY)
}

/// One look at the image: `Ok(None)` when it does not exist. Throttling is
/// reported as an error whose code [`is_throttling`] recognises.
pub async fn image_status(clients: &AwsClients, image_id: &str) -> Result<Option<Image>, AwsError> {
    find_image_by_id(clients, image_id).await.optional()
}

/// Waits until `image_id` is available, failed or gone, `deadline` passes or
/// `stop` is cancelled. Throttled polls are simply retried after the next
/// pause. Each pending look logs the snapshots' progress.
pub async fn wait_image_available(
    clients: &AwsClients,
    image_id: &str,
    deadline: Instant,
    stop: &CancellationToken,
) -> Result<WaitOutcome, AwsError> {
    let started = Instant::now();
    let mut delay = FIRST_POLL_DELAY;
    let mut last_seen: Option<Image> = None;
    loop {
        if stop.is_cancelled() {
            return Ok(WaitOutcome::Stopped(last_seen));
        }
        match image_status(clients, image_id).await {
            Ok(Some(facts)) => match facts.state.as_str() {
                "available" => return Ok(WaitOutcome::Available(facts)),
                "pending" | "transient" => {
                    log_progress(clients, &facts).await;
                    last_seen = Some(facts);
                }
                _ => return Ok(WaitOutcome::Failed(facts)),
            },
            Ok(None) if last_seen.is_some() || started.elapsed() >= NOT_FOUND_GRACE => {
                return Ok(WaitOutcome::Gone)
            }
            Ok(None) => {}
            Err(err) if err.code().is_some_and(is_throttling) => {
                log::warn(
                    "EC2 throttled a status check; waiting longer",
                    &[("image_id", image_id)],
                );
            }
            Err(err) => return Err(err),
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(WaitOutcome::TimedOut(last_seen));
        }
        let pause = delay.min(deadline - now);
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.cancelled() => return Ok(WaitOutcome::Stopped(last_seen)),
        }
        delay = next_poll_delay(delay);
    }
}

/// Logs each snapshot's copy progress. Only informative: a failure to read
/// the snapshots must not fail the wait.
async fn log_progress(clients: &AwsClients, image: &Image) {
    if image.snapshot_ids.is_empty() {
        log::info(
            "waiting for EC2 AMI copy",
            &[("image_id", &image.id), ("state", &image.state)],
        );
        return;
    }
    let progress = match find_snapshots_by_ids(clients, &image.snapshot_ids).await {
        Ok(snapshots) => snapshots
            .iter()
            .map(|s| format!("{} {}", s.id, s.progress.as_deref().unwrap_or("?")))
            .collect::<Vec<_>>()
            .join(", "),
        Err(_) => "unknown".to_owned(),
    };
    log::info(
        "waiting for EC2 AMI copy",
        &[
            ("image_id", &image.id),
            ("state", &image.state),
            ("snapshot_progress", &progress),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_backs_off_from_a_second_to_the_cap() {
        let mut delay = FIRST_POLL_DELAY;
        let mut seen = vec![delay];
        for _ in 0..12 {
            delay = next_poll_delay(delay);
            seen.push(delay);
        }
        assert_eq!(seen[0], Duration::from_secs(1));
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert_eq!(seen.last(), Some(&MAX_POLL_DELAY));
        // A 20 s copy is seen well before the cap would allow.
        let total: Duration = seen.iter().take(6).sum();
        assert!(total < Duration::from_secs(25), "{total:?}");
    }
}
