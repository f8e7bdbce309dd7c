"""CopyImage of AMIs encrypted with another account's customer managed key:
the copy needs that key's policy or a grant to let the copying account use it."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD, STAGE
from helpers import cmk_source, copy, error_code, key_policy, make_ami, root, share, snapshots_of, statement, wait_state

# EBS User Guide, "Share an Amazon EBS snapshot": what the copying account needs on the key.
COPY_ACTIONS = ["kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncrypt*", "kms:Decrypt"]
REPORTED = ("AMI snapshot copy failed with error: Given key ID is not accessible. "
            "You must have DescribeKey permissions on the default CMK")


def test_copy_fails_when_the_source_key_is_not_shared(aws):
    """EBS User Guide, "Share an Amazon EBS snapshot": copying a snapshot encrypted
    with another account's customer managed key needs permission on that key;
    EC2 API Reference, CopyImage, KmsKeyId: the key is checked asynchronously, so
    the request is accepted and the copy fails later. The AWS documentation
    gives no text; the StateReason is the one users report (Code
    Client.InternalError), and the copy's snapshots end in `error`."""
    source, _ = cmk_source(aws)  # the default key policy: BAKE only
    prod = aws("ec2", PROD)
    failed = wait_state(prod, copy(prod, source), "failed")
    assert failed["StateReason"] == {"Code": "Client.InternalError", "Message": REPORTED}
    assert [s["State"] for s in snapshots_of(prod, failed["ImageId"])] == ["error"]


def test_copy_succeeds_when_the_key_policy_allows_the_copying_account(aws):
    """EBS User Guide, "Share an Amazon EBS snapshot" (the key policy statement
    giving the other account kms:DescribeKey, kms:CreateGrant,
    kms:GenerateDataKey*, kms:ReEncrypt* and kms:Decrypt): the copy completes,
    encrypted with the copying account's default EBS key."""
    source, _ = cmk_source(aws, key_policy(BAKE, statement(root(PROD), COPY_ACTIONS)), snapshots=2)
    prod = aws("ec2", PROD)
    done = wait_state(prod, copy(prod, source), "available")
    default_key = prod.get_ebs_default_kms_key_id()["KmsKeyId"]
    assert [(s["State"], s["KmsKeyId"]) for s in snapshots_of(prod, done["ImageId"])] == [
        ("completed", default_key)] * 2


@pytest.mark.parametrize("missing", ["kms:DescribeKey", "kms:CreateGrant", "kms:ReEncrypt*"])
def test_copy_fails_when_the_policy_lacks_one_needed_action(aws, missing):
    """EBS User Guide, "Share an Amazon EBS snapshot": every one of the listed
    permissions is needed; without one the copy fails as when none is given."""
    actions = [a for a in COPY_ACTIONS if a != missing]
    source, _ = cmk_source(aws, key_policy(BAKE, statement(root(PROD), actions)))
    prod = aws("ec2", PROD)
    assert wait_state(prod, copy(prod, source), "failed")["StateReason"]["Message"] == REPORTED


def test_copy_succeeds_with_the_console_statements_for_aws_services(aws):
    """AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS
    key": the console's statements give the other account the key's
    cryptographic use, and grants only when an AWS service asks for them
    (kms:GrantIsForAWSResource). EC2 copying the AMI is such a service, so the
    copy completes, while the account's own CreateGrant call is refused."""
    use = statement(root(PROD), ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                                 "kms:DescribeKey"])
    grants = statement(root(PROD), ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                       condition={"Bool": {"kms:GrantIsForAWSResource": "true"}})
    source, key_arn = cmk_source(aws, key_policy(BAKE, use, grants))
    prod = aws("ec2", PROD)
    wait_state(prod, copy(prod, source), "available")
    with pytest.raises(ClientError) as excinfo:
        aws("kms", PROD).create_grant(KeyId=key_arn, GranteePrincipal=root(PROD), Operations=["Decrypt"])
    assert error_code(excinfo) == "AccessDeniedException"


def test_copy_succeeds_when_a_grant_allows_the_copying_account(aws):
    """AWS KMS Developer Guide, "Grants in AWS KMS": a grant on the key for the
    copying account, with the operations the EBS User Guide lists, is enough on
    its own (the key policy still trusts only its owner); revoking it makes the
    next copy fail."""
    source, key_arn = cmk_source(aws)
    owner = aws("kms", BAKE)
    grant = owner.create_grant(KeyId=key_arn, GranteePrincipal=root(PROD), Operations=[
        "DescribeKey", "CreateGrant", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
        "ReEncryptFrom", "ReEncryptTo", "Decrypt"])
    prod = aws("ec2", PROD)
    wait_state(prod, copy(prod, source), "available")
    owner.revoke_grant(KeyId=key_arn, GrantId=grant["GrantId"])
    wait_state(prod, copy(prod, source, name="after-revoke"), "failed")


def test_unencrypted_and_own_key_sources_copy_as_before(aws):
    """EC2 User Guide, "Copy an Amazon EC2 AMI": an unencrypted shared AMI, and
    an AMI encrypted with the copying account's own key, copy without any key
    policy being involved."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    plain, snaps = make_ami(bake, name="plain", snapshots=1)
    share(bake, plain, snaps, PROD)
    assert snapshots_of(prod, wait_state(prod, copy(prod, plain), "available")["ImageId"])[0]["Encrypted"] is False
    source, _ = cmk_source(aws)
    wait_state(bake, copy(bake, source, name="owner-copy"), "available")


@pytest.mark.parametrize("shared", [False, True])
def test_destination_key_of_another_account_needs_its_policy(aws, shared):
    """EC2 API Reference, CopyImage, KmsKeyId (a key ARN may name another
    account's key; an unusable key makes the copy fail later); EBS User Guide,
    "Share an Amazon EBS snapshot": using another account's key needs its key
    policy's permission. Allowed, the copy is encrypted with that key."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    plain, snaps = make_ami(bake, name="plain", snapshots=1)
    share(bake, plain, snaps, PROD)
    actions = [a.replace("ReEncrypt*", "ReEncryptTo") for a in COPY_ACTIONS]
    policy = key_policy(STAGE, *([statement(root(PROD), actions)] if shared else []))
    key_arn = aws("kms", STAGE).create_key(Policy=policy)["KeyMetadata"]["Arn"]
    copy_id = copy(prod, plain, Encrypted=True, KmsKeyId=key_arn)
    if shared:
        wait_state(prod, copy_id, "available")
        assert snapshots_of(prod, copy_id)[0]["KmsKeyId"] == key_arn
    else:
        assert wait_state(prod, copy_id, "failed")["StateReason"]["Code"]
