//! The copy's lifecycle controls as pure rules: what the configuration asks
//! for (protection, deprecation, time-based copy), what is valid, and how
//! what EC2 reports maps back onto the model without a false diff. No AWS
//! here, so all of it is unit-tested.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::aws::image_controls::Protection;
use crate::protocol::typed::Field;

use super::model::{CopyModel, ProtectionModel};

/// The shortest time-based copy EC2 accepts, in minutes; also its step.
pub(super) const COMPLETION_STEP_MINUTES: i64 = 15;
/// The longest, in minutes (48 hours).
pub(super) const COMPLETION_MAX_MINUTES: i64 = 2880;
/// How far ahead EC2 lets a deprecation be scheduled, in years.
const DEPRECATION_MAX_YEARS: i32 = 10;

/// `completion_duration_minutes` as EC2 allows it: 15 to 2880 in steps of 15.
pub(super) fn completion_duration(minutes: i64) -> Result<(), String> {
    if (COMPLETION_STEP_MINUTES..=COMPLETION_MAX_MINUTES).contains(&minutes)
        && minutes % COMPLETION_STEP_MINUTES == 0
    {
        return Ok(());
    }
    Err(format!(
        "must be {COMPLETION_STEP_MINUTES} to {COMPLETION_MAX_MINUTES} minutes in steps of {COMPLETION_STEP_MINUTES} \
         (as EC2's SnapshotCopyCompletionDurationMinutes), got {minutes}"
    ))
}

/// An RFC 3339 time, as `deprecation_time` holds it.
pub(super) fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        format!("must be an RFC 3339 time such as \"2027-06-30T00:00:00Z\", got {text:?}")
    })
}

/// `at` rounded to the nearest minute, as EC2 rounds a deprecation time
/// (half a minute rounds up).
pub(super) fn rounded_to_minute(at: OffsetDateTime) -> OffsetDateTime {
    let whole = at
        .replace_nanosecond(0)
        .and_then(|t| t.replace_second(0))
        .unwrap_or(at);
    if at.second() >= 30 {
        whole + time::Duration::minutes(1)
    } else {
        whole
    }
}

/// Ten years after `now`, the latest deprecation EC2 accepts (29 February
/// counts from 28 February).
fn latest_deprecation(now: OffsetDateTime) -> OffsetDateTime {
    let year = now.year() + DEPRECATION_MAX_YEARS;
    now.replace_year(year)
        .or_else(|_| now.replace_day(28).and_then(|t| t.replace_year(year)))
        .unwrap_or(now)
}

/// Whether EC2 would take `at` as a new deprecation time at `now`: in the
/// future once rounded, and at most 10 years ahead.
pub(super) fn deprecation_window(at: OffsetDateTime, now: OffsetDateTime) -> Result<(), String> {
    let when = rounded_to_minute(at);
    let shown = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    if when <= now {
        return Err(format!(
            "is in the past ({} rounded to the minute, now is {}); EC2 deprecates only at a future time",
            shown(when),
            shown(now)
        ));
    }
    let latest = latest_deprecation(now);
    if when > latest {
        return Err(format!(
            "is more than {DEPRECATION_MAX_YEARS} years ahead ({}); EC2 accepts up to {}",
            shown(when),
            shown(latest)
        ));
    }
    Ok(())
}

/// `deprecation_time` after a refresh: `reported` is EC2's DeprecationTime
/// (empty when none). The prior text stays when it rounds to what EC2
/// reports, so a configured `...:30Z` never shows as a diff.
pub(super) fn deprecation_field(prior: &Field<String>, reported: &str) -> Field<String> {
    if reported.is_empty() {
        return Field::Null;
    }
    let same = match (prior.known().map(|p| parse_time(p)), parse_time(reported)) {
        (Some(Ok(configured)), Ok(found)) => rounded_to_minute(configured) == found,
        _ => false,
    };
    if same {
        prior.clone()
    } else {
        Field::Known(reported.to_owned())
    }
}

/// The deprecation `model` asks for: `Ok(None)` for none.
pub(super) fn wanted_deprecation(model: &CopyModel) -> Result<Option<OffsetDateTime>, String> {
    model
        .deprecation_time
        .known()
        .map(|t| parse_time(t))
        .transpose()
}

/// Whether `model`'s deprecation is what EC2 reports.
pub(super) fn deprecation_in_place(model: &CopyModel, reported: &str) -> bool {
    deprecation_field(&model.deprecation_time, reported) == model.deprecation_time
}

/// The protection `model` asks for: `Some(with_cooldown)` when on.
pub(super) fn wanted_protection(model: &CopyModel) -> Option<bool> {
    let block = model.deregistration_protection.known()?;
    (block.enabled.known() == Some(&true)).then(|| block.with_cooldown.known() == Some(&true))
}

/// Whether EC2's `found` protection is what `model` asks for.
pub(super) fn protection_in_place(model: &CopyModel, found: &Protection) -> bool {
    match (wanted_protection(model), found) {
        (Some(wanted), Protection::On { with_cooldown }) => wanted == *with_cooldown,
        (None, Protection::Off | Protection::CoolingDown { .. }) => true,
        _ => false,
    }
}

/// `deregistration_protection` after a refresh. No block stays no block
/// while protection is off, and an unset `with_cooldown` stays unset while
/// there is no cooldown, so neither shows as a diff.
pub(super) fn protection_field(
    prior: &Field<ProtectionModel>,
    found: &Protection,
) -> Field<ProtectionModel> {
    let prior_cooldown = prior
        .known()
        .map_or(Field::Null, |p| p.with_cooldown.clone());
    match found {
        Protection::On { with_cooldown } => Field::Known(ProtectionModel {
            enabled: Field::Known(true),
            with_cooldown: match (with_cooldown, &prior_cooldown) {
                (true, _) => Field::Known(true),
                (false, Field::Known(false)) => Field::Known(false),
                (false, _) => Field::Null,
            },
        }),
        Protection::Off | Protection::CoolingDown { .. } => match prior {
            Field::Known(_) => Field::Known(ProtectionModel {
                enabled: Field::Known(false),
                with_cooldown: prior_cooldown,
            }),
            _ => Field::Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn completion_duration_takes_fifteen_minute_steps_up_to_two_days() {
        for ok in [15, 30, 120, 2880] {
            assert_eq!(completion_duration(ok), Ok(()), "{ok}");
        }
        for bad in [0, 14, 20, 2881, 2895, -15] {
            assert!(completion_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn deprecation_rounds_to_the_nearest_minute() {
        let round = |t| rounded_to_minute(t);
        assert_eq!(
            round(datetime!(2027-01-01 10:00:29.999 UTC)),
            datetime!(2027-01-01 10:00 UTC)
        );
        assert_eq!(
            round(datetime!(2027-01-01 10:00:30 UTC)),
            datetime!(2027-01-01 10:01 UTC)
        );
        assert_eq!(
            round(datetime!(2027-12-31 23:59:45 UTC)),
            datetime!(2028-01-01 00:00 UTC)
        );
    }

    #[test]
    fn deprecation_must_be_future_and_within_ten_years() {
        let now = datetime!(2026-12-02 12:00:10 UTC);
        assert!(deprecation_window(datetime!(2026-12-02 12:00:00 UTC), now).is_err());
        // Rounds down to 12:00, which is before now.
        assert!(deprecation_window(datetime!(2026-12-02 12:00:20 UTC), now).is_err());
        assert!(deprecation_window(datetime!(2026-12-02 12:01:00 UTC), now).is_ok());
        assert!(deprecation_window(datetime!(2036-12-02 12:00:00 UTC), now).is_ok());
        assert!(deprecation_window(datetime!(2036-12-02 12:01:00 UTC), now).is_err());
        let leap = datetime!(2028-02-29 00:00 UTC);
        assert_eq!(latest_deprecation(leap), datetime!(2038-02-28 00:00 UTC));
    }

    #[test]
    fn a_rounded_deprecation_keeps_the_configured_text() {
        let prior = Field::Known("2027-01-01T10:00:40+00:00".to_owned());
        assert_eq!(deprecation_field(&prior, "2027-01-01T10:01:00.000Z"), prior);
        assert_eq!(
            deprecation_field(&prior, "2027-02-01T00:00:00.000Z"),
            Field::Known("2027-02-01T00:00:00.000Z".to_owned())
        );
        assert_eq!(deprecation_field(&prior, ""), Field::Null);
        assert_eq!(
            deprecation_field(&Field::Null, "2027-02-01T00:00:00.000Z"),
            Field::Known("2027-02-01T00:00:00.000Z".to_owned())
        );
    }

    fn block(enabled: bool, with_cooldown: Field<bool>) -> Field<ProtectionModel> {
        Field::Known(ProtectionModel {
            enabled: Field::Known(enabled),
            with_cooldown,
        })
    }

    #[test]
    fn protection_maps_back_without_false_diffs() {
        let on = |c| Protection::On { with_cooldown: c };
        assert_eq!(
            protection_field(&Field::Null, &Protection::Off),
            Field::Null
        );
        assert_eq!(
            protection_field(&Field::Null, &on(false)),
            block(true, Field::Null)
        );
        assert_eq!(
            protection_field(&block(true, Field::Known(false)), &on(false)),
            block(true, Field::Known(false))
        );
        assert_eq!(
            protection_field(&block(true, Field::Null), &on(true)),
            block(true, Field::Known(true))
        );
        assert_eq!(
            protection_field(&block(true, Field::Known(true)), &Protection::Off),
            block(false, Field::Known(true))
        );
        let cooling = Protection::CoolingDown {
            until: String::new(),
        };
        assert_eq!(protection_field(&Field::Null, &cooling), Field::Null);
    }

    #[test]
    fn wanted_protection_reads_the_block() {
        let mut model = CopyModel::default();
        assert_eq!(wanted_protection(&model), None);
        model.deregistration_protection = block(true, Field::Null);
        assert_eq!(wanted_protection(&model), Some(false));
        assert!(protection_in_place(
            &model,
            &Protection::On {
                with_cooldown: false
            }
        ));
        assert!(!protection_in_place(&model, &Protection::Off));
        model.deregistration_protection = block(true, Field::Known(true));
        assert_eq!(wanted_protection(&model), Some(true));
        model.deregistration_protection = block(false, Field::Known(true));
        assert_eq!(wanted_protection(&model), None);
        assert!(protection_in_place(&model, &Protection::Off));
    }
}
