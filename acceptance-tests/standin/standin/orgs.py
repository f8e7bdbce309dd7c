"""Organization membership the tests declare (POST /_standin/org), and what
it means for an account's requests.

moto's Organizations backend is not consulted: tests only need to say "this
account is in that organization, under these OUs", and both AMI launch
permissions (sharing.py) and KMS key policies (kms_access.py) read it here.

The IAM global condition keys come from the IAM User Guide, "AWS global
condition context keys": aws:PrincipalOrgID is the organization id
(o-...); aws:PrincipalOrgPaths is the account's entity path, the
organization id, the root id and every OU id from the root down, each
followed by `/` ("Understand the AWS Organizations entity path").
"""

from __future__ import annotations

import re
from typing import Any

from . import state
from .accounts import is_account_id

_ROOT_ID = re.compile(r"^r-[0-9a-z]{4,32}$")


class OrgError(ValueError):
    """A declaration the admin API refuses (answered 400)."""


def declare(body: dict) -> dict:
    """POST /_standin/org: `account`, `organization_arn`, `ou_arns` (every OU on
    the account's path, root first) and optional `root_id` (r-...), which
    aws:PrincipalOrgPaths needs: without it the key is absent from the
    account's requests, so a policy condition on it does not hold."""
    account = body.get("account")
    if not isinstance(account, str) or not is_account_id(account):
        raise OrgError("account must be a 12-digit account id")
    root_id = body.get("root_id")
    if root_id is not None and not (isinstance(root_id, str) and _ROOT_ID.match(root_id)):
        raise OrgError("root_id must be an organization root id (r- and 4 to 32 letters or digits)")
    with state.LOCK:
        state.STATE.orgs[account] = {
            "organization_arn": body.get("organization_arn"),
            "ou_arns": list(body.get("ou_arns") or []),
            "root_id": root_id,
        }
        return dict(state.STATE.orgs[account])


def condition_values(account: str) -> dict[str, list[str]]:
    """The organization condition keys of a request by `account`, by key name;
    keys that do not apply (no organization declared, no root id) are absent."""
    membership = state.STATE.orgs.get(account) or {}
    org_id = _last_segment(membership.get("organization_arn"))
    if not org_id:
        return {}
    values = {"aws:PrincipalOrgID": [org_id]}
    root_id = membership.get("root_id")
    if root_id:
        ous = [_last_segment(arn) for arn in membership.get("ou_arns", [])]
        path = "/".join([org_id, root_id, *[ou for ou in ous if ou]]) + "/"
        values["aws:PrincipalOrgPaths"] = [path]
    return values


def _last_segment(arn: Any) -> str | None:
    """o-... of an organization ARN, ou-... of an OU ARN (the id ends both)."""
    if not isinstance(arn, str) or "/" not in arn:
        return None
    return arn.rsplit("/", 1)[1] or None
