//! How soon the watcher looks again, from what the copies it watches say.
//!
//! A copy takes from seconds to hours, and EC2 reports how far it is only
//! through its snapshots' `progress` (a percentage, DescribeSnapshots).
//! Looking once a second throughout costs about 3,600 DescribeImages an hour
//! per account-region, spent from the request bucket every other tool in
//! the account shares (EC2 Developer Guide, "Request throttling for the
//! Amazon EC2 API"). So the looks follow the copy: once a second for the
//! first [`FAST_START`] (a short copy is seen within a second), then, from
//! the rate at which the progress moved since it was first read, about
//! halfway to the estimated end each time ([`SPARSE_CAP`] at most), and
//! once a second again when the end is near. A copy whose progress has not
//! moved yet is looked at every [`UNKNOWN_PAUSE`].
//!
//! Pure arithmetic over readings; the watcher makes the calls.

use std::time::Duration;

use tokio::time::Instant;

/// The pause between looks near the start and near the end of a copy.
pub(super) const NEAR_PAUSE: Duration = Duration::from_secs(1);
/// How long after a copy joins the looks stay a second apart.
pub(super) const FAST_START: Duration = Duration::from_secs(30);
/// The pause while a copy's progress has not moved since the first reading:
/// no rate to estimate the end from yet.
pub(super) const UNKNOWN_PAUSE: Duration = Duration::from_secs(5);
/// The longest pause, however far the estimated end: a copy whose progress
/// jumps (EC2 reports it coarsely) is noticed at most this late.
pub(super) const SPARSE_CAP: Duration = Duration::from_secs(30);
/// Below this estimated time left, the looks are [`NEAR_PAUSE`] apart and
/// the progress is no longer read.
const NEAR_END: Duration = Duration::from_secs(4);

/// What the watcher knows of one copy's pace.
#[derive(Debug, Clone)]
pub(super) struct Pace {
    /// When the watcher started watching it.
    since: Instant,
    /// The first progress reading and the latest: when, and the percentage.
    first: Option<(Instant, f64)>,
    latest: Option<(Instant, f64)>,
}

impl Pace {
    /// A copy the watcher starts watching at `now`.
    pub(super) fn new(now: Instant) -> Self {
        Pace {
            since: now,
            first: None,
            latest: None,
        }
    }

    /// Records the copy's progress read at `at`: the least of its
    /// snapshots' percentages (`"42%"`), since the copy ends with the last.
    /// Nothing is recorded when no snapshot reports one.
    pub(super) fn record<'a>(&mut self, at: Instant, progress: impl IntoIterator<Item = &'a str>) {
        let least = progress
            .into_iter()
            .filter_map(|p| p.trim().trim_end_matches('%').trim().parse::<f64>().ok())
            .map(|p| p.clamp(0.0, 100.0))
            .reduce(f64::min);
        let Some(percent) = least else { return };
        self.first.get_or_insert((at, percent));
        self.latest = Some((at, percent));
    }

    /// The time left until the copy ends, estimated at `now` from the rate
    /// its progress moved since the first reading; `None` while it has not
    /// moved.
    pub(super) fn remaining(&self, now: Instant) -> Option<Duration> {
        let ((t0, p0), (t1, p1)) = (self.first?, self.latest?);
        if p1 >= 100.0 {
            return Some(Duration::ZERO);
        }
        let elapsed = t1.duration_since(t0).as_secs_f64();
        if p1 <= p0 || elapsed <= 0.0 {
            return None;
        }
        let rate = (p1 - p0) / elapsed;
        let left_at_reading = Duration::from_secs_f64((100.0 - p1) / rate);
        Some(left_at_reading.saturating_sub(now.duration_since(t1)))
    }

    /// Whether the next look should also read the copy's progress: past the
    /// fast start, and not yet near the end.
    pub(super) fn wants_progress(&self, now: Instant) -> bool {
        now.duration_since(self.since) >= FAST_START
            && self.remaining(now).is_none_or(|left| left > NEAR_END)
    }

    /// The pause before the next look this copy asks for at `now`.
    pub(super) fn pause(&self, now: Instant) -> Duration {
        if now.duration_since(self.since) < FAST_START {
            return NEAR_PAUSE;
        }
        match self.remaining(now) {
            None => UNKNOWN_PAUSE,
            Some(left) if left <= NEAR_END => NEAR_PAUSE,
            Some(left) => (left / 2).clamp(NEAR_PAUSE, SPARSE_CAP),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_new_copy_is_looked_at_every_second() {
        let start = Instant::now();
        let pace = Pace::new(start);
        assert_eq!(pace.pause(start), NEAR_PAUSE);
        assert_eq!(pace.pause(start + secs(29)), NEAR_PAUSE);
        assert!(!pace.wants_progress(start + secs(29)));
        assert!(pace.wants_progress(start + FAST_START));
    }

    #[test]
    fn progress_that_has_not_moved_gives_the_unknown_pause() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        assert_eq!(pace.pause(start + secs(31)), UNKNOWN_PAUSE);
        pace.record(start + secs(31), ["10%", "12%"]);
        pace.record(start + secs(36), ["10%", "15%"]);
        assert_eq!(pace.remaining(start + secs(36)), None);
        assert_eq!(pace.pause(start + secs(36)), UNKNOWN_PAUSE);
        pace.record(start + secs(40), ["no figure"]);
        assert_eq!(
            pace.latest,
            Some((start + secs(36), 10.0)),
            "a reading without figures is ignored"
        );
    }

    #[test]
    fn a_long_copy_is_looked_at_sparsely_then_every_second_near_its_end() {
        // A 300 s copy whose progress moves linearly: 1% every 3 s.
        let start = Instant::now();
        let mut pace = Pace::new(start);
        let progress_at = |t: u64| format!("{}%", t / 3);
        let mut now = start;
        let mut looks = 0;
        while now.duration_since(start) < secs(300) {
            looks += 1;
            let t = now.duration_since(start).as_secs();
            if pace.wants_progress(now) {
                pace.record(now, [progress_at(t).as_str()]);
            }
            now += pace.pause(now);
        }
        // Once a second for 30 s, then sparse: far fewer than one look a second...
        assert!(looks < 60, "{looks} looks over 300 s");
        // ...and the looks are a second apart again by the end.
        assert_eq!(pace.pause(start + secs(299)), NEAR_PAUSE);
        // The last look before the end is at most a couple of seconds early.
        assert!(
            now.duration_since(start) <= secs(302),
            "{:?}",
            now.duration_since(start)
        );
    }

    #[test]
    fn the_pause_is_capped_and_finished_progress_means_near() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        pace.record(start + secs(30), ["0%"]);
        pace.record(start + secs(60), ["1%"]);
        assert_eq!(pace.pause(start + secs(60)), SPARSE_CAP, "hours left");
        pace.record(start + secs(90), ["100%"]);
        assert_eq!(pace.remaining(start + secs(90)), Some(Duration::ZERO));
        assert_eq!(pace.pause(start + secs(90)), NEAR_PAUSE);
        assert!(!pace.wants_progress(start + secs(90)));
    }
}
