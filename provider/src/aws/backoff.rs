//! The pauses of the provider's retry loops: a first look after about a
//! second, then longer pauses up to a cap, so a short wait is not made
//! slow and a long one does not flood EC2.

use std::time::Duration;

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
    }
}
