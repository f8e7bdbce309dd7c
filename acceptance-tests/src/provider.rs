//! Locating, and if needed building, the provider binary that Terraform's dev_overrides point at.
//!
//! Decision: the harness runs `cargo build --workspace` once per test process. The whole
//! workspace, not `-p`, because cargo unifies dependency features per invocation: building one
//! package alone resolves other features (tonic's hyper server, for one) and recompiles the AWS
//! SDK, then `cargo test --workspace` recompiles it back. When the test script has already built
//! it this is a no-op check of well under a second, and when a developer runs
//! `cargo test -p acceptance-tests` directly it guarantees that Terraform never drives a stale
//! provider binary, which would silently test old code. Setting
//! `TF_ACC_PROVIDER_DIR` to a directory that holds a prebuilt `terraform-provider-imagecopier`
//! skips the build (for example to test a release build).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::process::RunningProcess;
use crate::workspace_root;

/// The provider's binary name, which is also its cargo package name.
pub(crate) const PROVIDER_BINARY: &str = "terraform-provider-imagecopier";

/// A cold debug build of the provider takes about seven minutes on CI's two cores; allow for a
/// busy machine on top of that.
const BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The directory holding the provider binary, built once per test process.
///
/// Panics with cargo's output if the build fails, or if `TF_ACC_PROVIDER_DIR` names a directory
/// without the binary.
pub fn provider_dir() -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match DIR.get_or_init(locate_or_build) {
        Ok(dir) => dir.clone(),
        Err(message) => panic!("{message}"),
    }
}

fn locate_or_build() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("TF_ACC_PROVIDER_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if dir.join(PROVIDER_BINARY).is_file() {
            Ok(dir)
        } else {
            Err(format!(
                "TF_ACC_PROVIDER_DIR={} does not contain {PROVIDER_BINARY}",
                dir.display()
            ))
        };
    }
    build()
}

fn build() -> Result<PathBuf, String> {
    let root = workspace_root();
    // Cargo sets CARGO for the processes it runs, so we use the same toolchain as the test build.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .arg("build")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--workspace");
    let description = "cargo build --workspace".to_owned();
    let output = RunningProcess::spawn(command, description).wait_with_timeout(BUILD_TIMEOUT);
    if !output.success() {
        return Err(format!("building the provider failed: {output}"));
    }
    let dir = target_dir().join("debug");
    if dir.join(PROVIDER_BINARY).is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "cargo built the provider but {} is missing; is CARGO_TARGET_DIR or build.target-dir \
             pointing elsewhere? Set TF_ACC_PROVIDER_DIR to the directory holding the binary.",
            dir.join(PROVIDER_BINARY).display()
        ))
    }
}

/// Cargo's target directory: CARGO_TARGET_DIR (relative to the workspace root) or `target/`.
fn target_dir() -> PathBuf {
    let root = workspace_root();
    match std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}
