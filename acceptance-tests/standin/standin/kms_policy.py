"""Key policy evaluation: does a key's policy allow, deny, or say nothing
about an action by an account?

Follows the AWS KMS Developer Guide ("Key policies", "Default key policy",
"Allowing users in other accounts to use a KMS key") and the IAM User Guide
("Policy evaluation logic", "IAM JSON policy elements: Condition operators"):

- a statement applies when its Principal, Action and Resource cover the
  request and every condition holds; an applicable Deny wins over any Allow,
  and without an applicable Allow the answer is no (implicit deny);
- Principal `*` (or AWS `*`) is everyone; AWS `ACCOUNT` or
  `arn:PARTITION:iam::ACCOUNT:root` is that account, whose IAM policies
  the stand-in takes as delegating everything (it models no IAM policies);
- Action and Resource match case-insensitively with `*` and `?` wildcards
  (`kms:ReEncrypt*`); a key policy's Resource `*` is the key itself;
- a condition on a key absent from the request is false, except for the
  negated operators, `...IfExists` and `Null`; ForAnyValue / ForAllValues
  compare multivalued keys (aws:PrincipalOrgPaths).

The stand-in's choices where a caller is only an account: a Principal naming
a user or role never matches (every stand-in caller acts as the account
root), and NotPrincipal, NotResource and condition operators other than the
string, ARN, Bool and Null ones make a statement not apply, so an Allow the
stand-in cannot evaluate grants nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

ALLOW, DENY = "allow", "deny"

_ROOT = re.compile(r"^arn:[a-z-]+:iam::(\d{12}):root$")
_STRING_OPS = {
    "StringEquals": (False, False, False), "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, True, False), "StringNotEqualsIgnoreCase": (True, True, False),
    "StringLike": (False, False, True), "StringNotLike": (True, False, True),
    "ArnEquals": (False, False, True), "ArnLike": (False, False, True),
    "ArnNotEquals": (True, False, True), "ArnNotLike": (True, False, True),
    "Bool": (False, True, False),
}  # operator -> (negated, ignore case, wildcards)


def evaluate(policy_text: str | None, account: str, action: str, resource: str,
             context: dict[str, list[str]]) -> str | None:
    """ALLOW, DENY, or None (no statement applies) for `account` calling
    `action` (kms:Decrypt) on `resource` (the key ARN); `context` holds the
    request's condition keys, each with its values."""
    try:
        policy = json.loads(policy_text or "{}")
    except ValueError:
        return None
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    lowered = {key.lower(): values for key, values in context.items()}
    effects = {
        str(s.get("Effect", "")).lower()
        for s in statements
        if isinstance(s, dict) and _applies(s, account, action, resource, lowered)
    }
    if DENY in effects:
        return DENY
    return ALLOW if ALLOW in effects else None


def _applies(statement: dict, account: str, action: str, resource: str,
             context: dict[str, list[str]]) -> bool:
    if "NotPrincipal" in statement or "NotResource" in statement:
        return False
    if not _principal_matches(statement.get("Principal"), account):
        return False
    if "NotAction" in statement:
        if any(_glob(p, action) for p in _strings(statement["NotAction"])):
            return False
    elif not any(_glob(p, action) for p in _strings(statement.get("Action"))):
        return False
    resources = _strings(statement.get("Resource", "*"))
    if not any(r == "*" or _glob(r, resource, ignore_case=False) for r in resources):
        return False
    return _conditions_hold(statement.get("Condition") or {}, context)


def _principal_matches(principal: Any, account: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _strings(principal.get("AWS")):
        root = _ROOT.match(value)
        if value in ("*", account) or (root is not None and root.group(1) == account):
            return True
    return False


def _conditions_hold(condition: Any, context: dict[str, list[str]]) -> bool:
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        if not isinstance(tests, dict):
            return False
        for key, wanted in tests.items():
            if not _condition_holds(operator, context.get(key.lower()), _strings(wanted)):
                return False
    return True


def _condition_holds(operator: str, values: list[str] | None, wanted: list[str]) -> bool:
    """One operator on one key. `values`: the request's values, None if absent."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base[: -len("IfExists")] if if_exists else base
    if base == "Null":
        return (values is None) == (wanted[:1] == ["true"])
    if base not in _STRING_OPS or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        return False
    negated, ignore_case, wildcards = _STRING_OPS[base]
    if values is None:
        return if_exists or negated or qualifier == "ForAllValues"

    def one(value: str) -> bool:
        hit = any(_compare(w, value, ignore_case, wildcards) for w in wanted)
        return hit != negated

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def _compare(pattern: str, value: str, ignore_case: bool, wildcards: bool) -> bool:
    if wildcards:
        return _glob(pattern, value, ignore_case)
    return pattern.lower() == value.lower() if ignore_case else pattern == value


def _glob(pattern: str, value: str, ignore_case: bool = True) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool):
        return [json.dumps(value)]
    if isinstance(value, list):
        return [json.dumps(v) if isinstance(v, bool) else str(v) for v in value]
    return []
