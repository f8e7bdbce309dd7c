"""AssumeRole in strict mode: the role must exist and trust the caller.

AWS STS API Reference, AssumeRole, and IAM User Guide, "Switch to an IAM
role (AWS API)", "Policy evaluation logic" (cross-account policy evaluation):

- the root user cannot assume a role ("Roles may not be assumed by root
  accounts.", the AccessDenied message AWS answers);
- the role's trust policy must allow the caller: the caller itself (user,
  role or session ARN) or its account, with conditions on sts:ExternalId,
  sts:RoleSessionName, sts:SourceIdentity, aws:PrincipalArn,
  aws:PrincipalOrgID, ... An explicit Deny in it wins;
- when the trust policy names only the account, or the role is in another
  account, the caller's identity policies must also allow sts:AssumeRole on
  the role ARN (Service Authorization Reference, AWS STS: role*
  `arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}`);
- DurationSeconds is 900 up to the role's MaxSessionDuration (default one
  hour); a role session assuming a role (role chaining) is limited to one
  hour. Beyond either the call fails with ValidationError.

A role that does not exist is refused as access denied, as AWS does (it
does not reveal which roles exist). The session itself is moto's: its keys
act in the role's account and principals.py maps them back to the role.
"""

from __future__ import annotations

import re

from ..protocols import Request
from . import context as ctx
from . import identity, resource_policy
from .errors import Refusal
from .policy import ALLOW, Query
from .principals import ROLE_SESSION, Principal, iam_backend

MIN_DURATION, DEFAULT_DURATION, CHAINED_MAX = 900, 3600, 3600
_ROLE_ACCOUNT = re.compile(r"^arn:[a-z-]+:iam::(\d{12}):role/")


def check_assume_role(principal: Principal, request: Request, environ: dict) -> None:
    params = request.params
    role_arn = params.get("RoleArn", "")
    duration = _duration(params.get("DurationSeconds"))
    if principal.is_root:
        raise Refusal("AccessDenied", "Roles may not be assumed by root accounts.", 403)
    role = _role(role_arn)
    query = Query("sts:AssumeRole", role_arn, _keys(principal, request, environ, role))
    mine = identity.decide(principal, query)
    refuse = f"User: {principal.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    if role is None or mine.explicit:
        raise Refusal("AccessDenied", refuse, 403)
    verdict, direct = resource_policy.evaluate(role.assume_role_policy_document, principal, query)
    if verdict.effect != ALLOW:
        raise Refusal("AccessDenied", refuse, 403)
    if not ((direct and role.account_id == principal.account) or mine.allowed):
        raise Refusal("AccessDenied", refuse, 403)
    if principal.kind == ROLE_SESSION and duration > CHAINED_MAX:
        raise Refusal("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit "
                      "for roles assumed by role chaining.", 400)
    if duration > int(role.max_session_duration or DEFAULT_DURATION):
        raise Refusal("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set "
                      "for this role.", 400)


def _duration(raw: str | None) -> int:
    try:
        duration = int(raw) if raw is not None else DEFAULT_DURATION
    except ValueError:
        raise Refusal("ValidationError", f"Value '{raw}' at 'durationSeconds' is not a number.", 400) from None
    if duration < MIN_DURATION:
        raise Refusal("ValidationError", f"1 validation error detected: Value '{duration}' at "
                      "'durationSeconds' failed to satisfy constraint: Member must have value greater "
                      f"than or equal to {MIN_DURATION}", 400)
    return duration


def _role(role_arn: str):
    match = _ROLE_ACCOUNT.match(role_arn)
    backend = iam_backend(match.group(1)) if match else None
    if backend is None:
        return None
    return next((r for r in backend.roles.values() if r.arn == role_arn), None)


def _keys(principal: Principal, request: Request, environ: dict, role) -> dict[str, list[str]]:
    params = request.params
    keys: dict[str, object] = {}
    for name in ("ExternalId", "RoleSessionName", "SourceIdentity"):
        if params.get(name) is not None:
            keys[f"sts:{name}"] = params[name]
    tags = {v: params.get(k.replace(".Key", ".Value"), "") for k, v in params.items()
            if re.fullmatch(r"Tags\.member\.\d+\.Key", k)}
    if tags:
        keys["aws:TagKeys"] = list(tags)
    role_tags = {t["Key"]: t["Value"] for t in (getattr(role, "tags", None) or [])}
    return ctx.merge(ctx.global_keys(principal, request.region, environ), keys,
                     ctx.tag_keys("aws:RequestTag", tags), ctx.tag_keys("aws:ResourceTag", role_tags),
                     ctx.tag_keys("iam:ResourceTag", role_tags))
