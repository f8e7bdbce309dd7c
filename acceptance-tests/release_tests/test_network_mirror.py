"""Installing a release from a provider network mirror, the way private teams do.

A team makes its mirror with `terraform providers mirror` from the provider's registry, which
checks the release's signature as `init` does, and serves the directory it writes (the network
mirror protocol's index.json and <version>.json beside the zips) from a static HTTPS host. Users
keep the source address `imagecopier/imagecopier`, and a `network_mirror` block in their CLI
configuration sends every install to the mirror; Terraform never contacts registry.terraform.io.

Until the provider is on the public registry, the test's registry stands in for it: a `host`
block in the CLI configuration points registry.terraform.io's providers.v1 service at it (the
documented way to override service discovery), so the mirror holds
registry.terraform.io/imagecopier/imagecopier exactly as it will once the provider is published.

A network mirror carries no signatures: Terraform trusts the mirror's own checksums. The lock
file is what ties a mirror's package to the signed release: `terraform providers lock` from the
registry records the signed `zh:` checksums, and `init` from the mirror then refuses any package
they do not match, even one the mirror vouches for.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ReleaseFiles, sha256_hex
from installing import (
    assert_installed,
    assert_locked,
    assert_nothing_installed,
    assert_runs,
    lock_entry,
    write_configuration,
)
from pki import Tls
from servers import Registry, StaticMirror, published
from tampering import tampered_zip, unknown_key, wrong_signature
from terraform import Terraform, Workdir, all_versions, hcl_string, report

PUBLIC_SOURCE = "imagecopier/imagecopier"
PUBLIC_ADDRESS = "registry.terraform.io/imagecopier/imagecopier"
# The team's own Terraform makes the mirror and the lock file.
TEAM_TERRAFORM = all_versions()[0]


def origin_workdir(path: Path, terraform: Terraform, tls: Tls, registry: Registry) -> Workdir:
    """A working directory where registry.terraform.io's provider service is the test registry."""
    wd = Workdir(path, terraform, tls.ca_file, tls.empty_cert_dir)
    wd.write("terraform.rc", (
        'host "registry.terraform.io" {\n'
        "  services = {\n"
        f'    "providers.v1" = {hcl_string(f"https://{registry.host}{Registry.API}")}\n'
        "  }\n"
        "}\n"
        "provider_installation {\n"
        "  direct {}\n"
        "}\n"
    ))
    return wd


def mirror_workdir(path: Path, terraform: Terraform, tls: Tls, mirror: StaticMirror) -> Workdir:
    """A user's working directory: every provider comes from the network mirror."""
    wd = Workdir(path, terraform, tls.ca_file, tls.empty_cert_dir)
    wd.write("terraform.rc", (
        "provider_installation {\n"
        "  network_mirror {\n"
        f"    url = {hcl_string(mirror.url)}\n"
        "  }\n"
        "}\n"
    ))
    return wd


@dataclass(frozen=True)
class Mirrored:
    """A mirror directory made from the signed registry, and the lock file made from it."""

    root: Path
    lock: str

    def provider_dir(self) -> Path:
        return self.root / PUBLIC_ADDRESS


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory, tls, signed_release, signing_key) -> Mirrored:
    """`terraform providers mirror` and `terraform providers lock` against the signed registry."""
    base = tmp_path_factory.mktemp("mirrored")
    platform = f"-platform={signed_release.os}_{signed_release.arch}"
    with Registry(tls, published(signed_release, signing_key)) as registry:
        wd = origin_workdir(base / "team", TEAM_TERRAFORM, tls, registry)
        write_configuration(wd, PUBLIC_SOURCE, signed_release.version)
        made = wd.ok("providers", "mirror", platform, str(base / "mirror"))
        wd.ok("providers", "lock", platform)
    assert "Package authenticated: self-signed" in made.stdout, made
    mirrored = Mirrored(base / "mirror", (wd.path / ".terraform.lock.hcl").read_text())
    provider = mirrored.provider_dir()
    assert json.loads((provider / "index.json").read_text()) == {
        "versions": {signed_release.version: {}}}
    archives = json.loads((provider / f"{signed_release.version}.json").read_text())["archives"]
    assert archives[f"{signed_release.os}_{signed_release.arch}"]["url"] == signed_release.zip.name
    assert sha256_hex(provider / signed_release.zip.name) == sha256_hex(signed_release.zip)
    # The lock from the registry holds the zip's signed checksum as well as the package's h1:.
    _, hashes = lock_entry(wd, PUBLIC_ADDRESS)
    assert "zh:" + sha256_hex(signed_release.zip) in hashes, mirrored.lock
    return mirrored


def test_network_mirror_install_matches_the_signed_lock(tmp_path, tls, mirrored, signed_release,
                                                        terraform):
    with StaticMirror(tls, mirrored.root) as mirror:
        wd = mirror_workdir(tmp_path, terraform, tls, mirror)
        write_configuration(wd, PUBLIC_SOURCE, signed_release.version)
        wd.write(".terraform.lock.hcl", mirrored.lock)
        init = wd.ok("init", "-no-color")
        paths = mirror.server.paths()

    assert f"Installed {PUBLIC_SOURCE} v{signed_release.version} (verified checksum)" in init.stdout, (
        f"{terraform}: {init}")
    base = f"/{PUBLIC_ADDRESS}/"
    for name in ("index.json", f"{signed_release.version}.json", signed_release.zip.name):
        assert base + name in paths, f"{terraform} never asked the mirror for {name}: {paths}"
    assert_locked(wd, PUBLIC_ADDRESS, signed_release, want_zh=True)
    assert_installed(wd, PUBLIC_ADDRESS, signed_release)
    assert_runs(wd, PUBLIC_ADDRESS)


def copy_of(mirrored: Mirrored, directory: Path) -> Path:
    root = directory / "mirror"
    shutil.copytree(mirrored.root, root)
    return root


def test_network_mirror_refuses_a_tampered_zip(tmp_path, tls, mirrored, signed_release, terraform):
    """A zip replaced on the mirror host does not match the mirror's own checksum."""
    root = copy_of(mirrored, tmp_path)
    fake = tampered_zip(tmp_path, signed_release)
    shutil.copy(fake, root / PUBLIC_ADDRESS / signed_release.zip.name)
    with StaticMirror(tls, root) as mirror:
        wd = mirror_workdir(tmp_path / "wd", terraform, tls, mirror)
        write_configuration(wd, PUBLIC_SOURCE, signed_release.version)
        init = wd.fails("init", "-no-color")

    refusal = "provider package doesn't match the expected checksum"
    assert refusal in init.flat, f"{terraform}: {init}"
    assert_nothing_installed(wd)
    report(wd, "tampered zip on the mirror", init)


def test_network_mirror_compromised_is_refused_by_the_signed_lock(tmp_path, tls, mirrored,
                                                                   signed_release, terraform):
    """A mirror that serves another zip with checksums to match is believed without a lock file
    (the control), and refused with the lock `terraform providers lock` made from the signed
    registry."""
    root = copy_of(mirrored, tmp_path)
    provider = root / PUBLIC_ADDRESS
    fake = tampered_zip(tmp_path, signed_release)
    shutil.copy(fake, provider / signed_release.zip.name)
    version_file = provider / f"{signed_release.version}.json"
    index = json.loads(version_file.read_text())
    platform = f"{signed_release.os}_{signed_release.arch}"
    index["archives"][platform]["hashes"] = ["zh:" + sha256_hex(fake)]
    version_file.write_text(json.dumps(index))

    with StaticMirror(tls, root) as mirror:
        believed = mirror_workdir(tmp_path / "no-lock", terraform, tls, mirror)
        write_configuration(believed, PUBLIC_SOURCE, signed_release.version)
        believed.ok("init", "-no-color")

        wd = mirror_workdir(tmp_path / "signed-lock", terraform, tls, mirror)
        write_configuration(wd, PUBLIC_SOURCE, signed_release.version)
        wd.write(".terraform.lock.hcl", mirrored.lock)
        init = wd.fails("init", "-no-color")

    installed = (believed.path / ".terraform/providers" / PUBLIC_ADDRESS / signed_release.version
                 / platform / signed_release.member)
    assert installed.read_bytes().startswith(b"#!/bin/sh"), "the control did not install the fake"
    refusal = "checksums previously recorded in the dependency lock file"
    assert refusal in init.flat, f"{terraform}: {init}"
    assert_nothing_installed(wd)
    assert (wd.path / ".terraform.lock.hcl").read_text() == mirrored.lock, "the lock file changed"
    report(wd, "compromised mirror, signed lock", init)


@pytest.mark.parametrize("attack", ["wrong_signature", "unknown_key", "unsigned"])
def test_network_mirror_is_not_made_from_a_badly_signed_release(
        tmp_path, tls, signed_release, unsigned_release, signing_key, stranger_key, terraform,
        attack):
    """`terraform providers mirror` checks the signature as `init` does: a team cannot build a
    mirror from a release whose signature does not fit, is by another key, or is missing."""
    release: ReleaseFiles = unsigned_release if attack == "unsigned" else signed_release
    served = published(release, signing_key)
    if attack == "wrong_signature":
        wrong_signature(tmp_path, release, served, stranger_key)
    elif attack == "unknown_key":
        unknown_key(tmp_path, release, served, stranger_key)
    refusals = {
        "wrong_signature": "invalid signature",
        "unknown_key": "authentication signature from unknown issuer",
        "unsigned": "failed to retrieve cryptographic signature for provider",
    }
    with Registry(tls, served) as registry:
        wd = origin_workdir(tmp_path / "team", terraform, tls, registry)
        write_configuration(wd, PUBLIC_SOURCE, release.version)
        made = wd.fails("providers", "mirror", f"-platform={release.os}_{release.arch}",
                        str(tmp_path / "mirror"))

    assert refusals[attack] in made.flat, f"{terraform}: {made}"
    # Terraform may leave its download's temporary file (a dot file); the package and the
    # indexes that would publish it are not written.
    provider = tmp_path / "mirror" / PUBLIC_ADDRESS
    for name in (release.zip.name, "index.json", f"{release.version}.json"):
        assert not (provider / name).exists(), f"{terraform} mirrored a refused package: {name}"
    report(wd, f"providers mirror, {attack}", made)
