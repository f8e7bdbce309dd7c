//! The error every dynamic-value codec returns.

use crate::protocol::diagnostics::{AttrPath, PathStep};

/// A value could not be encoded or decoded.
///
/// Carries the attribute path where it happened, both in the message
/// (`at assume_role[0].role_arn: expected string, found integer`) and as an
/// [`AttrPath`] so the protocol boundary can point a diagnostic at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {}: {message}", location(path))]
pub struct CodecError {
    path: AttrPath,
    message: String,
}

impl CodecError {
    /// An error at `path`.
    pub fn new(path: AttrPath, message: impl Into<String>) -> Self {
        Self {
            path,
            message: message.into(),
        }
    }

    /// An error at the path given as steps, as the codecs track it.
    pub(crate) fn at(steps: &[PathStep], message: impl Into<String>) -> Self {
        Self::new(AttrPath(steps.to_vec()), message)
    }

    /// Where the error happened; empty for the value as a whole.
    pub fn path(&self) -> &AttrPath {
        &self.path
    }

    /// What went wrong, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

fn location(path: &AttrPath) -> String {
    if path.0.is_empty() {
        "the root value".to_owned()
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_the_path() {
        let cases = [
            (AttrPath::default(), "at the root value: boom"),
            (
                AttrPath::root("assume_role").index(0).attr("role_arn"),
                "at assume_role[0].role_arn: boom",
            ),
            (
                AttrPath::root("tags").key("Name"),
                "at tags[\"Name\"]: boom",
            ),
        ];
        for (path, want) in cases {
            assert_eq!(CodecError::new(path, "boom").to_string(), want);
        }
    }
}
