"""Throwaway GnuPG keys, each in a home directory of its own.

The keys are RSA 2048: the registry protocol's signing keys must be ones every Terraform can
check, and Terraform 1.0's OpenPGP library predates newer key types. Each keyring's gpg-agent is
stopped by `close()`, which the fixtures call whatever happens.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

GPG_TIMEOUT_SECONDS = 120


class Keyring:
    """A GnuPG home directory holding one signing key, without a passphrase."""

    def __init__(self, home: Path, name: str):
        if shutil.which("gpg") is None:
            raise RuntimeError("gpg is not installed: run scripts/setup (it checks for GnuPG)")
        self.home = home
        home.mkdir(mode=0o700, parents=True, exist_ok=False)
        self._gpg(
            "--passphrase", "", "--quick-generate-key",
            f"{name} (throwaway key of the release tests) <release-tests@localhost>",
            "rsa2048", "sign", "1d",
        )
        self.fingerprint = self._only_fingerprint()

    @property
    def key_id(self) -> str:
        """The long key ID, as the registry protocol's `key_id` and Terraform's messages give it."""
        return self.fingerprint[-16:]

    def env(self) -> dict[str, str]:
        """What `scripts/release` needs to sign with this key."""
        return {"GNUPGHOME": str(self.home), "GPG_FINGERPRINT": self.fingerprint}

    def public_key_armor(self) -> str:
        return self._gpg("--armor", "--export", self.fingerprint).stdout

    def detach_sign(self, data: Path, signature: Path) -> None:
        """A binary detached signature, as `scripts/release` makes one."""
        self._gpg("--yes", "--local-user", self.fingerprint, "--output", str(signature),
                  "--detach-sign", str(data))

    def verify(self, signature: Path, data: Path) -> subprocess.CompletedProcess:
        """`gpg --verify` as a user would run it, without raising on a bad signature."""
        return self._gpg("--verify", str(signature), str(data), check=False)

    def close(self) -> None:
        """Stops this home's gpg-agent (started on first use), if gpgconf is there."""
        if shutil.which("gpgconf"):
            subprocess.run(
                ["gpgconf", "--homedir", str(self.home), "--kill", "all"],
                capture_output=True, timeout=GPG_TIMEOUT_SECONDS, check=False,
            )

    def _only_fingerprint(self) -> str:
        listing = self._gpg("--with-colons", "--list-secret-keys").stdout
        fingerprints = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
        # The primary key's fingerprint comes first; --quick-generate-key with usage `sign` makes
        # no subkey.
        if not fingerprints:
            raise RuntimeError(f"no key in {self.home}:\n{listing}")
        return fingerprints[0]

    def _gpg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = ["gpg", "--homedir", str(self.home), "--batch", "--pinentry-mode", "loopback", *args]
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=GPG_TIMEOUT_SECONDS, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
        return result
