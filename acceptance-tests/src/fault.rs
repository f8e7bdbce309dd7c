//! Faults the stand-in injects into AWS calls, in the admin API's JSON form.

use serde_json::{json, Value};

/// A fault to inject into calls of one EC2/STS/KMS action. Unset fields take the stand-in's
/// defaults; build with [`Fault::error`] or [`Fault::latency`] and refine with the setters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fault {
    /// The API action, such as "CopyImage".
    pub action: String,
    /// Only calls made as this account; all accounts when `None`.
    pub account: Option<String>,
    /// The AWS error code to answer with, such as "RequestLimitExceeded".
    pub error_code: Option<String>,
    /// The HTTP status of the error answer.
    pub http_status: Option<u16>,
    /// Affect only the next `count` matching calls.
    pub count: Option<u32>,
    /// Affect this fraction (0.0 to 1.0) of matching calls.
    pub rate: Option<f64>,
    /// Delay matching calls by this many seconds.
    pub latency_seconds: Option<f64>,
    /// Close the connection instead of answering.
    pub drop_connection: bool,
    /// Answer with success and an empty list (DescribeImages, DescribeSnapshots only), as a read
    /// that lags a write does.
    pub empty_answer: bool,
    /// The error message; the stand-in picks one when `None`.
    pub message: Option<String>,
    /// Only calls carrying these request parameters with these values (wire names, such as
    /// `RoleArn` for STS AssumeRole).
    pub params: Vec<(String, String)>,
}

impl Fault {
    /// Answer `action` with the AWS error `code` and HTTP `status`.
    pub fn error(action: &str, code: &str, status: u16) -> Self {
        Self {
            action: action.to_string(),
            error_code: Some(code.to_string()),
            http_status: Some(status),
            ..Self::default()
        }
    }

    /// Delay `action` by `seconds`.
    pub fn latency(action: &str, seconds: f64) -> Self {
        Self {
            action: action.to_string(),
            latency_seconds: Some(seconds),
            ..Self::default()
        }
    }

    /// Restricts the fault to calls made as `account`.
    pub fn account(mut self, account: &str) -> Self {
        self.account = Some(account.to_string());
        self
    }

    /// Restricts the fault to the next `count` matching calls.
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// Closes the connection instead of answering, as a network failure would.
    pub fn drop_connection(action: &str) -> Self {
        Self {
            action: action.to_string(),
            drop_connection: true,
            ..Self::default()
        }
    }

    /// Answers `action` (DescribeImages or DescribeSnapshots) with success and nothing listed, as
    /// a read lagging a write does.
    pub fn empty_answer(action: &str) -> Self {
        Self {
            action: action.to_string(),
            empty_answer: true,
            ..Self::default()
        }
    }

    /// Restricts the fault to calls whose request parameter `name` is `value`.
    pub fn param(mut self, name: &str, value: &str) -> Self {
        self.params.push((name.to_string(), value.to_string()));
        self
    }

    /// Restricts the fault to a fraction of matching calls.
    pub fn rate(mut self, rate: f64) -> Self {
        self.rate = Some(rate);
        self
    }

    /// The admin API's JSON form: unset fields are omitted so the stand-in applies its defaults.
    pub(crate) fn to_json(&self) -> Value {
        let mut body = json!({
            "action": self.action,
            "drop_connection": self.drop_connection,
            "empty_answer": self.empty_answer,
        });
        if !self.params.is_empty() {
            let params: serde_json::Map<String, Value> = self
                .params
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect();
            body["params"] = Value::Object(params);
        }
        let optional = [
            ("account", self.account.clone().map(Value::from)),
            ("error_code", self.error_code.clone().map(Value::from)),
            ("http_status", self.http_status.map(Value::from)),
            ("count", self.count.map(Value::from)),
            ("rate", self.rate.map(Value::from)),
            ("latency_seconds", self.latency_seconds.map(Value::from)),
            ("message", self.message.clone().map(Value::from)),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                body[key] = value;
            }
        }
        body
    }
}
