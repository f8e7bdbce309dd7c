"""Which KMS keys a request uses, for which IAM action (Service Authorization
Reference, "Actions, resources, and condition keys for AWS Key Management
Service": key* `arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}`).

- an action on one key (KeyId): that key; Decrypt without KeyId: the key the
  ciphertext names; ReEncrypt: kms:ReEncryptFrom on the source key and
  kms:ReEncryptTo on the destination key; CreateAlias / UpdateAlias: the
  target key (the alias resource is not modelled);
- RetireGrant: the grant's retiring principal, and its grantee when the
  grant allows RetireGrant, may always retire it (API Reference,
  RetireGrant); anyone else needs kms:RetireGrant on the key;
- CreateKey, ListKeys, ListAliases, GenerateRandom, ListRetirableGrants:
  no key, resource `*`, identity policies only;
- a key that cannot be found: identity policies only, on the ARN the KeyId
  spells (a key id becomes the caller's key ARN), so a policy decides before
  KMS answers NotFoundException.
"""

from __future__ import annotations

import json
from typing import Any

from .. import kms_grants
from ..kms_keys import find, key_of_ciphertext
from ..protocols import Request
from . import identity, kms
from .errors import denied
from .policy import Query
from .principals import PARTITION, Principal

_NO_KEY = frozenset({"CreateKey", "ListKeys", "ListAliases", "GenerateRandom", "ListRetirableGrants"})
_TARGET_KEY = {"CreateAlias": "TargetKeyId", "UpdateAlias": "TargetKeyId"}


def check(principal: Principal, request: Request, body: bytes, environ: dict) -> None:
    """Raise a Refusal unless every key use of the request is allowed."""
    try:
        doc = json.loads(body) if body.strip() else {}
    except ValueError:
        return  # the service answers a body it cannot read
    if not isinstance(doc, dict):
        return
    region, action = request.region, request.action
    keys = kms.request_keys(principal, region, principal.account, doc=doc, environ=environ)
    if action in _NO_KEY:
        return _identity_only(principal, request, f"kms:{action}", "*", keys)
    if action == "ReEncrypt":
        source = doc.get("SourceKeyId")
        _use(principal, request, "kms:ReEncryptFrom", keys, source,
             None if source else key_of_ciphertext(region, doc.get("CiphertextBlob")))
        return _use(principal, request, "kms:ReEncryptTo", keys, doc.get("DestinationKeyId"), None)
    if action == "RetireGrant":
        return _retire(principal, request, doc, keys)
    key_id = doc.get(_TARGET_KEY.get(action, "KeyId"))
    if not key_id and action == "Decrypt":
        return _use(principal, request, "kms:Decrypt", keys, None,
                    key_of_ciphertext(region, doc.get("CiphertextBlob")))
    if key_id:
        _use(principal, request, f"kms:{action}", keys, str(key_id), None)
        return
    _identity_only(principal, request, f"kms:{action}", "*", keys)


def _use(principal: Principal, request: Request, action: str, keys: dict[str, list[str]],
         key_id: str | None, key: Any | None) -> None:
    if key is None and key_id:
        key = find(principal.account, request.region, key_id)
    if key is None:
        return _identity_only(principal, request, action, _arn_of(principal, request.region, key_id), keys)
    reason = kms.decide(principal, key, action, keys)
    if reason is not None:
        raise denied(request, principal.arn, action, key.arn, reason)


def _identity_only(principal: Principal, request: Request, action: str, resource: str,
                   keys: dict[str, list[str]]) -> None:
    outcome = identity.decide(principal, Query(action, resource, keys))
    if not outcome.allowed:
        raise denied(request, principal.arn, action, resource, outcome.reason(action))


def _retire(principal: Principal, request: Request, doc: dict, keys: dict[str, list[str]]) -> None:
    token, grant_id = doc.get("GrantToken"), doc.get("GrantId")
    grant = kms_grants.by_token(token) if token else next(
        (g for g in kms_grants.all_grants() if g.grant_id == grant_id), None)
    if grant is None:
        return  # the service answers the unknown grant
    me = {principal.arn, principal.role_arn}
    if grant.retiring_principal in me or (grant.grantee_principal in me and "RetireGrant" in grant.operations):
        return
    _use(principal, request, "kms:RetireGrant", keys, grant.key_arn, None)


def _arn_of(principal: Principal, region: str, key_id: str | None) -> str:
    if not key_id:
        return "*"
    if key_id.startswith("arn:"):
        return key_id
    if key_id.startswith("alias/"):
        return f"arn:{PARTITION}:kms:{region}:{principal.account}:{key_id}"
    return f"arn:{PARTITION}:kms:{region}:{principal.account}:key/{key_id}"

