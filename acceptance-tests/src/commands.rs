//! The Terraform commands tests run, with the flags automation needs.
//!
//! `assert`-style helpers (`apply`, `plan`, ...) panic with the full output on failure; their
//! `try_` twins return the output for tests that expect Terraform to fail.

use serde_json::Value;

use crate::process::{RunOutput, RunningProcess};
use crate::Workdir;

/// `plan -detailed-exitcode` exit code: no changes.
pub const PLAN_NO_CHANGES: i32 = 0;
/// `plan -detailed-exitcode` exit code: the plan has changes.
pub const PLAN_HAS_CHANGES: i32 = 2;

const APPLY: &[&str] = &["apply", "-auto-approve", "-input=false", "-no-color"];
const DESTROY: &[&str] = &["destroy", "-auto-approve", "-input=false", "-no-color"];

impl Workdir {
    /// `terraform init`. With dev_overrides it is not needed for our provider, only for modules.
    #[track_caller]
    pub fn init(&self) -> RunOutput {
        self.run(&["init", "-input=false", "-no-color"])
            .assert_success()
    }

    /// `terraform plan`, asserting success.
    #[track_caller]
    pub fn plan(&self) -> RunOutput {
        self.try_plan().assert_success()
    }

    /// `terraform plan`, whatever its outcome.
    pub fn try_plan(&self) -> RunOutput {
        self.run(&["plan", "-input=false", "-no-color"])
    }

    /// `terraform plan -detailed-exitcode`: [`PLAN_NO_CHANGES`] or [`PLAN_HAS_CHANGES`]. Panics with
    /// the output if the plan fails.
    #[track_caller]
    pub fn plan_detailed_exitcode(&self) -> i32 {
        let output = self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        match output.code {
            Some(code @ (PLAN_NO_CHANGES | PLAN_HAS_CHANGES)) if !output.timed_out => code,
            _ => panic!("plan failed: {output}"),
        }
    }

    /// Panics with the plan output unless the configuration and the state agree.
    #[track_caller]
    pub fn assert_plan_empty(&self) {
        let output = self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        assert!(
            output.code == Some(PLAN_NO_CHANGES) && !output.timed_out,
            "expected an empty plan: {output}"
        );
    }

    /// `terraform apply -auto-approve`, asserting success.
    #[track_caller]
    pub fn apply(&self) -> RunOutput {
        self.try_apply().assert_success()
    }

    /// `terraform apply -auto-approve`, whatever its outcome.
    pub fn try_apply(&self) -> RunOutput {
        self.run(APPLY)
    }

    /// Starts `terraform apply -auto-approve` in its own process group and returns at once, so a
    /// test can interrupt it.
    pub fn spawn_apply(&self) -> RunningProcess {
        self.spawn(APPLY)
    }

    /// Starts `terraform destroy -auto-approve` in its own process group and returns at once.
    pub fn spawn_destroy(&self) -> RunningProcess {
        self.spawn(DESTROY)
    }

    /// `terraform destroy -auto-approve`, asserting success.
    #[track_caller]
    pub fn destroy(&self) -> RunOutput {
        self.try_destroy().assert_success()
    }

    /// `terraform destroy -auto-approve`, whatever its outcome.
    pub fn try_destroy(&self) -> RunOutput {
        self.run(DESTROY)
    }

    /// `terraform apply -refresh-only -auto-approve`: state takes what the provider reads, and
    /// nothing in AWS changes. Asserts success.
    #[track_caller]
    pub fn refresh(&self) -> RunOutput {
        self.run(&[
            "apply",
            "-refresh-only",
            "-auto-approve",
            "-input=false",
            "-no-color",
        ])
        .assert_success()
    }

    /// `terraform import ADDRESS ID`, asserting success.
    #[track_caller]
    pub fn import(&self, address: &str, id: &str) -> RunOutput {
        self.try_import(address, id).assert_success()
    }

    /// `terraform import ADDRESS ID`, whatever its outcome.
    pub fn try_import(&self, address: &str, id: &str) -> RunOutput {
        self.run(&["import", "-input=false", "-no-color", address, id])
    }

    /// `terraform providers schema -json`, parsed.
    #[track_caller]
    pub fn providers_schema(&self) -> Value {
        self.json(&["providers", "schema", "-json"])
    }

    /// `terraform show -json` of the current state, parsed.
    #[track_caller]
    pub fn show_json(&self) -> Value {
        self.json(&["show", "-json", "-no-color"])
    }

    /// `terraform output -json`, parsed: `{"name": {"value": ..., "type": ..., "sensitive": ..}}`.
    #[track_caller]
    pub fn output_json(&self) -> Value {
        self.json(&["output", "-json", "-no-color"])
    }

    /// `terraform state list`: the addresses of the resources in state.
    #[track_caller]
    pub fn state_list(&self) -> Vec<String> {
        // `state list` refuses to run without a state; none means no resources. The local
        // backend, which every test uses, keeps terraform.tfstate in the workdir, and leaves it
        // empty when Terraform is killed before its first write.
        let state = self.path().join("terraform.tfstate");
        if std::fs::metadata(&state).map_or(true, |m| m.len() == 0) {
            return Vec::new();
        }
        let output = self.run(&["state", "list"]).assert_success();
        output.stdout.lines().map(str::to_string).collect()
    }

    /// The `values` object of the resource at `address` in `terraform show -json`, searching the
    /// root module. Panics with the whole state if it is absent.
    #[track_caller]
    pub fn resource_values(&self, address: &str) -> Value {
        let state = self.show_json();
        let resources = state["values"]["root_module"]["resources"].as_array();
        let found = resources
            .into_iter()
            .flatten()
            .find(|r| r["address"] == address);
        match found {
            Some(resource) => resource["values"].clone(),
            None => panic!("{address} is not in state: {state:#}"),
        }
    }

    #[track_caller]
    fn json(&self, args: &[&str]) -> Value {
        let output = self.run(args).assert_success();
        serde_json::from_str(&output.stdout)
            .unwrap_or_else(|err| panic!("parsing JSON from {}: {err}: {output}", output.command))
    }
}
