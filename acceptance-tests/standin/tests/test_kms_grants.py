"""KMS grants across accounts: CreateGrant, ListGrants, RevokeGrant,
RetireGrant, ListRetirableGrants, and GET /_standin/kms_grants."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import BAKE, PROD, REGION, STAGE
from helpers import error_code, key_policy, root, statement


def bake_key(aws, *statements: dict) -> dict:
    return aws("kms", BAKE).create_key(Policy=key_policy(BAKE, *statements))["KeyMetadata"]


def code_of(call, **kwargs) -> str:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    return error_code(excinfo)


def test_grant_allows_its_operations_only(aws):
    """AWS KMS Developer Guide, "Grants in AWS KMS": a grant lets its grantee
    principal (here another account) call the grant's operations on the key,
    and no others; an EncryptionContextSubset constraint ("Using grant
    constraints") limits the cryptographic ones to requests with that context,
    but not DescribeKey (API Reference, GrantConstraints)."""
    key = bake_key(aws)
    owner, prod = aws("kms", BAKE), aws("kms", PROD)
    owner.create_grant(KeyId=key["KeyId"], GranteePrincipal=root(PROD), Operations=["DescribeKey", "Encrypt"],
                       Constraints={"EncryptionContextSubset": {"Department": "IT"}})
    assert prod.describe_key(KeyId=key["Arn"])["KeyMetadata"]["Arn"] == key["Arn"]
    blob = prod.encrypt(KeyId=key["Arn"], Plaintext=b"x", EncryptionContext={"Department": "IT", "Team": "a"})
    assert code_of(prod.encrypt, KeyId=key["Arn"], Plaintext=b"x") == "AccessDeniedException"
    assert code_of(prod.decrypt, CiphertextBlob=blob["CiphertextBlob"],
                   EncryptionContext={"Department": "IT", "Team": "a"}) == "AccessDeniedException"
    assert code_of(aws("kms", STAGE).describe_key, KeyId=key["Arn"]) == "AccessDeniedException"


@pytest.mark.parametrize("operations", [["Frobnicate"], ["decrypt"], ["Decrypt", "ScheduleKeyDeletion"]])
def test_create_grant_refuses_operations_that_are_not_grant_operations(aws, operations):
    """AWS KMS API Reference, CreateGrant, Operations (valid values: the
    GrantOperation list): anything else is ValidationException and no grant
    is created."""
    key = bake_key(aws)
    owner = aws("kms", BAKE)
    assert code_of(owner.create_grant, KeyId=key["KeyId"], GranteePrincipal=root(PROD),
                   Operations=operations) == "ValidationException"
    assert owner.list_grants(KeyId=key["KeyId"])["Grants"] == []


def test_create_grant_with_the_same_name_and_parameters_answers_the_same_grant(aws):
    """AWS KMS API Reference, CreateGrant, Name: a retry with the same Name and
    identical parameters answers the existing GrantId (with a new, equally valid
    token) instead of creating another grant; without a Name every request
    creates one; other parameters make another grant."""
    key = bake_key(aws)
    owner = aws("kms", BAKE)
    args = {"KeyId": key["KeyId"], "GranteePrincipal": root(PROD), "Operations": ["Decrypt"], "Name": "ci-decrypt"}
    first, again = owner.create_grant(**args), owner.create_grant(**args)
    assert first["GrantId"] == again["GrantId"] and first["GrantToken"] != again["GrantToken"]
    other = owner.create_grant(**{**args, "Operations": ["Decrypt", "Encrypt"]})
    unnamed = [owner.create_grant(**{k: v for k, v in args.items() if k != "Name"})["GrantId"] for _ in range(2)]
    ids = [g["GrantId"] for g in owner.list_grants(KeyId=key["KeyId"])["Grants"]]
    assert sorted(ids) == sorted([first["GrantId"], other["GrantId"], *unnamed]) and len(set(ids)) == 4


def test_list_grants_entries_paging_and_filters(aws, endpoint):
    """AWS KMS API Reference, ListGrants: GrantListEntry members (KeyId as the key
    ARN, GrantId, Name, CreationDate, GranteePrincipal, RetiringPrincipal,
    IssuingAccount, Operations, Constraints); Limit 1..100 (else
    ValidationException), pages with Truncated and NextMarker passed back as
    Marker (a foreign one is InvalidMarkerException); GrantId and
    GranteePrincipal filters."""
    key = bake_key(aws)
    owner = aws("kms", BAKE)
    made = [owner.create_grant(KeyId=key["KeyId"], GranteePrincipal=root(PROD if i % 2 else STAGE),
                               Operations=["Decrypt"], Name=f"g{i}", RetiringPrincipal=root(BAKE),
                               Constraints={"EncryptionContextEquals": {"n": str(i)}})["GrantId"]
            for i in range(5)]
    first = owner.list_grants(KeyId=key["KeyId"], Limit=2)
    entry = first["Grants"][0]
    assert (entry["KeyId"], entry["GrantId"], entry["Name"], entry["IssuingAccount"]) == (
        key["Arn"], made[0], "g0", root(BAKE))
    assert (entry["GranteePrincipal"], entry["RetiringPrincipal"], entry["Operations"], entry["Constraints"]) == (
        root(STAGE), root(BAKE), ["Decrypt"], {"EncryptionContextEquals": {"n": "0"}})
    assert "CreationDate" in entry
    seen, page = [], first
    while True:
        seen += [g["GrantId"] for g in page["Grants"]]
        assert len(page["Grants"]) <= 2
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        page = owner.list_grants(KeyId=key["KeyId"], Limit=2, Marker=page["NextMarker"])
    assert seen == made
    assert [g["GrantId"] for g in owner.list_grants(KeyId=key["KeyId"], GrantId=made[3])["Grants"]] == [made[3]]
    assert [g["GrantId"] for g in owner.list_grants(KeyId=key["KeyId"], GranteePrincipal=root(PROD))["Grants"]] == [
        made[1], made[3]]
    assert code_of(owner.list_grants, KeyId=key["KeyId"], Limit=101) == "ValidationException"
    assert code_of(owner.list_grants, KeyId=key["KeyId"], Marker="not-ours") == "InvalidMarkerException"
    # botocore refuses Limit 0 itself; an unvalidating client shows the service's answer.
    raw = boto3.client("kms", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=BAKE,
                       aws_secret_access_key="x", config=Config(parameter_validation=False))
    assert code_of(raw.list_grants, KeyId=key["KeyId"], Limit=0) == "ValidationException"


def test_another_account_creates_grants_by_policy_and_is_their_issuer(aws):
    """AWS KMS API Reference, CreateGrant ("Cross-account use: Yes", with the key
    ARN; kms:CreateGrant in the key policy): an account the policy allows creates
    grants on the key, which ListGrants reports with that account as
    IssuingAccount; an account it does not allow is refused."""
    key = bake_key(aws, statement(root(PROD), ["kms:CreateGrant", "kms:ListGrants"]))
    prod = aws("kms", PROD)
    grant = prod.create_grant(KeyId=key["Arn"], GranteePrincipal=root(STAGE), Operations=["DescribeKey"])
    listed = prod.list_grants(KeyId=key["Arn"])["Grants"]
    assert [(g["GrantId"], g["IssuingAccount"]) for g in listed] == [(grant["GrantId"], root(PROD))]
    assert aws("kms", STAGE).describe_key(KeyId=key["Arn"])["KeyMetadata"]["Arn"] == key["Arn"]
    assert code_of(aws("kms", STAGE).create_grant, KeyId=key["Arn"], GranteePrincipal=root(STAGE),
                   Operations=["Decrypt"]) == "AccessDeniedException"
    assert code_of(aws("kms", STAGE).list_grants, KeyId=key["Arn"]) == "AccessDeniedException"


def test_create_grant_permission_from_a_grant_is_limited(aws):
    """AWS KMS Developer Guide, "Creating grants", Granting CreateGrant
    permission: a grantee who may CreateGrant by a grant can only create grants
    with some of that grant's operations and constraints at least as strict."""
    key = bake_key(aws)
    aws("kms", BAKE).create_grant(KeyId=key["KeyId"], GranteePrincipal=root(PROD),
                                  Operations=["CreateGrant", "Decrypt"],
                                  Constraints={"EncryptionContextSubset": {"Department": "IT"}})
    prod = aws("kms", PROD)
    stricter = {"EncryptionContextEquals": {"Department": "IT"}}
    prod.create_grant(KeyId=key["Arn"], GranteePrincipal=root(STAGE), Operations=["Decrypt"], Constraints=stricter)
    assert code_of(prod.create_grant, KeyId=key["Arn"], GranteePrincipal=root(STAGE),
                   Operations=["Decrypt", "Encrypt"], Constraints=stricter) == "AccessDeniedException"
    assert code_of(prod.create_grant, KeyId=key["Arn"], GranteePrincipal=root(STAGE),
                   Operations=["Decrypt"]) == "AccessDeniedException"


def test_revoke_grant_by_the_key_owner_removes_access(aws):
    """AWS KMS Developer Guide, "Retiring and revoking grants"; API Reference,
    RevokeGrant (kms:RevokeGrant in the key policy, which the key's account has):
    the grantee loses the access at once; the grantee itself may not revoke, and
    an unknown grant id is NotFoundException."""
    key = bake_key(aws)
    owner, prod = aws("kms", BAKE), aws("kms", PROD)
    grant = owner.create_grant(KeyId=key["KeyId"], GranteePrincipal=root(PROD), Operations=["DescribeKey"])
    assert prod.describe_key(KeyId=key["Arn"])["KeyMetadata"]["Arn"] == key["Arn"]
    assert code_of(prod.revoke_grant, KeyId=key["Arn"], GrantId=grant["GrantId"]) == "AccessDeniedException"
    owner.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
    assert code_of(prod.describe_key, KeyId=key["Arn"]) == "AccessDeniedException"
    assert owner.list_grants(KeyId=key["KeyId"])["Grants"] == []
    assert code_of(owner.revoke_grant, KeyId=key["KeyId"], GrantId=grant["GrantId"]) == "NotFoundException"


def test_retire_grant_by_token_id_and_who_may(aws):
    """AWS KMS API Reference, RetireGrant: by GrantToken, or KeyId (the key ARN
    from another account) and GrantId; allowed to the retiring principal, the
    grantee when the grant allows RetireGrant, and the key's account; others
    are refused. ListRetirableGrants lists the grants a principal may retire."""
    key = bake_key(aws)
    owner, prod, stage = aws("kms", BAKE), aws("kms", PROD), aws("kms", STAGE)
    by_stage = owner.create_grant(KeyId=key["KeyId"], GranteePrincipal=root(PROD), Operations=["Decrypt"],
                                  RetiringPrincipal=root(STAGE))
    self_retiring = owner.create_grant(KeyId=key["KeyId"], GranteePrincipal=root(PROD),
                                       Operations=["Encrypt", "RetireGrant"])
    plain = owner.create_grant(KeyId=key["KeyId"], GranteePrincipal=root(PROD), Operations=["Encrypt"])
    assert [g["GrantId"] for g in stage.list_retirable_grants(RetiringPrincipal=root(STAGE))["Grants"]] == [
        by_stage["GrantId"]]
    assert code_of(prod.retire_grant, GrantToken=by_stage["GrantToken"]) == "AccessDeniedException"
    stage.retire_grant(GrantToken=by_stage["GrantToken"])
    prod.retire_grant(KeyId=key["Arn"], GrantId=self_retiring["GrantId"])
    assert code_of(prod.retire_grant, KeyId=key["Arn"], GrantId=plain["GrantId"]) == "AccessDeniedException"
    owner.retire_grant(KeyId=key["KeyId"], GrantId=plain["GrantId"])
    assert owner.list_grants(KeyId=key["KeyId"])["Grants"] == []
    assert code_of(stage.retire_grant, GrantToken=by_stage["GrantToken"]) == "InvalidGrantTokenException"


def test_deny_in_the_key_policy_overrides_a_grant(aws):
    """IAM User Guide, "Policy evaluation logic"; AWS KMS Developer Guide,
    "Grants in AWS KMS" (a grant can allow access, but not deny it): an explicit
    Deny in the key policy wins over a grant."""
    key = bake_key(aws, statement(root(PROD), "kms:DescribeKey", effect="Deny"))
    aws("kms", BAKE).create_grant(KeyId=key["KeyId"], GranteePrincipal=root(PROD), Operations=["DescribeKey"])
    assert code_of(aws("kms", PROD).describe_key, KeyId=key["Arn"]) == "AccessDeniedException"


def test_admin_view_lists_every_grant_and_reset_clears_them(aws, ctl):
    """The stand-in's admin API: GET /_standin/kms_grants lists every grant of
    every account and Region with its key's account and issuer; reset empties it."""
    key = bake_key(aws, statement(root(PROD), "kms:CreateGrant"))
    grant = aws("kms", PROD).create_grant(KeyId=key["Arn"], GranteePrincipal=root(STAGE),
                                          Operations=["Decrypt"], Name="from-prod")
    assert ctl("GET", "kms_grants") == {"grants": [{
        "key_arn": key["Arn"], "grant_id": grant["GrantId"], "grantee_principal": root(STAGE),
        "operations": ["Decrypt"], "name": "from-prod", "retiring_principal": None, "account": BAKE,
        "issuing_account": PROD, "constraints": None}]}
    ctl("POST", "reset")
    assert ctl("GET", "kms_grants") == {"grants": []}
