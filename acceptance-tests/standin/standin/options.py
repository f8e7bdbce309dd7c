"""Start-up options of `python -m standin`: how far the stand-in behaves like AWS.

These are fixed for the life of the process, on purpose: a test run that
could switch them through an admin route could also lean on that route,
which a real AWS account cannot. The admin API (`/_standin/config`) keeps
the knobs that only the default mode has.

Each option is one field here and one flag in `add_arguments`, so later
modes (`--consistency-lag`, `--copy-duration`, `--ec2-token-buckets`) sit
beside `--strict` without touching how the app is built.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    # Real principals and IAM policy evaluation, no admin routes, block
    # public access on (standin/strict/).
    strict: bool = False


# The options the running process started with; `configure` sets them once,
# before the app serves its first request.
CURRENT = Options()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strict", action="store_true",
        help="behave like real AWS accounts: /_standin/ admin routes answer 404, only the "
             "account roots, IAM users and role sessions that exist may call, IAM policies are "
             "evaluated, block public access is on (README, 'Strict mode')")


def from_args(args: argparse.Namespace) -> Options:
    return Options(strict=bool(args.strict))


def configure(options: Options) -> None:
    global CURRENT
    CURRENT = options
