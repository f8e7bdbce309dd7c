//! The pauses of the provider's retry loops: a first look after about a
//! second, then longer pauses up to a cap, so a short wait is not made
//! slow and a long one does not flood EC2; and the reads that confirm a
//! write, since EC2 and KMS may show the old value for a while after it.

use std::future::Future;
use std::time::Duration;

use super::errors::AwsError;

/// The first pause of the retry loops that wait for something other than
/// a copy (a share becoming visible, a refused CopyImage).
pub const FIRST_POLL_DELAY: Duration = Duration::from_secs(1);
/// The longest pause of those loops, and of a throttled poll loop.
pub const MAX_POLL_DELAY: Duration = Duration::from_secs(15);
/// Growth of the pause after each look that found nothing new.
const POLL_BACKOFF_FACTOR: f64 = 1.5;

/// The next pause of a backing-off loop after `previous`.
pub fn next_poll_delay(previous: Duration) -> Duration {
    previous.mul_f64(POLL_BACKOFF_FACTOR).min(MAX_POLL_DELAY)
}

/// The first pauses between the reads that confirm a write (see
/// [`read_back_delays`]: about 5 minutes in all, as the provider's other
/// waits for AWS's consistency). EC2 is eventually consistent ("Eventual consistency in the Amazon EC2 API": a
/// write usually shows within seconds), and so are KMS grants ("Using a
/// grant token": usually seconds, in some cases several minutes); past this
/// budget a caller trusts the calls that succeeded and says so. A write
/// that shows at once costs one read.
const READ_BACK_FIRST_DELAYS: &[Duration] = &[
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(10),
    Duration::from_secs(10),
    Duration::from_secs(10),
];
/// After [`READ_BACK_FIRST_DELAYS`] (about 55 s), this pause...
const READ_BACK_LATER_DELAY: Duration = Duration::from_secs(15);
/// ...this many times (4 minutes).
const READ_BACK_LATER_READS: usize = 16;

/// The pauses of [`read_back`], in order.
fn read_back_delays() -> impl Iterator<Item = Duration> {
    READ_BACK_FIRST_DELAYS
        .iter()
        .copied()
        .chain(std::iter::repeat_n(
            READ_BACK_LATER_DELAY,
            READ_BACK_LATER_READS,
        ))
}

/// Reads past this long are logged at INFO (the first at DEBUG): a wait
/// the user notices says what it waits for.
const READ_BACK_NOTICED: Duration = Duration::from_secs(10);

/// Reads with `read` until what it returns `shows` the write just made,
/// pausing [`read_back_delays`] in between: the last reading, and whether
/// it showed the write. A read that fails ends the wait with its error.
pub async fn read_back<T, F, Fut>(
    mut read: F,
    shows: impl Fn(&T) -> bool,
    what: &str,
) -> Result<(T, bool), AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut reading = read().await?;
    let mut waited = Duration::ZERO;
    for delay in read_back_delays() {
        if shows(&reading) {
            return Ok((reading, true));
        }
        let fields = [
            ("what", what),
            ("waited_seconds", &waited.as_secs().to_string()),
        ];
        match waited >= READ_BACK_NOTICED {
            true => crate::log::info("waiting for AWS to show a change just made", &fields),
            false => crate::log::debug(
                "a change just made is not visible yet; reading again",
                &fields,
            ),
        }
        tokio::time::sleep(delay).await;
        waited += delay;
        reading = read().await?;
    }
    let shown = shows(&reading);
    Ok((reading, shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_back_waits_about_five_minutes_in_all() {
        let total: Duration = read_back_delays().sum();
        assert!(
            total >= Duration::from_secs(280) && total <= Duration::from_secs(310),
            "{total:?}"
        );
    }

    #[tokio::test]
    async fn read_back_stops_at_the_first_reading_that_shows_the_write() {
        let reads = std::cell::Cell::new(0);
        let (last, shown) = read_back(
            || {
                reads.set(reads.get() + 1);
                let n = reads.get();
                async move { Ok::<_, AwsError>(n) }
            },
            |n| *n >= 3,
            "test",
        )
        .await
        .expect("an answer");
        assert_eq!((last, shown, reads.get()), (3, true, 3));
    }

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
    }
}
