//! Release packaging, end to end: `scripts/release` packages the provider as the registry
//! publishes providers, and real Terraform (1.15.5 and 1.0.3) installs it from the filesystem
//! mirror with `terraform init`, pins it in the lock file, and runs the installed copy.
//!
//! The script packages the debug build (`--binary`): a release build would take many minutes on
//! CI's two cores, and the packaging does not depend on the build profile.
//!
//! Terraform records only an `h1:` hash (of the package's contents) for a provider installed from
//! a filesystem mirror; `zh:` hashes (of the zip) come only from a registry's signed SHA256SUMS.
//! So the lock file is checked against an `h1:` computed here from the binary and the name it
//! must have inside the zip, which proves the zip holds exactly that file under that name.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use acceptance_tests::{provider_dir, venv_python, workspace_root, Terraform, Workdir};
use tempfile::TempDir;

const PROVIDER_NAME: &str = "terraform-provider-imagecopier";
const PROVIDER_ADDRESS: &str = "registry.terraform.io/imagecopier/imagecopier";
/// Zipping the debug binary (hundreds of megabytes with debug info) takes about half a minute
/// on an idle machine; allow for a busy one.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

#[test]
fn release_installs_from_filesystem_mirror() {
    let release = Release::package();

    release.assert_checksums_match();
    let manifest: serde_json::Value = serde_json::from_str(&release.read(&release.manifest()))
        .unwrap_or_else(|err| panic!("{} is not JSON: {err}", release.manifest()));
    assert_eq!(
        manifest,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}}),
        "{}",
        release.manifest()
    );
    let mirror_zip = release.mirror_zip();
    assert_eq!(
        sha256_hex(&mirror_zip),
        sha256_hex(&release.dist().join(release.zip())),
        "the mirror's zip differs from the published one"
    );

    for terraform in [Terraform::v1_15(), Terraform::v1_11(), Terraform::v1_0()] {
        install_from_mirror(&release, &terraform);
    }
}

#[test]
fn release_refuses_a_missing_binary() {
    let dir = temp_dir();
    let out = dir.path().join("dist");
    let absent = dir.path().join(PROVIDER_NAME);
    let run = run_release(&absent, &out);
    assert!(!run.status.success(), "expected failure: {run:?}");
    assert!(
        run.stderr.contains("is not a file") && run.stderr.contains(&*absent.to_string_lossy()),
        "the error should name the missing binary: {run:?}"
    );
    assert!(!out.exists(), "nothing should be written: {run:?}");
}

/// `terraform init` from the mirror alone (no `direct`, no dev_overrides), then the lock file and
/// `providers schema` from the installed copy.
fn install_from_mirror(release: &Release, terraform: &Terraform) {
    let label = terraform.label();
    let version = &release.version;
    let wd = Workdir::without_provider(terraform);
    // The harness points TF_CLI_CONFIG_FILE at this file.
    wd.write(
        "terraform.rc",
        &format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [\"{PROVIDER_ADDRESS}\"]\n  }}\n}}\n",
            hcl_string(&release.dist().join("mirror").to_string_lossy())
        ),
    );
    wd.write_main(&format!(
        "terraform {{\n  required_providers {{\n    imagecopier = {{\n      source  = \"imagecopier/imagecopier\"\n      version = \"{version}\"\n    }}\n  }}\n}}\n"
    ));

    let init = wd.init();
    assert!(
        init.combined()
            .contains(&format!("Installed imagecopier/imagecopier v{version}")),
        "{label}: init did not install the provider: {init}"
    );

    let lock_path = wd.path().join(".terraform.lock.hcl");
    let lock = std::fs::read_to_string(&lock_path)
        .unwrap_or_else(|err| panic!("{label}: reading {}: {err}", lock_path.display()));
    let lines: Vec<String> = lock
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let has_line = |want: &str| lines.iter().any(|line| line == want);
    assert!(
        has_line(&format!("provider \"{PROVIDER_ADDRESS}\" {{")),
        "{label}: lock file does not record the provider:\n{lock}"
    );
    assert!(
        has_line(&format!("version = \"{version}\"")),
        "{label}: lock file does not pin {version}:\n{lock}"
    );
    let h1 = release.expected_h1();
    assert!(
        has_line(&format!("\"{h1}\",")),
        "{label}: lock file lacks {h1} (the binary as {}):\n{lock}",
        release.member()
    );

    let installed = wd
        .path()
        .join(".terraform/providers")
        .join(PROVIDER_ADDRESS)
        .join(version)
        .join(platform())
        .join(release.member());
    assert!(
        installed.is_file(),
        "{label}: {} was not installed",
        installed.display()
    );

    let schema = wd.providers_schema();
    let block = &schema["provider_schemas"][PROVIDER_ADDRESS]["provider"]["block"];
    assert!(
        block["attributes"]["region"].is_object(),
        "{label}: the installed provider did not report its schema: {schema}"
    );
}

/// The output of one `scripts/release` run in a temporary directory.
struct Release {
    dir: TempDir,
    version: String,
}

impl Release {
    /// Packages a private copy of the debug build, so that another build replacing the binary
    /// in the shared target directory cannot change what this test packaged.
    fn package() -> Self {
        let dir = temp_dir();
        let built = provider_dir().join(PROVIDER_NAME);
        let binary = dir.path().join("bin").join(PROVIDER_NAME);
        std::fs::create_dir_all(dir.path().join("bin"))
            .unwrap_or_else(|err| panic!("creating bin/: {err}"));
        std::fs::copy(&built, &binary)
            .unwrap_or_else(|err| panic!("copying {}: {err}", built.display()));
        let release = Self {
            version: provider_version(),
            dir,
        };
        let run = run_release(&binary, &release.dist());
        assert!(run.status.success(), "scripts/release failed: {run:?}");
        let mut written = vec![release.mirror_zip()];
        for name in [release.zip(), release.manifest(), release.sums()] {
            written.push(release.dist().join(name));
        }
        for path in written {
            assert!(
                path.is_file() && run.stdout.contains(&*path.to_string_lossy()),
                "{} was not written, or not reported: {run:?}",
                path.display()
            );
        }
        release
    }

    fn dist(&self) -> PathBuf {
        self.dir.path().join("dist")
    }

    fn binary(&self) -> PathBuf {
        self.dir.path().join("bin").join(PROVIDER_NAME)
    }

    fn zip(&self) -> String {
        format!("{PROVIDER_NAME}_{}_{}.zip", self.version, platform())
    }

    fn manifest(&self) -> String {
        format!("{PROVIDER_NAME}_{}_manifest.json", self.version)
    }

    fn sums(&self) -> String {
        format!("{PROVIDER_NAME}_{}_SHA256SUMS", self.version)
    }

    /// The binary's name inside the zip, as the registry requires.
    fn member(&self) -> String {
        format!("{PROVIDER_NAME}_v{}", self.version)
    }

    fn mirror_zip(&self) -> PathBuf {
        self.dist()
            .join("mirror")
            .join(PROVIDER_ADDRESS)
            .join(self.zip())
    }

    fn read(&self, name: &str) -> String {
        let path = self.dist().join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
    }

    /// SHA256SUMS names exactly the zip and the manifest, and `sha256sum -c` accepts it.
    fn assert_checksums_match(&self) {
        let sums = self.read(&self.sums());
        let mut names: Vec<&str> = sums
            .lines()
            .map(|line| line.split_once("  ").map_or("", |(_, name)| name))
            .collect();
        names.sort_unstable();
        let mut want = vec![self.zip(), self.manifest()];
        want.sort_unstable();
        assert_eq!(names, want, "{}:\n{sums}", self.sums());
        let check = Command::new("sha256sum")
            .args(["--check", "--strict", &self.sums()])
            .current_dir(self.dist())
            .output()
            .unwrap_or_else(|err| panic!("running sha256sum: {err}"));
        assert!(
            check.status.success(),
            "sha256sum --check {} failed:\n{}{}",
            self.sums(),
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
    }

    /// Terraform's `h1:` hash of a package holding only our binary under [`Release::member`]:
    /// base64 of the SHA-256 of the line `<sha256 of the file>  <name>\n`.
    fn expected_h1(&self) -> String {
        const H1: &str = "import base64, hashlib, sys\n\
            line = '%s  %s\\n' % (sys.argv[1], sys.argv[2])\n\
            print('h1:' + base64.b64encode(hashlib.sha256(line.encode()).digest()).decode())";
        let output = Command::new(venv_python())
            .args(["-c", H1, &sha256_hex(&self.binary()), &self.member()])
            .output()
            .unwrap_or_else(|err| panic!("running python: {err}"));
        assert!(output.status.success(), "computing h1: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

/// What one `scripts/release` run did.
#[derive(Debug)]
struct ReleaseRun {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `scripts/release --binary BINARY --out OUT`, killing it after [`RELEASE_TIMEOUT`].
fn run_release(binary: &Path, out: &Path) -> ReleaseRun {
    let logs = temp_dir();
    let stdout_path = logs.path().join("stdout");
    let stderr_path = logs.path().join("stderr");
    let create = |path: &Path| {
        File::create(path).unwrap_or_else(|err| panic!("creating {}: {err}", path.display()))
    };
    let mut child = Command::new(workspace_root().join("scripts/release"))
        .arg("--binary")
        .arg(binary)
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(create(&stdout_path))
        .stderr(create(&stderr_path))
        .spawn()
        .unwrap_or_else(|err| panic!("starting scripts/release: {err}"));
    let deadline = Instant::now() + RELEASE_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            Ok(None) => {
                // Best effort: the panic below is what matters.
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "scripts/release ran longer than {RELEASE_TIMEOUT:?}; stderr so far:\n{}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
            Err(err) => panic!("waiting for scripts/release: {err}"),
        }
    };
    ReleaseRun {
        status,
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    }
}

/// The `[package]` version in provider/Cargo.toml, read independently of the script.
fn provider_version() -> String {
    let path = workspace_root().join("provider/Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if let Some(value) = line.strip_prefix("version").map(str::trim) {
            if let (true, Some(quoted)) = (in_package, value.strip_prefix('=')) {
                return quoted.trim().trim_matches('"').to_string();
            }
        }
    }
    panic!("no [package] version in {}", path.display())
}

/// Terraform's name for this machine's platform, such as `linux_amd64`.
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// The SHA-256 of a file as lowercase hex, from coreutils rather than from the script under test.
fn sha256_hex(path: &Path) -> String {
    let output = Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap_or_else(|err| panic!("running sha256sum: {err}"));
    assert!(
        output.status.success(),
        "sha256sum {}: {output:?}",
        path.display()
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    match stdout.split_whitespace().next() {
        Some(hex) if hex.len() == 64 => hex.to_string(),
        _ => panic!("unexpected sha256sum output: {stdout}"),
    }
}

fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("tfacc-release-")
        .tempdir()
        .unwrap_or_else(|err| panic!("creating a temporary directory: {err}"))
}

/// Quotes `value` for the CLI config file (HCL 1: only quotes and backslashes need escaping).
fn hcl_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}
