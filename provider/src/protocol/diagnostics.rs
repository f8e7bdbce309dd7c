//! Diagnostics: the single way problems reach Terraform's user.
//!
//! Everything below the protocol boundary returns `Result`; errors turn into
//! [`Diagnostic`]s here, with the attribute path they concern so Terraform can
//! point at the offending line of configuration.

use std::fmt;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stops the operation.
    Error,
    /// Shown to the user; the operation goes on.
    Warning,
}

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// An attribute (or nested block) by name.
    Attribute(String),
    /// A map element by key.
    Key(String),
    /// A list element by position.
    Index(i64),
}

/// Where in a configuration or state value a diagnostic points.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    /// The path to a top-level attribute.
    pub fn root(name: &str) -> Self {
        Self(vec![PathStep::Attribute(name.to_owned())])
    }

    /// This path extended by an attribute name.
    pub fn attr(mut self, name: &str) -> Self {
        self.0.push(PathStep::Attribute(name.to_owned()));
        self
    }

    /// This path extended by a map key.
    pub fn key(mut self, key: &str) -> Self {
        self.0.push(PathStep::Key(key.to_owned()));
        self
    }

    /// This path extended by a list index.
    pub fn index(mut self, index: i64) -> Self {
        self.0.push(PathStep::Index(index));
        self
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => write!(f, "{name}")?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A problem (or warning) to show the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One line, like the aws provider's: "creating EC2 AMI copy".
    pub summary: String,
    /// The explanation: cause, AWS error code and what to do about it.
    pub detail: String,
    /// The attribute this is about, when there is one.
    pub path: Option<AttrPath>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        }
    }

    /// A warning diagnostic.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(summary, detail)
        }
    }

    /// The error for a value an attribute refuses, worded alike for every
    /// attribute: `Invalid <path>`, and `<path> <reason>.` at `path`.
    pub fn invalid(path: AttrPath, reason: &str) -> Self {
        Self::error(format!("Invalid {path}"), format!("{path} {reason}.")).at(path)
    }

    /// The same diagnostic, pointing at `path`.
    pub fn at(mut self, path: AttrPath) -> Self {
        self.path = Some(path);
        self
    }
}

/// An ordered collection of diagnostics; errors and warnings may mix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Adds every diagnostic of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// True when at least one diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// True when there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Logs each error with the RPC and type it answers, so a provider log
    /// (TF_LOG_PROVIDER) says which call failed, not only what Terraform
    /// printed.
    pub fn log_errors(&self, rpc: &str, type_name: &str) {
        for diagnostic in self.0.iter().filter(|d| d.severity == Severity::Error) {
            crate::log::warn(
                "RPC answered with an error",
                &[
                    ("rpc", rpc),
                    ("type", type_name),
                    ("summary", &diagnostic.summary),
                    ("detail", &diagnostic.detail),
                ],
            );
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Self(vec![diagnostic])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            match &d.path {
                Some(path) => writeln!(
                    f,
                    "{}: {} ({}): {}",
                    sev(d.severity),
                    d.summary,
                    path,
                    d.detail
                )?,
                None => writeln!(f, "{}: {}: {}", sev(d.severity), d.summary, d.detail)?,
            }
        }
        Ok(())
    }
}

fn sev(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_terraform_addresses() {
        let cases = [
            (AttrPath::root("image_id"), "image_id"),
            (
                AttrPath::root("assume_role").index(0).attr("role_arn"),
                "assume_role[0].role_arn",
            ),
            (AttrPath::root("tags").key("aws:x"), "tags[\"aws:x\"]"),
        ];
        for (path, want) in cases {
            assert_eq!(path.to_string(), want);
        }
    }

    #[test]
    fn errors_are_told_apart_from_warnings() {
        let mut diags = Diagnostics::new();
        diags.push(Diagnostic::warning("w", "only a warning"));
        assert!(!diags.has_errors());
        diags.push(Diagnostic::error("e", "an error"));
        assert!(diags.has_errors());
    }
}
