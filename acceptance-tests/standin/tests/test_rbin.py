"""Recycle Bin retention rules (service rbin): CreateRule, GetRule, ListRules, DeleteRule."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD, REGION
from helpers import error_code

DAYS_7 = {"RetentionPeriodValue": 7, "RetentionPeriodUnit": "DAYS"}
TEAM = [{"ResourceTagKey": "team", "ResourceTagValue": "build"}]
LOCK = {"UnlockDelay": {"UnlockDelayValue": 7, "UnlockDelayUnit": "DAYS"}}


def reason(excinfo: pytest.ExceptionInfo) -> str | None:
    return excinfo.value.response.get("Reason")


def test_create_rule_answers_the_documented_fields(aws):
    """Recycle Bin API Reference, CreateRule: HTTP 201 with Identifier (11
    letters and digits), RuleArn (arn:aws:rbin:REGION:ACCOUNT:rule/ID),
    ResourceType, RetentionPeriod, Status; a tag-level rule carries its
    ResourceTags, a Region-level one its LockState (the stand-in: `unlocked`, or
    `locked` when created with a LockConfiguration; available at once)."""
    rbin = aws("rbin", BAKE)
    tagged = rbin.create_rule(ResourceType="EC2_IMAGE", RetentionPeriod=DAYS_7, ResourceTags=TEAM,
                              Description="keep build AMIs")
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert len(tagged["Identifier"]) == 11 and tagged["Identifier"].isalnum()
    assert tagged["RuleArn"] == f"arn:aws:rbin:{REGION}:{BAKE}:rule/{tagged['Identifier']}"
    assert (tagged["ResourceTags"], tagged["Status"], "LockState" in tagged) == (TEAM, "available", False)
    regional = rbin.create_rule(ResourceType="EBS_SNAPSHOT", RetentionPeriod=DAYS_7,
                                ExcludeResourceTags=TEAM)
    assert (regional["LockState"], regional["ExcludeResourceTags"]) == ("unlocked", TEAM)
    locked = rbin.create_rule(ResourceType="EC2_IMAGE", RetentionPeriod=DAYS_7, LockConfiguration=LOCK)
    assert locked["LockState"] == "locked"
    got = rbin.get_rule(Identifier=tagged["Identifier"])
    assert (got["Description"], got["ResourceType"], got["RetentionPeriod"]) == (
        "keep build AMIs", "EC2_IMAGE", DAYS_7)


@pytest.mark.parametrize("kwargs", [
    {"ResourceType": "EC2_IMAGE", "RetentionPeriod": {"RetentionPeriodValue": 366, "RetentionPeriodUnit": "DAYS"}},
    {"ResourceType": "EBS_VOLUME", "RetentionPeriod": {"RetentionPeriodValue": 8, "RetentionPeriodUnit": "DAYS"}},
    {"ResourceType": "EC2_IMAGE", "RetentionPeriod": DAYS_7, "ResourceTags": TEAM, "ExcludeResourceTags": TEAM},
    {"ResourceType": "EC2_IMAGE", "RetentionPeriod": DAYS_7, "ResourceTags": TEAM, "LockConfiguration": LOCK},
    {"ResourceType": "EC2_IMAGE", "RetentionPeriod": DAYS_7, "ExcludeResourceTags": TEAM, "LockConfiguration": LOCK},
    {"ResourceType": "EC2_INSTANCE", "RetentionPeriod": DAYS_7},
])
def test_invalid_rules_are_refused(aws, kwargs):
    """Recycle Bin API Reference, CreateRule and RetentionPeriod (EBS snapshots
    and AMIs 1-365 days, volumes 1-7), ExcludeResourceTags (Region-level rules
    only), LockRule (no lock for tag-level rules or rules with exclusion tags),
    ResourceType: ValidationException, Reason
    INVALID_PARAMETER_VALUE; nothing is created."""
    rbin = aws("rbin", BAKE)
    with pytest.raises(ClientError) as excinfo:
        rbin.create_rule(**kwargs)
    assert (error_code(excinfo), reason(excinfo)) == ("ValidationException", "INVALID_PARAMETER_VALUE")
    assert rbin.list_rules(ResourceType="EC2_IMAGE")["Rules"] == []


def test_list_rules_filters_and_pages(aws):
    """Recycle Bin API Reference, ListRules: ResourceType (required) selects the
    rules for that type; ResourceTags and LockState narrow them; RuleSummary
    items (Identifier, Description, RetentionPeriod, LockState, RuleArn); pages
    of MaxResults with NextToken while more remain; a bad token is
    ValidationException INVALID_PAGE_TOKEN. Rules are per account and Region."""
    rbin = aws("rbin", BAKE)
    tagged = {rbin.create_rule(ResourceType="EC2_IMAGE", RetentionPeriod=DAYS_7, ResourceTags=TEAM)[
        "Identifier"] for _ in range(3)}
    regional = rbin.create_rule(ResourceType="EC2_IMAGE", RetentionPeriod=DAYS_7)["Identifier"]
    rbin.create_rule(ResourceType="EBS_SNAPSHOT", RetentionPeriod=DAYS_7)

    everything = rbin.list_rules(ResourceType="EC2_IMAGE")["Rules"]
    assert {r["Identifier"] for r in everything} == tagged | {regional}
    assert set(everything[0]) <= {"Identifier", "Description", "RetentionPeriod", "LockState", "RuleArn"}
    assert {r["Identifier"] for r in rbin.list_rules(ResourceType="EC2_IMAGE", ResourceTags=TEAM)["Rules"]} == tagged
    assert [r["Identifier"] for r in rbin.list_rules(ResourceType="EC2_IMAGE", LockState="unlocked")["Rules"]] == [
        regional]

    sizes, walked, token = [], [], None
    while True:
        page = rbin.list_rules(ResourceType="EC2_IMAGE", MaxResults=3, **({"NextToken": token} if token else {}))
        sizes.append(len(page["Rules"]))
        walked += [r["Identifier"] for r in page["Rules"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sizes == [3, 1] and sorted(walked) == sorted(tagged | {regional})
    with pytest.raises(ClientError) as excinfo:
        rbin.list_rules(ResourceType="EC2_IMAGE", NextToken="bm90LWEtdG9rZW4=")
    assert (error_code(excinfo), reason(excinfo)) == ("ValidationException", "INVALID_PAGE_TOKEN")
    assert aws("rbin", PROD).list_rules(ResourceType="EC2_IMAGE")["Rules"] == []
    assert aws("rbin", BAKE, region="us-east-1").list_rules(ResourceType="EC2_IMAGE")["Rules"] == []


def test_delete_rule_and_missing_or_locked_rules(aws):
    """Recycle Bin API Reference, DeleteRule (HTTP 204) and GetRule: a missing
    rule is ResourceNotFoundException RULE_NOT_FOUND (HTTP 404); a locked rule
    cannot be deleted (LockState `locked`): ConflictException INVALID_RULE_STATE."""
    rbin = aws("rbin", BAKE)
    rule = rbin.create_rule(ResourceType="EC2_IMAGE", RetentionPeriod=DAYS_7)["Identifier"]
    assert rbin.delete_rule(Identifier=rule)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        rbin.get_rule(Identifier=rule)
    assert (error_code(excinfo), reason(excinfo)) == ("ResourceNotFoundException", "RULE_NOT_FOUND")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    locked = rbin.create_rule(ResourceType="EC2_IMAGE", RetentionPeriod=DAYS_7, LockConfiguration=LOCK)
    with pytest.raises(ClientError) as excinfo:
        rbin.delete_rule(Identifier=locked["Identifier"])
    assert (error_code(excinfo), reason(excinfo)) == ("ConflictException", "INVALID_RULE_STATE")


def test_rbin_calls_are_logged_faulted_and_reset(aws, ctl):
    """Contract: Recycle Bin calls are told apart by the SigV4 credential scope
    (`rbin`), logged with their action, faulted in restJson1's error form (the
    SDK parses the code), and forgotten by reset."""
    rbin = aws("rbin", BAKE)
    rbin.create_rule(ResourceType="EC2_IMAGE", RetentionPeriod=DAYS_7)
    ctl("POST", "faults", {"action": "ListRules", "error_code": "InternalServerException",
                           "http_status": 500, "count": 1})
    with pytest.raises(ClientError) as excinfo:
        rbin.list_rules(ResourceType="EC2_IMAGE")
    assert error_code(excinfo) == "InternalServerException"
    logged = [(c["service"], c["action"], c["faulted"]) for c in ctl("GET", "call_log")["calls"]]
    assert logged == [("rbin", "CreateRule", False), ("rbin", "ListRules", True)]
    ctl("POST", "reset")
    assert rbin.list_rules(ResourceType="EC2_IMAGE")["Rules"] == []
