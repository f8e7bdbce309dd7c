"""Statements of IAM policies: which apply to a request, and with what effect.

IAM User Guide, "IAM JSON policy element reference" and "Policy evaluation
logic":

- a statement applies when its Action (or NotAction), Resource (or
  NotResource), Principal (or NotPrincipal, resource-based policies only) and
  Condition all cover the request;
- Action matches case-insensitively, Resource case-sensitively, both with
  the `*` and `?` wildcards; an action that supports no resource-level
  permissions is asked for resource `*`, which only Resource `*` covers;
- an applicable Deny wins over any Allow ("explicit deny"); without an
  applicable Allow the answer is no ("implicit deny").

Policy variables (`${aws:username}`, `${aws:PrincipalAccount}`, ...) in
Resource and condition values are replaced by the request's value of that key
("IAM policy elements: Variables and tags"), for policies of Version
2012-10-17.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

from . import conditions
from .conditions import glob, strings

ALLOW, DENY = "Allow", "Deny"
_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True)
class Query:
    """One question to a policy: may the caller do `action` on `resource`?"""

    action: str  # service:Action, e.g. ec2:CopyImage
    resource: str  # an ARN, or "*" for an action without resource-level permissions
    context: Mapping[str, list[str]] = field(default_factory=dict)  # lower-cased key -> values


@dataclass
class Verdict:
    effect: str | None  # ALLOW, DENY, or None: no statement applies
    statements: list[dict] = field(default_factory=list)  # the applicable ones


def parse(document: Any) -> list[dict]:
    """The statements of a policy document (a JSON string, as IAM and KMS store it)."""
    if isinstance(document, str):
        try:
            document = json.loads(document or "{}")
        except ValueError:
            return []
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    variables = document.get("Version") == "2012-10-17"
    return [dict(s, _variables=variables) for s in statements if isinstance(s, dict)]


def evaluate(statements: list[dict], query: Query,
             principal_matches: Callable[[dict], bool] | None = None) -> Verdict:
    """The effect of `statements` on `query`. `principal_matches` decides a
    statement's Principal / NotPrincipal (resource-based policies); identity
    policies pass None."""
    applicable = [s for s in statements if _applies(s, query, principal_matches)]
    effects = {s.get("Effect") for s in applicable}
    if DENY in effects:
        return Verdict(DENY, [s for s in applicable if s.get("Effect") == DENY])
    if ALLOW in effects:
        return Verdict(ALLOW, applicable)
    return Verdict(None)


def _applies(statement: dict, query: Query, principal_matches: Callable[[dict], bool] | None) -> bool:
    if statement.get("Effect") not in (ALLOW, DENY):
        return False
    if principal_matches is not None and not principal_matches(statement):
        return False
    if "NotAction" in statement:
        if any(glob(p, query.action, ignore_case=True) for p in strings(statement["NotAction"])):
            return False
    elif not any(glob(p, query.action, ignore_case=True) for p in strings(statement.get("Action"))):
        return False
    substitute = _substituter(statement, query.context)
    if "NotResource" in statement:
        if any(_resource_matches(substitute(p), query.resource) for p in strings(statement["NotResource"])):
            return False
    elif not any(_resource_matches(substitute(p), query.resource)
                 for p in strings(statement.get("Resource", "*" if principal_matches else None))):
        return False
    return conditions.holds(_substitute_condition(statement.get("Condition"), substitute), query.context)


def _resource_matches(pattern: str, resource: str) -> bool:
    return pattern == "*" or glob(pattern, resource)


def _substituter(statement: dict, context: Mapping[str, list[str]]) -> Callable[[str], str]:
    if not statement.get("_variables"):
        return lambda text: text

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name in _ESCAPES:
            return _ESCAPES[name]
        key, _, default = name.partition(", ")
        values = context.get(key.strip().lower())
        if values and len(values) == 1:
            return values[0]
        # No single value: the reference's default, else a text no value can match.
        return default.strip("'") if default else "\x00"

    return lambda text: _VARIABLE.sub(replace, text)


def _substitute_condition(condition: Any, substitute: Callable[[str], str]) -> Any:
    if not isinstance(condition, dict):
        return condition
    return {op: {key: [substitute(v) for v in strings(wanted)] for key, wanted in tests.items()}
            if isinstance(tests, dict) else tests
            for op, tests in condition.items()}
