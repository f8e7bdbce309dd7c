"""The Condition element of a policy statement.

IAM User Guide, "IAM JSON policy elements: Condition operators" and
"Condition keys with multiple values" (set operators):

- a Condition block holds when every operator holds, and an operator holds
  when every key under it holds; a key holds when the request's value
  matches any of the policy's values;
- condition key names are not case-sensitive; values are, except for the
  ...IgnoreCase operators and Bool;
- a key absent from the request: the condition is false, except for the
  negated operators (StringNotEquals, ArnNotLike, NumericNotEquals), for
  `...IfExists` (true) and `Null` (true when the policy says "true");
- ForAnyValue: some request value matches; ForAllValues: every request
  value matches (true when the key is absent or empty).

Operators the stand-in does not know (Date*, IpAddress, BinaryEquals) make
the condition false, so an Allow that needs one grants nothing and a Deny
that needs one denies nothing (README, "Strict mode", gaps).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# operator -> (negated, ignore case, wildcards)
_STRING = {
    "StringEquals": (False, False, False), "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, True, False), "StringNotEqualsIgnoreCase": (True, True, False),
    "StringLike": (False, False, True), "StringNotLike": (True, False, True),
    "ArnEquals": (False, False, True), "ArnLike": (False, False, True),
    "ArnNotEquals": (True, False, True), "ArnNotLike": (True, False, True),
    "Bool": (False, True, False),
}
_NUMERIC = {
    "NumericEquals": (False, lambda a, b: a == b), "NumericNotEquals": (True, lambda a, b: a == b),
    "NumericLessThan": (False, lambda a, b: a < b), "NumericLessThanEquals": (False, lambda a, b: a <= b),
    "NumericGreaterThan": (False, lambda a, b: a > b),
    "NumericGreaterThanEquals": (False, lambda a, b: a >= b),
}


def holds(condition: Any, context: Mapping[str, list[str]]) -> bool:
    """Whether a statement's Condition block holds for a request whose condition
    keys (lower-cased names) have `context`'s values."""
    if not condition:
        return True
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        if not isinstance(tests, dict):
            return False
        for key, wanted in tests.items():
            if not _holds(operator, context.get(key.lower()), strings(wanted)):
                return False
    return True


def strings(value: Any) -> list[str]:
    """A policy element's value(s) as strings (JSON true stays "true")."""
    items = value if isinstance(value, list) else [value]
    return [json.dumps(v) if isinstance(v, bool) else str(v) for v in items if v is not None]


def glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcard matching: `*` any run of characters, `?` one character."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _holds(operator: str, values: list[str] | None, wanted: list[str]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        return False
    if_exists = base.endswith("IfExists")
    base = base[: -len("IfExists")] if if_exists else base
    if base == "Null":
        return (values is None) == (wanted[:1] == ["true"])
    match = _matcher(base, wanted)
    if match is None:
        return False
    negated, one = match
    if values is None:
        return if_exists or (negated and qualifier != "ForAnyValue") or qualifier == "ForAllValues"
    if qualifier == "ForAllValues":
        return all(one(v) != negated for v in values)
    if qualifier == "ForAnyValue":
        return any(one(v) != negated for v in values)
    # A key with one value (or, without a set operator, a key with several):
    # the positive operators need a match, the negated ones need none.
    return any(one(v) for v in values) != negated


def _matcher(base: str, wanted: list[str]):
    """(negated, value -> matches any wanted value) for operator `base`, or None."""
    if base in _STRING:
        negated, ignore_case, wildcards = _STRING[base]

        def one(value: str) -> bool:
            if wildcards:
                return any(glob(w, value, ignore_case) for w in wanted)
            if ignore_case:
                return value.lower() in {w.lower() for w in wanted}
            return value in wanted

        return negated, one
    if base in _NUMERIC:
        negated, compare = _NUMERIC[base]

        def number(value: str) -> bool:
            try:
                given = float(value)
                return any(compare(given, float(w)) for w in wanted)
            except ValueError:
                return False

        return negated, number
    return None
