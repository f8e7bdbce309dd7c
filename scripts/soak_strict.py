"""The strict tier at several consistency lags, and its figures (issue 31).

    scripts/soak-strict [--copy-duration MIN-MAX] [--token-buckets] [--tests PATTERN]
                        [--only FILE]... [--out DIR] LAG...

For each LAG (seconds) it builds nothing new (one `cargo test --no-run` first,
so no lag's wall time includes compiling) and runs

    IMAGECOPIER_ACC_BACKEND=strict IMAGECOPIER_ACC_LAG=LAG
    [IMAGECOPIER_ACC_COPY_DURATION=MIN-MAX] [IMAGECOPIER_ACC_TOKEN_BUCKETS=1]
    IMAGECOPIER_ACC_CALL_LOG_DIR=OUT/lag-LAG/calls
    cargo test --locked -p acceptance-tests --no-fail-fast [--test FILE]... -- [PATTERN] --show-output

with its output in OUT/lag-LAG/cargo-test.log, then prints one row per lag:

- passed / failed: libtest's "test result:" totals over every test binary,
  passed less the tests skipped in strict (a skipped test returns early, so
  libtest counts it passed); failed also counts each test binary that ended
  without a "test result:" line (it crashed; listed below the table);
- skipped: the distinct tests that printed "strict: skipping NAME: ..."
  (backend::needs_admin; `--show-output` makes libtest print a passing
  test's output, so every skip line is in the log);
- wall: the `cargo test` run's wall-clock time;
- from the stand-ins' --call-log files (one per stand-in the harness started):
  copies (CopyImage calls answered 200), CopyImage calls (every attempt),
  calls per copy (every AWS call / copies), DescribeImages per minute per
  account-region (for each file and account-region whose first and last
  DescribeImages are at least MIN_SPAN_SECONDS apart: calls / minutes between
  them; the median and the maximum, and how many account-regions), throttled
  (answers with error RequestLimitExceeded) and retried (calls with SDK
  attempt number > 1).

Then the failing tests, by test binary. Figures, not pass/fail, but the exit
status is 1 when a test failed or a test binary crashed, 2 when the build did.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# An account-region whose DescribeImages span less than this is left out of the
# polls-per-minute figure: three reads of one plan 0.2 s apart are not a rate.
MIN_SPAN_SECONDS = 30.0
THROTTLE_CODE = "RequestLimitExceeded"

_RUNNING = re.compile(r"^\s*Running (?:unittests )?(\S+)")
_DOC_TESTS = re.compile(r"^\s*Doc-tests (\S+)")
_RESULT = re.compile(
    r"test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored; (\d+) measured; (\d+) filtered out")
_FAILED = re.compile(r"\btest (\S+) \.\.\. FAILED")
# backend::needs_admin's line; a test name has no ": " in it ("module::name").
_SKIP = re.compile(r"strict: skipping (.+?): ")


@dataclass
class TestRun:
    """What one `cargo test` printed."""

    passed: int = 0
    failed: int = 0
    ignored: int = 0
    # "binary: test" of each failing test, and of each test that printed a skip line.
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # Test binaries that started but printed no "test result:" line.
    crashed: list[str] = field(default_factory=list)
    binaries: int = 0

    @property
    def ran_and_passed(self) -> int:
        return self.passed - len(self.skipped)


@dataclass
class CallFigures:
    """What the stand-ins' --call-log files of one run say."""

    files: int = 0
    calls: int = 0
    copy_image_calls: int = 0
    copies: int = 0
    throttled: int = 0
    retried: int = 0
    # DescribeImages per minute, one per (file, account, region) spanning MIN_SPAN_SECONDS.
    poll_rates: list[float] = field(default_factory=list)

    @property
    def calls_per_copy(self) -> float | None:
        return self.calls / self.copies if self.copies else None


@dataclass
class LagResult:
    lag: str
    wall_seconds: float
    exit_status: int
    tests: TestRun
    calls: CallFigures


def binary_name(target: str) -> str:
    """`tests/ami_share.rs` -> `ami_share`, `src/lib.rs` -> `lib`."""
    return Path(target).stem


def parse_cargo_test(text: str) -> TestRun:
    """Totals, failing and skipped tests of `cargo test --no-fail-fast` output."""
    run = TestRun()
    current: str | None = None
    finished = True
    failures: set[str] = set()
    skipped: set[str] = set()
    for line in text.splitlines():
        started = _RUNNING.match(line) or _DOC_TESTS.match(line)
        if started:
            if current is not None and not finished:
                run.crashed.append(current)
            current = binary_name(started.group(1)) if _RUNNING.match(line) else f"doc:{started.group(1)}"
            finished = False
            run.binaries += 1
            continue
        result = _RESULT.search(line)
        if result:
            passed, failed, ignored = (int(result.group(i)) for i in (1, 2, 3))
            run.passed += passed
            run.failed += failed
            run.ignored += ignored
            finished = True
            continue
        prefix = f"{current}: " if current else ""
        for match in _FAILED.finditer(line):
            failures.add(prefix + match.group(1))
        for match in _SKIP.finditer(line):
            skipped.add(prefix + match.group(1))
    if current is not None and not finished:
        run.crashed.append(current)
    run.failures = sorted(failures)
    run.skipped = sorted(skipped)
    return run


def read_call_logs(paths: Iterable[Path]) -> CallFigures:
    """Figures over every line of every --call-log file in `paths`."""
    figures = CallFigures()
    for path in sorted(paths):
        figures.files += 1
        describe_times: dict[tuple[str, str], list[float]] = defaultdict(list)
        for entry in _entries(path):
            figures.calls += 1
            action = entry.get("action")
            if action == "CopyImage":
                figures.copy_image_calls += 1
                if entry.get("status") == 200:
                    figures.copies += 1
            elif action == "DescribeImages":
                describe_times[(str(entry.get("account")), str(entry.get("region")))].append(float(entry["t"]))
            if entry.get("error") == THROTTLE_CODE:
                figures.throttled += 1
            attempt = entry.get("attempt")
            if isinstance(attempt, int) and attempt > 1:
                figures.retried += 1
        for times in describe_times.values():
            rate = polls_per_minute(times)
            if rate is not None:
                figures.poll_rates.append(rate)
    return figures


def polls_per_minute(times: Sequence[float]) -> float | None:
    """Calls per minute between the first and the last of `times` (seconds), or
    None when they span less than MIN_SPAN_SECONDS."""
    span = max(times) - min(times) if times else 0.0
    if span < MIN_SPAN_SECONDS:
        return None
    return len(times) / (span / 60.0)


def _entries(path: Path) -> Iterable[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                # A stand-in killed mid-write leaves at most one partial last line.
                continue
            if isinstance(entry, dict) and "t" in entry:
                yield entry


HEADERS = ("lag", "passed", "failed", "skipped", "wall", "copies", "CopyImage", "calls/copy",
           "DescribeImages/min/acct-region", "throttled", "retried")


def table_row(result: LagResult) -> tuple[str, ...]:
    tests, calls = result.tests, result.calls
    no_log = calls.files == 0
    rates = calls.poll_rates
    if no_log:
        polls = "-"
    elif rates:
        polls = f"{statistics.median(rates):.1f} median, {max(rates):.1f} max ({len(rates)})"
    else:
        polls = "none spans 30 s"
    per_copy = calls.calls_per_copy
    return (
        f"{result.lag} s",
        str(tests.ran_and_passed),
        str(tests.failed + len(tests.crashed)),
        str(len(tests.skipped)),
        f"{result.wall_seconds:.0f} s",
        "-" if no_log else str(calls.copies),
        "-" if no_log else str(calls.copy_image_calls),
        "-" if no_log or per_copy is None else f"{per_copy:.1f}",
        polls,
        "-" if no_log else str(calls.throttled),
        "-" if no_log else str(calls.retried),
    )


def format_report(results: Sequence[LagResult], setting: str) -> str:
    """The table, then what failed per lag and notes on what could not be counted."""
    rows = [HEADERS, *(table_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = [f"strict tier, {setting}"]
    for row in rows:
        lines.append("  ".join(cell.rjust(width) if i else cell.ljust(width)
                               for i, (cell, width) in enumerate(zip(row, widths))).rstrip())
    for result in results:
        tests = result.tests
        if tests.failures or tests.crashed:
            lines.append(f"lag {result.lag} s: failed:")
            lines.extend(f"  {name}" for name in tests.failures)
            lines.extend(f"  {name} (test binary ended without a result)" for name in tests.crashed)
        if tests.binaries == 0:
            lines.append(f"lag {result.lag} s: no test binary ran (cargo exit status {result.exit_status})")
        if tests.ignored:
            lines.append(f"lag {result.lag} s: {tests.ignored} tests #[ignore]d (not in any column)")
        if result.calls.files == 0:
            lines.append(f"lag {result.lag} s: no --call-log files (no stand-in started, or the harness does "
                         "not pass IMAGECOPIER_ACC_CALL_LOG_DIR on): no call figures")
    return "\n".join(lines)


def _lag(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"a lag is seconds >= 0: {text!r}")
    return text


def _duration(text: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?(-\d+(\.\d+)?)?", text):
        raise argparse.ArgumentTypeError(f"MIN-MAX seconds, e.g. 60-300: {text!r}")
    return text


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/soak-strict",
        description="Run the strict tier at each consistency lag and print its figures.")
    parser.add_argument("lags", nargs="+", type=_lag, metavar="LAG", help="consistency lag in seconds")
    parser.add_argument("--copy-duration", type=_duration, metavar="MIN-MAX",
                        help="each copy takes MIN-MAX seconds (IMAGECOPIER_ACC_COPY_DURATION)")
    parser.add_argument("--token-buckets", action="store_true",
                        help="EC2 request token buckets on (IMAGECOPIER_ACC_TOKEN_BUCKETS=1)")
    parser.add_argument("--tests", metavar="PATTERN", help="cargo test's name filter")
    parser.add_argument("--only", action="append", default=[], metavar="FILE",
                        help="only this test file of acceptance-tests/tests (e.g. ami_share or ami_share.rs); "
                             "repeatable")
    parser.add_argument("--out", type=Path, help="where the logs go (default: a new temporary directory)")
    return parser.parse_args(argv)


def cargo_command(args: argparse.Namespace, build_only: bool = False) -> list[str]:
    command = ["cargo", "test", "--locked", "-p", "acceptance-tests", "--no-fail-fast"]
    for name in args.only:
        command += ["--test", name.removesuffix(".rs")]
    if build_only:
        return [*command, "--no-run"]
    command.append("--")
    if args.tests:
        command.append(args.tests)
    return [*command, "--show-output"]


def run_lag(args: argparse.Namespace, lag: str, out: Path) -> LagResult:
    directory = out / f"lag-{lag}"
    calls = directory / "calls"
    calls.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, IMAGECOPIER_ACC_BACKEND="strict", IMAGECOPIER_ACC_LAG=lag,
               IMAGECOPIER_ACC_CALL_LOG_DIR=str(calls))
    # Only what this run asks for: a value left in the environment would not show in the table.
    for name in ("IMAGECOPIER_ACC_COPY_DURATION", "IMAGECOPIER_ACC_TOKEN_BUCKETS"):
        env.pop(name, None)
    if args.copy_duration:
        env["IMAGECOPIER_ACC_COPY_DURATION"] = args.copy_duration
    if args.token_buckets:
        env["IMAGECOPIER_ACC_TOKEN_BUCKETS"] = "1"
    log = directory / "cargo-test.log"
    print(f"soak-strict: lag {lag} s: running the strict tier, output in {log}", file=sys.stderr, flush=True)
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as handle:
        status = subprocess.run(cargo_command(args), cwd=ROOT, env=env, stdout=handle,
                                stderr=subprocess.STDOUT, check=False).returncode
    wall = time.monotonic() - started
    tests = parse_cargo_test(log.read_text(encoding="utf-8", errors="replace"))
    return LagResult(lag, wall, status, tests, read_call_logs(calls.glob("*.jsonl")))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="soak-strict-"))
    out.mkdir(parents=True, exist_ok=True)
    build_log = out / "build.log"
    print(f"soak-strict: building the tests, output in {build_log}", file=sys.stderr, flush=True)
    with open(build_log, "w", encoding="utf-8") as handle:
        built = subprocess.run(cargo_command(args, build_only=True), cwd=ROOT, stdout=handle,
                               stderr=subprocess.STDOUT, check=False).returncode
    if built != 0:
        print(f"soak-strict: the build failed (exit status {built}); see {build_log}", file=sys.stderr)
        return 2
    setting = ", ".join([
        f"copies {args.copy_duration} s" if args.copy_duration else "copies as the stand-in's default (0.5 s)",
        "token buckets on" if args.token_buckets else "token buckets off",
        *([f"tests matching {args.tests!r}"] if args.tests else []),
        *([f"only {', '.join(args.only)}"] if args.only else []),
    ])
    results = []
    for index, lag in enumerate(args.lags):
        results.append(run_lag(args, lag, out))
        if index + 1 < len(args.lags):
            # Each lag can take an hour: show the table so far.
            print(format_report(results, setting), file=sys.stderr, flush=True)
    report = format_report(results, setting)
    (out / "summary.txt").write_text(report + "\n", encoding="utf-8")
    print(report)
    print(f"logs: {out}")
    failed = any(r.tests.failed or r.tests.crashed or r.tests.binaries == 0 for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
