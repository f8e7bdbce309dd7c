//! The `timeouts` block and what it means: how long a create and a destroy
//! wait, as `Duration`s. The defaults are constants here, and the block's
//! descriptions are written from them, so the docs cannot name another.

use std::time::Duration;

use crate::duration::parse_duration;
use crate::protocol::declare::model;
use crate::protocol::diagnostics::{AttrPath, Diagnostic, Diagnostics};
use crate::protocol::typed::Field;

/// Default `timeouts.create`: longer than the aws provider's 40m, because
/// large cross-region copies exceed it; a timeout no longer taints anyway.
pub(super) const DEFAULT_CREATE: Duration = Duration::from_secs(60 * 60);
/// Default `timeouts.delete`.
pub(super) const DEFAULT_DELETE: Duration = Duration::from_secs(30 * 60);
/// What a time-based copy's default create timeout adds to its duration:
/// EC2 aims to finish within the duration, and the wait polls once a second.
const COMPLETION_MARGIN: Duration = Duration::from_secs(30 * 60);

model! {
    /// The `timeouts` block.
    pub(crate) struct Timeouts("How long operations may take.") {
        create: String [optional] format!(
            "How long create (and an apply that finishes an interrupted copy) waits for the copy to become \
             available. Default `{}`, or `completion_duration_minutes` plus 30 minutes when \
             that is longer. When it passes, the copy is kept in state as \
             `pending` with a warning, and the next apply waits for it.",
            in_minutes(DEFAULT_CREATE)
        ),
        delete: String [optional] format!(
            "How long destroy waits for the copy's snapshots to be deleted. Default `{}`.",
            in_minutes(DEFAULT_DELETE)
        ),
    }
}

/// How long a create (or an update finishing a pending copy) waits: the
/// configured `timeouts.create`, else the default, which a time-based copy
/// (`completion_minutes`) lengthens.
pub(super) fn create(block: &Field<Timeouts>, completion_minutes: &Field<i64>) -> Duration {
    let configured = block.known().and_then(|t| configured(&t.create));
    configured
        .unwrap_or_else(|| create_default(DEFAULT_CREATE, completion_minutes.known().copied()))
}

/// How long a destroy waits: the configured `timeouts.delete`, else the default.
pub(super) fn delete(block: &Field<Timeouts>) -> Duration {
    let configured = block.known().and_then(|t| configured(&t.delete));
    configured.unwrap_or(DEFAULT_DELETE)
}

/// The block's static checks: each configured value must be a duration.
pub(super) fn check(block: &Field<Timeouts>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let Some(timeouts) = block.known() else {
        return diags;
    };
    for (name, value) in [("create", &timeouts.create), ("delete", &timeouts.delete)] {
        if let Some(text) = value.known() {
            if parse_duration(text).is_none() {
                let path = AttrPath::root("timeouts").attr(name);
                diags.push(
                    Diagnostic::error(
                        "Invalid timeout",
                        format!("timeouts.{name} must be a duration such as \"60m\" or \"1h30m\", got {text:?}."),
                    )
                    .at(path),
                );
            }
        }
    }
    diags
}

/// A configured duration; one that does not parse counts as not set
/// (validation has refused it already).
fn configured(field: &Field<String>) -> Option<Duration> {
    field.known().and_then(|text| parse_duration(text))
}

/// The default `timeouts.create` for a copy: `usual`, or the time-based
/// copy's duration plus a margin when that is longer.
fn create_default(usual: Duration, completion_minutes: Option<i64>) -> Duration {
    let Some(minutes) = completion_minutes.and_then(|m| u64::try_from(m).ok()) else {
        return usual;
    };
    usual.max(Duration::from_secs(minutes * 60) + COMPLETION_MARGIN)
}

/// A whole number of minutes as users write it (`60m`), for the docs.
fn in_minutes(duration: Duration) -> String {
    format!("{}m", duration.as_secs() / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_based_copy_waits_at_least_its_duration() {
        let usual = Duration::from_secs(3600);
        assert_eq!(create_default(usual, None), usual);
        assert_eq!(create_default(usual, Some(15)), usual);
        assert_eq!(
            create_default(usual, Some(2880)),
            Duration::from_secs((2880 + 30) * 60)
        );
    }

    /// The defaults users read in the docs, and the ones applied.
    #[test]
    fn defaults_are_an_hour_to_create_and_half_an_hour_to_delete() {
        assert_eq!(in_minutes(DEFAULT_CREATE), "60m");
        assert_eq!(in_minutes(DEFAULT_DELETE), "30m");
        assert_eq!(create(&Field::Null, &Field::Null), DEFAULT_CREATE);
        assert_eq!(delete(&Field::Null), DEFAULT_DELETE);
        assert_eq!(
            create(&Field::Null, &Field::Known(2880)),
            Duration::from_secs((2880 + 30) * 60)
        );
    }

    #[test]
    fn a_configured_timeout_wins_over_every_default() {
        let block = Field::Known(Timeouts {
            create: Field::Known("2h".to_owned()),
            delete: Field::Known("45m".to_owned()),
        });
        assert_eq!(
            create(&block, &Field::Known(2880)),
            Duration::from_secs(2 * 3600)
        );
        assert_eq!(delete(&block), Duration::from_secs(45 * 60));
        let unset = Field::Known(Timeouts::default());
        assert_eq!(create(&unset, &Field::Null), DEFAULT_CREATE);
    }
}
