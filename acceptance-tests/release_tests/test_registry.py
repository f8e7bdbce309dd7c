"""Installing a release the way users install providers: from a registry.

A registry on 127.0.0.1 answers the provider registry protocol over HTTPS (service discovery at
/.well-known/terraform.json, versions, download with shasums_url, shasums_signature_url and the
signing key) for the release `scripts/release` made and signed. Its host is `localhost:PORT`:
Terraform requires a hostname in a source address, and `localhost` resolves without touching
/etc/hosts. Real Terraform 1.15.5, 1.11.4 and 1.0.3 install it, check its signature, lock it and
run it; a tampered zip, a signature that does not match, a key the registry does not list, and an
unsigned release are each refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from installing import (
    assert_installed,
    assert_locked,
    assert_nothing_installed,
    assert_runs,
    write_configuration,
)
from pki import Tls
from servers import Registry, published
from tampering import replace_zip, replace_zip_and_checksum, unknown_key, wrong_signature
from terraform import Terraform, Workdir, report


def direct_workdir(path: Path, terraform: Terraform, tls: Tls, trust_ca: bool = True) -> Workdir:
    """A working directory whose CLI configuration installs from origin registries only."""
    wd = Workdir(path, terraform, tls.ca_file if trust_ca else None, tls.empty_cert_dir)
    wd.write("terraform.rc", "provider_installation {\n  direct {}\n}\n")
    return wd


def test_each_terraform_is_the_version_it_is_named(tmp_path, tls, terraform):
    wd = direct_workdir(tmp_path, terraform, tls)
    reported = json.loads(wd.ok("version", "-json").stdout)["terraform_version"]
    assert reported == terraform.version


def test_registry_install_verifies_signature_and_locks_h1_and_zh(
        tmp_path, tls, signed_release, signing_key, terraform):
    with Registry(tls, published(signed_release, signing_key)) as registry:
        wd = direct_workdir(tmp_path, terraform, tls)
        write_configuration(wd, registry.source, signed_release.version)
        init = wd.ok("init", "-no-color")
        paths = registry.server.paths()

    installed = (f"Installed {registry.source} v{signed_release.version} "
                 f"(self-signed, key ID {signing_key.key_id})")
    assert installed in init.stdout, f"{terraform}: {init}"
    files = Registry.FILES
    for path in ("/.well-known/terraform.json",
                 f"{Registry.API}{signed_release.namespace}/{signed_release.type}/versions",
                 f"{Registry.API}{signed_release.namespace}/{signed_release.type}/"
                 f"{signed_release.version}/download/"
                 f"{signed_release.os}/{signed_release.arch}",
                 files + signed_release.sums.name,
                 files + signed_release.signature.name,
                 files + signed_release.zip.name):
        assert path in paths, f"{terraform} never asked for {path}: {paths}"
    assert_locked(wd, registry.source, signed_release, want_zh=True)
    assert_installed(wd, registry.source, signed_release)
    assert_runs(wd, registry.source)


# Each attack, and the words of Terraform's refusal (the same in 1.0.3, 1.11.4 and 1.15.5).
ATTACKS: dict[str, tuple[Callable, str]] = {
    "tampered_zip": (replace_zip, "archive has incorrect checksum"),
    "tampered_zip_and_checksum": (replace_zip_and_checksum, "checksum list has unexpected SHA-256 hash"),
    "wrong_signature": (wrong_signature, "invalid signature"),
    "unknown_key": (unknown_key, "authentication signature from unknown issuer"),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_registry_install_refuses(tmp_path, tls, signed_release, signing_key, stranger_key,
                                  terraform, attack):
    tamper, refusal = ATTACKS[attack]
    served = published(signed_release, signing_key)
    tamper(tmp_path, signed_release, served, stranger_key)
    with Registry(tls, served) as registry:
        wd = direct_workdir(tmp_path / "wd", terraform, tls)
        write_configuration(wd, registry.source, signed_release.version)
        init = wd.fails("init", "-no-color")

    assert "Failed to install provider" in init.flat and refusal in init.flat, (
        f"{terraform}: expected the refusal {refusal!r}\n{init}")
    assert not (wd.path / ".terraform.lock.hcl").exists(), f"{terraform} locked a refused package"
    assert_nothing_installed(wd)
    report(wd, attack, init)


def test_registry_install_refuses_an_unsigned_release(tmp_path, tls, unsigned_release,
                                                      signing_key, terraform):
    """Without GPG_FINGERPRINT scripts/release makes no SHA256SUMS.sig, and says the release is
    for mirrors only: this is why. A registry has no signature to point at."""
    with Registry(tls, published(unsigned_release, signing_key)) as registry:
        wd = direct_workdir(tmp_path, terraform, tls)
        write_configuration(wd, registry.source, unsigned_release.version)
        init = wd.fails("init", "-no-color")

    refusal = "failed to retrieve cryptographic signature for provider"
    assert refusal in init.flat, f"{terraform}: {init}"
    assert_nothing_installed(wd)
    report(wd, "unsigned release", init)


def test_registry_is_reached_over_verified_https(tmp_path, tls, signed_release, signing_key,
                                                 terraform):
    """The registry's certificate is checked: without the test CA in SSL_CERT_FILE, Terraform
    does not trust it and stops at service discovery."""
    with Registry(tls, published(signed_release, signing_key)) as registry:
        wd = direct_workdir(tmp_path, terraform, tls, trust_ca=False)
        write_configuration(wd, registry.source, signed_release.version)
        init = wd.fails("init", "-no-color")
        paths = registry.server.paths()

    assert "certificate signed by unknown authority" in init.flat, (
        f"{terraform}: {init}")
    assert paths == [], f"{terraform} completed a request over an untrusted connection: {paths}"
    report(wd, "untrusted certificate", init)
