//! Harness for the acceptance tests: real Terraform drives the provider against the local AWS
//! stand-in.
//!
//! A test owns everything it touches, so tests can run in parallel threads without sharing state:
//!
//! ```no_run
//! use acceptance_tests::{StandIn, Terraform, Workdir, ACCOUNT_A};
//!
//! let standin = StandIn::start();
//! let ami = standin.seed_ami(ACCOUNT_A, &[("Name", "source")]);
//! let wd = Workdir::new(&Terraform::default()).with_standin(&standin, ACCOUNT_A);
//! wd.write_main(&format!(r#"output "id" {{ value = "{}" }}"#, ami.image_id));
//! wd.apply();
//! assert_eq!(wd.output_json()["id"]["value"], ami.image_id.as_str());
//! ```
//!
//! The harness panics instead of returning errors: every failure is a test failure, and the panic
//! message carries the full Terraform or stand-in output so the failing run can be diagnosed from
//! the test log alone.

mod aws;
pub mod aws_provider;
mod backend;
pub mod clock;
mod commands;
pub mod copies;
mod fault;
pub mod iam;
pub mod live;
pub mod plan_json;
mod process;
mod provider;
pub mod silent;
mod standin;
pub mod strict;
mod terraform;
mod workdir;

use std::path::PathBuf;

pub use aws::{
    eventually, image_tag, snapshot_ids, until_consistent, Ec2, SeededAmi, CONSISTENCY_WAIT,
};
pub use backend::{backend, is_strict, needs_admin, Admin, Backend, BACKEND_VARIABLE};
pub use commands::{PLAN_HAS_CHANGES, PLAN_NO_CHANGES};
pub use fault::Fault;
pub use process::{RunOutput, RunningProcess};
pub use provider::provider_dir;
pub use standin::StandIn;
pub use terraform::{Terraform, TERRAFORM_PATH_VARIABLE};
pub use workdir::Workdir;

/// An account id that acts as its own account at the stand-in (moto's 12-digit access key
/// convention). Tests use it as the source account.
pub const ACCOUNT_A: &str = "111111111111";
/// A second account, typically a copy target.
pub const ACCOUNT_B: &str = "222222222222";
/// A third account, for tests that need more than one target.
pub const ACCOUNT_C: &str = "333333333333";
/// The region every test runs in unless it overrides `AWS_REGION`.
pub const REGION: &str = "eu-west-1";

/// The workspace root (the directory holding the workspace `Cargo.toml`, `.venv` and `target`).
/// `text` with every run of whitespace as one space: Terraform wraps diagnostics and plan lines
/// to the terminal, so tests compare flattened text.
pub fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// The project's Python interpreter, created by `scripts/setup`.
pub fn venv_python() -> PathBuf {
    let python = workspace_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} does not exist: run scripts/setup to create the project venv",
        python.display()
    );
    python
}
