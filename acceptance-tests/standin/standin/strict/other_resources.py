"""The resources of Recycle Bin, SSM and STS requests, as the Service
Authorization Reference lists them.

- Recycle Bin ("Actions, resources, and condition keys for AWS Recycle
  Bin"): rule* `arn:${Partition}:rbin:${Region}:${Account}:rule/${ResourceName}`
  for CreateRule (the new rule), GetRule, DeleteRule, UpdateRule, LockRule,
  UnlockRule and the tag actions; ListRules has none. rbin:Request/ResourceType
  is the request's ResourceType (CreateRule, ListRules),
  rbin:Attribute/ResourceType the existing rule's.
- SSM ("... for AWS Systems Manager"): parameter*
  `arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterNameWithoutLeadingSlash}`
  for GetParameter(s), GetParametersByPath, PutParameter, DeleteParameter(s);
  DescribeParameters has none.
- STS ("... for AWS Security Token Service"): AssumeRole's role is sts.py's;
  GetCallerIdentity needs no permission (API Reference); every other action
  is asked for `*`.
"""

from __future__ import annotations

import json
from typing import Any

from .. import state
from ..protocols import Request
from .ec2_resources import Target
from .principals import PARTITION

_RULE_ACTIONS = frozenset({"GetRule", "DeleteRule", "UpdateRule", "LockRule", "UnlockRule"})
_TAG_ACTIONS = frozenset({"ListTagsForResource", "TagResource", "UntagResource"})
_SSM_ONE = frozenset({"GetParameter", "PutParameter", "DeleteParameter", "LabelParameterVersion",
                      "GetParameterHistory"})
_SSM_MANY = frozenset({"GetParameters", "DeleteParameters"})


def rbin_targets(request: Request, account: str, path: str, body: bytes) -> list[Target]:
    region, action = request.region, f"rbin:{request.action}"
    document = _json(body)
    parts = path.strip("/").split("/")
    if request.action == "CreateRule":
        keys = {"rbin:request/resourcetype": [str(document.get("ResourceType"))]}
        return [Target(action, _rule_arn(region, account, "*"), keys)]
    if request.action == "ListRules":
        return [Target(action, "*", {"rbin:request/resourcetype": [str(document.get("ResourceType"))]})]
    if request.action in _RULE_ACTIONS and len(parts) > 1:
        return [Target(action, _rule_arn(region, account, parts[1]), _rule_keys(account, region, parts[1]))]
    if request.action in _TAG_ACTIONS and len(parts) > 1:
        arn = "/".join(parts[1:]).replace("%3A", ":").replace("%2F", "/")
        return [Target(action, arn, _rule_keys(account, region, arn.rsplit("/", 1)[-1]))]
    return [Target(action, "*", {})]


def ssm_targets(request: Request, account: str, body: bytes) -> list[Target]:
    document, action = _json(body), f"ssm:{request.action}"
    if request.action in _SSM_ONE:
        names = [document.get("Name")]
    elif request.action in _SSM_MANY:
        names = document.get("Names") or []
    elif request.action == "GetParametersByPath":
        names = [document.get("Path")]
    else:
        return [Target(action, "*", {})]
    return [Target(action, _parameter_arn(request.region, account, str(n)), {}) for n in names if n]


def sts_targets(request: Request) -> list[Target]:
    """STS actions other than AssumeRole; GetCallerIdentity asks nothing."""
    if request.action == "GetCallerIdentity":
        return []
    return [Target(f"sts:{request.action}", "*", {})]


def _rule_arn(region: str, account: str, identifier: str) -> str:
    return f"arn:{PARTITION}:rbin:{region}:{account}:rule/{identifier}"


def _rule_keys(account: str, region: str, identifier: str) -> dict[str, list[str]]:
    rule = dict.get(state.STATE.rbin_rules, (account, region), {}).get(identifier)
    if rule is None:
        return {}
    keys = {"rbin:attribute/resourcetype": [rule.get("ResourceType", "")]}
    for tag in rule.get("Tags") or []:
        keys[f"aws:resourcetag/{tag.get('Key', '')}".lower()] = [tag.get("Value", "")]
    return keys


def _parameter_arn(region: str, account: str, name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:{PARTITION}:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


def _json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body) if body.strip() else {}
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
