//! A per-test Terraform working directory with an isolated environment.
//!
//! Each test gets its own temporary directory holding its configuration, state, `TF_DATA_DIR` and
//! CLI config file, and every command runs with an environment built from scratch for Terraform
//! and AWS: nothing from the developer's machine (AWS profiles, TF_CLI_ARGS, a plugin cache, a
//! global CLI config) can change what a test does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tempfile::TempDir;

use crate::process::{RunOutput, RunningProcess};
use crate::strict::{self, StrictAccounts};
use crate::{provider_dir, StandIn, Terraform, REGION};

/// The default limit for one Terraform command. Generous, because CI's two cores may be busy
/// compiling; a test that expects a long copy raises it with [`Workdir::with_timeout`].
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The `terraform` block a configuration needs to find this provider.
const REQUIRED_PROVIDERS: &str =
    "terraform {\n  required_providers {\n    imagecopier = { source = \"imagecopier/imagecopier\" }\n  }\n}\n";

/// The AWS config file holding the strict accounts' profiles, inside the workdir.
const STRICT_AWS_CONFIG: &str = "aws-config-strict";
/// The shared credentials file holding the strict accounts' IAM user keys.
const STRICT_AWS_CREDENTIALS: &str = "aws-credentials-strict";

/// Inherited variables with these prefixes are removed from every Terraform run.
const SCRUBBED_PREFIXES: &[&str] = &["AWS_", "TF_CLI_ARGS", "TF_VAR_"];
/// Inherited variables with these exact names are removed from every Terraform run. TF_LOG and
/// TF_LOG_PATH are deliberately kept so that a developer can trace a failing test.
const SCRUBBED_NAMES: &[&str] = &[
    "TF_WORKSPACE",
    "TF_PLUGIN_CACHE_DIR",
    "TF_REATTACH_PROVIDERS",
    "TF_ACC",
    "TF_FORCE_LOCAL_BACKEND",
];

/// The CLI configuration pointing `imagecopier/imagecopier` at the built provider, and each of
/// `extra` (source, directory) at its directory, through `dev_overrides`; with `mirror`, the
/// filesystem mirror `terraform init` installs `hashicorp/aws` from (nothing else is installed).
pub(crate) fn cli_config(extra: &[(&str, &Path)], mirror: Option<&Path>) -> String {
    let provider = provider_dir();
    let mut lines = vec![format!(
        "    \"imagecopier/imagecopier\" = {}",
        hcl_string(&provider.to_string_lossy())
    )];
    for (source, dir) in extra {
        lines.push(format!(
            "    {} = {}",
            hcl_string(source),
            hcl_string(&dir.to_string_lossy())
        ));
    }
    let install = match mirror {
        Some(mirror) => format!(
            "  filesystem_mirror {{\n    path    = {}\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n",
            hcl_string(&mirror.to_string_lossy())
        ),
        None => "  direct {}\n".to_owned(),
    };
    format!(
        "provider_installation {{\n  dev_overrides {{\n{}\n  }}\n{install}}}\n",
        lines.join("\n")
    )
}

/// A temporary Terraform working directory, removed when dropped.
#[derive(Debug)]
pub struct Workdir {
    dir: TempDir,
    terraform: Terraform,
    env: BTreeMap<String, String>,
    timeout: Duration,
    /// Whether configurations get `versions.tf` declaring this provider (see
    /// [`Workdir::write_main`]); not for workdirs of built-ins only.
    with_provider: bool,
    /// In strict mode, the stand-in's accounts: what this workdir writes or runs is scanned for
    /// the accounts and roles it needs, and each run acts through a profile.
    strict: Option<Arc<StrictAccounts>>,
}

impl Workdir {
    /// A workdir whose CLI config points `imagecopier/imagecopier` at the freshly built provider
    /// through `dev_overrides`, so no `terraform init` is needed.
    pub fn new(terraform: &Terraform) -> Self {
        let mut workdir = Self::with_cli_config(terraform, "");
        workdir.write("terraform.rc", &cli_config(&[], None));
        workdir.with_provider = true;
        workdir
    }

    /// Also points `source` (such as `hashicorp/aws`) at the directory `dir` through
    /// `dev_overrides`, for a test-only provider.
    pub fn with_dev_override(self, source: &str, dir: &Path) -> Self {
        self.write("terraform.rc", &cli_config(&[(source, dir)], None));
        self
    }

    /// A workdir with an empty CLI config, for configurations that use only Terraform built-ins.
    /// It does not build the provider.
    pub fn without_provider(terraform: &Terraform) -> Self {
        Self::with_cli_config(terraform, "")
    }

    fn with_cli_config(terraform: &Terraform, cli_config: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("tfacc-")
            .tempdir()
            .unwrap_or_else(|err| panic!("creating a temporary workdir: {err}"));
        let mut workdir = Self {
            dir,
            terraform: terraform.clone(),
            env: BTreeMap::new(),
            timeout: DEFAULT_TIMEOUT,
            with_provider: false,
            strict: None,
        };
        workdir.write("terraform.rc", cli_config);
        let path = workdir.path().to_path_buf();
        let rc = path.join("terraform.rc");
        let data_dir = path.join(".terraform");
        // Absent files: the SDK then finds no profile, and no shared config from the machine.
        let aws_config = path.join("aws-config-absent");
        let aws_credentials = path.join("aws-credentials-absent");
        workdir.set_env("TF_CLI_CONFIG_FILE", &rc.to_string_lossy());
        workdir.set_env("TF_DATA_DIR", &data_dir.to_string_lossy());
        workdir.set_env("CHECKPOINT_DISABLE", "1");
        workdir.set_env("TF_IN_AUTOMATION", "1");
        workdir.set_env("TF_INPUT", "0");
        workdir.set_env("AWS_CONFIG_FILE", &aws_config.to_string_lossy());
        workdir.set_env(
            "AWS_SHARED_CREDENTIALS_FILE",
            &aws_credentials.to_string_lossy(),
        );
        // The instance metadata service lives at a link-local address; never probe it.
        workdir.set_env("AWS_EC2_METADATA_DISABLED", "true");
        workdir
    }

    /// Points the AWS SDK in the provider at `standin`, acting as `account`, in [`REGION`].
    ///
    /// In strict mode the run acts through profile `imagecopier-acc-<account>` (a role of the
    /// account, assumed with an IAM user's key from the shared credentials file: STS refuses a
    /// root key), so the SDK's profile chain and AssumeRole are exercised on every run.
    pub fn with_standin(mut self, standin: &StandIn, account: &str) -> Self {
        self.set_env("AWS_ENDPOINT_URL", standin.endpoint());
        self.set_env("AWS_REGION", REGION);
        self.strict = standin.strict().cloned();
        if self.strict.is_none() {
            self.set_env("AWS_SECRET_ACCESS_KEY", "test");
        }
        self.set_aws_account(account);
        self
    }

    /// Sets an environment variable for every later command; returns `self` for chaining.
    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.set_env(key, value);
        self
    }

    /// Raises or lowers the limit for each Terraform command run in this workdir.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets an environment variable for every later command.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.insert(key.to_string(), value.to_string());
    }

    /// Removes a variable the harness or the test set earlier.
    pub fn remove_env(&mut self, key: &str) {
        self.env.remove(key);
    }

    /// Switches the credentials to `account` (the stand-in treats a 12-digit key as the account;
    /// in strict mode, to the account's profile).
    pub fn set_aws_account(&mut self, account: &str) {
        let Some(accounts) = self.strict.clone() else {
            self.set_env("AWS_ACCESS_KEY_ID", account);
            return;
        };
        accounts.prepare_account(account);
        self.write_profiles();
        self.set_env("AWS_PROFILE", &strict::profile(account));
    }

    /// Rewrites the AWS config and credentials files holding every strict account's profiles.
    fn write_profiles(&mut self) {
        let Some(accounts) = self.strict.clone() else {
            return;
        };
        let config = self.write(STRICT_AWS_CONFIG, &accounts.profiles());
        let credentials = self.write(STRICT_AWS_CREDENTIALS, &accounts.credentials());
        self.set_env("AWS_CONFIG_FILE", &config.to_string_lossy());
        self.set_env(
            "AWS_SHARED_CREDENTIALS_FILE",
            &credentials.to_string_lossy(),
        );
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The Terraform this workdir runs.
    pub fn terraform(&self) -> &Terraform {
        &self.terraform
    }

    /// Writes `contents` to `name` inside the workdir, creating parent directories. In strict
    /// mode, the accounts and roles it names are made first (see `strict.rs`).
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let profiles = [STRICT_AWS_CONFIG, STRICT_AWS_CREDENTIALS].contains(&name);
        if let (Some(accounts), false) = (&self.strict, profiles) {
            accounts.prepare_for(contents);
        }
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|err| panic!("creating {}: {err}", parent.display()));
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|err| panic!("writing {}: {err}", path.display()));
        path
    }

    /// Copies the Terraform files (`*.tf`) of `dir`, an example, into the workdir, as a user
    /// copying the example would; returns their names.
    pub fn copy_tf_files(&self, dir: &Path) -> Vec<String> {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
        let mut names = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.ends_with(".tf") {
                let text = std::fs::read_to_string(entry.path())
                    .unwrap_or_else(|err| panic!("reading {}: {err}", entry.path().display()));
                self.write(&name, &text);
                names.push(name);
            }
        }
        names.sort();
        names
    }

    /// Writes the configuration to `main.tf`, replacing any earlier one.
    ///
    /// Without a `required_providers` block Terraform would look for `hashicorp/imagecopier`, so
    /// in a workdir made by [`Workdir::new`] a configuration that does not declare one gets
    /// `versions.tf` declaring `imagecopier/imagecopier`, as every real configuration using this
    /// provider does.
    pub fn write_main(&self, contents: &str) -> PathBuf {
        let versions = self.path().join("versions.tf");
        if contents.contains("required_providers") {
            if versions.exists() {
                std::fs::remove_file(&versions)
                    .unwrap_or_else(|err| panic!("removing {}: {err}", versions.display()));
            }
        } else if self.with_provider {
            self.write("versions.tf", REQUIRED_PROVIDERS);
        }
        self.write("main.tf", contents)
    }

    /// Runs Terraform with exactly `args` and waits at most the workdir's timeout (longer under
    /// the strict tier's lag and copy durations, see `standin::lag_allowance`). Never panics on a failing
    /// exit code; see [`RunOutput::assert_success`].
    pub fn run(&self, args: &[&str]) -> RunOutput {
        // Only a workdir acting through the strict stand-in waits on its lag.
        let allowance = match self.strict {
            Some(_) => crate::standin::lag_allowance(),
            None => Duration::ZERO,
        };
        self.spawn(args).wait_with_timeout(self.timeout + allowance)
    }

    /// Starts Terraform with exactly `args` as the leader of a new process group, for tests that
    /// interrupt it.
    pub fn spawn(&self, args: &[&str]) -> RunningProcess {
        if let Some(accounts) = &self.strict {
            accounts.prepare_for(&args.join(" "));
            // A new account seen in the arguments needs its profiles too.
            for (name, text) in [
                (STRICT_AWS_CONFIG, accounts.profiles()),
                (STRICT_AWS_CREDENTIALS, accounts.credentials()),
            ] {
                std::fs::write(self.path().join(name), text)
                    .unwrap_or_else(|err| panic!("writing {name}: {err}"));
            }
        }
        let mut command = self.terraform.command();
        command.args(args).current_dir(self.path());
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let scrub = SCRUBBED_PREFIXES.iter().any(|p| key.starts_with(p))
                || SCRUBBED_NAMES.contains(&key.as_ref());
            if scrub {
                command.env_remove(key.as_ref());
            }
        }
        command.envs(&self.env);
        let description = format!("{} {}", self.terraform.label(), args.join(" "));
        RunningProcess::spawn(command, description)
    }

    /// The limit for one command.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// Quotes `value` as a string literal for the CLI config file (which Terraform parses as HCL 1,
/// where only quotes and backslashes need escaping).
fn hcl_string(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}
