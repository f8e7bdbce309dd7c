#!/usr/bin/env python3
"""Fan-out at scale (issue 26): the copy quota shared with other tools, and roles at many accounts.

What it measures and how to read it: benchmarks/README.md, "fan_out_scale.py".
Usage: benchmarks/fan_out_scale.py [--binary PATH] [--quota] [--accounts 10,64,100,200]
"""
import argparse
import os
import shutil
import tempfile
import time

from common import (
    PYTHON,
    ROOT,
    TARGETS,
    TERRAFORM,
    StandIn,
    configuration,
    dev_overrides,
    prepare,
    run_bounded,
    terraform_env,
)

QUOTA_COPIES = 12
QUOTA_SNAPSHOT_COPIES = 2
QUOTA_COPY_SECONDS = 5.0
SCALE_COPY_SECONDS = 0.5
SCALE_BASE_ACCOUNT = 600_000_000_000
PARALLELISM = 50
APPLY_TIMEOUT = 600


class Workdir:
    """One Terraform working directory kept across commands (apply, plan, destroy)."""

    def __init__(self, standin, binary, config):
        self.dir = tempfile.mkdtemp(prefix="fan-out-scale-")
        with open(os.path.join(self.dir, "terraform.rc"), "w") as f:
            f.write(dev_overrides(os.path.dirname(os.path.abspath(binary))))
        with open(os.path.join(self.dir, "main.tf"), "w") as f:
            f.write(config)
        self.env = terraform_env(self.dir, standin.endpoint)

    def run(self, *args):
        """Runs Terraform; returns (wall seconds, provider log text of this command)."""
        log = os.path.join(self.dir, "terraform.log")
        if os.path.exists(log):
            os.remove(log)
        started = time.time()
        code, out, err = run_bounded(TERRAFORM + list(args), self.env, self.dir, APPLY_TIMEOUT)
        wall = time.time() - started
        if code not in (0, 2):
            raise SystemExit(f"terraform {args[0]} failed ({code}):\n{out[-3000:]}\n{err[-3000:]}")
        try:
            with open(log) as f:
                text = f.read()
        except OSError:
            text = ""
        return wall, text

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def quota_run(standin, binary):
    targets = TARGETS[:1]
    image_id = prepare(standin, QUOTA_COPY_SECONDS, targets)
    standin.admin("POST", "config", {"concurrent_snapshot_copies": QUOTA_SNAPSHOT_COPIES})
    wd = Workdir(standin, binary, configuration(image_id, QUOTA_COPIES, targets))
    try:
        wall, log = wd.run("apply", "-auto-approve", "-input=false", f"-parallelism={PARALLELISM}")
    finally:
        wd.close()
    calls = standin.admin("GET", "call_log")["calls"]
    quota = standin.admin("GET", "copy_quota")
    copies = [c for c in calls if c["action"] == "CopyImage"]
    refused = sum(quota["refused"].values())
    first = min(c["t"] for c in copies)
    last = max(c["t"] for c in copies)
    # Copies run one at a time (2 snapshots each against a quota of 2): the floor is their sum.
    floor = QUOTA_COPIES * QUOTA_COPY_SECONDS
    standin.admin("POST", "config", {"concurrent_snapshot_copies": 20})
    return {"wall": wall, "copy_calls": len(copies), "refused": refused,
            "first_to_last_copy_call": last - first, "floor": floor,
            "queued_lines": log.count("queueing copies behind the ones running"),
            "backoff_lines": log.count("EC2 refused the copy for now")}


def scale_run(standin, binary, n):
    targets = [str(SCALE_BASE_ACCOUNT + i) for i in range(n)]
    image_id = prepare(standin, SCALE_COPY_SECONDS, targets)
    wd = Workdir(standin, binary, configuration(image_id, n, targets))
    rows = []
    try:
        for command in (["apply", "-auto-approve", "-input=false", f"-parallelism={PARALLELISM}"],
                        ["plan", "-input=false", "-detailed-exitcode", f"-parallelism={PARALLELISM}"],
                        ["destroy", "-auto-approve", "-input=false", f"-parallelism={PARALLELISM}"]):
            standin.admin("DELETE", "calls")
            wall, log = wd.run(*command)
            calls = standin.admin("GET", "call_log")["calls"]
            assumed = sum(1 for c in calls if c["action"] == "AssumeRole")
            rows.append({"accounts": n, "command": command[0], "wall": wall, "assume_role": assumed,
                         "per_account": assumed / n, "configured": log.count("configured AWS clients")})
    finally:
        wd.close()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/debug/terraform-provider-imagecopier"))
    parser.add_argument("--quota", action="store_true", help="run the quota figure")
    parser.add_argument("--accounts", help="comma-separated account counts for the roles figure")
    args = parser.parse_args()
    if not os.path.exists(PYTHON):
        raise SystemExit("no .venv: run scripts/setup")
    run_all = not args.quota and not args.accounts
    counts = [int(n) for n in (args.accounts or ("10,64,100,200" if run_all else "")).split(",") if n]
    print(f"binary: {args.binary}")
    began = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="fan-out-scale-standin-")
    standin = None
    try:
        standin = StandIn(tmp)
        if args.quota or run_all:
            q = quota_run(standin, args.binary)
            print(f"\n== Quota: {QUOTA_COPIES} two-snapshot copies of {QUOTA_COPY_SECONDS:.0f} s into one "
                  f"account-region whose quota is {QUOTA_SNAPSHOT_COPIES} snapshot copies (provider pool 20) ==")
            print(f"   apply wall {q['wall']:.1f} s; first to last CopyImage {q['first_to_last_copy_call']:.1f} s "
                  f"(floor, copies back to back: {q['floor']:.0f} s)")
            print(f"   CopyImage calls {q['copy_calls']}, refused {q['refused']}; provider log: "
                  f"{q['queued_lines']} 'queueing behind' lines, {q['backoff_lines']} backoff lines")
        if counts:
            print("\n== AssumeRole per command, one copy in each of N accounts (one role each) ==")
            print(f"   {'accounts':>8} {'command':<8} {'wall s':>7} {'AssumeRole':>10} {'per account':>11} "
                  f"{'configured processes':>20}")
            for n in counts:
                for r in scale_run(standin, args.binary, n):
                    print(f"   {r['accounts']:>8} {r['command']:<8} {r['wall']:>7.1f} {r['assume_role']:>10} "
                          f"{r['per_account']:>11.2f} {r['configured']:>20}", flush=True)
            print("   (configured processes: provider 'configured AWS clients' log lines; each assumes each "
                  "role it uses once)")
    finally:
        if standin is not None:
            standin.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nbenchmark runtime: {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
