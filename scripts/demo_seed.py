"""The demo's hands outside Terraform, against the local AWS stand-in (never real AWS).

    demo_seed.py seed  --tfvars FILE              bake an AMI in the bake account, make a KMS key in
                                                  each target account, write the Terraform variables
    demo_seed.py show  --copies JSON              what AWS says about each copy: its tags, and each
                                                  snapshot's encryption, key and tags (exit 1 if a
                                                  copy is not encrypted with its own account's key)
    demo_seed.py drift --copies JSON              change things behind Terraform's back
    demo_seed.py check                            show that destroy left nothing behind (exit 1 if it did)

Every command needs --endpoint (the stand-in's URL). Accounts follow the stand-in's convention: the
access key id is the account id. The account ids default to those in examples/cross-account.
"""

import argparse
import json
import sys
import time

import boto3
from botocore.exceptions import ClientError

ROOT_DEVICE = "/dev/xvda"
DATA_DEVICE = "/dev/xvdb"
SOURCE_TAGS = {
    "Name": "app-server",
    "Team": "platform",
    "Release": "2026.11.22",
    "BuiltBy": "packer",
}


def client(args, service, account):
    return boto3.client(
        service,
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id=account,
        aws_secret_access_key="demo",
    )


def snapshot_of_new_volume(ec2, size, description, key_arn):
    """A snapshot of a fresh volume encrypted with `key_arn`, the way a bake pipeline produces one
    (the volume is then gone)."""
    volume = ec2.create_volume(
        AvailabilityZone=ec2.meta.region_name + "a", Size=size, Encrypted=True, KmsKeyId=key_arn
    )
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"], Description=description)
    ec2.delete_volume(VolumeId=volume["VolumeId"])
    return snapshot["SnapshotId"]


def visible_image(ec2, image_id, wait_seconds=300.0):
    """The new AMI once DescribeImages shows it with its tags: EC2 is eventually consistent
    ("Eventual consistency in the Amazon EC2 API"), so a read right after RegisterImage may not."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            images = ec2.describe_images(ImageIds=[image_id])["Images"]
        except ClientError as err:
            if err.response["Error"]["Code"] != "InvalidAMIID.NotFound":
                raise
            images = []
        if images and set(SOURCE_TAGS) <= {t["Key"] for t in images[0].get("Tags", [])}:
            return images[0]
        if time.monotonic() > deadline:
            sys.exit(f"{image_id} is not visible with its tags after {wait_seconds:.0f} s")
        time.sleep(0.25)


def visible_snapshots(ec2, snapshot_ids, wait_seconds=300.0):
    """Waits until DescribeSnapshots shows every one of `snapshot_ids`: new snapshots are eventually
    consistent too, and the share reads their permissions right away."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            found = ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]
        except ClientError as err:
            if err.response["Error"]["Code"] != "InvalidSnapshot.NotFound":
                raise
            found = []
        if len(found) == len(snapshot_ids):
            return
        if time.monotonic() > deadline:
            sys.exit(f"{', '.join(snapshot_ids)} not all visible after {wait_seconds:.0f} s")
        time.sleep(0.25)


def seed(args):
    ec2 = client(args, "ec2", args.bake)
    # The bake pipeline encrypts with its own customer managed key, whose default policy trusts only
    # the bake account: the share's share_kms_keys grants it to the target accounts.
    bake_key = client(args, "kms", args.bake).create_key(Description="AMI bake key")["KeyMetadata"]["Arn"]
    root = snapshot_of_new_volume(ec2, 8, "app-server root volume", bake_key)
    data = snapshot_of_new_volume(ec2, 20, "app-server data volume", bake_key)
    name = "app-server-" + SOURCE_TAGS["Release"]
    image = ec2.register_image(
        Name=name,
        Description="app server, baked by the platform team",
        Architecture="x86_64",
        VirtualizationType="hvm",
        RootDeviceName=ROOT_DEVICE,
        BlockDeviceMappings=[
            {"DeviceName": ROOT_DEVICE, "Ebs": {"SnapshotId": root, "VolumeSize": 8, "VolumeType": "gp3"}},
            {"DeviceName": DATA_DEVICE, "Ebs": {"SnapshotId": data, "VolumeSize": 20, "VolumeType": "gp3"}},
        ],
    )
    image_id = image["ImageId"]
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": k, "Value": v} for k, v in SOURCE_TAGS.items()])
    snapshots = [m["Ebs"]["SnapshotId"] for m in visible_image(ec2, image_id)["BlockDeviceMappings"] if "Ebs" in m]
    visible_snapshots(ec2, snapshots)
    print(f"    bake account {args.bake}: AMI {image_id} ({name}) with snapshots {', '.join(snapshots)}")
    print(f"      tags: {json.dumps(SOURCE_TAGS)}")
    print(f"      encrypted with the bake account's KMS key {bake_key}")

    keys = {}
    for stage, account in (("prod", args.prod), ("staging", args.staging)):
        kms = client(args, "kms", account)
        key = kms.create_key(Description=f"AMI encryption key for {stage}")["KeyMetadata"]
        kms.create_alias(AliasName="alias/ami", TargetKeyId=key["KeyId"])
        keys[stage] = key["Arn"]
        print(f"    {stage} account {account}: KMS key {key['Arn']} (alias/ami)")

    with open(args.tfvars, "w", encoding="utf-8") as tfvars:
        tfvars.write(f'source_ami_id      = "{image_id}"\n')
        tfvars.write(f'prod_kms_key_id    = "{keys["prod"]}"\n')
        tfvars.write('staging_kms_key_id = "alias/ami"\n')


def bake_image(args, ec2):
    """The bake account's AMI (the demo seeds exactly one)."""
    images = ec2.describe_images(Owners=["self"])["Images"]
    if len(images) != 1:
        sys.exit(f"expected one AMI in the bake account, found {[i['ImageId'] for i in images]}")
    image = images[0]
    snapshots = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]
    return image["ImageId"], snapshots


def drift(args):
    bake = client(args, "ec2", args.bake)
    image_id, snapshots = bake_image(args, bake)
    bake.modify_snapshot_attribute(
        SnapshotId=snapshots[0],
        Attribute="createVolumePermission",
        OperationType="remove",
        UserIds=[args.prod],
    )
    print(f"    bake account {args.bake}: revoked createVolumePermission on {snapshots[0]} "
          f"(a snapshot of {image_id}) for the prod account {args.prod}")

    copy_id = json.loads(args.copies)["staging"]
    staging = client(args, "ec2", args.staging)
    staging.create_tags(Resources=[copy_id], Tags=[{"Key": "Team", "Value": "edited-by-hand"}])
    print(f"    staging account {args.staging}: set tag Team = \"edited-by-hand\" on the copy {copy_id}")


def tag_map(tags):
    return {t["Key"]: t["Value"] for t in tags or []}


def show(args):
    """Prints each copy as its account sees it; returns the number of problems found."""
    problems = 0
    accounts = {"prod": args.prod, "staging": args.staging}
    for stage, copy_id in sorted(json.loads(args.copies).items()):
        account = accounts[stage]
        ec2 = client(args, "ec2", account)
        image = ec2.describe_images(ImageIds=[copy_id])["Images"][0]
        tags = tag_map(image.get("Tags"))
        print(f"    {stage} account {account}: {copy_id} ({image['Name']}), {image['State']}")
        print(f"      AMI tags: {json.dumps(tags, sort_keys=True)}")
        snapshot_ids = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]
        for snapshot in ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]:
            key = snapshot.get("KmsKeyId", "")
            own_key = snapshot.get("Encrypted") and f":{account}:key/" in key
            problems += 0 if own_key else 1
            same = tag_map(snapshot.get("Tags")) == tags
            print(
                f"      {snapshot['SnapshotId']}: Encrypted={str(snapshot.get('Encrypted')).lower()}, "
                f"key {key or 'none'}{'' if own_key else '  <-- not this account key'}, "
                f"tags {'the same as the AMI' if same else json.dumps(tag_map(snapshot.get('Tags')), sort_keys=True)}"
            )
    return problems


def check(args):
    """Prints what is left; returns the number of leftovers."""
    leftovers = 0
    for stage, account in (("prod", args.prod), ("staging", args.staging)):
        ec2 = client(args, "ec2", account)
        images = [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]]
        snapshots = [s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]]
        leftovers += len(images) + len(snapshots)
        print(f"    {stage} account {account}: AMIs owned: {images or 'none'}; snapshots owned: {snapshots or 'none'}")

    bake = client(args, "ec2", args.bake)
    image_id, snapshots = bake_image(args, bake)
    launch = bake.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
    leftovers += len(launch)
    print(f"    bake account {args.bake}: {image_id} launch permissions: {launch or 'none'}")
    for snapshot in snapshots:
        volume = bake.describe_snapshot_attribute(SnapshotId=snapshot, Attribute="createVolumePermission")[
            "CreateVolumePermissions"
        ]
        leftovers += len(volume)
        print(f"    bake account {args.bake}: {snapshot} createVolumePermissions: {volume or 'none'}")
    kms = client(args, "kms", args.bake)
    source_keys = {s.get("KmsKeyId") for s in bake.describe_snapshots(SnapshotIds=snapshots)["Snapshots"]}
    for key in sorted(source_keys - {None}):
        grants = [g["GranteePrincipal"] for g in kms.list_grants(KeyId=key)["Grants"]
                  if g.get("Name") == f"imagecopier-share-{image_id}"]
        leftovers += len(grants)
        print(f"    bake account {args.bake}: KMS key {key} grants made by the share: {grants or 'none'}")
    return leftovers


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["seed", "show", "drift", "check"])
    parser.add_argument("--endpoint", required=True, help="the stand-in, such as http://127.0.0.1:40123")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--bake", default="111111111111")
    parser.add_argument("--prod", default="222222222222")
    parser.add_argument("--staging", default="333333333333")
    parser.add_argument("--tfvars", help="seed: where to write the Terraform variables")
    parser.add_argument("--copies", help="show, drift: `terraform output -json copy_ids`")
    args = parser.parse_args()
    if not args.endpoint.startswith("http://127.0.0.1:"):
        sys.exit("demo_seed.py only talks to the local stand-in (http://127.0.0.1:PORT)")
    if args.command == "seed":
        if not args.tfvars:
            sys.exit("seed needs --tfvars")
        seed(args)
    elif args.command in ("show", "drift"):
        if not args.copies:
            sys.exit(f"{args.command} needs --copies")
        if args.command == "drift":
            drift(args)
        elif show(args):
            sys.exit(1)
    else:
        leftovers = check(args)
        if leftovers:
            print(f"    LEFTOVERS: {leftovers}")
            sys.exit(1)
        print("    nothing left: no copies, no snapshots, no permissions, no key grants")


if __name__ == "__main__":
    main()
