//! Durations written the way Terraform users write them: `90s`, `45m`,
//! `1h30m` (Go's `time.ParseDuration` units h, m, s, ms).

use std::time::Duration;

/// Parses a duration such as `1h30m`; `None` when it is not one.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let amount: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += amount * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_style_durations() {
        let cases: [(&str, Option<u64>); 9] = [
            ("90s", Some(90)),
            ("45m", Some(2700)),
            ("1h30m", Some(5400)),
            ("1.5h", Some(5400)),
            ("2h0m10s", Some(7210)),
            ("", None),
            ("10", None),
            ("5 minutes", None),
            ("h", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text).map(|d| d.as_secs()), want, "{text:?}");
        }
    }
}
