//! The local AWS stand-in: moto plus the behaviours this product depends on, as a subprocess.
//!
//! Every test starts its own stand-in (startup takes well under three seconds), so tests running in
//! parallel threads never see each other's AMIs, faults or call counts.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::backend::is_strict;
use crate::process::signal_process;
use crate::strict::StrictAccounts;
use crate::{venv_python, workspace_root, Fault};

/// How long the server may take to write its port file.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may take to exit after SIGTERM before it is killed.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// The limit for one admin request; the admin API answers from memory.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Action-name prefixes of calls that only read.
const READ_ONLY_PREFIXES: &[&str] = &["Describe", "Get", "List"];

/// What a test that starts a stand-in does in live mode: passes the gate (or stops with why), then
/// stops, because its harness does not yet run against real accounts (issue 32); the gate alone
/// is `tests/live_manifest.rs`'s `live_gate`.
fn live_refusal() -> ! {
    match crate::live::gate() {
        Err(refused) => panic!("live mode refused: {refused}"),
        Ok(accounts) => panic!(
            "live mode: the gate passed for {accounts:?}, but this test still needs the stand-in; \
             tests that run against real accounts are not built yet (acceptance-tests/live-tests.txt lists those planned)"
        ),
    }
}

/// The strict tier's start-up flags: `--strict`, and with `IMAGECOPIER_ACC_LAG=<seconds>` the
/// consistency lag AWS documents for reads after writes (`--consistency-lag`), and with
/// `IMAGECOPIER_ACC_COPY_DURATION=<min-max>` copies that take that long (`--copy-duration`); with
/// `IMAGECOPIER_ACC_TOKEN_BUCKETS=1` EC2's request throttling (`--ec2-token-buckets`); with
/// `IMAGECOPIER_ACC_CALL_LOG_DIR=<absolute dir>` a call log file there per stand-in (`--call-log`,
/// named after the test), which `scripts/soak-strict` reads. Nothing in the default tier.
fn strict_timing_flags() -> Vec<String> {
    if !is_strict() {
        return Vec::new();
    }
    let mut flags = vec!["--strict".to_string()];
    let from = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(lag) = from(LAG_VARIABLE) {
        flags.extend(["--consistency-lag".to_string(), lag]);
    }
    if let Some(duration) = from(COPY_DURATION_VARIABLE) {
        flags.extend(["--copy-duration".to_string(), duration]);
    }
    if from(TOKEN_BUCKETS_VARIABLE).as_deref() == Some("1") {
        flags.push("--ec2-token-buckets".to_string());
    }
    if let Some(dir) = from(CALL_LOG_DIR_VARIABLE) {
        // One file per stand-in: the test (its thread's name), this process and a counter.
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let test = thread::current()
            .name()
            .unwrap_or("test")
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let file = Path::new(&dir).join(format!("{test}-{}-{n}.jsonl", std::process::id()));
        flags.extend(["--call-log".to_string(), file.display().to_string()]);
    }
    flags
}

/// Seconds of eventual-consistency lag for the strict tier.
pub(crate) const LAG_VARIABLE: &str = "IMAGECOPIER_ACC_LAG";

/// How many lags one Terraform command may wait through: a share's grants shown, a new copy
/// visible, its tags and creation mark read back, and as many again on a destroy or a second
/// resource in the same walk.
const LAGS_PER_COMMAND: u32 = 8;
/// How many of the longest copies one Terraform command may wait for (a replacement copies once,
/// a second resource in the walk may wait for a copy slot behind the first).
const COPIES_PER_COMMAND: u32 = 2;

/// What a Terraform command's time limit grows by under the strict tier's timing (nothing in the
/// default tier): the provider waits for each write to show, so a command takes up to a few lags
/// longer, and for each copy, which takes up to `IMAGECOPIER_ACC_COPY_DURATION`'s maximum.
pub(crate) fn lag_allowance() -> Duration {
    let copy = std::env::var(COPY_DURATION_VARIABLE)
        .ok()
        .filter(|_| is_strict())
        .map_or(Duration::ZERO, |v| {
            // "MIN-MAX" or one number of seconds.
            seconds(v.rsplit('-').next().unwrap_or_default())
        });
    lag() * LAGS_PER_COMMAND + copy * COPIES_PER_COMMAND
}

/// The strict tier's consistency lag (`IMAGECOPIER_ACC_LAG`), zero in the default tier.
pub(crate) fn lag() -> Duration {
    std::env::var(LAG_VARIABLE)
        .ok()
        .filter(|_| is_strict())
        .map_or(Duration::ZERO, |v| seconds(&v))
}

/// A number of seconds from the environment; zero when it is not one.
fn seconds(text: &str) -> Duration {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(Duration::ZERO, Duration::from_secs_f64)
}

/// `MIN-MAX` seconds each copy takes in the strict tier.
pub(crate) const COPY_DURATION_VARIABLE: &str = "IMAGECOPIER_ACC_COPY_DURATION";
/// `1`: EC2's request token buckets on in the strict tier.
pub(crate) const TOKEN_BUCKETS_VARIABLE: &str = "IMAGECOPIER_ACC_TOKEN_BUCKETS";
/// An absolute directory for the strict tier's stand-ins' call log files.
pub(crate) const CALL_LOG_DIR_VARIABLE: &str = "IMAGECOPIER_ACC_CALL_LOG_DIR";

/// A running stand-in server on a free loopback port, stopped when dropped.
#[derive(Debug)]
pub struct StandIn {
    child: Child,
    endpoint: String,
    agent: ureq::Agent,
    dir: TempDir,
    /// In strict mode, the roles and profiles the harness has made (see `strict.rs`).
    strict: Option<Arc<StrictAccounts>>,
}

impl StandIn {
    /// Starts a stand-in on 127.0.0.1 and waits until it listens, strict when the backend is
    /// (`IMAGECOPIER_ACC_BACKEND`). Panics with the server's output if it exits or does not
    /// become ready within 30 seconds.
    pub fn start() -> Self {
        if crate::backend() == crate::Backend::Live {
            live_refusal();
        }
        let root = workspace_root();
        let dir = tempfile::Builder::new()
            .prefix("standin-")
            .tempdir()
            .unwrap_or_else(|err| panic!("creating the stand-in's directory: {err}"));
        let port_file = dir.path().join("port");
        let mut command = Command::new(venv_python());
        command
            .args([
                "-m",
                "standin",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--port-file",
            ])
            .arg(&port_file)
            .args(strict_timing_flags())
            .env("PYTHONPATH", root.join("acceptance-tests/standin"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            // Files, not pipes: nobody reads while tests run, and a full pipe would block the server.
            .stdout(log_file(dir.path(), "stdout"))
            .stderr(log_file(dir.path(), "stderr"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                command.env_remove(&key);
            }
        }
        let child = command
            .spawn()
            .unwrap_or_else(|err| panic!("starting the stand-in: {err}"));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(ADMIN_TIMEOUT))
            .http_status_as_error(false)
            // Loopback only: never route admin calls through a proxy from the environment.
            .proxy(None)
            .build()
            .into();
        let mut standin = Self {
            child,
            endpoint: String::new(),
            agent,
            dir,
            strict: None,
        };
        let port = standin.wait_for_port(&port_file);
        standin.endpoint = format!("http://127.0.0.1:{port}");
        if is_strict() {
            standin.strict = Some(Arc::new(StrictAccounts::new(&standin.endpoint)));
        }
        standin
    }

    /// The base URL for AWS clients, such as `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// In strict mode, what the harness has made through IAM (roles, profiles); `None` otherwise.
    pub fn strict(&self) -> Option<&Arc<StrictAccounts>> {
        self.strict.as_ref()
    }

    /// Forgets all AWS resources, faults, configuration and call counts.
    pub fn reset(&self) {
        self.admin("POST", "/_standin/reset", None);
    }

    /// Makes each CopyImage stay `pending` for `seconds` before it becomes available.
    pub fn set_copy_duration(&self, seconds: f64) {
        self.admin(
            "POST",
            "/_standin/config",
            Some(json!({ "copy_duration_seconds": seconds })),
        );
    }

    /// Sets how many snapshot copies may be in flight at once per account and destination region
    /// (EC2's quota, 20 by default); `None` lifts the limit.
    pub fn set_copy_quota(&self, limit: Option<u32>) {
        self.admin(
            "POST",
            "/_standin/config",
            Some(json!({ "concurrent_snapshot_copies": limit })),
        );
    }

    /// The copy quota's figures: `limit`, and per `"account/region"` the snapshot copies
    /// `in_flight` now, the `peak` ever in flight at once, and how many CopyImage calls were
    /// `refused` with ResourceLimitExceeded.
    pub fn copy_quota(&self) -> Value {
        let body = self.admin("GET", "/_standin/copy_quota", None);
        serde_json::from_str(&body)
            .unwrap_or_else(|err| panic!("parsing GET /_standin/copy_quota: {err}: {body}"))
    }

    /// Every call since the last [`StandIn::clear_calls`], in arrival order: `t` (seconds on the
    /// stand-in's monotonic clock), `account`, `region`, `action`, and for DescribeImages
    /// `filter_values` (filter name to number of values).
    pub fn call_log(&self) -> Vec<Value> {
        let body = self.admin("GET", "/_standin/call_log", None);
        let log: Value = serde_json::from_str(&body)
            .unwrap_or_else(|err| panic!("parsing GET /_standin/call_log: {err}: {body}"));
        log["calls"].as_array().cloned().unwrap_or_default()
    }

    /// The provider's looks at copies in flight in `account` and `region`, from the call log:
    /// its DescribeImages calls by image id (the `image-id` filter), in arrival order.
    pub fn copy_looks(&self, account: &str, region: &str) -> Vec<Value> {
        self.call_log()
            .into_iter()
            .filter(|c| c["account"] == account && c["region"] == region)
            .filter(|c| c["action"] == "DescribeImages" && c["filter_values"]["image-id"].is_u64())
            .collect()
    }

    /// Moves the stand-in's clock `seconds` ahead, so that a deprecation scheduled for later (AWS
    /// refuses a past one), or a deregistration-protection cooldown, has passed.
    pub fn advance_clock(&self, seconds: f64) {
        self.admin(
            "POST",
            "/_standin/clock",
            Some(json!({ "advance_seconds": seconds })),
        );
    }

    /// Every CopyImage started since the last reset, in start order (`GET /_standin/copies`).
    pub fn copies(&self) -> Vec<Value> {
        let body = self.admin("GET", "/_standin/copies", None);
        let answer: Value = serde_json::from_str(&body)
            .unwrap_or_else(|err| panic!("parsing GET /_standin/copies: {err}: {body}"));
        answer["copies"].as_array().cloned().unwrap_or_default()
    }

    /// The next DeregisterImage with DeleteAssociatedSnapshots reports `code` for
    /// `snapshot_id` and leaves it in place, as EC2 does when it could not delete it.
    pub fn set_snapshot_delete_result(&self, snapshot_id: &str, code: &str) {
        self.admin(
            "POST",
            "/_standin/snapshot_delete_result",
            Some(json!({ "snapshot_id": snapshot_id, "code": code })),
        );
    }

    /// Adds a fault; faults accumulate until [`StandIn::clear_faults`].
    pub fn inject_fault(&self, fault: &Fault) {
        self.admin("POST", "/_standin/faults", Some(fault.to_json()));
    }

    /// How often each injected fault fired, in the order they were added: `(action, error code or
    /// "" for latency-only faults, calls answered)`.
    pub fn faults_fired(&self) -> Vec<(String, String, u64)> {
        let body = self.admin("GET", "/_standin/faults", None);
        let listed: Value = serde_json::from_str(&body)
            .unwrap_or_else(|err| panic!("parsing GET /_standin/faults: {err}: {body}"));
        listed["faults"]
            .as_array()
            .map(|faults| {
                faults
                    .iter()
                    .map(|f| {
                        (
                            f["action"].as_str().unwrap_or_default().to_string(),
                            f["error_code"].as_str().unwrap_or_default().to_string(),
                            f["fired"].as_u64().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.admin("DELETE", "/_standin/faults", None);
    }

    /// Makes the pending copy `image_id` end in state `failed` with `reason` as its StateReason
    /// message. Panics if `image_id` is not a copy in flight.
    pub fn fail_copy(&self, image_id: &str, reason: &str) {
        let body = json!({ "image_id": image_id, "reason": reason });
        self.admin("POST", "/_standin/fail_copy", Some(body));
    }

    /// Makes the next CopyImage (from any account) end in state `failed` with `reason`.
    pub fn fail_next_copy(&self, reason: &str) {
        let body = json!({ "next": true, "reason": reason });
        self.admin("POST", "/_standin/fail_copy", Some(body));
    }

    /// Places `account` in an AWS Organization (and OUs), for organization-wide launch
    /// permissions.
    pub fn set_organization(&self, account: &str, organization_arn: &str, ou_arns: &[&str]) {
        let body = json!({
            "account": account,
            "organization_arn": organization_arn,
            "ou_arns": ou_arns,
        });
        self.admin("POST", "/_standin/org", Some(body));
    }

    /// Calls received so far: account id to action name to count.
    pub fn calls(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        let body = self.admin("GET", "/_standin/calls", None);
        serde_json::from_str(&body)
            .unwrap_or_else(|err| panic!("parsing GET /_standin/calls: {err}: {body}"))
    }

    /// Calls made as `account` whose action changes something (not Describe*, Get* or List*).
    pub fn mutating_calls(&self, account: &str) -> BTreeMap<String, u64> {
        let mut calls = self.calls();
        let account_calls = calls.remove(account).unwrap_or_default();
        account_calls
            .into_iter()
            .filter(|(action, _)| !READ_ONLY_PREFIXES.iter().any(|p| action.starts_with(p)))
            .collect()
    }

    /// Sets every call count back to zero.
    pub fn clear_calls(&self) {
        self.admin("DELETE", "/_standin/calls", None);
    }

    /// What the server has logged so far, for diagnosing a failing test.
    pub fn logs(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join(name));
        format!(
            "--- stand-in stdout ---\n{}\n--- stand-in stderr ---\n{}",
            read("stdout").unwrap_or_default(),
            read("stderr").unwrap_or_default()
        )
    }

    /// Sends an admin request and returns the body; panics unless the answer is 2xx.
    ///
    /// In strict mode there are no admin routes: a test reaching one fails here, loudly, unless
    /// it declared what it needs with `needs_admin` (and so never ran in strict).
    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> String {
        assert!(
            self.strict.is_none(),
            "{method} {path}: this test reached a stand-in admin route in strict mode, where AWS \
             has none; if it cannot do without, declare it at its start with \
             `if needs_admin(&[Admin::...]) {{ return; }}`"
        );
        let url = format!("{}{path}", self.endpoint);
        let result = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            ("POST", body) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
            (other, _) => panic!("unsupported admin method {other}"),
        };
        let mut response =
            result.unwrap_or_else(|err| panic!("{method} {path}: {err}\n{}", self.logs()));
        let status = response.status();
        let text = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|err| panic!("{method} {path}: reading the answer: {err}"));
        assert!(
            status.is_success(),
            "{method} {path} answered {status}: {text}"
        );
        text
    }

    fn wait_for_port(&mut self, port_file: &Path) -> u16 {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            // The file may be seen half-written; a partial number fails to parse or is retried.
            let port = std::fs::read_to_string(port_file)
                .ok()
                .and_then(|text| text.trim().parse::<u16>().ok())
                .filter(|port| *port != 0);
            if let Some(port) = port {
                return port;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the stand-in exited with {status} before listening\n{}",
                    self.logs()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "the stand-in did not write {} within {STARTUP_TIMEOUT:?}\n{}",
                    port_file.display(),
                    self.logs()
                );
            }
            thread::sleep(POLL_INTERVAL);
        }
    }
}

impl Drop for StandIn {
    /// SIGTERM first so the server can close cleanly, SIGKILL if it has not exited in time.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        signal_process(self.child.id(), "TERM");
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            thread::sleep(POLL_INTERVAL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_file(dir: &Path, name: &str) -> Stdio {
    match File::create(dir.join(name)) {
        Ok(file) => Stdio::from(file),
        Err(_) => Stdio::null(),
    }
}
