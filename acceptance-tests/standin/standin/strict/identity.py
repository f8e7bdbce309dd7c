"""Identity-based policies: what a principal's own IAM policies let it do.

IAM User Guide, "Policy evaluation logic" ("Evaluating identity-based
policies with resource-based policies", "Permissions boundaries", "Session
policies"):

- the root user may do everything (its identity is not limited by IAM
  policies; Organizations SCPs are not modelled);
- a user's policies are its inline and attached managed policies and those
  of its groups; a role session's are its role's inline and attached
  managed policies. An explicit Deny in any of them wins; otherwise one of
  them must Allow;
- a role's permissions boundary and the session policy (AssumeRole
  `Policy`) only narrow: the request must also be allowed by each of them.

Policies are read from moto's IAM backend at every request, so
PutRolePolicy, AttachUserPolicy and the rest take effect at once (IAM's own
propagation delay is not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import policy
from .policy import Query
from .principals import Principal, iam_backend

IDENTITY, BOUNDARY, SESSION = "identity-based policy", "permissions boundary", "session policy"


@dataclass(frozen=True)
class Outcome:
    allowed: bool
    explicit: bool = False  # denied by an applicable Deny statement
    policy_type: str = IDENTITY  # which kind of policy refused, for the message
    statements: tuple = ()  # the statements that decided

    def reason(self, action: str) -> str:
        """The tail of IAM's access-denied message ("Troubleshoot access denied
        error messages"), e.g. "because no identity-based policy allows the
        ec2:CopyImage action"."""
        return because(self.policy_type, action, self.explicit)


def because(policy_type: str, action: str, explicit: bool) -> str:
    if explicit:
        article = "an" if policy_type[0] in "aeiou" else "a"
        return f"with an explicit deny in {article} {policy_type}"
    return f"because no {policy_type} allows the {action} action"


def decide(principal: Principal, query: Query) -> Outcome:
    """Whether `principal`'s identity-based policies allow `query`."""
    if principal.is_root:
        return Outcome(True)
    layers = [(IDENTITY, policy.evaluate(statements(principal), query))]
    boundary = _boundary(principal)
    if boundary is not None:
        layers.append((BOUNDARY, policy.evaluate(boundary, query)))
    if principal.session_policy:
        layers.append((SESSION, policy.evaluate(policy.parse(principal.session_policy), query)))
    for kind, verdict in layers:
        if verdict.effect == policy.DENY:
            return Outcome(False, True, kind, tuple(verdict.statements))
    for kind, verdict in layers:
        if verdict.effect != policy.ALLOW:
            return Outcome(False, False, kind)
    return Outcome(True, statements=tuple(layers[0][1].statements))


def statements(principal: Principal) -> list[dict]:
    """Every statement of the principal's inline and managed policies."""
    documents: list[Any] = []
    user, role = principal.user(), principal.role()
    holders = [h for h in (user, role) if h is not None]
    if user is not None:
        backend = iam_backend(principal.account)
        holders += [g for g in backend.groups.values() if user in g.users] if backend else []
    for holder in holders:
        documents += list(holder.policies.values())
        documents += [_default_version(p) for p in holder.managed_policies.values()]
    return [s for document in documents for s in policy.parse(document)]


def _boundary(principal: Principal) -> list[dict] | None:
    role = principal.role()
    arn = getattr(role, "permissions_boundary_arn", None) if role is not None else None
    if not arn:
        return None
    backend = iam_backend(principal.account)
    managed = backend.managed_policies.get(arn) if backend is not None else None
    # A boundary naming a policy that does not exist allows nothing.
    return policy.parse(_default_version(managed)) if managed is not None else []


def _default_version(managed: Any) -> str:
    for version in managed.versions:
        if version.is_default:
            return version.document
    return "{}"
