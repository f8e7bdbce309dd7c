"""Session fixtures: the provider binary, throwaway TLS and GPG keys, and a signed release of it.

The binary is the debug build `scripts/test` makes before this step (the Rust harness's rule:
TF_ACC_PROVIDER_DIR, else CARGO_TARGET_DIR or target/, then debug/). Nothing here builds it: a
cargo build belongs to the build step. It is copied first, so a rebuild meanwhile cannot change
what these tests packaged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gpg import Keyring
from pki import Tls, make_tls
from terraform import REFUSALS, ROOT, Terraform, all_versions

NAME = "terraform-provider-imagecopier"
RELEASE_SCRIPT = ROOT / "scripts" / "release"
# Zipping a debug build of several hundred megabytes takes about 15 s on an idle machine.
RELEASE_TIMEOUT_SECONDS = 10 * 60


@dataclass(frozen=True)
class ReleaseFiles:
    """One scripts/release run's output for this machine's platform."""

    dist: Path
    version: str
    binary: Path
    os: str
    arch: str
    namespace: str = "imagecopier"
    type: str = "imagecopier"

    @property
    def prefix(self) -> str:
        return f"{NAME}_{self.version}"

    @property
    def zip(self) -> Path:
        return self.dist / f"{self.prefix}_{self.os}_{self.arch}.zip"

    @property
    def manifest(self) -> Path:
        return self.dist / f"{self.prefix}_manifest.json"

    @property
    def sums(self) -> Path:
        return self.dist / f"{self.prefix}_SHA256SUMS"

    @property
    def signature(self) -> Path:
        return self.dist / f"{self.prefix}_SHA256SUMS.sig"

    @property
    def protocols(self) -> list[str]:
        """The plugin protocol versions the release's manifest declares, as a registry reads them."""
        return json.loads(self.manifest.read_text())["metadata"]["protocol_versions"]

    @property
    def member(self) -> str:
        """The binary's name inside the zip, as the registry requires."""
        return f"{NAME}_v{self.version}"


def run_release(*args: str, env: dict[str, str] | None = None,
                cwd: Path = ROOT, script: Path = RELEASE_SCRIPT) -> subprocess.CompletedProcess:
    """scripts/release with `args`, GPG_FINGERPRINT only when `env` sets it."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("GPG_FINGERPRINT", "GPG_PASSPHRASE", "SOURCE_DATE_EPOCH")}
    environment.update(env or {})
    return subprocess.run([sys.executable, str(script), *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=RELEASE_TIMEOUT_SECONDS,
                          check=False)


def sha256_hex(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provider_version() -> str:
    """provider/Cargo.toml's [package] version, read apart from the script under test."""
    section = None
    for line in (ROOT / "provider" / "Cargo.toml").read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[package]" and line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"')
    raise AssertionError("no [package] version in provider/Cargo.toml")


def host_platform() -> tuple[str, str]:
    """Terraform's os and arch for this machine (the tests run on Linux)."""
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return platform.system().lower(), arch


def built_provider() -> Path:
    explicit = os.environ.get("TF_ACC_PROVIDER_DIR")
    if explicit:
        directory = Path(explicit)
    else:
        target = os.environ.get("CARGO_TARGET_DIR") or "target"
        directory = ROOT / target / "debug"
    binary = directory / NAME
    if not binary.is_file():
        pytest.fail(f"{binary} is missing: build the workspace first (cargo build --locked "
                    "--workspace, as scripts/test does) or set TF_ACC_PROVIDER_DIR")
    return binary


@pytest.fixture(params=all_versions(), ids=str)
def terraform(request) -> Terraform:
    """Each test that takes it runs once per Terraform: 1.15.5, 1.11.4 and 1.0.3."""
    return request.param


@pytest.fixture(scope="session")
def tls(tmp_path_factory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory):
    """The project's release key, as far as these tests know: the one the registry lists."""
    keyring = Keyring(tmp_path_factory.mktemp("gpg") / "release", "imagecopier release signing")
    try:
        yield keyring
    finally:
        keyring.close()


@pytest.fixture(scope="session")
def stranger_key(tmp_path_factory):
    """Someone else's key: what an attacker who replaced the release would sign with."""
    keyring = Keyring(tmp_path_factory.mktemp("gpg") / "stranger", "someone else")
    try:
        yield keyring
    finally:
        keyring.close()


@pytest.fixture(scope="session")
def provider_binary(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("bin") / NAME
    shutil.copy2(built_provider(), copy)
    return copy


@pytest.fixture(scope="session")
def signed_release(tmp_path_factory, provider_binary, signing_key) -> ReleaseFiles:
    """`scripts/release --binary` with GPG_FINGERPRINT set, for this machine's platform.

    --dev: 0.1.0 is not released yet (CHANGELOG.md says so), and a signed release of an
    unreleased version is refused without it; the throwaway key makes this a development package.
    """
    dist = tmp_path_factory.mktemp("release") / "dist"
    run = run_release("--dev", "--binary", str(provider_binary), "--out", str(dist),
                      env=signing_key.env())
    assert run.returncode == 0, f"scripts/release failed:\n{run.stdout}\n{run.stderr}"
    os_name, arch = host_platform()
    release = ReleaseFiles(dist, provider_version(), provider_binary, os_name, arch)
    for path in (release.zip, release.manifest, release.sums, release.signature):
        assert path.is_file() and str(path) in run.stdout, f"{path} not written:\n{run.stdout}"
    assert "UNSIGNED" not in run.stderr, run.stderr
    return release


@pytest.fixture(scope="session")
def unsigned_release(tmp_path_factory, signed_release) -> ReleaseFiles:
    """The same zip released without GPG_FINGERPRINT (scripts/release --finish, no key)."""
    dist = tmp_path_factory.mktemp("unsigned") / "dist"
    dist.mkdir()
    shutil.copy2(signed_release.zip, dist / signed_release.zip.name)
    run = run_release("--dev", "--finish", "--out", str(dist))
    assert run.returncode == 0, f"scripts/release --finish failed:\n{run.stdout}\n{run.stderr}"
    assert "UNSIGNED" in run.stderr and "mirror" in run.stderr, (
        f"an unsigned release must say so:\n{run.stderr}")
    release = ReleaseFiles(dist, signed_release.version, signed_release.binary,
                           signed_release.os, signed_release.arch)
    assert not release.signature.exists()
    return release


def expected_h1(binary: Path, member: str) -> str:
    """Terraform's `h1:` hash of a package holding only `binary` named `member`: base64 of the
    SHA-256 of the line `<sha256 of the file>  <name>\\n` (Go's dirhash Hash1)."""
    line = f"{sha256_hex(binary)}  {member}\n"
    return "h1:" + base64.b64encode(hashlib.sha256(line.encode()).digest()).decode()


def pytest_terminal_summary(terminalreporter):
    """Shows what Terraform said when it refused a package, so a run's log shows the errors
    users would see, not only that the tests passed."""
    if REFUSALS:
        terminalreporter.section("Terraform's refusals")
        for line in REFUSALS:
            terminalreporter.write_line(line)
