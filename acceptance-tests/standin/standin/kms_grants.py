"""KMS grants the layer keeps (kms_grant_api.py answers the grant actions).

moto's grants live on moto's per-account Key objects, answer only callers
in the key's account and carry neither IssuingAccount nor CreationDate, so
the layer keeps every grant itself, for all accounts and Regions, in
creation order; reset forgets them with the rest of the layer state.

With `--consistency-lag` (consistency.py) a grant takes effect, for use
and for ListGrants / ListRetirableGrants (`effective_on`), only once its
creation is seen, and a retired or revoked one keeps allowing and being
listed until its removal is seen. A request carrying one of a grant's
tokens (GrantTokens) may use a grant not seen yet ("Using a grant token").
What the writer side sees (`grants_on`: a retry of CreateGrant, RetireGrant
and RevokeGrant by id or token, the admin view) is the grants not removed.
"""

from __future__ import annotations

import secrets
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from . import consistency, state
from .kms_keys import root_arn

# The GrantTokens of the KMS request being served (app.py sets them).
REQUEST_TOKENS: ContextVar[frozenset[str]] = ContextVar("standin_grant_tokens", default=frozenset())


@dataclass
class Grant:
    grant_id: str
    key_arn: str
    account: str  # the key's account
    region: str
    grantee_principal: str
    operations: list[str]
    name: str  # "" when created without a Name, as ListGrants shows it
    retiring_principal: str | None
    issuing_account: str  # the account that called CreateGrant
    constraints: dict[str, Any] | None
    creation_date: float  # seconds since the epoch, on the stand-in's clock
    seq: int  # creation order, which ListGrants pages by
    tokens: set[str] = field(default_factory=set)
    # consistency.py: when the creation is seen (state.wall_now seconds), and the
    # removal (None: not retired or revoked).
    visible_at: float = 0.0
    gone_at: float | None = None


def grants_on(key_arn: str) -> list[Grant]:
    """The grants on one key not retired or revoked, oldest first."""
    return [g for g in all_grants() if g.key_arn == key_arn]


def all_grants() -> list[Grant]:
    return [g for g in list(state.STATE.kms_grants.values()) if g.gone_at is None]


def effective_on(key_arn: str | None) -> list[Grant]:
    """The grants in effect on one key (None: on every key), oldest first: a
    grant whose creation is seen and whose removal is not, or one the request
    names by a token. Removals that are seen are forgotten here."""
    moment = consistency.now()
    tokens = REQUEST_TOKENS.get()
    effective = []
    for grant in list(state.STATE.kms_grants.values()):
        if grant.gone_at is not None and grant.gone_at <= moment:
            state.STATE.kms_grants.pop(grant.grant_id, None)
            continue
        if key_arn is not None and grant.key_arn != key_arn:
            continue
        if grant.visible_at <= moment or (grant.gone_at is None and tokens & grant.tokens):
            effective.append(grant)
    return effective


def add(key: Any, caller: str, grantee: str, operations: list[str], name: str,
        retiring: str | None, constraints: dict | None) -> Grant:
    state.STATE.kms_grant_seq += 1
    grant = Grant(
        # A grant id is 64 hex digits, as in the KMS examples.
        grant_id=secrets.token_hex(32), key_arn=key.arn, account=key.account_id,
        region=key.region, grantee_principal=grantee, operations=list(operations), name=name,
        retiring_principal=retiring, issuing_account=caller, constraints=constraints,
        creation_date=state.wall_now().timestamp(), seq=state.STATE.kms_grant_seq,
        visible_at=consistency.stamp() if consistency.enabled() else 0.0,
    )
    state.STATE.kms_grants[grant.grant_id] = grant
    return grant


def new_token(grant: Grant) -> str:
    """A fresh grant token: "the returned grant token is unique with every
    CreateGrant request, even when a duplicate GrantId is returned", and every
    token of a grant names it (CreateGrant, Name)."""
    token = secrets.token_urlsafe(96)
    grant.tokens.add(token)
    return token


def by_token(token: str) -> Grant | None:
    """The grant (not retired or revoked) a token names."""
    return next((g for g in all_grants() if token in g.tokens), None)


def remove(grant: Grant) -> None:
    if consistency.enabled():
        grant.gone_at = max(consistency.stamp(), grant.visible_at)
    else:
        state.STATE.kms_grants.pop(grant.grant_id, None)


def list_entry(grant: Grant) -> dict[str, Any]:
    """A GrantListEntry (API Reference); members without a value are left out."""
    entry: dict[str, Any] = {
        "KeyId": grant.key_arn,
        "GrantId": grant.grant_id,
        "Name": grant.name,
        "CreationDate": grant.creation_date,
        "GranteePrincipal": grant.grantee_principal,
        "IssuingAccount": root_arn(grant.issuing_account),
        "Operations": list(grant.operations),
    }
    if grant.retiring_principal:
        entry["RetiringPrincipal"] = grant.retiring_principal
    if grant.constraints:
        entry["Constraints"] = grant.constraints
    return entry


def admin_view() -> dict[str, Any]:
    """GET /_standin/kms_grants: every grant of every account and Region."""
    with state.LOCK:
        return {"grants": [
            {
                "key_arn": g.key_arn,
                "grant_id": g.grant_id,
                "grantee_principal": g.grantee_principal,
                "operations": list(g.operations),
                "name": g.name,
                "retiring_principal": g.retiring_principal,
                "account": g.account,
                "issuing_account": g.issuing_account,
                "constraints": g.constraints,
            }
            for g in all_grants()
        ]}
