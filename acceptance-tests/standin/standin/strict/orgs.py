"""Organization membership in strict mode: read from the Organizations API
(moto's backend), not declared through `POST /_standin/org`.

An account is in an organization when it created it (CreateOrganization) or
was created in it (CreateAccount; moto chooses the new account's id, which a
test then uses as that account's access key). The IAM global condition keys
follow the IAM User Guide, "AWS global condition context keys":
aws:PrincipalOrgID is the organization id; aws:PrincipalOrgPaths the entity
path `o-.../r-.../ou-.../` down to the account's parent ("Understand the AWS
Organizations entity path").

`install` makes the default mode's readers of membership (AMI launch
permissions by organization or OU, sharing.py; KMS key policy conditions,
kms_access.py) read it here as well, so strict mode has one source of truth.
"""

from __future__ import annotations

from typing import Any

from moto.organizations.models import organizations_backends

from .. import orgs as declared_orgs
from .. import sharing


def membership(account: str) -> tuple[Any, list[Any]] | None:
    """(the organization, the OUs from the root down to the account's parent), or None."""
    backend = _backend_of(account)
    if backend is None or backend.org is None:
        return None
    member = next((a for a in backend.accounts if a.id == account), None)
    if member is None:
        return None
    by_id = {ou.id: ou for ou in backend.ou}
    chain: list[Any] = []
    parent = by_id.get(member.parent_id)
    while parent is not None and parent not in chain:
        chain.insert(0, parent)
        parent = by_id.get(getattr(parent, "parent_id", None))
    return backend.org, chain


def condition_values(account: str) -> dict[str, list[str]]:
    found = membership(account)
    if found is None:
        return {}
    org, chain = found
    path = "/".join([org.id, *[ou.id for ou in chain]]) + "/"
    return {"aws:PrincipalOrgID": [org.id], "aws:PrincipalOrgPaths": [path]}


def org_grants(perm: dict[str, str], account: str) -> bool:
    """A launch permission by OrganizationArn or OrganizationalUnitArn covers `account`."""
    found = membership(account)
    if found is None:
        return False
    org, chain = found
    if perm.get("OrganizationArn") and perm["OrganizationArn"] == org.arn:
        return True
    return bool(perm.get("OrganizationalUnitArn")) and perm["OrganizationalUnitArn"] in {
        ou.arn for ou in chain}


def install() -> None:
    declared_orgs.condition_values = condition_values
    sharing._org_grants = org_grants


def _backend_of(account: str) -> Any | None:
    """The Organizations backend of the account's management account."""
    owner = organizations_backends.master_accounts.get(account)
    management, partition = owner if owner else (account, "aws")
    per_partition = dict.get(organizations_backends, management)
    return dict.get(per_partition, partition) if per_partition is not None else None
