//! Logging that Terraform shows under `TF_LOG` / `TF_LOG_PROVIDER`.
//!
//! go-plugin reads the plugin's stderr line by line; a line that is a JSON
//! object with `@level`, `@message` and `@timestamp` is re-logged by Terraform
//! at that level, with the other keys as fields. Terraform passes its
//! environment to the plugin, so we read the same variables to decide what
//! to emit. Callers choose the fields; credentials are never passed here.

use std::io::Write;
use std::sync::OnceLock;

/// Log levels, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Wire-level detail.
    Trace,
    /// What the provider is doing.
    Debug,
    /// Milestones worth showing at INFO.
    Info,
    /// Something unexpected that the provider works around.
    Warn,
    /// Something failed.
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// Parses Terraform's level names; anything else (including "off") is None.
    pub fn parse(name: &str) -> Option<Level> {
        match name.trim().to_ascii_lowercase().as_str() {
            "trace" | "json" => Some(Level::Trace),
            "debug" => Some(Level::Debug),
            "info" => Some(Level::Info),
            "warn" => Some(Level::Warn),
            "error" => Some(Level::Error),
            _ => None,
        }
    }
}

static THRESHOLD: OnceLock<Option<Level>> = OnceLock::new();

/// The level to emit at: `TF_LOG_PROVIDER` wins over `TF_LOG`; unset means
/// only warnings and errors, which Terraform shows when logging is on.
fn threshold() -> Option<Level> {
    *THRESHOLD.get_or_init(|| {
        let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match from_env("TF_LOG_PROVIDER").or_else(|| from_env("TF_LOG")) {
            Some(value) => Level::parse(&value),
            None => Some(Level::Warn),
        }
    })
}

/// True when a message at `level` would be written.
pub fn enabled(level: Level) -> bool {
    threshold().is_some_and(|t| level >= t)
}

/// Writes one log line with extra `fields`.
pub fn log(level: Level, message: &str, fields: &[(&str, &str)]) {
    if !enabled(level) {
        return;
    }
    let line = format_line(level, message, fields, &timestamp());
    // A failed write to stderr has nowhere better to be reported.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Debug-level convenience.
pub fn debug(message: &str, fields: &[(&str, &str)]) {
    log(Level::Debug, message, fields);
}

/// Info-level convenience.
pub fn info(message: &str, fields: &[(&str, &str)]) {
    log(Level::Info, message, fields);
}

/// Warn-level convenience.
pub fn warn(message: &str, fields: &[(&str, &str)]) {
    log(Level::Warn, message, fields);
}

fn timestamp() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

fn format_line(level: Level, message: &str, fields: &[(&str, &str)], timestamp: &str) -> String {
    let mut object = serde_json::Map::new();
    object.insert("@level".into(), level.as_str().into());
    object.insert("@message".into(), message.into());
    object.insert("@module".into(), "provider.imagecopier".into());
    object.insert("@timestamp".into(), timestamp.into());
    for (key, value) in fields {
        object.insert((*key).to_owned(), (*value).into());
    }
    serde_json::Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_hclog_json() -> Result<(), serde_json::Error> {
        let line = format_line(
            Level::Info,
            "copy \"done\"",
            &[("image_id", "ami-1")],
            "2026-01-01T00:00:00.000000Z",
        );
        let parsed: serde_json::Value = serde_json::from_str(&line)?;
        assert_eq!(parsed["@level"], "info");
        assert_eq!(parsed["@message"], "copy \"done\"");
        assert_eq!(parsed["image_id"], "ami-1");
        assert_eq!(parsed["@timestamp"], "2026-01-01T00:00:00.000000Z");
        Ok(())
    }

    #[test]
    fn level_names_follow_terraform() {
        let cases = [
            ("TRACE", Some(Level::Trace)),
            ("debug", Some(Level::Debug)),
            ("off", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(Level::parse(name), want, "{name}");
        }
    }
}
