"""The request context: the condition keys every request carries, whatever
the service (IAM User Guide, "AWS global condition context keys").

Per-resource keys (ec2:ResourceTag/..., kms:ViaService, ...) are added by
the service modules (ec2_resources.py, kms.py, ...). Keys are stored
lower-cased, since condition key names are not case-sensitive.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from . import orgs
from .principals import ROLE_SESSION, USER, Principal

# The principal of the request being served: the KMS decision that EC2 asks
# for on the caller's behalf (CopyImage) runs deep inside moto and reads it here.
CURRENT: ContextVar[Principal | None] = ContextVar("standin_strict_principal", default=None)


def merge(*contexts: Mapping[str, Any]) -> dict[str, list[str]]:
    """One context from several (later ones win); each value a string or a list
    of strings, each name lower-cased."""
    merged: dict[str, list[str]] = {}
    for context in contexts:
        merged.update({k.lower(): _list(v) for k, v in context.items() if v is not None})
    return merged


def global_keys(principal: Principal, region: str, environ: dict | None = None,
                via_service: bool = False) -> dict[str, list[str]]:
    """aws:Principal*, aws:userid / aws:username, aws:RequestedRegion,
    aws:SecureTransport (the stand-in is plain HTTP), aws:SourceIp,
    aws:ViaAWSService, aws:EpochTime, and the organization keys (orgs.py)."""
    context = {
        "aws:PrincipalAccount": principal.account,
        "aws:PrincipalArn": principal.principal_arn,
        "aws:PrincipalType": principal.kind,
        "aws:userid": principal.user_id,
        "aws:RequestedRegion": region,
        "aws:SecureTransport": "false",
        "aws:ViaAWSService": "true" if via_service else "false",
        "aws:EpochTime": str(int(time.time())),
    }
    if principal.kind == USER and principal.name:
        context["aws:username"] = principal.name
    if environ and environ.get("REMOTE_ADDR") and not via_service:
        context["aws:SourceIp"] = environ["REMOTE_ADDR"]
    if principal.kind == ROLE_SESSION:
        role = principal.role()
        for tag in (getattr(role, "tags", None) or []):
            context[f"aws:PrincipalTag/{tag['Key']}"] = tag["Value"]
    return merge(context, orgs.condition_values(principal.account))


def tag_keys(prefix: str, tags: dict[str, str]) -> dict[str, list[str]]:
    """{PREFIX/KEY: [VALUE]} for each tag, e.g. ec2:ResourceTag/Stage."""
    return {f"{prefix}/{k}".lower(): [v] for k, v in tags.items()}


def _list(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]
