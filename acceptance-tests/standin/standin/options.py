"""Start-up options of `python -m standin`: how far the stand-in behaves like AWS.

These are fixed for the life of the process, on purpose: a test run that
could switch them through an admin route could also lean on that route,
which a real AWS account cannot. The admin API (`/_standin/config`) keeps
the knobs that only the default mode has.

Each option is one field here and one flag in `add_arguments`, so modes sit
beside each other without touching how the app is built. Every one works
with and without `--strict`:

- `--strict`: real principals, IAM policies, no admin routes (standin/strict/);
- `--consistency-lag SECONDS`: each write (new AMI or snapshot, tag change,
  launch / createVolume permission change, KMS grant created or removed,
  deregistration) takes effect for readers a random time in [0, SECONDS]
  later (consistency.py);
- `--copy-duration MIN-MAX`: each CopyImage stays pending a random time in
  [MIN, MAX] seconds (lifecycle.py); in the default mode this is also the
  starting `copy_duration_seconds` of `/_standin/config`;
- `--ec2-token-buckets`: EC2's request token buckets per account and Region
  (throttling.py); an empty bucket answers RequestLimitExceeded;
- `--seed N`: seeds the random lags and copy durations (timing.py), so a
  run is repeatable; a default-mode reset starts the sequence again;
- `--call-log FILE`: appends one JSON line per AWS request answered to FILE
  (call_log_file.py), an output no route reads back.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

DEFAULT_SEED = 0


@dataclass(frozen=True)
class Options:
    # Real principals and IAM policy evaluation, no admin routes, block
    # public access on (standin/strict/).
    strict: bool = False
    # Upper bound of the random delay before a write is seen by reads; 0: at once.
    consistency_lag_seconds: float = 0.0
    # (min, max) seconds a CopyImage stays pending, or None: the default
    # mode's copy_duration_seconds (state.DEFAULT_COPY_DURATION_SECONDS).
    copy_duration_seconds: tuple[float, float] | None = None
    # EC2 request throttling by token buckets (throttling.py).
    ec2_token_buckets: bool = False
    # Seed of the random lags and copy durations.
    seed: int = DEFAULT_SEED
    # A file to append one JSON line per answered AWS request to (call_log_file.py), or None.
    call_log: str | None = None


# The options the running process started with; `configure` sets them once,
# before the app serves its first request.
CURRENT = Options()


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"seconds must be a finite number >= 0: {text!r}")
    return value


def parse_range(text: str) -> tuple[float, float]:
    """`MIN-MAX` (or one number, both ends) in seconds, MIN <= MAX."""
    low, sep, high = text.partition("-")
    lower = _seconds(low)
    upper = _seconds(high) if sep else lower
    if upper < lower:
        raise argparse.ArgumentTypeError(f"MIN must not exceed MAX: {text!r}")
    return lower, upper


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strict", action="store_true",
        help="behave like real AWS accounts: /_standin/ admin routes answer 404, only the "
             "account roots, IAM users and role sessions that exist may call, IAM policies are "
             "evaluated, block public access is on (README, 'Strict mode')")
    parser.add_argument(
        "--consistency-lag", type=_seconds, default=0.0, metavar="SECONDS",
        help="eventual consistency: each write is seen by reads a random time in [0, SECONDS] "
             "later (README, 'Timing flags')")
    parser.add_argument(
        "--copy-duration", type=parse_range, default=None, metavar="MIN-MAX",
        help="each CopyImage stays pending a random time in [MIN, MAX] seconds")
    parser.add_argument(
        "--ec2-token-buckets", action="store_true",
        help="throttle EC2 requests with the documented token buckets per account and Region; "
             "an empty bucket answers RequestLimitExceeded (HTTP 503)")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, metavar="N",
        help=f"seed of the random lags and copy durations (default {DEFAULT_SEED})")
    parser.add_argument(
        "--call-log", default=None, metavar="FILE",
        help="append one JSON line per AWS request answered to FILE: time, account, region, "
             "action, HTTP status, error code, SDK attempt (README, 'Call log file')")


def from_args(args: argparse.Namespace) -> Options:
    return Options(
        strict=bool(args.strict),
        consistency_lag_seconds=float(args.consistency_lag or 0.0),
        copy_duration_seconds=args.copy_duration,
        ec2_token_buckets=bool(args.ec2_token_buckets),
        seed=int(args.seed),
        call_log=args.call_log or None,
    )


def configure(options: Options) -> None:
    global CURRENT
    CURRENT = options
