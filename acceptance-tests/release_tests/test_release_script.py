"""scripts/release on its own, without Terraform: every platform it is defined for, signing, the
release checks, and one source of the version.

Binaries for other platforms are stand-ins: the first bytes of an ELF, PE or Mach-O executable,
which is all the script reads to tell a platform's binary from another's. The release checks run
in a throwaway git repository holding a copy of the script and the files it reads, so that a tag
made by a test never touches this repository.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import NAME, provider_version, run_release
from terraform import ROOT


def platforms() -> dict[str, str]:
    """os_arch -> Rust target, as `scripts/release --list-platforms` prints them."""
    run = run_release("--list-platforms")
    assert run.returncode == 0, run.stderr
    return dict(line.split() for line in run.stdout.splitlines())


PLATFORMS = platforms()
ELF_MACHINE = {"amd64": 62, "arm64": 183, "386": 3, "arm": 40}
PE_MACHINE = {"amd64": 0x8664, "arm64": 0xAA64, "386": 0x014C}
MACHO_CPU = {"amd64": 0x01000007, "arm64": 0x0100000C}
BITS = {"amd64": 64, "arm64": 64, "386": 32, "arm": 32}


def fake_executable(path: Path, os_arch: str) -> Path:
    """The header of an executable for `os_arch`, padded, marked executable."""
    os_name, arch = os_arch.split("_", 1)
    if os_name in ("linux", "freebsd"):
        osabi = 9 if os_name == "freebsd" else 0
        ident = b"\x7fELF" + bytes([1 if BITS[arch] == 32 else 2, 1, 1, osabi]) + bytes(8)
        header = ident + (2).to_bytes(2, "little") + ELF_MACHINE[arch].to_bytes(2, "little")
    elif os_name == "windows":
        coff = PE_MACHINE[arch].to_bytes(2, "little") + bytes(18)
        magic = (0x10B if BITS[arch] == 32 else 0x20B).to_bytes(2, "little")
        header = b"MZ" + bytes(0x3A) + (0x40).to_bytes(4, "little") + b"PE\0\0" + coff + magic
    elif os_name == "darwin":
        header = b"\xcf\xfa\xed\xfe" + MACHO_CPU[arch].to_bytes(4, "little")
    else:
        raise AssertionError(f"no stand-in executable for {os_arch}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + bytes(512) + os_arch.encode())
    path.chmod(0o755)
    return path


def test_list_names_the_registry_platforms_rust_supports():
    assert set(PLATFORMS) == {
        "darwin_amd64", "darwin_arm64", "freebsd_386", "freebsd_amd64", "linux_386",
        "linux_amd64", "linux_arm", "linux_arm64", "windows_386", "windows_amd64",
        "windows_arm64",
    }


@pytest.mark.parametrize("os_arch", sorted(PLATFORMS))
def test_packages_a_binary_for_any_platform(tmp_path, os_arch):
    os_name, arch = os_arch.split("_", 1)
    binary = fake_executable(tmp_path / "bin" / (NAME + (".exe" if os_name == "windows" else "")),
                             os_arch)
    out = tmp_path / "dist"
    run = run_release("--dev", "--binary", str(binary), "--os", os_name, "--arch", arch,
                      "--zip-only", "--out", str(out))
    assert run.returncode == 0, run.stderr

    version = provider_version()
    zip_path = out / f"{NAME}_{version}_{os_arch}.zip"
    assert f"release: wrote {zip_path}" in run.stdout
    assert sorted(p.name for p in out.iterdir()) == [zip_path.name], "--zip-only wrote more"
    with zipfile.ZipFile(zip_path) as archive:
        [info] = archive.infolist()
        member = f"{NAME}_v{version}" + (".exe" if os_name == "windows" else "")
        assert info.filename == member
        assert stat.S_IMODE(info.external_attr >> 16) == 0o755
        assert archive.read(info) == binary.read_bytes()


@pytest.mark.parametrize("built_for, packaged_as, says", [
    ("linux_amd64", "linux_arm64", "not linux_arm64 (64-bit ELF, machine 0xb7)"),
    ("linux_amd64", "linux_386", "not linux_386 (32-bit ELF, machine 0x3)"),
    ("linux_amd64", "windows_amd64", "not windows_amd64 (64-bit PE, machine 0x8664)"),
    ("windows_386", "windows_amd64", "not windows_amd64 (64-bit PE, machine 0x8664)"),
    ("darwin_arm64", "darwin_amd64", "not darwin_amd64 (64-bit Mach-O, machine 0x1000007)"),
    ("linux_amd64", "freebsd_amd64", "for OS ABI 0, not freebsd"),
    ("freebsd_amd64", "linux_amd64", "for OS ABI 9, not linux"),
])
def test_refuses_a_binary_built_for_another_platform(tmp_path, built_for, packaged_as, says):
    binary = fake_executable(tmp_path / NAME, built_for)
    os_name, arch = packaged_as.split("_", 1)
    out = tmp_path / "dist"
    run = run_release("--dev", "--binary", str(binary), "--os", os_name, "--arch", arch,
                      "--out", str(out))
    assert run.returncode != 0
    assert str(binary) in run.stderr and says in run.stderr, run.stderr
    assert not out.exists(), "a refused binary was packaged"


def test_refuses_a_platform_it_does_not_define(tmp_path):
    binary = fake_executable(tmp_path / NAME, "linux_arm64")
    run = run_release("--dev", "--binary", str(binary), "--os", "freebsd", "--arch", "arm64",
                      "--out", str(tmp_path / "dist"))
    assert run.returncode != 0
    assert "freebsd_arm64 is not a release platform" in run.stderr, run.stderr


def test_finish_checksums_and_signs_every_zip(tmp_path, signing_key):
    """The release workflow's order: one --zip-only run per platform, then --finish signs."""
    out = tmp_path / "dist"
    chosen = ["linux_amd64", "windows_arm64", "darwin_arm64"]
    for os_arch in chosen:
        binary = fake_executable(tmp_path / os_arch / NAME, os_arch)
        os_name, arch = os_arch.split("_", 1)
        run = run_release("--dev", "--binary", str(binary), "--os", os_name, "--arch", arch,
                          "--zip-only", "--out", str(out))
        assert run.returncode == 0, run.stderr
    run = run_release("--dev", "--finish", "--out", str(out), env=signing_key.env())
    assert run.returncode == 0, run.stderr
    assert "UNSIGNED" not in run.stderr

    prefix = f"{NAME}_{provider_version()}"
    listed = [line.split("  ", 1)[1] for line in (out / f"{prefix}_SHA256SUMS").read_text().splitlines()]
    assert listed == sorted(f"{prefix}_{p}.zip" for p in chosen) + [f"{prefix}_manifest.json"]
    assert json.loads((out / f"{prefix}_manifest.json").read_text()) == json.loads(
        (ROOT / "terraform-registry-manifest.json").read_text())
    mirror = out / "mirror" / "registry.terraform.io" / "imagecopier" / "imagecopier"
    assert sorted(p.name for p in mirror.iterdir()) == sorted(f"{prefix}_{p}.zip" for p in chosen)
    assert_user_can_verify(tmp_path, out, prefix, signing_key.public_key_armor())


def verification_commands(version: str, key_file: Path) -> list[str]:
    """The commands docs/index.md gives for verifying a download by hand, for this release."""
    docs = (ROOT / "docs" / "index.md").read_text()
    section = docs.split("### Verifying a download by hand", 1)[1]
    block = section.split("```shell\n", 1)[1].split("```", 1)[0]
    return [line.replace("0.1.0", version).replace("imagecopier-release-key.asc", str(key_file))
            for line in block.splitlines() if line.strip()]


def assert_user_can_verify(tmp_path: Path, out: Path, prefix: str, public_key: str) -> None:
    """docs/index.md's verification by hand, run as written: it passes for the release and
    `gpg --verify` fails once SHA256SUMS is changed."""
    home = tmp_path / "user-gnupg"
    home.mkdir(mode=0o700)
    key_file = tmp_path / "release-key.asc"
    key_file.write_text(public_key)
    commands = verification_commands(provider_version(), key_file)
    assert [c.split()[:2] for c in commands] == [["gpg", "--import"], ["gpg", "--verify"],
                                                 ["sha256sum", "-c"]], commands

    def run(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", command], cwd=out, env={**os.environ, "GNUPGHOME": str(home)},
                              capture_output=True, text=True, timeout=120, check=False)

    try:
        for command in commands:
            result = run(command)
            assert result.returncode == 0, f"{command}:\n{result.stdout}{result.stderr}"
        assert "Good signature" in run(commands[1]).stderr

        sums = out / f"{prefix}_SHA256SUMS"
        sums.write_text(sums.read_text().replace("0", "1", 1))
        forged = run(commands[1])
        assert forged.returncode != 0 and "BAD signature" in forged.stderr, forged.stderr
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"],
                       capture_output=True, timeout=120, check=False)


def test_unsigned_release_says_so_and_leaves_no_stale_signature(tmp_path):
    out = tmp_path / "dist"
    binary = fake_executable(tmp_path / NAME, "linux_amd64")
    prefix = f"{NAME}_{provider_version()}"
    out.mkdir()
    stale = out / f"{prefix}_SHA256SUMS.sig"
    stale.write_bytes(b"a signature of an earlier SHA256SUMS")
    run = run_release("--dev", "--binary", str(binary), "--os", "linux", "--arch", "amd64",
                      "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert "UNSIGNED" in run.stderr and "mirror only" in run.stderr, run.stderr
    assert not stale.exists(), "a signature that no longer fits SHA256SUMS was left behind"
    assert (out / f"{prefix}_SHA256SUMS").is_file()


# The release checks, in a throwaway repository.

RELEASE_FILES = ("scripts/release", "provider/Cargo.toml", "CHANGELOG.md",
                 "terraform-registry-manifest.json")


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=release tests", "-c",
         "user.email=release-tests@localhost", "-c", "commit.gpgsign=false", "-c",
         "tag.gpgsign=false", *args],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository with a copy of the script and every file it reads, committed."""
    root = tmp_path / "repo"
    for name in RELEASE_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    git(root, "init", "--quiet")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "release files")
    return root


def release_in(repo: Path, *args: str, env: dict[str, str] | None = None):
    return run_release(*args, env=env, cwd=repo, script=repo / "scripts" / "release")


def set_changelog(repo: Path, text: str) -> None:
    (repo / "CHANGELOG.md").write_text(text)


def test_check_passes_for_an_untagged_version_with_a_dated_section(repo):
    version = provider_version()
    set_changelog(repo, f"## {version} (December 7, 2026)\n\nFEATURES:\n\n* Something.\n")
    run = release_in(repo, "--check")
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"{version}\n"


def test_refuses_a_version_that_is_already_tagged(repo, tmp_path):
    version = provider_version()
    git(repo, "tag", f"v{version}")
    binary = fake_executable(tmp_path / NAME, "linux_amd64")
    out = tmp_path / "dist"
    run = release_in(repo, "--binary", str(binary), "--os", "linux", "--arch", "amd64",
                     "--out", str(out))
    assert run.returncode != 0
    assert f"version {version} is already tagged (v{version})" in run.stderr, run.stderr
    assert not out.exists()

    dev = release_in(repo, "--dev", "--binary", str(binary), "--os", "linux", "--arch", "amd64",
                     "--out", str(out))
    assert dev.returncode == 0, dev.stderr
    assert "--dev: not checking the git tag" in dev.stderr


def test_refuses_a_version_without_a_changelog_section(repo):
    version = provider_version()
    set_changelog(repo, "## 0.0.1 (January 1, 2026)\n\nNOTES:\n\n* Older.\n")
    run = release_in(repo, "--check")
    assert run.returncode != 0
    assert f"CHANGELOG.md has no section for {version}" in run.stderr, run.stderr


def test_signed_release_needs_the_changelog_section_dated(repo, tmp_path, signing_key):
    version = provider_version()
    set_changelog(repo, f"## {version} (Unreleased)\n\nFEATURES:\n\n* Something.\n")
    binary = fake_executable(tmp_path / NAME, "linux_amd64")
    args = ("--binary", str(binary), "--os", "linux", "--arch", "amd64",
            "--out", str(tmp_path / "dist"))
    unsigned = release_in(repo, *args)
    assert unsigned.returncode == 0, "an unsigned development package may be unreleased"
    signed = release_in(repo, *args, env=signing_key.env())
    assert signed.returncode != 0
    assert f"CHANGELOG.md still says {version} is unreleased" in signed.stderr, signed.stderr

    set_changelog(repo, f"## {version} (December 7, 2026)\n\nFEATURES:\n\n* Something.\n")
    dated = release_in(repo, *args, env=signing_key.env())
    assert dated.returncode == 0, dated.stderr
    assert (tmp_path / "dist" / f"{NAME}_{version}_SHA256SUMS.sig").is_file()


def test_the_version_comes_from_provider_cargo_toml(repo, tmp_path):
    cargo = repo / "provider" / "Cargo.toml"
    cargo.write_text(cargo.read_text().replace(f'version = "{provider_version()}"',
                                               'version = "7.8.9"', 1))
    set_changelog(repo, "## 7.8.9 (Unreleased)\n\nNOTES:\n\n* Next.\n\n"
                  "## 0.1.0 (December 7, 2026)\n\nNOTES:\n\n* First.\n")
    binary = fake_executable(tmp_path / NAME, "linux_amd64")
    run = release_in(repo, "--binary", str(binary), "--os", "linux", "--arch", "amd64",
                     "--out", str(tmp_path / "dist"))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "dist" / f"{NAME}_7.8.9_linux_amd64.zip").is_file()
    with zipfile.ZipFile(tmp_path / "dist" / f"{NAME}_7.8.9_linux_amd64.zip") as archive:
        assert archive.namelist() == [f"{NAME}_v7.8.9"]

    notes = release_in(repo, "--notes")
    assert notes.returncode == 0, notes.stderr
    assert notes.stdout == "## 7.8.9 (Unreleased)\n\nNOTES:\n\n* Next.\n"


def test_changelog_has_this_version_in_the_registry_format():
    """The repository's own CHANGELOG.md: a section for the version, in the registry providers'
    format (a `## version (date)` heading, then NOTES/FEATURES/ENHANCEMENTS/BUG FIXES)."""
    run = run_release("--notes")
    assert run.returncode == 0, run.stderr
    heading, *body = run.stdout.splitlines()
    assert heading.startswith(f"## {provider_version()} (")
    kinds = [line for line in body if line.endswith(":") and line.rstrip(":").isupper()]
    assert kinds and set(kinds) <= {"NOTES:", "FEATURES:", "ENHANCEMENTS:", "BUG FIXES:"}, kinds
