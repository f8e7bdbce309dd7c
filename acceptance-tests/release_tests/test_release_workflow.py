""".github/workflows/release.yml cannot run here; these check what can be checked without it.

It parses; it builds exactly the platforms scripts/release defines (each with its Rust target),
which README.md and docs/index.md name; every script it runs exists and takes the flags it is
given; its tools are pinned; and it signs what it publishes.
"""

from __future__ import annotations

import re
import shlex

import yaml

from conftest import run_release
from terraform import ROOT
from test_release_script import PLATFORMS

WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def load() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(workflow, dict), f"{WORKFLOW} is not a YAML mapping"
    return workflow


def steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def test_workflow_is_a_manual_release_with_three_jobs():
    workflow = load()
    # YAML 1.1 reads the key `on` as true.
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"workflow_dispatch"}, triggers
    assert set(workflow["jobs"]) == {"check", "build", "publish"}
    assert workflow["jobs"]["build"]["needs"] == "check"
    assert set(workflow["jobs"]["publish"]["needs"]) == {"check", "build"}
    assert workflow["permissions"] == {"contents": "read"}, "only publish may write"


def test_build_matrix_is_every_release_platform():
    matrix = load()["jobs"]["build"]["strategy"]["matrix"]["include"]
    built = {entry["platform"]: entry["target"] for entry in matrix}
    assert len(built) == len(matrix), "a platform is built twice"
    assert built == PLATFORMS
    for entry in matrix:
        os_name = entry["platform"].split("_", 1)[0]
        runner, builder = entry["runner"], entry["builder"]
        expected_runner = {"linux": "ubuntu-", "freebsd": "ubuntu-", "darwin": "macos-",
                           "windows": "windows-"}[os_name]
        assert runner.startswith(expected_runner), entry
        assert builder in ("cargo", "cross"), entry
        assert builder == "cargo" or os_name in ("linux", "freebsd"), f"cross runs on Linux: {entry}"


def test_docs_and_readme_name_every_platform():
    """docs/index.md's platform table lists exactly the release platforms with their Rust
    targets, and README.md names each one."""
    docs = (ROOT / "docs" / "index.md").read_text()
    rows = re.findall(r"^\| `([a-z0-9]+_[a-z0-9]+)` \| `([^`]+)` \|", docs, re.M)
    assert dict(rows) == PLATFORMS, rows
    readme = (ROOT / "README.md").read_text()
    missing = [p for p in PLATFORMS if f"`{p}`" not in readme and p not in readme]
    assert not missing, f"README.md does not name {missing}"


def test_every_script_it_runs_exists_and_takes_its_flags():
    help_text = run_release("--help").stdout
    calls = 0
    for job_name, step in steps(load()):
        for line in step.get("run", "").splitlines():
            for match in re.finditer(r"(?:python3 )?(scripts/[A-Za-z0-9_./-]+)", line):
                script = ROOT / match.group(1)
                assert script.is_file(), f"{job_name}: {line.strip()} runs a missing {script}"
                calls += 1
                if match.group(1) == "scripts/release":
                    words = shlex.split(line[match.end():].split("&&")[0].split(">")[0].split(")")[0])
                    for flag in (w for w in words if w.startswith("--")):
                        assert re.search(rf"(^|\s){re.escape(flag)}\b", help_text), (
                            f"{job_name}: scripts/release has no {flag}")
    assert calls >= 4, "the workflow should check, package, sign and read notes with scripts/release"


def test_tools_are_pinned():
    workflow = load()
    for job_name, step in steps(workflow):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), (
                f"{job_name}: {step['uses']} is not pinned to a commit")
    env = workflow["env"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", env["RUST_TOOLCHAIN"]), env
    assert re.fullmatch(r"\d+\.\d+\.\d+", env["CROSS_VERSION"]), env
    rust_version = re.search(r'^rust-version\s*=\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)
    minimum = tuple(int(p) for p in rust_version.group(1).split("."))
    pinned = tuple(int(p) for p in env["RUST_TOOLCHAIN"].split("."))
    assert pinned[:len(minimum)] >= minimum, "the pinned toolchain is older than rust-version"
    builds = [s["run"] for _, s in steps(workflow) if s.get("name") == "build"]
    assert builds and all("--locked" in b and "--release" in b for b in builds), builds


def test_publish_signs_and_attaches_the_signature():
    publish = load()["jobs"]["publish"]
    assert publish["permissions"] == {"contents": "write"}
    signing = [s for s in publish["steps"] if "--finish" in s.get("run", "")]
    assert len(signing) == 1 and "GPG_FINGERPRINT" in signing[0]["env"], signing
    uploads = " ".join(s.get("run", "") for s in publish["steps"] if "gh release create" in s.get("run", ""))
    for suffix in ("_SHA256SUMS.sig", "_SHA256SUMS", "_manifest.json", "_*.zip"):
        assert suffix in uploads, f"the release does not attach *{suffix}"
