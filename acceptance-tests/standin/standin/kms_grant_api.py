"""CreateGrant, ListGrants, ListRetirableGrants, RevokeGrant and RetireGrant
for callers in any account (AWS KMS API Reference; Developer Guide "Grants
in AWS KMS", "Creating grants", "Retiring and revoking grants", "Controlling
access to grants").

- CreateGrant: Operations from the GrantOperation list, else
  ValidationException; another account's key needs kms:CreateGrant from its
  policy, or from a grant, which then only allows child grants with some of
  its operations and constraints at least as strict ("Granting CreateGrant
  permission"). A retry with the same Name and the same properties answers
  the first GrantId with a new token (CreateGrant, Name).
- ListGrants (Limit 1..100, default 50; Marker / NextMarker / Truncated;
  GrantId and GranteePrincipal filters) and RevokeGrant: the key's account,
  or a principal the key policy allows (grants never give these).
- RetireGrant (GrantToken, or KeyId and GrantId): the retiring principal,
  the grantee if the grant allows RetireGrant, or the account the grant was
  created in, the key's.

The stand-in's choices where the reference is silent: an unknown grant id is
NotFoundException (as moto answers), an unknown token InvalidGrantTokenException;
the issuing account may also retire its grant ("the account in which the
grant was created" could be either); a retry must also come from the same
account and name the operations in any order; GranteeServicePrincipal
grants are not modelled (GranteePrincipal is required). Grants are listed
oldest first and a marker names the last grant of its page.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from . import kms_access, kms_grants
from .kms_access import KmsError, check, denied
from .kms_grants import Grant, list_entry
from .kms_keys import find

# API Reference, data type GrantOperation (botocore's KMS model lists the same).
OPERATIONS = (
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
    "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
    "DeriveSharedSecret", "Encapsulate", "Decapsulate",
)
CONSTRAINT_NAMES = ("EncryptionContextSubset", "EncryptionContextEquals", "SourceArn")
MAX_CONSTRAINT_PAIRS, MAX_CONSTRAINT_VALUE = 8, 384  # "Using grant constraints"
DEFAULT_LIMIT, MAX_LIMIT = 50, 100
_PRINCIPAL = re.compile(r"^[\w+=,.@:/-]{1,256}$")
_NAME = re.compile(r"^[a-zA-Z0-9:/_-]{1,256}$")


def create_grant(caller: str, region: str, doc: dict) -> dict:
    key = _key(caller, region, doc)
    operations = doc.get("Operations")
    if not isinstance(operations, list) or not operations or any(op not in OPERATIONS for op in operations):
        raise _invalid(f"Value '{operations}' at 'operations' failed to satisfy constraint: Member must "
                       f"satisfy constraint: [Member must satisfy enum value set: [{', '.join(OPERATIONS)}]]")
    grantee = _principal(doc, "GranteePrincipal")
    retiring = _optional_principal(doc, "RetiringPrincipal")
    name = doc.get("Name")
    if name is not None and not (isinstance(name, str) and _NAME.match(name)):
        raise _invalid(f"Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy "
                       "regular expression pattern: ^[a-zA-Z0-9:/_-]+$")
    constraints = _constraints(doc.get("Constraints"))
    check(caller, key, "kms:CreateGrant", grant_covers=lambda parent: _narrower(operations, constraints, parent))
    _dry_run(doc)
    for grant in kms_grants.grants_on(key.arn) if name else ():
        if (grant.name, grant.grantee_principal, grant.retiring_principal, set(grant.operations),
                grant.constraints, grant.issuing_account) == (name, grantee, retiring, set(operations),
                                                              constraints, caller):
            return {"GrantId": grant.grant_id, "GrantToken": kms_grants.new_token(grant)}
    grant = kms_grants.add(key, caller, grantee, operations, name or "", retiring, constraints)
    return {"GrantId": grant.grant_id, "GrantToken": kms_grants.new_token(grant)}


def list_grants(caller: str, region: str, doc: dict) -> dict:
    key = _key(caller, region, doc)
    check(caller, key, "kms:ListGrants")
    grants = [g for g in kms_grants.effective_on(key.arn)
              if doc.get("GrantId") in (None, g.grant_id)
              and doc.get("GranteePrincipal") in (None, g.grantee_principal)]
    return _page(grants, doc)


def list_retirable_grants(caller: str, region: str, doc: dict) -> dict:
    retiring = _principal(doc, "RetiringPrincipal")
    return _page([g for g in kms_grants.effective_on(None)
                  if g.region == region and g.retiring_principal == retiring], doc)


def revoke_grant(caller: str, region: str, doc: dict) -> dict:
    key = _key(caller, region, doc)
    check(caller, key, "kms:RevokeGrant")
    grant = _grant_by_id(key, doc.get("GrantId"))
    _dry_run(doc)
    kms_grants.remove(grant)
    return {}


def retire_grant(caller: str, region: str, doc: dict) -> dict:
    token = doc.get("GrantToken")
    if token:
        grant = kms_grants.by_token(token)
        if grant is None:
            raise KmsError("InvalidGrantTokenException", "The provided grant token is not valid.")
    elif doc.get("KeyId") and doc.get("GrantId"):
        grant = _grant_by_id(_key(caller, region, doc), doc["GrantId"])
    else:
        raise _invalid("Either GrantToken, or both KeyId and GrantId, must be specified.")
    me = kms_access.principal_arns(caller)
    if not (caller in (grant.account, grant.issuing_account) or grant.retiring_principal in me
            or (grant.grantee_principal in me and "RetireGrant" in grant.operations)):
        raise denied(caller, "kms:RetireGrant", grant.key_arn)
    _dry_run(doc)
    kms_grants.remove(grant)
    return {}


def _key(caller: str, region: str, doc: dict) -> Any:
    key_id = doc.get("KeyId")
    if not isinstance(key_id, str) or not key_id:
        raise _invalid("Value null at 'keyId' failed to satisfy constraint: Member must not be null")
    key = find(caller, region, key_id)
    if key is None:
        shown = key_id if key_id.startswith("arn:") else f"arn:aws:kms:{region}:{caller}:key/{key_id}"
        raise KmsError("NotFoundException", f"Key '{shown}' does not exist")
    return key


def _grant_by_id(key: Any, grant_id: Any) -> Grant:
    grant = next((g for g in kms_grants.grants_on(key.arn) if g.grant_id == grant_id), None)
    if grant is None:
        raise KmsError("NotFoundException", f"Grant ID {grant_id} not found")
    return grant


def _narrower(operations: list[str], constraints: dict | None, parent: Grant) -> bool:
    """A child grant made with CreateGrant permission from `parent`: some of its
    operations, and constraints the same or stricter (Subset pairs may be added,
    or Subset turned into Equals; never the reverse)."""
    if not set(operations) <= set(parent.operations):
        return False
    mine, theirs = constraints or {}, parent.constraints or {}
    if "EncryptionContextEquals" in theirs:
        return _lower(mine.get("EncryptionContextEquals")) == _lower(theirs["EncryptionContextEquals"])
    if "EncryptionContextSubset" in theirs:
        child = _lower(mine.get("EncryptionContextEquals", mine.get("EncryptionContextSubset")))
        parent_pairs = _lower(theirs["EncryptionContextSubset"])
        return child is not None and parent_pairs is not None and parent_pairs.items() <= child.items()
    return True


def _lower(pairs: Any) -> dict | None:
    """Constraint keys are matched without case, values with it (GrantConstraints)."""
    return {str(k).lower(): v for k, v in pairs.items()} if isinstance(pairs, dict) else None


def _constraints(value: Any) -> dict | None:
    if not value:
        return None
    if not isinstance(value, dict) or set(value) - set(CONSTRAINT_NAMES):
        raise _invalid(f"Constraints may only name {', '.join(CONSTRAINT_NAMES)}.")
    for name in ("EncryptionContextSubset", "EncryptionContextEquals"):
        pairs = value.get(name)
        if pairs is not None and not (
                isinstance(pairs, dict) and len(pairs) <= MAX_CONSTRAINT_PAIRS
                and all(isinstance(v, str) and len(v) <= MAX_CONSTRAINT_VALUE for v in pairs.values())):
            raise _invalid(f"{name} must hold at most {MAX_CONSTRAINT_PAIRS} encryption context pairs "
                           f"with values of at most {MAX_CONSTRAINT_VALUE} characters.")
    return value


def _optional_principal(doc: dict, member: str) -> str | None:
    return None if doc.get(member) is None else _principal(doc, member)


def _principal(doc: dict, member: str) -> str:
    value = doc.get(member)
    if not isinstance(value, str) or not _PRINCIPAL.match(value):
        field = member[0].lower() + member[1:]
        raise _invalid(f"Value '{value}' at '{field}' failed to satisfy constraint: Member must "
                       "satisfy regular expression pattern: ^[\\w+=,.@:/-]+$")
    return value


def _page(grants: list[Grant], doc: dict) -> dict:
    limit = doc.get("Limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        bound = "greater than or equal to 1" if isinstance(limit, int) and limit < 1 else \
            f"less than or equal to {MAX_LIMIT}"
        raise _invalid(f"Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {bound}")
    after = _marker(doc.get("Marker"))
    rest = [g for g in grants if g.seq > after]
    page = rest[:limit]
    answer: dict[str, Any] = {"Grants": [list_entry(g) for g in page], "Truncated": len(rest) > limit}
    if answer["Truncated"]:
        answer["NextMarker"] = base64.b64encode(json.dumps({"after": page[-1].seq}).encode()).decode()
    return answer


def _marker(marker: Any) -> int:
    if marker is None:
        return 0
    try:
        after = json.loads(base64.b64decode(str(marker), validate=True))["after"]
        if isinstance(after, int) and not isinstance(after, bool):
            return after
    except (binascii.Error, ValueError, KeyError, TypeError):
        pass
    raise KmsError("InvalidMarkerException", "The request was rejected because the marker that "
                   "specifies where pagination should next begin is not valid.")


def _dry_run(doc: dict) -> None:
    if doc.get("DryRun") is True:
        raise KmsError("DryRunOperationException",
                       "The request would have succeeded, but the DryRun option is set.", 412)


def _invalid(detail: str) -> KmsError:
    return KmsError("ValidationException", f"1 validation error detected: {detail}")
