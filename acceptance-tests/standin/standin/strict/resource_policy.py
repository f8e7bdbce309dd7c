"""Resource-based policies (role trust policies, KMS key policies): whom a
statement's Principal names, and whether it names the caller itself or
only the caller's account.

IAM User Guide, "AWS JSON policy elements: Principal":

- `"*"` or `{"AWS": "*"}` is everyone;
- `{"AWS": "123456789012"}` or `arn:aws:iam::123456789012:root` is the
  account: the statement then delegates to the account, whose own identity
  policies must also allow the request (for the root user that is always so);
- a user ARN, a role ARN (every session of the role) or an assumed-role
  session ARN names that principal itself;
- service principals (`{"Service": ...}`) never name a caller of the
  stand-in (AWS services acting for themselves are not modelled);
- NotPrincipal: the statement applies to every principal it does not name.

`evaluate` tells the combining rules (kms.py, sts.py) whether an applicable
Allow named the principal itself (`direct`) or only its account.
"""

from __future__ import annotations

import re
from typing import Any

from . import policy
from .conditions import strings
from .policy import Query, Verdict
from .principals import Principal

_ACCOUNT = re.compile(r"^(?:\d{12}|arn:[a-z-]+:iam::(\d{12}):root)$")
DIRECT, ACCOUNT = "direct", "account"


def names(element: Any, principal: Principal) -> str | None:
    """How a Principal element names `principal`: DIRECT, ACCOUNT, or None."""
    if element == "*":
        return DIRECT
    if not isinstance(element, dict):
        return None
    found = None
    for value in strings(element.get("AWS")):
        if value == "*" or value in (principal.arn, principal.role_arn):
            return DIRECT
        account = _ACCOUNT.match(value)
        if account and (account.group(1) or value) == principal.account:
            if principal.is_root:
                return DIRECT  # the root user is the account
            found = ACCOUNT
    return found


def evaluate(document: Any, principal: Principal, query: Query) -> tuple[Verdict, bool]:
    """The policy's verdict on `principal` asking `query`, and whether an
    applicable Allow names the principal itself (not just its account)."""
    statements = policy.parse(document)

    def matches(statement: dict) -> bool:
        if "NotPrincipal" in statement:
            return names(statement["NotPrincipal"], principal) is None
        return names(statement.get("Principal"), principal) is not None

    verdict = policy.evaluate(statements, query, matches)
    direct = verdict.effect == policy.ALLOW and any(
        "NotPrincipal" in s or names(s.get("Principal"), principal) == DIRECT
        for s in verdict.statements)
    return verdict, direct
