//! Which AWS the tests run against: the forgiving stand-in (the default) or the strict one.
//!
//! `IMAGECOPIER_ACC_BACKEND=standin|strict` chooses. In strict, the stand-in starts with
//! `--strict` (real principals, IAM policies evaluated, no admin routes: see the stand-in's
//! README), each Terraform run acts through an AWS profile that assumes a role (so the profile
//! path of the credential chain is exercised), and the roles the provider assumes are made
//! through the IAM API. A test that needs a stand-in convenience that AWS does not have says so
//! with [`needs_admin`] and is skipped in strict with a printed reason; a test that reaches an
//! admin route in strict without saying so fails (see `StandIn::admin`).

use std::sync::OnceLock;

/// The environment variable choosing the backend.
pub const BACKEND_VARIABLE: &str = "IMAGECOPIER_ACC_BACKEND";

/// The AWS the acceptance tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The stand-in with its admin routes: faults, clock, call counts, quota meters.
    StandIn,
    /// `python -m standin --strict`: behaves like real accounts, no admin routes.
    Strict,
    /// Real AWS accounts, behind the gate in `live.rs`.
    Live,
}

/// The backend this test process runs against, read once from [`BACKEND_VARIABLE`]. Panics on a
/// value it does not know, so a typo never silently runs the forgiving tier.
pub fn backend() -> Backend {
    static CHOSEN: OnceLock<Backend> = OnceLock::new();
    *CHOSEN.get_or_init(|| match std::env::var(BACKEND_VARIABLE).as_deref() {
        Err(_) | Ok("" | "standin") => Backend::StandIn,
        Ok("strict") => Backend::Strict,
        Ok("live") => Backend::Live,
        Ok(other) => {
            panic!("{BACKEND_VARIABLE}={other:?}: expected \"standin\", \"strict\" or \"live\"")
        }
    })
}

/// Whether this process runs against the strict stand-in.
pub fn is_strict() -> bool {
    backend() == Backend::Strict
}

/// The stand-in conveniences that real AWS does not offer, which a test may need. Each is one or
/// more `/_standin/*` admin routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admin {
    /// Counting calls by account and action (`/_standin/calls`, `/_standin/call_log`).
    CallCounts,
    /// Injecting errors, latency or dropped connections (`/_standin/faults`).
    Faults,
    /// Moving the stand-in's clock (`/_standin/clock`).
    Clock,
    /// Setting or reading the snapshot-copy quota (`/_standin/config`, `/_standin/copy_quota`).
    CopyQuota,
    /// Choosing how long copies take, or making one fail (`/_standin/config`,
    /// `/_standin/fail_copy`, `/_standin/copies`).
    CopyControl,
    /// Choosing what DeregisterImage reports for a snapshot (`/_standin/snapshot_delete_result`).
    SnapshotDeleteResult,
    /// Placing a chosen account id in an organization (`/_standin/org`): the Organizations API
    /// chooses the ids of the accounts it creates.
    Organizations,
    /// Forgetting everything (`/_standin/reset`).
    Reset,
    /// Reading the stand-in's own records, such as every KMS grant of every account
    /// (`/_standin/kms_grants`).
    Inspection,
}

impl Admin {
    /// What the test needs, for the skip line.
    pub fn describe(self) -> &'static str {
        match self {
            Admin::CallCounts => "call counts by account and action",
            Admin::Faults => "injected faults",
            Admin::Clock => "moving the stand-in's clock",
            Admin::CopyQuota => "setting and reading the snapshot-copy quota",
            Admin::CopyControl => "choosing how a copy runs or ends",
            Admin::SnapshotDeleteResult => "choosing a snapshot's DeregisterImage result",
            Admin::Organizations => "placing a chosen account in an organization",
            Admin::Reset => "resetting the stand-in",
            Admin::Inspection => "reading the stand-in's own records",
        }
    }
}

/// Declares that the calling test needs `what` from the stand-in's admin routes. Returns `true`
/// in strict, after printing which test is skipped and why; the test then returns at once.
pub fn needs_admin(what: &[Admin]) -> bool {
    if !is_strict() {
        return false;
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    let reasons: Vec<&str> = what.iter().map(|a| a.describe()).collect();
    println!(
        "strict: skipping {test}: it needs the stand-in's admin routes for {}",
        reasons.join(", ")
    );
    true
}
