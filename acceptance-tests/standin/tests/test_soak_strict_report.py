"""scripts/soak_strict.py's parsing and table, on synthetic cargo output and
--call-log files (no cargo, no stand-in): the figures of scripts/soak-strict."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import soak_strict  # noqa: E402  (scripts/ is not a package)

CARGO_OUTPUT = """\
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.52s
     Running unittests src/lib.rs (target/debug/deps/acceptance_tests-dac5d1422a159e12)

running 3 tests
test strict::tests::parses ... ok
test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/ami_share.rs (target/debug/deps/ami_share-f5763807bcd008cc)

running 4 tests
test basic ... ok
test destroy ... FAILED
test faults::retried ... ok
test disappears ... ok

successes:

---- faults::retried stdout ----
strict: skipping faults::retried: it needs the stand-in's admin routes for faults

---- disappears stdout ----
strict: skipping disappears: it needs the stand-in's admin routes for call counts
strict: skipping disappears: it needs the stand-in's admin routes for call counts

failures:

---- destroy stdout ----
thread 'destroy' panicked at acceptance-tests/tests/ami_share.rs:10:5

failures:
    destroy

test result: FAILED. 3 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 9.81s

error: test failed, to rerun pass `-p acceptance-tests --test ami_share`
     Running tests/copy_lifecycle.rs (target/debug/deps/copy_lifecycle-aafa9a3bf521b80f)

running 2 tests
error: test failed, to rerun pass `-p acceptance-tests --test copy_lifecycle`

Caused by:
  process didn't exit successfully: `copy_lifecycle-aafa9a3bf521b80f` (signal: 6, SIGABRT: process abort signal)
     Running tests/fan_out.rs (target/debug/deps/fan_out-1c48e6f768ae07e2)

running 1 test
test fan_out ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 15.72s

   Doc-tests acceptance_tests

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
"""


def test_cargo_output_totals_failures_skips_and_crashes():
    run = soak_strict.parse_cargo_test(CARGO_OUTPUT)
    assert (run.passed, run.failed, run.ignored, run.binaries) == (7, 1, 1, 5)
    assert run.failures == ["ami_share: destroy"]
    # Each skipped test once, however many lines it printed.
    assert run.skipped == ["ami_share: disappears", "ami_share: faults::retried"]
    assert run.ran_and_passed == 5
    assert run.crashed == ["copy_lifecycle"]


def call(t: float, action: str, account: str = "222222222222", region: str = "eu-west-1",
         status: int = 200, error: str | None = None, attempt: int | None = 1) -> dict:
    return {"t": t, "account": account, "region": region, "service": "ec2", "action": action,
            "status": status, "error": error, "attempt": attempt}


def write_log(path: Path, calls: list[dict], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(c) + "\n" for c in calls) + tail, encoding="utf-8")
    return path


def test_call_figures_from_the_logs(tmp_path):
    # One stand-in: two copies (one throttled and retried), 21 polls over 60 s in
    # one account-region, 3 reads within a second in another (not a rate).
    first = [
        call(0.0, "CopyImage"),
        call(0.5, "CopyImage", status=503, error="RequestLimitExceeded"),
        call(1.5, "CopyImage", attempt=2),
        *(call(1.0 + 3.0 * i, "DescribeImages") for i in range(21)),
        *(call(70.0 + 0.1 * i, "DescribeImages", region="us-east-1") for i in range(3)),
        call(71.0, "GetCallerIdentity", attempt=None),
    ]
    # Another stand-in: 10 polls over 120 s; its last line cut short by a kill.
    second = [call(10.0 + 120.0 * i / 9, "DescribeImages", account="333333333333") for i in range(10)]
    paths = [write_log(tmp_path / "a.jsonl", first), write_log(tmp_path / "b.jsonl", second, '{"t": 1')]

    figures = soak_strict.read_call_logs(paths)
    assert (figures.files, figures.calls) == (2, 3 + 21 + 3 + 1 + 10)
    assert (figures.copy_image_calls, figures.copies) == (3, 2)
    assert (figures.throttled, figures.retried) == (1, 1)
    assert figures.calls_per_copy == pytest.approx(38 / 2)
    assert sorted(figures.poll_rates) == pytest.approx([5.0, 21.0])


def test_polls_per_minute_needs_a_span():
    assert soak_strict.polls_per_minute([0.0, 10.0, 20.0]) is None
    assert soak_strict.polls_per_minute([0.0, 30.0]) == pytest.approx(4.0)
    assert soak_strict.polls_per_minute([]) is None


def test_report_table_and_notes(tmp_path):
    run = soak_strict.parse_cargo_test(CARGO_OUTPUT)
    write_log(tmp_path / "a.jsonl", [call(0.0, "CopyImage"), *(call(1.0 + i, "DescribeImages") for i in range(31))])
    with_calls = soak_strict.LagResult("10", 612.4, 101, run, soak_strict.read_call_logs(tmp_path.glob("*.jsonl")))
    without = soak_strict.LagResult("60", 30.0, 0, soak_strict.TestRun(), soak_strict.CallFigures())

    report = soak_strict.format_report([with_calls, without], "copies 60-300 s, token buckets on")
    lines = report.splitlines()
    assert lines[0] == "strict tier, copies 60-300 s, token buckets on"
    assert lines[1].split()[:5] == ["lag", "passed", "failed", "skipped", "wall"]
    # 5 ran and passed, 1 failed + 1 crashed binary, 2 skipped; 1 copy, 32 calls; 31 polls in 30 s.
    assert lines[2].split() == ["10", "s", "5", "2", "2", "612", "s", "1", "1", "32.0",
                                "62.0", "median,", "62.0", "max", "(1)", "0", "0"]
    assert lines[3].split()[:3] == ["60", "s", "0"] and lines[3].split()[-1] == "-"
    assert "  ami_share: destroy" in lines
    assert "  copy_lifecycle (test binary ended without a result)" in lines
    assert "lag 60 s: no test binary ran (cargo exit status 0)" in lines
    assert any(line.startswith("lag 60 s: no --call-log files") for line in lines)


def test_cargo_command_passes_the_filters():
    args = soak_strict.parse_args(["--only", "harness_selftest.rs", "--tests", "strict", "--token-buckets", "10"])
    assert soak_strict.cargo_command(args) == [
        "cargo", "test", "--locked", "-p", "acceptance-tests", "--no-fail-fast", "--test", "harness_selftest",
        "--", "strict", "--show-output"]
    assert soak_strict.cargo_command(args, build_only=True)[-1] == "--no-run"
    with pytest.raises(SystemExit):
        soak_strict.parse_args(["--copy-duration", "fast", "10"])
