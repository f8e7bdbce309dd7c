"""Recycle Bin retention rules (service `rbin`, restJson1), absent from moto
5.2.5 (a request signed for `rbin` crashes it with HTTP 500).

Requests are told apart by their SigV4 credential scope (protocols.py names
the action from the method and path); app.py hands them here instead of to
moto, after counting, logging and faults as for every other call.

Follows the Recycle Bin API Reference (CreateRule, GetRule, ListRules,
DeleteRule; data types RetentionPeriod, ResourceTag, LockConfiguration,
UnlockDelay, RuleSummary; errors ValidationException with Reason
INVALID_PARAMETER_VALUE or INVALID_PAGE_TOKEN, ResourceNotFoundException with
RULE_NOT_FOUND, ConflictException with INVALID_RULE_STATE):

- a rule retains one ResourceType (EBS_SNAPSHOT, EC2_IMAGE, EBS_VOLUME) for a
  RetentionPeriod in DAYS: 1..365 for snapshots and AMIs, 1..7 for volumes;
- a tag-level rule names ResourceTags (at most 50); a Region-level rule names
  none and may name ExcludeResourceTags (at most 5), which tag-level rules
  cannot; only a Region-level rule without exclusion tags can be locked
  (LockRule's note), with an UnlockDelay of 7..30 DAYS;
- CreateRule answers HTTP 201 with the rule (Identifier: 11 letters and
  digits; RuleArn arn:PARTITION:rbin:REGION:ACCOUNT:rule/ID); ListRules
  requires ResourceType, may filter by ResourceTags, ExcludeResourceTags and
  LockState, answers RuleSummary items (Identifier, Description,
  RetentionPeriod, LockState, RuleArn) and pages with MaxResults (1..1000) and
  NextToken; DeleteRule answers 204 and refuses a locked rule.

Where the reference is silent the stand-in chooses: a new rule is `available`
at once; LockState is `locked` for a rule created with a LockConfiguration,
`unlocked` for other Region-level rules, and absent on tag-level rules (the
reference gives the field for Region-level rules only), so a LockState
filter never selects a tag-level rule; a ResourceTags (or ExcludeResourceTags)
filter selects rules carrying every pair it names; rules are listed in
Identifier order and a token names the last one of its page.

Not modelled: what a rule does (DeregisterImage and DeleteSnapshot never move
anything to the Recycle Bin), UpdateRule, LockRule, UnlockRule and rule tags
actions (answered 501 NotImplemented), and the rules-per-Region quota.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import string
import uuid
from typing import Any

from . import state
from .protocols import Request

RESOURCE_TYPES = ("EBS_SNAPSHOT", "EC2_IMAGE", "EBS_VOLUME")
MAX_RETENTION_DAYS = {"EBS_SNAPSHOT": 365, "EC2_IMAGE": 365, "EBS_VOLUME": 7}
MIN_UNLOCK_DAYS, MAX_UNLOCK_DAYS = 7, 30
MAX_RESOURCE_TAGS, MAX_EXCLUDE_TAGS = 50, 5
MAX_DESCRIPTION = 255
MIN_RESULTS, MAX_RESULTS = 1, 1000
SUMMARY_FIELDS = ("Identifier", "Description", "RetentionPeriod", "LockState", "RuleArn")


class RbinError(Exception):
    def __init__(self, status: int, code: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.reason = status, code, message, reason


def invalid(message: str, reason: str = "INVALID_PARAMETER_VALUE") -> RbinError:
    return RbinError(400, "ValidationException", message, reason)


def handle(start_response, request: Request, account: str, body: bytes, path: str):
    """Answer one Recycle Bin request for `account` in the request's Region;
    `path` is the request path (GetRule and DeleteRule name the rule in it)."""
    try:
        document = json.loads(body) if body.strip() else {}
        if not isinstance(document, dict):
            raise invalid("The request body must be a JSON object.")
        status, payload = _dispatch(request, account, document, path)
    except RbinError as err:
        status, payload = err.status, {"__type": err.code, "message": err.message}
        if err.reason:
            payload["Reason"] = err.reason
        return _respond(start_response, status, payload, err.code)
    except ValueError:
        return _respond(start_response, 400, {"__type": "ValidationException",
                                              "message": "The request body is not valid JSON."},
                        "ValidationException")
    return _respond(start_response, status, payload)


def _dispatch(request: Request, account: str, document: dict, path: str) -> tuple[int, dict | None]:
    rules = state.STATE.rbin_rules[(account, request.region)]
    parts = path.strip("/").split("/")  # ["rules", identifier] for GetRule and DeleteRule
    identifier = parts[1] if len(parts) > 1 else ""
    if request.action == "CreateRule":
        return 201, _create_rule(rules, account, request.region, document)
    if request.action == "ListRules":
        return 200, _list_rules(rules, document)
    if request.action == "GetRule":
        return 200, _public(_rule(rules, identifier))
    if request.action == "DeleteRule":
        rule = _rule(rules, identifier)
        if rule.get("LockState") == "locked":
            raise RbinError(409, "ConflictException",
                            f"The retention rule {identifier} is locked and can't be deleted.",
                            "INVALID_RULE_STATE")
        del rules[identifier]
        return 204, None
    raise RbinError(501, "NotImplemented", f"The stand-in does not model {request.action}.")


def _rule(rules: dict[str, dict], identifier: str) -> dict:
    rule = rules.get(identifier)
    if rule is None:
        raise RbinError(404, "ResourceNotFoundException",
                        f"The retention rule {identifier} does not exist.", "RULE_NOT_FOUND")
    return rule


def _public(rule: dict) -> dict:
    """A rule as GetRule answers it (its Tags are ListTagsForResource's)."""
    return {k: v for k, v in rule.items() if k != "Tags"}


def _create_rule(rules: dict[str, dict], account: str, region: str, document: dict) -> dict:
    resource_type = _resource_type(document.get("ResourceType"))
    retention = _retention(document.get("RetentionPeriod"), resource_type)
    description = document.get("Description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise invalid(f"Description must be a string of at most {MAX_DESCRIPTION} characters.")
    resource_tags = _tags(document.get("ResourceTags"), "ResourceTags", MAX_RESOURCE_TAGS)
    exclude_tags = _tags(document.get("ExcludeResourceTags"), "ExcludeResourceTags", MAX_EXCLUDE_TAGS)
    if resource_tags and exclude_tags:
        raise invalid("ExcludeResourceTags can be specified for Region-level retention rules only.")
    lock = document.get("LockConfiguration")
    if lock is not None:
        if resource_tags or exclude_tags:
            raise invalid("Only Region-level retention rules without exclusion tags can be locked.")
        _unlock_delay(lock)
    identifier = _new_identifier(rules)
    rule: dict[str, Any] = {
        "Identifier": identifier,
        "ResourceType": resource_type,
        "RetentionPeriod": retention,
        "Status": "available",
        "RuleArn": f"arn:{_partition(region)}:rbin:{region}:{account}:rule/{identifier}",
        "Tags": list(document.get("Tags") or []),
    }
    if description is not None:
        rule["Description"] = description
    if resource_tags:
        rule["ResourceTags"] = resource_tags
    else:
        rule["LockState"] = "locked" if lock is not None else "unlocked"
    if exclude_tags:
        rule["ExcludeResourceTags"] = exclude_tags
    if lock is not None:
        rule["LockConfiguration"] = lock
    rules[identifier] = rule
    return dict(rule)


def _resource_type(value: Any) -> str:
    if value not in RESOURCE_TYPES:
        raise invalid(f"ResourceType must be one of {', '.join(RESOURCE_TYPES)}.")
    return value


def _retention(value: Any, resource_type: str) -> dict:
    if not isinstance(value, dict):
        raise invalid("RetentionPeriod is required.")
    days, unit = value.get("RetentionPeriodValue"), value.get("RetentionPeriodUnit")
    limit = MAX_RETENTION_DAYS[resource_type]
    if unit != "DAYS" or isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= limit:
        raise invalid(f"RetentionPeriod for {resource_type} must be 1 to {limit} DAYS.")
    return {"RetentionPeriodValue": days, "RetentionPeriodUnit": unit}


def _unlock_delay(lock: Any) -> None:
    delay = lock.get("UnlockDelay") if isinstance(lock, dict) else None
    days = delay.get("UnlockDelayValue") if isinstance(delay, dict) else None
    if (not isinstance(delay, dict) or delay.get("UnlockDelayUnit") != "DAYS" or isinstance(days, bool)
            or not isinstance(days, int) or not MIN_UNLOCK_DAYS <= days <= MAX_UNLOCK_DAYS):
        raise invalid(f"UnlockDelay must be {MIN_UNLOCK_DAYS} to {MAX_UNLOCK_DAYS} DAYS.")


def _tags(value: Any, name: str, limit: int) -> list[dict]:
    """ResourceTag items, each {ResourceTagKey (1..128), ResourceTagValue? (..256)}."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > limit:
        raise invalid(f"{name} must be a list of at most {limit} tags.")
    tags = []
    for tag in value:
        key = tag.get("ResourceTagKey") if isinstance(tag, dict) else None
        tag_value = tag.get("ResourceTagValue", "") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or not isinstance(tag_value, str) \
                or len(tag_value) > 256:
            raise invalid(f"{name}: each tag needs a ResourceTagKey of 1 to 128 characters "
                          "and a ResourceTagValue of at most 256.")
        tags.append({"ResourceTagKey": key, "ResourceTagValue": tag_value})
    return tags


def _new_identifier(rules: dict[str, dict]) -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        identifier = "".join(random.choices(alphabet, k=11))
        if identifier not in rules:
            return identifier


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _list_rules(rules: dict[str, dict], document: dict) -> dict:
    resource_type = _resource_type(document.get("ResourceType"))
    wanted_tags = _pairs(_tags(document.get("ResourceTags"), "ResourceTags", MAX_RESOURCE_TAGS))
    wanted_excluded = _pairs(_tags(document.get("ExcludeResourceTags"), "ExcludeResourceTags",
                                   MAX_EXCLUDE_TAGS))
    lock_state = document.get("LockState")
    size = _page_size(document.get("MaxResults"))
    selected = [
        rule for _, rule in sorted(rules.items())
        if rule["ResourceType"] == resource_type
        and wanted_tags <= _pairs(rule.get("ResourceTags", []))
        and wanted_excluded <= _pairs(rule.get("ExcludeResourceTags", []))
        and (lock_state is None or rule.get("LockState") == lock_state)
    ]
    token = document.get("NextToken")
    if token:
        after = _decode_token(token)
        selected = [rule for rule in selected if rule["Identifier"] > after]
    page = selected if size is None else selected[:size]
    answer: dict[str, Any] = {"Rules": [{k: rule[k] for k in SUMMARY_FIELDS if k in rule} for rule in page]}
    if size is not None and len(selected) > size:
        answer["NextToken"] = _encode_token(page[-1]["Identifier"])
    return answer


def _pairs(tags: list[dict]) -> set[tuple[str, str]]:
    return {(t["ResourceTagKey"], t.get("ResourceTagValue", "")) for t in tags}


def _page_size(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_RESULTS <= value <= MAX_RESULTS:
        raise invalid(f"MaxResults must be {MIN_RESULTS} to {MAX_RESULTS}.")
    return value


def _encode_token(identifier: str) -> str:
    # Standard base64: the reference's NextToken pattern is [A-Za-z0-9+/=].
    return base64.b64encode(json.dumps({"after": identifier}).encode()).decode()


def _decode_token(token: Any) -> str:
    try:
        decoded = json.loads(base64.b64decode(str(token), validate=True))
        if isinstance(decoded.get("after"), str):
            return decoded["after"]
    except (binascii.Error, ValueError, AttributeError, UnicodeDecodeError):
        pass
    raise invalid("The NextToken is not valid.", "INVALID_PAGE_TOKEN")


def _respond(start_response, status: int, payload: dict | None, error_code: str | None = None):
    data = json.dumps(payload).encode() if payload is not None else b""
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
               ("x-amzn-RequestId", str(uuid.uuid4()))]
    if error_code:
        headers.append(("X-Amzn-ErrorType", error_code))
    reasons = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found",
               409: "Conflict", 501: "Not Implemented"}
    start_response(f"{status} {reasons.get(status, 'Error')}", headers)
    return [data]
