"""scripts/sweep-live against the default stand-in: it removes exactly what the live harness's run
tag marks (AMIs with their snapshots, orphan snapshots, the share's KMS grants of swept AMIs,
tagged KMS keys and their `alias/imagecopier-acc-*` aliases), in allowed accounts only, and only
what is old enough; nothing without the tag.

The script runs as a user runs it (scripts/sweep-live, a subprocess) with two named profiles,
whose 12-digit access keys act as the bake and prod accounts at the stand-in. Ages are judged
against the Date header of AWS's answers, which the stand-in dates by its clock: moving the clock
3 hours makes everything seeded 3 hours old."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BAKE, PROD, REGION, STAGE
from helpers import make_ami, root

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "sweep-live"
RUN_TAG = "imagecopier:acc-run"
HOURS = 3600
# A line of the script's listing: what it did (or would do), the kind, the id.
LINE = re.compile(r"^  (would remove|removed|would leave|left)\s+(\S+)\s+(\S+)", re.MULTILINE)


def tag(run: str) -> list[dict]:
    return [{"Key": RUN_TAG, "Value": run}, {"Key": "Name", "Value": f"acc-{run}"}]


def snapshot(ec2, tags: list[dict] | None = None) -> str:
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    spec = [{"ResourceType": "snapshot", "Tags": tags}] if tags else []
    return ec2.create_snapshot(VolumeId=volume, TagSpecifications=spec)["SnapshotId"]


@pytest.fixture
def profiles(tmp_path):
    """AWS config and credentials files naming the profiles bake, prod and stage."""
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    names = {"bake": BAKE, "prod": PROD, "stage": STAGE}
    config.write_text("".join(f"[profile {n}]\nregion = {REGION}\n" for n in names))
    credentials.write_text("".join(f"[{n}]\naws_access_key_id = {a}\naws_secret_access_key = x\n"
                                   for n, a in names.items()))
    return config, credentials


@pytest.fixture
def sweep(endpoint, profiles):
    """sweep(*args, allowed=BAKE,PROD) -> the finished scripts/sweep-live run over the bake and
    prod profiles (unless args name profiles) against the stand-in."""
    config, credentials = profiles

    def run(*args: str, allowed: str | None = f"{BAKE},{PROD}") -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IMAGECOPIER_ACC_"))}
        env.update(AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(credentials))
        if allowed is not None:
            env["IMAGECOPIER_ACC_ALLOWED_ACCOUNTS"] = allowed
        chosen = list(args) if "--profile" in args else ["--profile", "bake", "--profile", "prod", *args]
        return subprocess.run([str(SCRIPT), "--endpoint-url", endpoint, *chosen], env=env, text=True,
                              capture_output=True, timeout=300, check=False)

    return run


def listed(result: subprocess.CompletedProcess, verb: str) -> set[tuple[str, str]]:
    """(kind, id) of every line the run printed with `verb`."""
    return {(kind, ident) for v, kind, ident in LINE.findall(result.stdout) if v == verb}


@pytest.fixture
def seeded(aws, ctl):
    """Two accounts' worth of what live runs leave, beside what they must not touch; then the
    clock 3 hours on, so all of it is older than the default 2 hours. Returns the ids."""
    bake, prod, kms = aws("ec2", BAKE), aws("ec2", PROD), aws("kms", BAKE)
    # The bake account's own key (untagged: not a test's) encrypts a tagged and an untagged AMI,
    # each with the share's grant for prod, plus a grant of someone else's.
    bake_key = kms.create_key()["KeyMetadata"]["Arn"]
    tagged_ami, tagged_snaps = make_ami(bake, "acc-a", tags={RUN_TAG: "run-a"}, encrypted=True, kms_key_id=bake_key)
    kept_ami, kept_snaps = make_ami(bake, "golden", tags={"team": "platform"}, encrypted=True, kms_key_id=bake_key)
    grants = {}
    for name in (f"imagecopier-share-{tagged_ami}", f"imagecopier-share-{kept_ami}", "someone-elses"):
        grants[name] = kms.create_grant(KeyId=bake_key, GranteePrincipal=root(PROD), Operations=["Decrypt"],
                                        Name=name)["GrantId"]
    # A tagged key with its alias, and an untagged key with an alias of the same prefix.
    run_key = kms.create_key(Tags=[{"TagKey": RUN_TAG, "TagValue": "run-a"}])["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/imagecopier-acc-run-a", TargetKeyId=run_key)
    other_key = kms.create_key(Tags=[{"TagKey": "team", "TagValue": "platform"}])["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/imagecopier-acc-keep", TargetKeyId=other_key)
    ids = {
        "bake_key": bake_key, "tagged_ami": tagged_ami, "tagged_snaps": tagged_snaps, "kept_ami": kept_ami,
        "kept_snaps": kept_snaps, "grants": grants, "run_key": run_key, "other_key": other_key,
        "bake_orphan": snapshot(bake, tag("run-a")), "bake_untagged": snapshot(bake, [{"Key": "k", "Value": "v"}]),
    }
    # Prod: another run's AMI and orphan snapshot, beside an untagged AMI.
    ids["prod_ami"], ids["prod_snaps"] = make_ami(prod, "acc-b", snapshots=1, tags={RUN_TAG: "run-b"})
    ids["prod_kept"], _ = make_ami(prod, "prod-app", snapshots=1)
    ids["prod_orphan"] = snapshot(prod, tag("run-b"))
    ctl("POST", "clock", {"advance_seconds": 3 * HOURS})
    return ids


def expected_removals(ids: dict, runs: tuple[str, ...] = ("run-a", "run-b")) -> set[tuple[str, str]]:
    found = set()
    if "run-a" in runs:
        found |= {("ami", ids["tagged_ami"]), ("snapshot", ids["bake_orphan"]), ("kms-key", ids["run_key"]),
                  ("kms-alias", "alias/imagecopier-acc-run-a"),
                  ("kms-grant", ids["grants"][f"imagecopier-share-{ids['tagged_ami']}"])}
    if "run-b" in runs:
        found |= {("ami", ids["prod_ami"]), ("snapshot", ids["prod_orphan"])}
    return found


def census(aws, ids: dict) -> dict:
    """What exists now of everything seeded."""
    bake, prod, kms = aws("ec2", BAKE), aws("ec2", PROD), aws("kms", BAKE)
    images = {i["ImageId"] for ec2 in (bake, prod) for i in ec2.describe_images(Owners=["self"])["Images"]}
    snaps = {s["SnapshotId"] for ec2 in (bake, prod) for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    return {
        "images": images, "snapshots": snaps,
        "grants": {g["Name"] for g in kms.list_grants(KeyId=ids["bake_key"])["Grants"]},
        "aliases": {a["AliasName"] for a in kms.list_aliases()["Aliases"]
                    if a["AliasName"].startswith("alias/imagecopier")},
        "key_states": {k: kms.describe_key(KeyId=k)["KeyMetadata"]["KeyState"]
                       for k in (ids["run_key"], ids["other_key"])},
    }


def test_dry_run_lists_exactly_the_tagged_resources_and_removes_nothing(sweep, seeded, aws):
    before = census(aws, seeded)
    result = sweep()
    assert result.returncode == 0, result.stdout + result.stderr
    assert listed(result, "would remove") == expected_removals(seeded)
    assert "dry run" in result.stdout
    assert census(aws, seeded) == before
    # Per account and Region, then a summary table.
    assert f"account {BAKE}, {REGION}:" in result.stdout and f"account {PROD}, {REGION}:" in result.stdout
    assert re.search(rf"{BAKE}\s+{REGION}\s+ami\s+1\s+1\s+0", result.stdout), result.stdout


def test_yes_removes_exactly_the_tagged_resources_and_nothing_else(sweep, seeded, aws):
    result = sweep("--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert listed(result, "removed") == expected_removals(seeded)
    after = census(aws, seeded)
    tagged = {seeded["tagged_ami"], seeded["prod_ami"]}
    assert after["images"] == {seeded["kept_ami"], seeded["prod_kept"]}
    # The tagged AMIs' snapshots went with them (untagged themselves); the orphans too.
    gone = {*seeded["tagged_snaps"], *seeded["prod_snaps"], seeded["bake_orphan"], seeded["prod_orphan"]}
    assert not gone & after["snapshots"]
    assert {*seeded["kept_snaps"], seeded["bake_untagged"]} <= after["snapshots"]
    assert not tagged & after["images"]
    assert after["grants"] == {f"imagecopier-share-{seeded['kept_ami']}", "someone-elses"}
    assert after["aliases"] == {"alias/imagecopier-acc-keep"}
    assert after["key_states"] == {seeded["run_key"]: "PendingDeletion", seeded["other_key"]: "Enabled"}
    # A second sweep finds nothing left.
    again = sweep("--yes")
    assert again.returncode == 0 and not listed(again, "removed"), again.stdout


def test_run_id_limits_the_sweep_to_one_run(sweep, seeded, aws):
    dry = sweep("--run-id", "run-b")
    assert listed(dry, "would remove") == expected_removals(seeded, ("run-b",))
    result = sweep("--run-id", "run-b", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    after = census(aws, seeded)
    assert seeded["prod_ami"] not in after["images"] and seeded["prod_orphan"] not in after["snapshots"]
    assert seeded["tagged_ami"] in after["images"] and seeded["bake_orphan"] in after["snapshots"]
    assert f"imagecopier-share-{seeded['tagged_ami']}" in after["grants"]
    assert after["key_states"][seeded["run_key"]] == "Enabled"


def test_older_than_leaves_a_run_in_progress_alone(sweep, aws, ctl):
    bake = aws("ec2", BAKE)
    image_id, _ = make_ami(bake, "acc-new", tags={RUN_TAG: "run-now"})
    orphan = snapshot(bake, tag("run-now"))
    young = sweep("--yes")
    assert young.returncode == 0 and not listed(young, "removed"), young.stdout
    assert "2 tagged resources younger than 2 h left alone" in young.stdout
    ctl("POST", "clock", {"advance_seconds": 1 * HOURS})
    assert not listed(sweep("--older-than", "2"), "would remove")
    assert listed(sweep("--older-than", "0.5"), "would remove") == {("ami", image_id), ("snapshot", orphan)}
    ctl("POST", "clock", {"advance_seconds": 2 * HOURS})
    result = sweep("--yes")
    assert listed(result, "removed") == {("ami", image_id), ("snapshot", orphan)}, result.stdout
    assert not bake.describe_images(Owners=["self"])["Images"]


def test_deregistration_protection_is_reported_and_left_unless_disabled(sweep, aws, ctl):
    bake = aws("ec2", BAKE)
    image_id, _ = make_ami(bake, "acc-protected", tags={RUN_TAG: "run-p"})
    bake.enable_image_deregistration_protection(ImageId=image_id)
    ctl("POST", "clock", {"advance_seconds": 3 * HOURS})
    dry = sweep()
    assert dry.returncode == 1 and listed(dry, "would leave") == {("ami", image_id)}, dry.stdout
    assert "deregistration protection enabled" in dry.stdout
    kept = sweep("--yes")
    assert kept.returncode == 1 and listed(kept, "left") == {("ami", image_id)}, kept.stdout
    assert bake.describe_images(ImageIds=[image_id])["Images"]
    removed = sweep("--yes", "--disable-protection")
    assert removed.returncode == 0 and listed(removed, "removed") == {("ami", image_id)}, removed.stdout
    assert not bake.describe_images(Owners=["self"])["Images"]


def test_tagged_snapshot_an_untagged_ami_uses_is_left_and_reported(sweep, aws, ctl):
    bake = aws("ec2", BAKE)
    image_id, (snap,) = make_ami(bake, "golden", snapshots=1)
    bake.create_tags(Resources=[snap], Tags=tag("run-s"))
    ctl("POST", "clock", {"advance_seconds": 3 * HOURS})
    result = sweep("--yes")
    assert result.returncode == 1 and listed(result, "left") == {("snapshot", snap)}, result.stdout
    assert f"in use by {image_id}" in result.stdout
    assert bake.describe_images(ImageIds=[image_id])["Images"]


@pytest.mark.parametrize("allowed", [BAKE, None, f"{BAKE},12345"])
def test_refuses_before_any_change_unless_every_account_is_allowed(sweep, seeded, aws, ctl, allowed):
    before = census(aws, seeded)
    ctl("DELETE", "calls")
    result = sweep("--yes", allowed=allowed)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing to start" in result.stderr and "IMAGECOPIER_ACC_ALLOWED_ACCOUNTS" in result.stderr
    if allowed == BAKE:
        assert f"account {PROD} (profile prod) is not in" in result.stderr
    # At most STS's identity question was asked; nothing else, let alone a change.
    actions = {c["action"] for c in ctl("GET", "call_log")["calls"]}
    assert actions <= {"GetCallerIdentity"}, actions
    assert census(aws, seeded) == before


def test_a_third_profile_outside_the_allow_list_stops_the_whole_sweep(sweep, seeded, aws):
    before = census(aws, seeded)
    result = sweep("--profile", "bake", "--profile", "stage", "--yes")
    assert result.returncode == 2 and f"account {STAGE} (profile stage)" in result.stderr, result.stderr
    assert census(aws, seeded) == before


def test_the_stand_in_dates_its_answers_by_its_clock(aws, ctl):
    """The Date header the sweeper ages resources by follows POST /_standin/clock."""
    from email.utils import parsedate_to_datetime

    sts = aws("sts", BAKE)
    first = parsedate_to_datetime(sts.get_caller_identity()["ResponseMetadata"]["HTTPHeaders"]["date"])
    ctl("POST", "clock", {"advance_seconds": 5 * HOURS})
    later = parsedate_to_datetime(sts.get_caller_identity()["ResponseMetadata"]["HTTPHeaders"]["date"])
    assert 5 * HOURS <= (later - first).total_seconds() < 5 * HOURS + 60
