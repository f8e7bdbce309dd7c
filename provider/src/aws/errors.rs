//! The AWS layer's one error type, and helpers that read AWS error codes.
//!
//! Every failure that leaves this layer is an [`AwsError`]: what we were doing
//! (the context), the AWS error code when AWS answered with one, and a message.
//! Resources add their own context with [`AwsError::context`], so a user reads
//! "copying EC2 AMI (ami-1): calling EC2 CopyImage: InvalidAMIID.NotFound: ...".
//! Codes come from the SDK's error metadata, never from message text.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure an [`AwsError`] is, for callers that react to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider settings cannot produce a working client (missing region,
    /// half-set static credentials, an invalid retry setting, ...).
    Config,
    /// No credentials could be found, or loading them failed (including STS
    /// AssumeRole refusing the configured role).
    Credentials,
    /// The credentials work, but the account is excluded by
    /// `allowed_account_ids` or `forbidden_account_ids`.
    AccountNotAllowed,
    /// AWS answered the call with an error; [`AwsError::code`] says which.
    Service,
    /// The call never got an AWS answer: connection failure, timeout, or a
    /// response the SDK could not read.
    Transport,
    /// The object looked up does not exist (or no longer counts as existing,
    /// such as a deregistered AMI); finders fold AWS's many forms into this.
    NotFound,
}

/// An error from the AWS layer, ready to become a Terraform diagnostic.
///
/// The Display form is `<context>: <code>: <message>`, leaving out empty parts.
/// Nothing in it comes from credentials: messages are built from AWS answers
/// and SDK error chains, which never carry secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.context, .code.as_deref(), .message))]
pub struct AwsError {
    kind: ErrorKind,
    context: String,
    code: Option<String>,
    message: String,
}

impl AwsError {
    /// A settings problem found before (or while) building the clients.
    pub fn config(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Config,
            context: "configuring AWS client".to_owned(),
            code: None,
            message: message.into(),
        }
    }

    /// The account the credentials belong to is not one this provider may touch.
    /// `reason` is the list it failed, e.g. `allowed: 111111111111`.
    pub fn account_not_allowed(account_id: &str, reason: &str) -> Self {
        Self {
            kind: ErrorKind::AccountNotAllowed,
            context: String::new(),
            code: None,
            message: format!("AWS account ID not allowed: {account_id} ({reason})"),
        }
    }

    /// The object a finder looked for does not exist. `what` names it, e.g.
    /// "EC2 AMI (ami-1)"; `code` keeps AWS's code when AWS gave one.
    pub fn not_found(context: impl Into<String>, code: Option<&str>, what: &str) -> Self {
        Self {
            kind: ErrorKind::NotFound,
            context: context.into(),
            code: code.map(str::to_owned),
            message: format!("{what} not found"),
        }
    }

    /// Whether this is a [`ErrorKind::NotFound`] from a finder.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// Wraps a failed SDK call. `context` names the call, e.g.
    /// "calling STS GetCallerIdentity".
    ///
    /// A service error keeps AWS's code and message. Any other failure keeps
    /// the SDK's whole error chain, because its top level alone ("dispatch
    /// failure") does not tell the user what went wrong.
    pub fn from_sdk<E, R>(context: impl Into<String>, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: fmt::Debug + 'static,
    {
        let context = context.into();
        if let SdkError::ServiceError(service) = &err {
            return Self::from_metadata(ErrorKind::Service, context, service.err());
        }
        let kind = if source_chain(&err).any(|e| e.is::<CredentialsError>()) {
            ErrorKind::Credentials
        } else {
            ErrorKind::Transport
        };
        Self {
            kind,
            context,
            code: None,
            message: render_chain(&err),
        }
    }

    /// Replaces the context, for a caller that knows the real cause better
    /// than the call that surfaced it (credentials fail on the first call).
    #[must_use]
    pub(crate) fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context = context.into();
        self
    }

    /// Prepends what the caller was doing: `outer: <this error>`.
    #[must_use]
    pub fn context(mut self, outer: impl fmt::Display) -> Self {
        self.context = if self.context.is_empty() {
            outer.to_string()
        } else {
            format!("{outer}: {}", self.context)
        };
        self
    }

    /// Builds an error from an AWS error's metadata, for errors found inside
    /// another one (an AssumeRole refusal inside a credentials failure).
    pub(crate) fn from_metadata(
        kind: ErrorKind,
        context: impl Into<String>,
        err: &(impl ProvideErrorMetadata + StdError),
    ) -> Self {
        Self {
            kind,
            context: context.into(),
            code: err.code().map(str::to_owned),
            message: match err.message() {
                Some(message) => message.to_owned(),
                None => DisplayErrorContext(err).to_string(),
            },
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The AWS error code, when AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The message without context or code.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The AWS error code of a failed SDK call, if AWS answered with one.
pub fn error_code<E, R>(err: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    err.code()
}

/// Whether an AWS error code means "slow down". EC2 says RequestLimitExceeded;
/// other services use the Throttling family.
pub fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "RequestThrottled"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "SlowDown"
    )
}

/// Walks an error and its sources, outermost first.
pub(crate) fn source_chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |e: &&'a (dyn StdError + 'static)| (*e).source())
}

/// The messages of an error and its sources, joined with ": ". A source whose
/// message its parent already repeats is left out. (The SDK's
/// `DisplayErrorContext` also appends the whole Debug form, which is noise in
/// a Terraform diagnostic.)
fn render_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = String::new();
    for e in source_chain(err) {
        let message = e.to_string();
        if message.is_empty() || out.contains(&message) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&message);
    }
    out
}

fn render(context: &str, code: Option<&str>, message: &str) -> String {
    let mut out = String::new();
    for part in [context, code.unwrap_or_default(), message] {
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::operation::describe_images::DescribeImagesError;
    use aws_smithy_types::error::ErrorMetadata;

    #[test]
    fn display_joins_context_code_and_message() {
        let cases = [
            (
                AwsError::config("no region"),
                "configuring AWS client: no region",
            ),
            (
                AwsError::account_not_allowed("222222222222", "allowed: 111111111111"),
                "AWS account ID not allowed: 222222222222 (allowed: 111111111111)",
            ),
            (
                AwsError {
                    kind: ErrorKind::Service,
                    context: "calling STS GetCallerIdentity".to_owned(),
                    code: Some("InvalidClientTokenId".to_owned()),
                    message: "The security token included in the request is invalid.".to_owned(),
                }
                .context("configuring provider"),
                "configuring provider: calling STS GetCallerIdentity: InvalidClientTokenId: \
                 The security token included in the request is invalid.",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn context_on_an_error_without_one_does_not_leave_a_separator() {
        let err = AwsError::account_not_allowed("1", "forbidden").context("connecting");
        assert_eq!(
            err.to_string(),
            "connecting: AWS account ID not allowed: 1 (forbidden)"
        );
    }

    #[test]
    fn service_errors_keep_code_and_message() {
        let meta = ErrorMetadata::builder()
            .code("InvalidAMIID.NotFound")
            .message("The image id '[ami-1]' does not exist")
            .build();
        let sdk: SdkError<DescribeImagesError, ()> =
            SdkError::service_error(DescribeImagesError::generic(meta), ());
        assert_eq!(error_code(&sdk), Some("InvalidAMIID.NotFound"));
        let err = AwsError::from_sdk("calling EC2 DescribeImages", sdk);
        assert_eq!(err.kind(), ErrorKind::Service);
        assert_eq!(err.code(), Some("InvalidAMIID.NotFound"));
        assert_eq!(
            err.to_string(),
            "calling EC2 DescribeImages: InvalidAMIID.NotFound: The image id '[ami-1]' does not exist"
        );
    }

    #[test]
    fn transport_errors_keep_the_whole_chain_and_no_code() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let sdk: SdkError<DescribeImagesError, ()> = SdkError::construction_failure(io);
        assert_eq!(error_code(&sdk), None);
        let err = AwsError::from_sdk("calling EC2 DescribeImages", sdk);
        assert_eq!(err.kind(), ErrorKind::Transport);
        assert_eq!(err.code(), None);
        assert!(err.to_string().contains("connection refused"), "{err}");
    }

    #[test]
    fn credentials_failures_are_recognised_by_type() {
        let creds = CredentialsError::not_loaded("no providers in chain provided credentials");
        let sdk: SdkError<DescribeImagesError, ()> = SdkError::construction_failure(creds);
        assert_eq!(AwsError::from_sdk("x", sdk).kind(), ErrorKind::Credentials);
    }

    #[test]
    fn throttling_codes() {
        for code in ["RequestLimitExceeded", "Throttling", "ThrottlingException"] {
            assert!(is_throttling(code), "{code}");
        }
        for code in ["InvalidAMIID.NotFound", "ResourceLimitExceeded", ""] {
            assert!(!is_throttling(code), "{code}");
        }
    }
}
