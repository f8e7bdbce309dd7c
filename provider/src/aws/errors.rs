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
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::denied;

/// How much of an unreadable answer's body an error shows: enough to
/// recognise an HTML error page or a proxy's message, short enough to read.
const UNREADABLE_BODY_PREFIX: usize = 200;

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
    /// STS refused to let the credentials assume the configured role (the
    /// role does not exist, its trust policy does not name the caller, a
    /// wrong external id, ...).
    AssumeRole,
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
    /// A service error keeps AWS's code and message. An answer the SDK
    /// could not read (no error code in it, or not the service's format)
    /// keeps its HTTP status and the start of its body, which is all a user
    /// can go on. Any other failure keeps the SDK's whole error chain,
    /// because its top level alone ("dispatch failure") does not tell the
    /// user what went wrong.
    pub fn from_sdk<E>(context: impl Into<String>, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        Self::from_sdk_ref(context, &err)
    }

    /// [`AwsError::from_sdk`] for an SDK error found inside another one (an
    /// AssumeRole refusal inside a credentials failure).
    pub(crate) fn from_sdk_ref<E>(
        context: impl Into<String>,
        err: &SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let context = context.into();
        match err {
            SdkError::ServiceError(service) if service.err().code().is_some() => {
                return Self::from_metadata(ErrorKind::Service, context, service.err());
            }
            SdkError::ServiceError(service) => {
                return Self::unreadable(context, service.raw());
            }
            SdkError::ResponseError(response) => {
                return Self::unreadable(context, response.raw());
            }
            _ => {}
        }
        let kind = if source_chain(err).any(|e| e.is::<CredentialsError>()) {
            ErrorKind::Credentials
        } else {
            ErrorKind::Transport
        };
        Self {
            kind,
            context,
            code: None,
            message: render_chain(err),
        }
    }

    /// An HTTP answer the SDK could not turn into an AWS error: its status
    /// and the first [`UNREADABLE_BODY_PREFIX`] characters of its body.
    fn unreadable(context: String, raw: &HttpResponse) -> Self {
        let body = raw
            .body()
            .bytes()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut prefix: String = body.chars().take(UNREADABLE_BODY_PREFIX).collect();
        if prefix.len() < body.len() {
            prefix.push_str("...");
        }
        let status = raw.status().as_u16();
        Self {
            kind: if status >= 500 {
                ErrorKind::Transport
            } else {
                ErrorKind::Service
            },
            context,
            code: None,
            message: if prefix.is_empty() {
                format!("unreadable answer: HTTP {status} with an empty body")
            } else {
                format!("unreadable answer: HTTP {status}: {prefix}")
            },
        }
    }

    /// Replaces the context, for a caller that knows the real cause better
    /// than the call that surfaced it (credentials fail on the first call).
    #[must_use]
    pub(crate) fn with_context(mut self, context: impl Into<String>) -> Self {
        self.context = context.into();
        self
    }

    /// Reclassifies the error, for a caller that knows what failing here
    /// means (a refused AssumeRole is a credentials failure).
    #[must_use]
    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
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
        let code = err.code().map(str::to_owned);
        let message = match err.message() {
            Some(message) => code
                .as_deref()
                .and_then(|code| denied::explain(code, message))
                .unwrap_or_else(|| message.to_owned()),
            None => DisplayErrorContext(err).to_string(),
        };
        Self {
            kind,
            context: context.into(),
            code,
            message,
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

/// Turns a finder's typed NotFound into `Ok(None)`, for callers to whom a
/// missing object is a state to act on rather than a failure.
pub trait Optional<T> {
    /// `Ok(Some(found))`, `Ok(None)` for [`AwsError::is_not_found`], else the error.
    fn optional(self) -> Result<Option<T>, AwsError>;
}

impl<T> Optional<T> for Result<T, AwsError> {
    fn optional(self) -> Result<Option<T>, AwsError> {
        match self {
            Ok(found) => Ok(Some(found)),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(err),
        }
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
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn answer(status: u16, body: &str) -> HttpResponse {
        let status = StatusCode::try_from(status).expect("a valid status");
        HttpResponse::new(status, SdkBody::from(body.to_owned()))
    }

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
        let sdk: SdkError<DescribeImagesError, HttpResponse> =
            SdkError::service_error(DescribeImagesError::generic(meta), answer(400, ""));
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
        let sdk: SdkError<DescribeImagesError, HttpResponse> = SdkError::construction_failure(io);
        assert_eq!(error_code(&sdk), None);
        let err = AwsError::from_sdk("calling EC2 DescribeImages", sdk);
        assert_eq!(err.kind(), ErrorKind::Transport);
        assert_eq!(err.code(), None);
        assert!(err.to_string().contains("connection refused"), "{err}");
    }

    #[test]
    fn unreadable_answers_show_status_and_the_start_of_the_body() {
        // An STS-style client meeting an EC2-style body, or a proxy's HTML
        // page: the SDK finds no error code and calls the error unhandled.
        let page = format!(
            "<html>\n  <body>Bad Gateway {}</body></html>",
            "x".repeat(400)
        );
        let sdk: SdkError<DescribeImagesError, HttpResponse> = SdkError::service_error(
            DescribeImagesError::generic(ErrorMetadata::builder().build()),
            answer(502, &page),
        );
        let err = AwsError::from_sdk("calling STS GetCallerIdentity", sdk);
        assert_eq!(err.code(), None);
        assert_eq!(err.kind(), ErrorKind::Transport);
        let text = err.to_string();
        assert!(
            text.starts_with(
                "calling STS GetCallerIdentity: unreadable answer: HTTP 502: <html> <body>Bad Gateway xxx"
            ),
            "{text}"
        );
        assert!(text.ends_with("..."), "{text}");
        assert!(text.len() < 300, "{text}");
        assert!(!text.contains("Unhandled"), "{text}");

        let empty: SdkError<DescribeImagesError, HttpResponse> = SdkError::service_error(
            DescribeImagesError::generic(ErrorMetadata::builder().build()),
            answer(403, ""),
        );
        let err = AwsError::from_sdk("calling EC2 DescribeImages", empty);
        assert_eq!(err.kind(), ErrorKind::Service);
        assert_eq!(
            err.to_string(),
            "calling EC2 DescribeImages: unreadable answer: HTTP 403 with an empty body"
        );
    }

    #[test]
    fn credentials_failures_are_recognised_by_type() {
        let creds = CredentialsError::not_loaded("no providers in chain provided credentials");
        let sdk: SdkError<DescribeImagesError, HttpResponse> =
            SdkError::construction_failure(creds);
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
