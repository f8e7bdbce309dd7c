"""What an attacker who can change the files a user downloads, but not the release key, can serve.

Each step goes one further than the last: a replaced zip; the registry's checksum changed to
match it; SHA256SUMS rewritten to list it (the published signature no longer fits); SHA256SUMS
signed again with the attacker's own key. The replacement zip is small and looks like a provider
package (one member, named as the registry requires).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from conftest import ReleaseFiles, sha256_hex
from gpg import Keyring
from servers import Release


def tampered_zip(directory: Path, release: ReleaseFiles) -> Path:
    path = directory / "tampered" / release.zip.name
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo(release.member, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o100755 << 16
        archive.writestr(info, b"#!/bin/sh\necho 'not the provider'\n")
    return path


def rewritten_sums(directory: Path, release: ReleaseFiles, zip_path: Path) -> Path:
    """The release's SHA256SUMS with the zip's line changed to `zip_path`'s checksum."""
    lines = []
    for line in release.sums.read_text().splitlines():
        digest, _, name = line.partition("  ")
        lines.append(f"{sha256_hex(zip_path) if name == release.zip.name else digest}  {name}")
    path = directory / "tampered" / release.sums.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


# The attacks: each changes what `served` (the registry's view of the release) hands out.


def replace_zip(tmp: Path, release: ReleaseFiles, served: Release, stranger: Keyring) -> None:
    """The download host serves another zip; the registry still answers the real checksum."""
    served.files[release.zip.name] = tampered_zip(tmp, release)


def replace_zip_and_checksum(tmp: Path, release: ReleaseFiles, served: Release,
                             stranger: Keyring) -> None:
    """The registry's answer names the other zip's checksum too; only SHA256SUMS, which the
    signature covers, still lists the real one."""
    fake = tampered_zip(tmp, release)
    served.files[release.zip.name] = fake
    served.shasum = sha256_hex(fake)


def wrong_signature(tmp: Path, release: ReleaseFiles, served: Release, stranger: Keyring) -> None:
    """SHA256SUMS rewritten to list the other zip; the published signature does not fit it."""
    fake = tampered_zip(tmp, release)
    served.files[release.zip.name] = fake
    served.files[release.sums.name] = rewritten_sums(tmp, release, fake)


def unknown_key(tmp: Path, release: ReleaseFiles, served: Release, stranger: Keyring) -> None:
    """SHA256SUMS rewritten and signed again, by a key the registry does not list."""
    fake = tampered_zip(tmp, release)
    sums = rewritten_sums(tmp, release, fake)
    signature = sums.with_name(sums.name + ".sig")
    stranger.detach_sign(sums, signature)
    served.files[release.zip.name] = fake
    served.files[release.sums.name] = sums
    served.files[release.signature.name] = signature
