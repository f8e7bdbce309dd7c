"""KMS authorization in strict mode: the key policy, grants and the caller's
IAM policies, combined as the AWS KMS Developer Guide says.

"Key policies in AWS KMS", "Default key policy", "Allowing users in other
accounts to use a KMS key", "Grants in AWS KMS":

- same account: the key policy may allow the principal itself; or it allows
  the account (Principal `arn:aws:iam::ACCOUNT:root`), which enables IAM
  policies, and then an identity policy must allow. Without that statement
  IAM policies give nothing, not even to administrators; the root user too
  needs the key policy;
- another account: the key policy must allow the caller's account (or the
  caller), and the caller's identity policy must allow as well;
- a grant allows its operations to its grantee principal, with no IAM
  policy needed ("Grants in AWS KMS": grants are an alternative to key and
  IAM policies); a grant to an account's root is delegated like a key policy
  statement naming the account, so that account's identity policy must allow;
- an explicit Deny in the key policy or in an identity policy wins.

Condition keys: kms:CallerAccount, kms:ViaService and
kms:GrantIsForAWSResource (when EC2 uses the key for the caller),
kms:GrantOperations, kms:GranteePrincipal, kms:RetiringPrincipal,
kms:EncryptionContext:KEY and kms:EncryptionContextKeys, kms:RequestAlias,
kms:KeySpec, kms:KeyUsage, kms:KeyOrigin, aws:ResourceTag/KEY; and the
global keys (context.py).

`install` makes the default mode's KMS checks (kms_access.check: grants,
other accounts' keys, CopyImage's keys) decide here, for the real principal.
"""

from __future__ import annotations

from typing import Any, Callable

from moto.kms import kms_backends

from .. import kms_access, kms_grants
from ..kms_access import CONTEXT_OPERATIONS, KmsError, constraint_met
from ..kms_keys import root_arn
from . import context as ctx
from . import identity, resource_policy
from .identity import because
from .policy import ALLOW, DENY, Query
from .principals import Principal, root

RESOURCE = "resource-based policy"


def decide(principal: Principal, key: Any, action: str, keys: dict[str, list[str]],
           grant_covers: Callable[[Any], bool] | None = None,
           encryption_context: dict | None = None) -> str | None:
    """None if `principal` may call `action` (kms:Decrypt) on `key`, else
    the tail of the access-denied message."""
    query = Query(action, key.arn, ctx.merge(keys, key_keys(key)))
    verdict, direct = resource_policy.evaluate(key.policy, principal, query)
    mine = identity.decide(principal, query)
    if verdict.effect == DENY:
        return because(RESOURCE, action, explicit=True)
    if mine.explicit:
        return mine.reason(action)
    grant = _grant(principal, key, action, grant_covers, encryption_context)
    if grant == resource_policy.DIRECT:
        return None
    if verdict.effect == ALLOW and direct:
        if principal.account == key.account_id or mine.allowed:
            return None
        return mine.reason(action)
    if verdict.effect == ALLOW or grant == resource_policy.ACCOUNT:
        return None if mine.allowed else mine.reason(action)
    return because(RESOURCE, action, explicit=False)


def request_keys(principal: Principal, region: str, caller: str, via_service: str | None = None,
                 doc: dict | None = None, environ: dict | None = None) -> dict[str, list[str]]:
    """The condition keys of a KMS request by `principal` (`doc`: its JSON body)."""
    doc = doc or {}
    keys: dict[str, Any] = {"kms:CallerAccount": caller,
                            "kms:GrantIsForAWSResource": "true" if via_service else "false"}
    if via_service:
        keys["kms:ViaService"] = via_service
    if isinstance(doc.get("Operations"), list):
        keys["kms:GrantOperations"] = [str(o) for o in doc["Operations"]]
    for member in ("GranteePrincipal", "RetiringPrincipal"):
        if doc.get(member):
            keys[f"kms:{member}"] = str(doc[member])
    key_id = str(doc.get("KeyId") or "")
    if key_id.startswith("alias/") or ":alias/" in key_id:
        keys["kms:RequestAlias"] = key_id.rsplit(":", 1)[-1]
    context = doc.get("EncryptionContext") or (doc.get("Constraints") or {}).get("EncryptionContextSubset")
    if isinstance(context, dict):
        keys.update({f"kms:EncryptionContext:{k}": str(v) for k, v in context.items()})
        keys["kms:EncryptionContextKeys"] = list(context)
    return ctx.merge(ctx.global_keys(principal, region, environ, via_service=bool(via_service)), keys)


def key_keys(key: Any) -> dict[str, list[str]]:
    keys = {"kms:KeySpec": [key.key_spec], "kms:KeyUsage": [key.key_usage], "kms:KeyOrigin": [key.origin]}
    per_region = dict.get(kms_backends, key.account_id)
    backend = dict.get(per_region, key.region) if per_region is not None else None
    tags = backend.tagger.get_tag_dict_for_resource(key.id) if backend is not None else {}
    return ctx.merge(keys, ctx.tag_keys("aws:ResourceTag", tags))


def principal_arns(caller: str) -> set[str]:
    """The ARNs grants may name the current caller by (RetireGrant's retiring principal)."""
    principal = ctx.CURRENT.get() or root(caller)
    return {arn for arn in (principal.arn, principal.role_arn) if arn} | (
        {root_arn(caller)} if principal.is_root else set())


def install() -> None:
    kms_access.decider = _check
    kms_access.principal_arns = principal_arns


def _check(caller: str, key: Any, action: str, encryption_context: dict | None = None,
           via_service: str | None = None, grant_covers: Callable[[Any], bool] | None = None) -> None:
    """kms_access.check, for the principal of the request being served."""
    principal = ctx.CURRENT.get() or root(caller)
    keys = request_keys(principal, key.region, caller, via_service,
                        {"EncryptionContext": encryption_context} if encryption_context else None)
    reason = decide(principal, key, action, keys, grant_covers, encryption_context)
    if reason is not None:
        raise KmsError("AccessDeniedException", f"User: {principal.arn} is not authorized to perform: "
                       f"{action} on resource: {key.arn} {reason}")


def _grant(principal: Principal, key: Any, action: str, covers: Callable[[Any], bool] | None,
           encryption_context: dict | None) -> str | None:
    """DIRECT if a grant names the principal for `action`, ACCOUNT if one names
    its account's root, else None."""
    operation = action.split(":", 1)[-1]
    found = None
    for grant in kms_grants.effective_on(key.arn):
        if operation not in grant.operations or (covers is not None and not covers(grant)):
            continue
        if operation in CONTEXT_OPERATIONS and not constraint_met(grant.constraints, encryption_context):
            continue
        if grant.grantee_principal in (principal.arn, principal.role_arn):
            return resource_policy.DIRECT
        if grant.grantee_principal == root_arn(principal.account):
            found = resource_policy.DIRECT if principal.is_root else resource_policy.ACCOUNT
            if found == resource_policy.DIRECT:
                return found
    return found
