"""Which resources an EC2 request is authorized against, per action.

Service Authorization Reference, "Actions, resources, and condition keys for
Amazon EC2", Actions table: each action lists resource types, required ones
marked `*`, with the condition keys each supports. Here:

- a required type is always asked (the resource the request names, or
  `.../*` for one it creates); a type that is not required is asked only if
  the request involves one (RegisterImage's snapshots, CreateVolume's source
  snapshot, CreateTags' resources);
- an action whose row has no resource type (DescribeImages,
  GetEbsDefaultKmsKeyId, the block public access actions, and every action
  not listed here) is asked for resource `*`;
- each resource carries only the condition keys the row lists for it, plus
  ec2:Region, which every action supports;
- tags given on create (TagSpecification) also need ec2:CreateTags on each
  new resource, with ec2:CreateAction naming the creating action ("Grant
  permission to tag Amazon EC2 resources during creation").

CopyImage is asked for the source AMI (resource-level permissions on the
source since 28 October 2024, User Guide "Grant permissions to copy Amazon EC2
AMIs"), the new AMI and its new snapshots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import ec2_objects as objects
from .context import merge, tag_keys
from .ec2_objects import Resource

IMAGE_KEYS = ("aws:ResourceTag/", "ec2:ImageID", "ec2:ImageType", "ec2:Owner", "ec2:Public",
              "ec2:ResourceTag/", "ec2:RootDeviceType")
SNAPSHOT_KEYS = ("aws:ResourceTag/", "ec2:Owner", "ec2:ParentVolume", "ec2:ResourceTag/",
                 "ec2:SnapshotID", "ec2:SnapshotTime", "ec2:VolumeSize", "ec2:Encrypted")
ATTRIBUTE_KEYS = ("ec2:Attribute", "ec2:Add/", "ec2:Remove/")
NEW_KEYS = ("aws:RequestTag/", "aws:TagKeys", "ec2:CreateAction")
IMAGE_ACTIONS = frozenset({
    "DeregisterImage", "DescribeImageAttribute", "ModifyImageAttribute", "ResetImageAttribute",
    "EnableImage", "DisableImage", "EnableImageDeregistrationProtection",
    "DisableImageDeregistrationProtection", "EnableImageDeprecation", "DisableImageDeprecation",
})
SNAPSHOT_ACTIONS = frozenset({
    "DeleteSnapshot", "DescribeSnapshotAttribute", "ModifySnapshotAttribute", "ResetSnapshotAttribute",
})
LAUNCH_TEMPLATE_ACTIONS = frozenset({
    "CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "DeleteLaunchTemplate",
    "DeleteLaunchTemplateVersions",
})
_PREFIX_KINDS = {"ami": "image", "snap": "snapshot", "vol": "volume", "i": "instance", "lt": "launch-template"}


@dataclass(frozen=True)
class Target:
    action: str  # ec2:CopyImage, or ec2:CreateTags for tag-on-create
    resource: str  # ARN or "*"
    keys: dict[str, list[str]]


def targets(action: str, params: dict[str, str], region: str, account: str) -> list[Target]:
    """Every (action, resource) the request must be allowed, in the order EC2 names them."""
    on = _Builder(action, params, region, account)
    if action in IMAGE_ACTIONS:
        on.ask(objects.image(region, account, params.get("ImageId", "")), IMAGE_KEYS + ATTRIBUTE_KEYS)
    elif action in SNAPSHOT_ACTIONS:
        on.ask(objects.snapshot(region, account, params.get("SnapshotId", "")),
               SNAPSHOT_KEYS + ATTRIBUTE_KEYS)
    elif action == "CopyImage":
        source_region = params.get("SourceRegion") or region
        on.ask(objects.image(source_region, account, params.get("SourceImageId", "")),
               ("ec2:ImageID", "ec2:Owner"))
        on.create("image", ("aws:RequestTag/", "aws:TagKeys"))
        on.create("snapshot", ("aws:RequestTag/", "aws:TagKeys"))
    elif action == "RegisterImage":
        on.create("image", ("aws:RequestTag/", "aws:TagKeys"))
        for key, value in sorted(params.items()):
            if re.fullmatch(r"BlockDeviceMapping\.\d+\.Ebs\.SnapshotId", key):
                on.ask(objects.snapshot(region, account, value), SNAPSHOT_KEYS)
    elif action == "CreateSnapshot":
        on.create("snapshot", ("aws:RequestTag/", "aws:TagKeys"))
        on.ask(objects.volume(region, account, params.get("VolumeId", "")), ("aws:ResourceTag/", "ec2:"))
    elif action == "CreateVolume":
        on.create("volume", ("aws:RequestTag/", "aws:TagKeys"))
        if params.get("SnapshotId"):
            on.ask(objects.snapshot(region, account, params["SnapshotId"]), SNAPSHOT_KEYS)
    elif action in ("DeleteVolume", "AttachVolume", "DetachVolume"):
        on.ask(objects.volume(region, account, params.get("VolumeId", "")), ("aws:ResourceTag/", "ec2:"))
    elif action in ("TerminateInstances", "StopInstances", "StartInstances"):
        for key, value in sorted(params.items()):
            if re.fullmatch(r"InstanceId\.\d+", key):
                on.ask(objects.instance(region, account, value), ("aws:ResourceTag/", "ec2:"))
    elif action == "RunInstances":
        on.ask(objects.image(region, account, params.get("ImageId", "")), IMAGE_KEYS)
        for kind in ("instance", "volume", "network-interface", "security-group", "subnet"):
            on.create(kind, ("aws:RequestTag/", "aws:TagKeys"))
    elif action == "CreateLaunchTemplate":
        on.create("launch-template", ("aws:RequestTag/", "aws:TagKeys"))
    elif action in LAUNCH_TEMPLATE_ACTIONS:
        on.ask(objects.launch_template(region, account, params.get("LaunchTemplateId"),
                                       params.get("LaunchTemplateName")), ("aws:ResourceTag/", "ec2:"))
    elif action in ("CreateTags", "DeleteTags"):
        for key, value in sorted(params.items()):
            if re.fullmatch(r"ResourceId\.\d+", key):
                on.ask(_any(region, account, value), ("aws:RequestTag/", "aws:TagKeys", "aws:ResourceTag/",
                                                      "ec2:"))
        if not on.asked:
            on.ask(Resource("*", "*"), ("aws:TagKeys",))
    else:
        on.ask(Resource("*", "*"), ())
    on.tag_on_create()
    return on.asked


class _Builder:
    def __init__(self, action: str, params: dict[str, str], region: str, account: str) -> None:
        self.action, self.params, self.region, self.account = action, params, region, account
        self.asked: list[Target] = []
        self.request_keys = _request_keys(action, params)

    def ask(self, resource: Resource, allowed: tuple[str, ...], action: str | None = None) -> None:
        keys = merge(resource.keys, self.request_keys)
        kept = {k: v for k, v in keys.items() if any(k.startswith(p.lower()) for p in allowed)}
        kept["ec2:region"] = [self.region]
        self.asked.append(Target(f"ec2:{action or self.action}", resource.arn, kept))

    def create(self, kind: str, allowed: tuple[str, ...]) -> None:
        resource = objects.new(kind, self.region, self.account)
        tags = _tag_specification(self.params).get(kind, {})
        self.ask(Resource(kind, resource.arn, merge(tag_keys("aws:RequestTag", tags),
                                                    {"aws:TagKeys": list(tags)} if tags else {})), allowed)

    def tag_on_create(self) -> None:
        for kind, tags in _tag_specification(self.params).items():
            if self.action in ("CreateTags", "DeleteTags") or not tags:
                continue
            resource = objects.new(kind, self.region, self.account)
            keys = merge(tag_keys("aws:RequestTag", tags), {"aws:TagKeys": list(tags),
                                                            "ec2:CreateAction": self.action})
            self.ask(Resource(kind, resource.arn, keys), NEW_KEYS, action="CreateTags")


def _any(region: str, account: str, resource_id: str) -> Resource:
    kind = _PREFIX_KINDS.get(resource_id.split("-", 1)[0])
    if kind == "image":
        return objects.image(region, account, resource_id)
    if kind == "snapshot":
        return objects.snapshot(region, account, resource_id)
    if kind == "volume":
        return objects.volume(region, account, resource_id)
    if kind == "instance":
        return objects.instance(region, account, resource_id)
    if kind == "launch-template":
        return objects.launch_template(region, account, resource_id, None)
    return Resource("*", "*")


def _request_keys(action: str, params: dict[str, str]) -> dict[str, list[str]]:
    """Keys the request itself supplies: CreateTags/DeleteTags' tags, and the
    attribute keys of ModifyImageAttribute / ModifySnapshotAttribute."""
    keys: dict[str, list[str]] = {}
    if action in ("CreateTags", "DeleteTags"):
        tags = {v: params.get(k.replace(".Key", ".Value"), "") for k, v in params.items()
                if re.fullmatch(r"Tag\.\d+\.Key", k)}
        keys.update(tag_keys("aws:RequestTag", tags) if action == "CreateTags" else {})
        if tags:
            keys["aws:tagkeys"] = list(tags)
    if params.get("Attribute"):
        keys["ec2:attribute"] = [params["Attribute"]]
    for verb in ("Add", "Remove"):
        groups = [v for k, v in params.items() if re.fullmatch(rf"\w+Permission\.{verb}\.\d+\.Group", k)]
        users = [v for k, v in params.items() if re.fullmatch(rf"\w+Permission\.{verb}\.\d+\.UserId", k)]
        if params.get("OperationType", "").lower() == verb.lower():
            groups += [v for k, v in params.items() if re.fullmatch(r"UserGroup\.\d+", k)]
            users += [v for k, v in params.items() if re.fullmatch(r"UserId\.\d+", k)]
        if groups:
            keys[f"ec2:{verb}/group".lower()] = groups
        if users:
            keys[f"ec2:{verb}/userId".lower()] = users
    return keys


def _tag_specification(params: dict[str, str]) -> dict[str, dict[str, str]]:
    """TagSpecification.N.ResourceType -> {key: value} of its Tag.M pairs."""
    kinds = {m.group(1): v for k, v in params.items()
             if (m := re.fullmatch(r"TagSpecification\.(\d+)\.ResourceType", k))}
    specs: dict[str, dict[str, str]] = {}
    for n, kind in kinds.items():
        for k, v in params.items():
            m = re.fullmatch(rf"TagSpecification\.{n}\.Tag\.(\d+)\.Key", k)
            if m:
                specs.setdefault(kind, {})[v] = params.get(f"TagSpecification.{n}.Tag.{m.group(1)}.Value", "")
    return specs
