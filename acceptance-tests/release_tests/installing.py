"""What every install test checks once `terraform init` has run: the lock file, the installed
binary, and that Terraform runs the installed copy.

The configuration is the provider function's example (examples/functions/key_policy_statements),
copied verbatim beside a versions.tf naming the provider's source: Terraform calls a function
without configuring the provider, so the plan needs no AWS and makes no AWS call. Terraform 1.0.3
predates provider functions; it runs the installed copy for `providers schema -json` instead.
"""

from __future__ import annotations

import json
import re
import shutil

from conftest import ReleaseFiles, expected_h1, sha256_hex
from terraform import ROOT, Workdir

EXAMPLE = ROOT / "examples" / "functions" / "key_policy_statements" / "function.tf"
COPY_ACCOUNT = "222222222222"


def write_configuration(wd: Workdir, source: str, version: str) -> None:
    """versions.tf requiring the provider, and the example where Terraform can parse it."""
    if wd.terraform.has_functions:
        shutil.copy(EXAMPLE, wd.path / "function.tf")
    wd.write("versions.tf", (
        "terraform {\n"
        "  required_providers {\n"
        "    imagecopier = {\n"
        f'      source  = "{source}"\n'
        f'      version = "{version}"\n'
        "    }\n"
        "  }\n"
        "}\n"
    ))


def lock_entry(wd: Workdir, address: str) -> tuple[str, list[str]]:
    """The (version, hashes) .terraform.lock.hcl records for `address`."""
    lock_path = wd.path / ".terraform.lock.hcl"
    assert lock_path.is_file(), f"{wd.terraform}: no lock file was written"
    text = lock_path.read_text()
    block = re.search(r'provider "' + re.escape(address) + r'" \{(.*?)\n\}', text, re.S)
    assert block, f"{wd.terraform}: the lock file does not record {address}:\n{text}"
    version = re.search(r'version\s*=\s*"([^"]+)"', block.group(1))
    hashes = re.findall(r'"((?:h1|zh):[^"]+)"', block.group(1))
    assert version, f"no version in the lock file's {address} block:\n{text}"
    return version.group(1), hashes


def assert_locked(wd: Workdir, address: str, release: ReleaseFiles, want_zh: bool) -> list[str]:
    """The lock pins the release's version with the package's h1: (and the zip's zh:)."""
    version, hashes = lock_entry(wd, address)
    assert version == release.version, f"{wd.terraform}: locked {version}, not {release.version}"
    h1 = expected_h1(release.binary, release.member)
    assert h1 in hashes, f"{wd.terraform}: the lock lacks {h1} (the binary as {release.member}): {hashes}"
    zh = "zh:" + sha256_hex(release.zip)
    if want_zh:
        assert zh in hashes, f"{wd.terraform}: the lock lacks {zh} (the zip's SHA-256): {hashes}"
    else:
        assert not any(h.startswith("zh:") for h in hashes), hashes
    return hashes


def assert_installed(wd: Workdir, address: str, release: ReleaseFiles) -> None:
    installed = (wd.path / ".terraform" / "providers" / address / release.version
                 / f"{release.os}_{release.arch}" / release.member)
    assert installed.is_file(), f"{wd.terraform}: {installed} was not installed"
    assert sha256_hex(installed) == sha256_hex(release.binary), (
        f"{wd.terraform}: the installed binary is not the one released")


def assert_nothing_installed(wd: Workdir) -> None:
    providers = wd.path / ".terraform" / "providers"
    found = [p for p in providers.rglob("*") if p.is_file()] if providers.exists() else []
    assert not found, f"{wd.terraform}: a refused package left files behind: {found}"


def assert_runs(wd: Workdir, address: str) -> None:
    """Terraform runs the installed provider: the function example plans (1.8+), or the
    provider reports its schema (1.0)."""
    if wd.terraform.has_functions:
        wd.ok("plan", "-no-color", "-input=false", "-out=tfplan",
              f"-var=copy_account_ids=[\"{COPY_ACCOUNT}\"]")
        shown = json.loads(wd.ok("show", "-json", "tfplan").stdout)
        statements = shown["planned_values"]["outputs"]["copy_statements"]["value"]
        principals = json.dumps([s.get("Principal") for s in statements])
        assert f"arn:aws:iam::{COPY_ACCOUNT}:root" in principals, (
            f"{wd.terraform}: the installed provider's function answered {statements}")
    else:
        schema = json.loads(wd.ok("providers", "schema", "-json").stdout)
        block = schema["provider_schemas"][address]["provider"]["block"]
        assert "region" in block["attributes"], f"{wd.terraform}: no provider schema: {block}"
