"""May an account use another account's KMS key for an action?

AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS
key": cross-account use needs the key's policy (in the key's account) to
allow the other account, or a grant for it ("Grants in AWS KMS"); an
explicit Deny in the key policy wins over both ("Policy evaluation logic").
The default key policy trusts only the key's own account ("Default key
policy"), so a new key is not usable from anywhere else.

The key's own account is never checked here: moto answers its requests as
before (the stand-in models no IAM policies; kms_api.py only narrows moto's
DescribeKey Deny check to the statements naming the caller).
"""

from __future__ import annotations

from typing import Any, Callable

from . import kms_grants, kms_policy, orgs
from .kms_keys import root_arn

# Grant operations whose requests carry an encryption context, so grant
# constraints apply to them (API Reference, GrantConstraints: DescribeKey,
# RetireGrant and the other operations are allowed whatever the constraint).
CONTEXT_OPERATIONS = frozenset({
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo",
})

# Strict mode (strict/kms.py) installs its own decision here: it evaluates the
# real principal's IAM policies with the key policy and grants, in the key's
# own account too. None: the default mode's account-level decision below.
decider: Callable[..., None] | None = None


class KmsError(Exception):
    """A KMS error the layer answers itself: {"__type": code, "message": ...}."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def check(caller: str, key: Any, action: str, encryption_context: dict | None = None,
          via_service: str | None = None,
          grant_covers: Callable[[Any], bool] | None = None) -> None:
    """Raise AccessDeniedException unless `caller` may call `action` (kms:Decrypt)
    on `key`; the key's own account always may (see the module docstring).
    `grant_covers` narrows which grants count (CreateGrant from a grant)."""
    if decider is not None:
        return decider(caller, key, action, encryption_context, via_service, grant_covers)
    if key.account_id == caller:
        return
    decision = _decide(caller, key, action, encryption_context, via_service, grant_covers)
    if decision != kms_policy.ALLOW:
        raise denied(caller, action, key.arn, explicit=decision == kms_policy.DENY)


def allowed(caller: str, key: Any, action: str, encryption_context: dict | None = None,
            via_service: str | None = None) -> bool:
    try:
        check(caller, key, action, encryption_context, via_service)
    except KmsError:
        return False
    return True


def own_account_trusted() -> bool:
    """Whether a key's own account may use it unchecked: so in the default mode
    (no IAM policies); strict mode checks every use (`decider`)."""
    return decider is None


def principal_arns(caller: str) -> set[str]:
    """The ARNs a grant may name the calling principal by. The default mode's
    callers are account roots; strict mode replaces this with the real principal's."""
    return {root_arn(caller)}


def denied(caller: str, action: str, key_arn: str, explicit: bool = False) -> KmsError:
    """The IAM access-denied message forms ("Troubleshoot access denied error
    messages"): no resource-based policy allows it, or one explicitly denies it."""
    why = ("with an explicit deny in a resource-based policy" if explicit
           else f"because no resource-based policy allows the {action} action")
    return KmsError("AccessDeniedException",
                    f"User: {root_arn(caller)} is not authorized to perform: {action} "
                    f"on resource: {key_arn} {why}")


def request_context(caller: str, via_service: str | None) -> dict[str, list[str]]:
    """The condition keys of a request by `caller`: its account and organization,
    and when an AWS service (EC2 for CopyImage) acts for it, kms:ViaService and
    kms:GrantIsForAWSResource (AWS KMS condition keys)."""
    context = {"aws:PrincipalAccount": [caller], "kms:CallerAccount": [caller],
               "kms:GrantIsForAWSResource": ["true" if via_service else "false"]}
    if via_service:
        context["kms:ViaService"] = [via_service]
    context.update(orgs.condition_values(caller))
    return context


def _decide(caller: str, key: Any, action: str, encryption_context: dict | None,
            via_service: str | None, grant_covers: Callable[[Any], bool] | None) -> str | None:
    context = request_context(caller, via_service)
    decision = kms_policy.evaluate(key.policy, caller, action, key.arn, context)
    if decision is not None:
        return decision
    operation = action.split(":", 1)[-1]
    for grant in kms_grants.effective_on(key.arn):
        if grant.grantee_principal != root_arn(caller) or operation not in grant.operations:
            continue
        if grant_covers is not None and not grant_covers(grant):
            continue
        if operation not in CONTEXT_OPERATIONS or constraint_met(grant.constraints, encryption_context):
            return kms_policy.ALLOW
    return None


def constraint_met(constraints: dict | None, encryption_context: dict | None) -> bool:
    """GrantConstraints: EncryptionContextEquals is the whole context,
    EncryptionContextSubset pairs the context must include (keys matched
    without case, values with it)."""
    given = {str(k).lower(): v for k, v in (encryption_context or {}).items()}
    for name, pairs in (constraints or {}).items():
        if not isinstance(pairs, dict):
            continue  # SourceArn names the AWS resource a service acts for, not a context
        wanted = {str(k).lower(): v for k, v in (pairs or {}).items()}
        if name == "EncryptionContextEquals" and given != wanted:
            return False
        if name == "EncryptionContextSubset" and any(given.get(k) != v for k, v in wanted.items()):
            return False
    return True
