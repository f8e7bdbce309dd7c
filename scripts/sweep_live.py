"""Removes what live acceptance runs left behind in real AWS accounts (issue 32), safely.

    scripts/sweep-live [--profile P]... [--region R]... [--run-id ID] [--older-than HOURS]
                       [--disable-protection] [--endpoint-url URL] [--yes]

Every object a live test makes carries the tag `imagecopier:acc-run=<run id>` (the harness puts
it in the provider's `default_tags`). For each account (one per `--profile`, else the default
credential chain) and Region (`--region`, else IMAGECOPIER_ACC_REGIONS, else the profile's
Region) the sweeper finds, in that account only:

- AMIs with the tag: deregistered with DeleteAssociatedSnapshots, then any snapshot of theirs
  that is still there (one another of the swept AMIs also used, or one whose Description says it
  was made for the AMI) is deleted;
- snapshots with the tag that no AMI it keeps uses (an orphan of an interrupted copy);
- the share's KMS grants, named `imagecopier-share-<AMI id>`, of each AMI it sweeps, on the
  keys that encrypt the AMI's snapshots: revoked as the key's account (which must be one of the
  accounts given);
- customer managed KMS keys with the tag: deletion scheduled (7 days, the shortest AWS allows),
  and their aliases named `alias/imagecopier-acc-*` deleted.

Safety:
- It acts on nothing without the tag (checked on what AWS returns, not only asked for in the
  filter), and on nothing younger than `--older-than` hours (default 2, so a run in progress
  is left alone), judged by the AMI's CreationDate, the snapshot's StartTime and the key's
  CreationDate against the time AWS gives in the Date header of its STS answer (a wrong local
  clock cannot make a new AMI look old).
- Before anything else it asks STS which account each profile acts in, and refuses to go on
  (exit 2, nothing else called) unless every one is in IMAGECOPIER_ACC_ALLOWED_ACCOUNTS, the
  comma-separated 12-digit ids the live harness also requires.
- Dry run by default: it prints what it would remove, per account and Region; `--yes` removes.
- An AMI with deregistration protection is reported and left, unless `--disable-protection`
  (protection that had a cooldown keeps the AMI for 24 hours after; run it again then).

It ends with a summary table (per account, Region and kind: found, removed, left) and exits 1
when something is left that it set out to remove (protected, in use, or a call failed; in a dry
run: that it would leave), 2 when it refuses to start, else 0.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

RUN_TAG = "imagecopier:acc-run"
GRANT_PREFIX = "imagecopier-share-"
ALIAS_PREFIX = "alias/imagecopier-acc-"
# ScheduleKeyDeletion's shortest pending window (KMS API Reference): the key can still be
# cancelled for a week if the sweep was wrong.
KEY_DELETION_DAYS = 7
DEFAULT_OLDER_THAN_HOURS = 2.0
ACCOUNT_ID = re.compile(r"^\d{12}$")
# The AMI a snapshot was made for, as EC2 describes it: CreateImage's "Created by
# CreateImage(i-..) for ami-.. from vol-.." and CopyImage's "Copied for DestinationAmi ami-.. from
# SourceAmi ..". Only that AMI: a copy's snapshot also names its *source* AMI, which it does not
# belong to.
MADE_FOR = re.compile(r"(?:\bfor|DestinationAmi) (ami-[0-9a-f]+)")
# What a removal treats as already done.
GONE = frozenset({"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidSnapshot.NotFound",
                  "NotFoundException"})
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, user_agent_extra="imagecopier-sweep-live")


class Refusal(Exception):
    """The sweeper will not start: why, for the user."""


@dataclass
class Account:
    """One profile's credentials, the account STS says they act in, and AWS's time then."""

    profile: str | None
    session: Any
    account_id: str
    now: datetime

    def client(self, service: str, region: str, endpoint_url: str | None):
        return self.session.client(service, region_name=region, endpoint_url=endpoint_url, config=CLIENT_CONFIG)


@dataclass
class Item:
    """One thing to remove, and what became of it."""

    account: str
    region: str
    kind: str  # ami, snapshot, kms-grant, kms-key, kms-alias
    ident: str
    run_id: str = ""
    age_hours: float | None = None
    detail: str = ""
    # "" until decided; then "removed", "would remove", "left: why" or "would leave: why".
    status: str = ""
    # AMIs: snapshot ids behind it and the keys that encrypt them (key ARN -> region, account).
    snapshots: list[str] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    protected: str = ""
    # kms-grant: the key it is on and the AMI it is for; kms-alias: its key id.
    key: str = ""
    ami: str = ""

    @property
    def left(self) -> bool:
        return self.status.startswith(("left", "would leave"))


@dataclass
class Options:
    run_id: str | None
    older_than: timedelta
    disable_protection: bool
    endpoint_url: str | None
    act: bool


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        allowed = allowed_accounts(os.environ.get("IMAGECOPIER_ACC_ALLOWED_ACCOUNTS", ""))
        accounts = identify(args.profile or [None], args.endpoint_url, args.region)
        refuse_unless_allowed(accounts, allowed)
        regions = regions_of(args.region, os.environ.get("IMAGECOPIER_ACC_REGIONS", ""), accounts)
    except Refusal as refusal:
        print(f"sweep-live: refusing to start: {refusal}", file=sys.stderr)
        return 2
    options = Options(args.run_id, timedelta(hours=args.older_than), args.disable_protection,
                      args.endpoint_url, args.yes)
    print(f"sweep-live: {'removing' if options.act else 'dry run (--yes removes)'}: resources tagged {RUN_TAG}"
          f"{'=' + options.run_id if options.run_id else ''}, older than {args.older_than:g} h, in "
          f"{', '.join(a.account_id for a in accounts)} / {', '.join(regions)}")
    items: list[Item] = []
    for account in accounts:
        for region in regions:
            items.extend(sweep(account, region, accounts, options))
    print_summary(items, options.act)
    return 1 if any(item.left for item in items) else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/sweep-live", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", action="append",
                        help="an AWS profile whose account to sweep (repeatable; default: the default credentials)")
    parser.add_argument("--region", action="append",
                        help="a Region to sweep (repeatable; default: IMAGECOPIER_ACC_REGIONS, else the profile's)")
    parser.add_argument("--run-id", help=f"only what is tagged {RUN_TAG}=ID")
    parser.add_argument("--older-than", type=float, default=DEFAULT_OLDER_THAN_HOURS, metavar="HOURS",
                        help="only what was created at least HOURS ago (default %(default)g)")
    parser.add_argument("--disable-protection", action="store_true",
                        help="turn deregistration protection off on protected AMIs, then deregister them")
    parser.add_argument("--endpoint-url", help="send every call there (the AWS stand-in), not to AWS")
    parser.add_argument("--yes", action="store_true", help="remove; without it, only print what would be removed")
    args = parser.parse_args(argv)
    if args.older_than < 0:
        parser.error("--older-than must be 0 or more")
    return args


def allowed_accounts(value: str) -> set[str]:
    ids = {part.strip() for part in value.split(",") if part.strip()}
    if not ids:
        raise Refusal("IMAGECOPIER_ACC_ALLOWED_ACCOUNTS is not set: name the 12-digit account ids it may sweep")
    bad = sorted(i for i in ids if not ACCOUNT_ID.match(i))
    if bad:
        raise Refusal(f"IMAGECOPIER_ACC_ALLOWED_ACCOUNTS holds {', '.join(bad)}, not 12-digit account ids")
    return ids


def identify(profiles: list[str | None], endpoint_url: str | None,
             regions: list[str] | None) -> list[Account]:
    """Each profile's account, from STS GetCallerIdentity: the only call made before the
    allow-list check."""
    accounts = []
    for profile in profiles:
        label = f"profile {profile}" if profile else "the default credentials"
        try:
            session = boto3.Session(profile_name=profile)
            region = session.region_name or (regions[0] if regions else None) or "us-east-1"
            answer = session.client("sts", region_name=region, endpoint_url=endpoint_url,
                                    config=CLIENT_CONFIG).get_caller_identity()
        except (BotoCoreError, ClientError) as error:
            raise Refusal(f"cannot tell which account {label} acts in: {error}") from error
        accounts.append(Account(profile, session, answer["Account"], aws_time(answer)))
    return accounts


def aws_time(answer: dict) -> datetime:
    """The time AWS answered at (its Date header), else this machine's."""
    date = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        return parsedate_to_datetime(date) if date else datetime.now(timezone.utc)
    except (TypeError, ValueError):
        return datetime.now(timezone.utc)


def refuse_unless_allowed(accounts: list[Account], allowed: set[str]) -> None:
    strangers = [a for a in accounts if a.account_id not in allowed]
    if strangers:
        named = ", ".join(f"{a.account_id} ({'profile ' + a.profile if a.profile else 'default credentials'})"
                          for a in strangers)
        raise Refusal(f"account {named} is not in IMAGECOPIER_ACC_ALLOWED_ACCOUNTS ({', '.join(sorted(allowed))})")
    ids = [a.account_id for a in accounts]
    if len(set(ids)) != len(ids):
        raise Refusal(f"two profiles act in the same account ({', '.join(ids)}); give each account once")


def regions_of(given: list[str] | None, env: str, accounts: list[Account]) -> list[str]:
    regions = given or [r.strip() for r in env.split(",") if r.strip()]
    if not regions:
        regions = sorted({a.session.region_name for a in accounts if a.session.region_name})
    if not regions:
        raise Refusal("no Region: pass --region, set IMAGECOPIER_ACC_REGIONS, or give the profile a region")
    return list(dict.fromkeys(regions))


# --- one account and Region -------------------------------------------------------------------


def sweep(account: Account, region: str, accounts: list[Account], options: Options) -> list[Item]:
    """Find, print and (with --yes) remove what the run tag marks in one account and Region."""
    ec2 = account.client("ec2", region, options.endpoint_url)
    kms = account.client("kms", region, options.endpoint_url)
    print(f"\naccount {account.account_id}, {region}:")
    young = 0
    try:
        images = list(pages(ec2, "describe_images", "Images", Owners=["self"]))
        snapshots = list(pages(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"]))
        amis, too_young = find_amis(account, region, images, options)
        young += too_young
        orphans, too_young = find_snapshots(account, region, snapshots, images, amis, options)
        young += too_young
        keys, aliases, too_young = find_keys(account, region, kms, options)
        young += too_young
    except (BotoCoreError, ClientError) as error:
        failed = Item(account.account_id, region, "listing", "-", status=f"left: could not list: {error}")
        print(f"  {failed.status}")
        return [failed]
    grants = find_grants(amis, accounts, options)
    if options.act:
        remove_amis(ec2, amis, options)
        remove_snapshots(ec2, amis, orphans, snapshots)
        remove_grants(grants, amis, accounts, options)
        remove_keys(kms, keys, aliases)
    else:
        for item in [*amis, *orphans, *grants, *aliases, *keys]:
            if not item.status:
                item.status = "would remove"
    items = [*amis, *orphans, *grants, *aliases, *keys]
    for item in items:
        verb, _, why = item.status.partition(": ")
        facts = [f"run {item.run_id}" if item.run_id else "",
                 f"{item.age_hours:.1f} h old" if item.age_hours is not None else "", item.detail]
        print(f"  {verb:<12}  {item.kind:<9}  {item.ident:<22}  {', '.join(f for f in facts if f)}"
              + (f": {why}" if why else ""))
    if not items:
        print("  nothing to remove")
    if young:
        print(f"  ({young} tagged resources younger than {options.older_than.total_seconds() / 3600:g} h left alone)")
    return items


def pages(client, operation: str, key: str, **params) -> Iterator[dict]:
    for page in client.get_paginator(operation).paginate(**params):
        yield from page.get(key, [])


def run_of(resource: dict, key: str = "Key", value: str = "Value") -> str | None:
    """The run id a resource is tagged with; None when it carries no run tag."""
    for tag in resource.get("Tags") or []:
        if tag.get(key) == RUN_TAG:
            return str(tag.get(value, ""))
    return None


def wanted(run_id: str | None, options: Options) -> bool:
    return run_id is not None and (options.run_id is None or run_id == options.run_id)


def age_of(account: Account, created: Any) -> timedelta | None:
    if isinstance(created, str):
        created = datetime.fromisoformat(created.replace("Z", "+00:00"))
    if not isinstance(created, datetime):
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return account.now - created


def old_enough(age: timedelta | None, options: Options) -> bool:
    # Without a creation time the age is unknown: treat it as young, never sweep it.
    return age is not None and age >= options.older_than


def hours(age: timedelta | None) -> float | None:
    return age.total_seconds() / 3600 if age is not None else None


def find_amis(account: Account, region: str, images: list[dict], options: Options) -> tuple[list[Item], int]:
    found, young = [], 0
    for image in images:
        run_id = run_of(image)
        if not wanted(run_id, options):
            continue
        age = age_of(account, image.get("CreationDate"))
        if not old_enough(age, options):
            young += 1
            continue
        mappings = [m["Ebs"] for m in image.get("BlockDeviceMappings", []) if m.get("Ebs", {}).get("SnapshotId")]
        item = Item(account.account_id, region, "ami", image["ImageId"], run_id or "", hours(age),
                    detail=f"{image.get('Name', '')} ({len(mappings)} snapshots)",
                    snapshots=[m["SnapshotId"] for m in mappings])
        protection = image.get("DeregistrationProtection") or "disabled"
        if protection != "disabled":
            item.protected = protection
            if not options.disable_protection:
                verb = "left" if options.act else "would leave"
                item.status = f"{verb}: deregistration protection {protection} (--disable-protection turns it off)"
        found.append(item)
    return found, young


def find_snapshots(account: Account, region: str, snapshots: list[dict], images: list[dict], amis: list[Item],
                   options: Options) -> tuple[list[Item], int]:
    """Tagged snapshots no swept AMI holds (those go with their AMI)."""
    held = {sid for ami in amis for sid in ami.snapshots}
    swept = {ami.ident for ami in amis if not ami.status}
    users: dict[str, list[str]] = {}  # snapshot -> the AMIs that use it and stay
    for image in images:
        if image["ImageId"] in swept:
            continue
        for mapping in image.get("BlockDeviceMappings", []):
            sid = mapping.get("Ebs", {}).get("SnapshotId")
            if sid:
                users.setdefault(sid, []).append(image["ImageId"])
    found, young = [], 0
    for snapshot in snapshots:
        sid, run_id = snapshot["SnapshotId"], run_of(snapshot)
        if sid in held or not wanted(run_id, options):
            continue
        age = age_of(account, snapshot.get("StartTime"))
        if not old_enough(age, options):
            young += 1
            continue
        item = Item(account.account_id, region, "snapshot", sid, run_id or "", hours(age),
                    detail=f"{snapshot.get('VolumeSize', '?')} GiB")
        if sid in users:
            verb = "left" if options.act else "would leave"
            item.status = f"{verb}: in use by {', '.join(users[sid])}, which is not swept"
        found.append(item)
    # The keys behind each AMI, for its grants.
    by_id = {s["SnapshotId"]: s for s in snapshots}
    for ami in amis:
        ami.keys = {by_id[s]["KmsKeyId"] for s in ami.snapshots if s in by_id and by_id[s].get("KmsKeyId")}
    return found, young


def find_keys(account: Account, region: str, kms, options: Options) -> tuple[list[Item], list[Item], int]:
    keys, young = [], 0
    for key in pages(kms, "list_keys", "Keys"):
        key_id = key["KeyId"]
        try:
            tags = kms.list_resource_tags(KeyId=key_id).get("Tags", [])
            metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        except ClientError:
            continue  # an AWS managed key, or one this account may not read: not a test's
        run_id = run_of({"Tags": tags}, "TagKey", "TagValue")
        if (not wanted(run_id, options) or metadata.get("KeyManager") != "CUSTOMER"
                or metadata.get("KeyState") == "PendingDeletion"):
            continue
        age = age_of(account, metadata.get("CreationDate"))
        if not old_enough(age, options):
            young += 1
            continue
        keys.append(Item(account.account_id, region, "kms-key", key_id, run_id or "", hours(age),
                         detail=f"deletion in {KEY_DELETION_DAYS} days"))
    swept = {k.ident for k in keys}
    aliases = [Item(account.account_id, region, "kms-alias", alias["AliasName"], key=alias["TargetKeyId"],
                    detail=f"of {alias['TargetKeyId']}")
               for alias in pages(kms, "list_aliases", "Aliases")
               if alias["AliasName"].startswith(ALIAS_PREFIX) and alias.get("TargetKeyId") in swept]
    return keys, aliases, young


def key_home(key: str, account: str, region: str) -> tuple[str, str]:
    """(account, Region) of a key ARN; a bare id is the AMI's own account and Region."""
    parts = key.split(":")
    return (parts[4], parts[3]) if key.startswith("arn:") and len(parts) > 5 else (account, region)


def find_grants(amis: list[Item], accounts: list[Account], options: Options) -> list[Item]:
    """The share's grants of each AMI to sweep, on the keys behind it, read as the key's account."""
    by_id = {a.account_id: a for a in accounts}
    found = []
    for ami in amis:
        if ami.status:
            continue  # left in place: its grants stay with it
        for key in sorted(ami.keys):
            owner, region = key_home(key, ami.account, ami.region)
            if owner not in by_id:
                found.append(Item(owner, region, "kms-grant", f"{GRANT_PREFIX}{ami.ident}", ami.run_id, key=key,
                                  status=f"{'left' if options.act else 'would leave'}: key {key} is in account "
                                         f"{owner}, not one given (--profile)"))
                continue
            kms = by_id[owner].client("kms", region, options.endpoint_url)
            try:
                grants = list(pages(kms, "list_grants", "Grants", KeyId=key))
            except ClientError as error:
                found.append(Item(owner, region, "kms-grant", f"{GRANT_PREFIX}{ami.ident}", ami.run_id, key=key,
                                  status=f"left: could not list the grants of {key}: {code_of(error)}"))
                continue
            for grant in grants:
                if grant.get("Name") == f"{GRANT_PREFIX}{ami.ident}":
                    found.append(Item(owner, region, "kms-grant", grant["GrantId"], ami.run_id, key=key, ami=ami.ident,
                                      detail=f"{grant['Name']} for {grant.get('GranteePrincipal', '?')}"))
    return found


# --- removal ----------------------------------------------------------------------------------


def code_of(error: Exception) -> str:
    if isinstance(error, ClientError):
        return f"{error.response['Error'].get('Code', '?')}: {error.response['Error'].get('Message', '')}"
    return str(error)


def attempt(item: Item, call) -> bool:
    """Run one removal; the item's status says how it went."""
    try:
        call()
    except ClientError as error:
        if error.response["Error"].get("Code") in GONE:
            item.status = "removed"
            item.detail += " (already gone)"
            return True
        item.status = f"left: {code_of(error)}"
        return False
    except BotoCoreError as error:
        item.status = f"left: {error}"
        return False
    item.status = "removed"
    return True


def remove_amis(ec2, amis: list[Item], options: Options) -> None:
    for ami in amis:
        if ami.status:
            continue
        if ami.protected and options.disable_protection:
            if not attempt(ami, lambda ami=ami: ec2.disable_image_deregistration_protection(ImageId=ami.ident)):
                continue
        results: list[dict] = []

        def deregister(ami: Item = ami, results: list[dict] = results) -> None:
            answer = ec2.deregister_image(ImageId=ami.ident, DeleteAssociatedSnapshots=True)
            results.extend(answer.get("DeleteSnapshotResults") or [])

        if attempt(ami, deregister):
            deleted = {r.get("SnapshotId") for r in results if r.get("ReturnCode") == "success"}
            ami.snapshots = [s for s in ami.snapshots if s not in deleted]
        elif ami.protected:
            ami.status += " (protection with a cooldown keeps it 24 h after it is turned off; sweep again then)"


def remove_snapshots(ec2, amis: list[Item], orphans: list[Item], snapshots: list[dict]) -> None:
    """Snapshots the swept AMIs left (used by another of them, or made for one of them), then
    tagged orphans."""
    removed = {a.ident for a in amis if a.status == "removed"}
    remaining = {s for a in amis if a.status == "removed" for s in a.snapshots}
    for snapshot in snapshots:
        made_for = MADE_FOR.search(snapshot.get("Description") or "")
        if made_for and made_for.group(1) in removed:
            remaining.add(snapshot["SnapshotId"])
    for ami in amis:
        for sid in sorted(remaining.intersection(ami.snapshots) if ami.status == "removed" else ()):
            leftover = Item(ami.account, ami.region, "snapshot", sid, ami.run_id, detail=f"of {ami.ident}")
            if not attempt(leftover, lambda sid=sid: ec2.delete_snapshot(SnapshotId=sid)):
                ami.status = f"left: its snapshot {sid}: {leftover.status}"
            remaining.discard(sid)
    for sid in sorted(remaining):
        leftover = Item("", "", "snapshot", sid)
        if not attempt(leftover, lambda sid=sid: ec2.delete_snapshot(SnapshotId=sid)):
            print(f"  left      snapshot  {sid} (made for a swept AMI): {leftover.status}")
    for orphan in orphans:
        if not orphan.status:
            attempt(orphan, lambda orphan=orphan: ec2.delete_snapshot(SnapshotId=orphan.ident))


def remove_grants(grants: list[Item], amis: list[Item], accounts: list[Account], options: Options) -> None:
    """The share's grants of the AMIs that are gone: a grant of an AMI left in place stays."""
    by_id = {a.account_id: a for a in accounts}
    removed = {a.ident for a in amis if a.status == "removed"}
    for grant in grants:
        if grant.status:
            continue
        if grant.ami not in removed:
            grant.status = f"left: its AMI {grant.ami} is still there"
            continue
        kms = by_id[grant.account].client("kms", grant.region, options.endpoint_url)
        attempt(grant, lambda grant=grant, kms=kms: kms.revoke_grant(KeyId=grant.key, GrantId=grant.ident))


def remove_keys(kms, keys: list[Item], aliases: list[Item]) -> None:
    for alias in aliases:
        attempt(alias, lambda alias=alias: kms.delete_alias(AliasName=alias.ident))
    for key in keys:
        attempt(key, lambda key=key: kms.schedule_key_deletion(KeyId=key.ident,
                                                                PendingWindowInDays=KEY_DELETION_DAYS))


# --- summary ----------------------------------------------------------------------------------


def print_summary(items: Iterable[Item], act: bool) -> None:
    rows: dict[tuple[str, str, str], list[int]] = {}
    for item in items:
        row = rows.setdefault((item.account, item.region, item.kind), [0, 0, 0])
        row[0] += 1
        row[1] += item.status in ("removed", "would remove")
        row[2] += item.left
    done = "removed" if act else "would remove"
    left = "left" if act else "would leave"
    print(f"\nsummary ({'removed' if act else 'dry run: nothing removed'}):")
    print(f"  {'account':<12}  {'region':<14}  {'kind':<9}  {'found':>5}  {done:>12}  {left:>11}")
    for (account, region, kind), (found, removed, kept) in sorted(rows.items()):
        print(f"  {account:<12}  {region:<14}  {kind:<9}  {found:>5}  {removed:>12}  {kept:>11}")
    if not rows:
        print("  nothing tagged and old enough")


if __name__ == "__main__":
    sys.exit(main())
