//! Terraform's machine-readable output, as a reviewer's tools read it: the diagnostics of
//! `terraform plan -json` (with the configuration line each one points at) and the saved plan of
//! `terraform show -json <planfile>` (every resource's before and after values).

use serde_json::Value;

use crate::process::RunOutput;
use crate::Workdir;

/// Terraform core's own warning in every run that uses dev_overrides, as the harness does; it
/// says nothing about the configuration under test.
const DEV_OVERRIDES_WARNING: &str = "Provider development overrides are in effect";

/// One diagnostic of `terraform plan -json`.
#[derive(Debug, Clone)]
pub struct JsonDiagnostic {
    /// `error` or `warning`.
    pub severity: String,
    /// The summary line.
    pub summary: String,
    /// The detail text.
    pub detail: String,
    /// The resource address it is about, when Terraform names one.
    pub address: String,
    /// The configuration line Terraform highlights (its `snippet.code`): for a diagnostic with
    /// an attribute path, the line of that attribute; empty when there is none.
    pub code: String,
    /// The highlighted part of `code` (Terraform's highlight offsets).
    pub highlight: String,
}

impl JsonDiagnostic {
    fn from_json(value: &Value) -> Self {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let snippet = &value["snippet"];
        let code = text(&snippet["code"]);
        let offset = |name: &str| snippet[name].as_u64().map(|n| n as usize);
        let highlight = match (
            offset("highlight_start_offset"),
            offset("highlight_end_offset"),
        ) {
            (Some(start), Some(end)) if start <= end && end <= code.len() => {
                code.get(start..end).unwrap_or_default().to_owned()
            }
            _ => String::new(),
        };
        Self {
            severity: text(&value["severity"]),
            summary: text(&value["summary"]),
            detail: text(&value["detail"]),
            address: text(&value["address"]),
            code,
            highlight,
        }
    }
}

/// What `terraform plan -json` reported.
#[derive(Debug)]
pub struct JsonPlan {
    /// The run itself (stdout is the JSON lines).
    pub output: RunOutput,
    /// Every diagnostic except Terraform's dev_overrides notice, in order.
    pub diagnostics: Vec<JsonDiagnostic>,
}

impl JsonPlan {
    /// The diagnostics of `severity` (`error` or `warning`).
    pub fn of(&self, severity: &str) -> Vec<&JsonDiagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .collect()
    }

    /// The one error, with the whole output in the panic message when there is not exactly one.
    #[track_caller]
    pub fn only_error(&self) -> &JsonDiagnostic {
        match self.of("error").as_slice() {
            [one] => one,
            other => panic!(
                "expected exactly one error, got {other:#?}\n{}",
                self.output
            ),
        }
    }
}

impl Workdir {
    /// `terraform plan -json`, whatever its outcome, with its diagnostics parsed.
    pub fn plan_json(&self) -> JsonPlan {
        let output = self.run(&["plan", "-json", "-input=false"]);
        let diagnostics = output
            .stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["type"] == "diagnostic")
            .map(|line| JsonDiagnostic::from_json(&line["diagnostic"]))
            .filter(|d| d.summary != DEV_OVERRIDES_WARNING)
            .collect();
        JsonPlan {
            output,
            diagnostics,
        }
    }

    /// `terraform plan -out` and `terraform show -json` of that plan file, parsed. Panics with
    /// the output when the plan fails.
    #[track_caller]
    pub fn saved_plan(&self) -> Value {
        self.run(&["plan", "-input=false", "-no-color", "-out=review.tfplan"])
            .assert_success();
        let shown = self
            .run(&["show", "-json", "-no-color", "review.tfplan"])
            .assert_success();
        serde_json::from_str(&shown.stdout)
            .unwrap_or_else(|err| panic!("parsing the saved plan: {err}: {shown}"))
    }
}

/// The `change` object of `address` in a saved plan (`actions`, `before`, `after`, ...).
#[track_caller]
pub fn resource_change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["address"] == address)
        .map(|r| &r["change"])
        .unwrap_or_else(|| panic!("{address} is not in the plan: {plan:#}"))
}
