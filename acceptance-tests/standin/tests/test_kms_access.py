"""KMS key use across accounts: the key policy (default, account principals,
organization conditions, Deny) decides what another account may do."""

from __future__ import annotations

from urllib.error import HTTPError

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD, STAGE
from helpers import error_code, key_policy, root, statement

ORG = "arn:aws:organizations::111111111111:organization/o-a1b2c3d4e5"
OU = "arn:aws:organizations::111111111111:ou/o-a1b2c3d4e5/ou-ab12-11111111"
OTHER_OU = "arn:aws:organizations::111111111111:ou/o-a1b2c3d4e5/ou-ab12-22222222"


def bake_key(aws, *statements: dict) -> dict:
    """KeyMetadata of a new BAKE key whose policy is the default one plus `statements`."""
    kms = aws("kms", BAKE)
    return kms.create_key(Policy=key_policy(BAKE, *statements))["KeyMetadata"]


def denial(excinfo: pytest.ExceptionInfo) -> tuple[str, str]:
    return error_code(excinfo), excinfo.value.response["Error"]["Message"]


def refused(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    return denial(excinfo)


def test_default_policy_denies_another_account(aws):
    """AWS KMS Developer Guide, "Default key policy": the default policy allows
    only the key's own account, so another account naming the key by its ARN is
    refused (AccessDeniedException, the IAM "no resource-based policy allows"
    message); the owner keeps using the key."""
    kms = aws("kms", BAKE)
    key = kms.create_key()["KeyMetadata"]
    prod = aws("kms", PROD)
    assert refused(prod.describe_key, KeyId=key["Arn"]) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{PROD}:root is not authorized to perform: kms:DescribeKey on resource: "
        f"{key['Arn']} because no resource-based policy allows the kms:DescribeKey action")
    assert refused(prod.encrypt, KeyId=key["Arn"], Plaintext=b"x")[0] == "AccessDeniedException"
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Arn"] == key["Arn"]


def test_key_id_or_alias_name_never_reaches_another_account(aws):
    """AWS KMS API Reference, DescribeKey, KeyId: a key in a different account is
    named by its key ARN or alias ARN; a key id or alias name means a key of the
    caller's own account, so another account's key is not found that way, even
    when its policy allows the caller. Its alias ARN works."""
    key = bake_key(aws, statement(root(PROD), "kms:DescribeKey"))
    aws("kms", BAKE).create_alias(AliasName="alias/shared", TargetKeyId=key["KeyId"])
    prod = aws("kms", PROD)
    assert refused(prod.describe_key, KeyId=key["KeyId"])[0] == "NotFoundException"
    assert refused(prod.describe_key, KeyId="alias/shared")[0] == "NotFoundException"
    alias_arn = key["Arn"].split(":key/")[0] + ":alias/shared"
    assert prod.describe_key(KeyId=alias_arn)["KeyMetadata"]["Arn"] == key["Arn"]


@pytest.mark.parametrize("principal", [root(PROD), PROD, [root(STAGE), root(PROD)]])
def test_policy_naming_the_account_allows_exactly_the_listed_actions(aws, principal):
    """AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS
    key": a key policy statement whose Principal names the external account (its
    root ARN or account id, alone or in a list) gives it the listed actions, and
    nothing else."""
    key = bake_key(aws, statement(principal, ["kms:DescribeKey", "kms:Encrypt"]))
    prod = aws("kms", PROD)
    assert prod.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    blob = prod.encrypt(KeyId=key["Arn"], Plaintext=b"secret")["CiphertextBlob"]
    assert refused(prod.decrypt, CiphertextBlob=blob)[0] == "AccessDeniedException"
    assert refused(prod.generate_data_key, KeyId=key["Arn"], KeySpec="AES_256")[0] == "AccessDeniedException"
    assert aws("kms", BAKE).decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    stage = aws("kms", STAGE)
    if isinstance(principal, list):  # the list names STAGE too
        assert stage.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    else:
        assert refused(stage.describe_key, KeyId=key["Arn"])[0] == "AccessDeniedException"


def test_wildcard_actions_cover_reencrypt_both_ways(aws):
    """AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS
    key" (the `kms:ReEncrypt*` and `kms:GenerateDataKey*` actions of its example);
    API Reference, ReEncrypt: kms:ReEncryptFrom on the source key, kms:ReEncryptTo
    on the destination key, also when they are in different accounts."""
    shared = bake_key(aws, statement(root(PROD), ["kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Decrypt"]))
    prod = aws("kms", PROD)
    own = prod.create_key()["KeyMetadata"]
    mine = prod.encrypt(KeyId=own["KeyId"], Plaintext=b"payload")["CiphertextBlob"]
    moved = prod.re_encrypt(CiphertextBlob=mine, DestinationKeyId=shared["Arn"])
    assert (moved["KeyId"], moved["SourceKeyId"]) == (shared["Arn"], own["Arn"])
    back = prod.re_encrypt(CiphertextBlob=moved["CiphertextBlob"], DestinationKeyId=own["KeyId"])
    assert prod.decrypt(CiphertextBlob=back["CiphertextBlob"])["Plaintext"] == b"payload"
    assert prod.generate_data_key_without_plaintext(KeyId=shared["Arn"], KeySpec="AES_256")["KeyId"] == shared["Arn"]


@pytest.mark.parametrize("member, allowed", [(True, True), (False, False)])
def test_principal_org_id_condition(aws, ctl, member, allowed):
    """AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS
    key", with the IAM global condition key aws:PrincipalOrgID (IAM User Guide,
    "AWS global condition context keys"): Principal `*` restricted to one
    organization allows the accounts in it (declared with POST /_standin/org),
    and no others."""
    key = bake_key(aws, statement("*", "kms:DescribeKey",
                                  condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}))
    other = "arn:aws:organizations::999999999999:organization/o-zzzzzzzzzz"
    ctl("POST", "org", {"account": PROD, "organization_arn": ORG if member else other, "ou_arns": []})
    prod = aws("kms", PROD)
    if allowed:
        assert prod.describe_key(KeyId=key["Arn"])["KeyMetadata"]["Arn"] == key["Arn"]
    else:
        assert refused(prod.describe_key, KeyId=key["Arn"])[0] == "AccessDeniedException"
    assert refused(aws("kms", STAGE).describe_key, KeyId=key["Arn"])[0] == "AccessDeniedException"


def test_principal_org_paths_condition(aws, ctl):
    """IAM User Guide, "AWS global condition context keys", aws:PrincipalOrgPaths
    (multivalued: ForAnyValue:StringLike, `*` wildcards; the path is the
    organization, root and OU ids, each ending in `/`): an account under the OU
    may use the key; one in another OU, or whose root id is not declared (the
    path is then unknown), may not."""
    path = "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"
    key = bake_key(aws, statement("*", ["kms:DescribeKey"],
                                  condition={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [path]}}))
    ctl("POST", "org", {"account": PROD, "organization_arn": ORG, "ou_arns": [OU], "root_id": "r-ab12"})
    ctl("POST", "org", {"account": STAGE, "organization_arn": ORG, "ou_arns": [OTHER_OU], "root_id": "r-ab12"})
    assert aws("kms", PROD).describe_key(KeyId=key["Arn"])["KeyMetadata"]["Arn"] == key["Arn"]
    assert refused(aws("kms", STAGE).describe_key, KeyId=key["Arn"])[0] == "AccessDeniedException"
    ctl("POST", "org", {"account": PROD, "organization_arn": ORG, "ou_arns": [OU]})
    assert refused(aws("kms", PROD).describe_key, KeyId=key["Arn"])[0] == "AccessDeniedException"


def test_org_root_id_is_checked(ctl):
    """POST /_standin/org (the stand-in's admin API): `root_id` is optional and,
    when given, an organization root id (r- and 4 to 32 letters or digits)."""
    answer = ctl("POST", "org", {"account": PROD, "organization_arn": ORG, "ou_arns": [OU], "root_id": "r-ab12"})
    assert answer == {"organization_arn": ORG, "ou_arns": [OU], "root_id": "r-ab12"}
    with pytest.raises(HTTPError) as excinfo:
        ctl("POST", "org", {"account": PROD, "organization_arn": ORG, "root_id": "ab12"})
    assert excinfo.value.code == 400


def test_deny_wins_over_allow(aws):
    """IAM User Guide, "Policy evaluation logic" (AWS KMS Developer Guide,
    "Key policies"): an explicit Deny overrides an Allow; the message says so."""
    key = bake_key(aws, statement(root(PROD), "kms:*"),
                   statement(PROD, ["kms:Decrypt", "kms:ReEncrypt*"], effect="Deny"))
    prod = aws("kms", PROD)
    blob = prod.encrypt(KeyId=key["Arn"], Plaintext=b"x")["CiphertextBlob"]
    assert refused(prod.decrypt, CiphertextBlob=blob, KeyId=key["Arn"]) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{PROD}:root is not authorized to perform: kms:Decrypt on resource: "
        f"{key['Arn']} with an explicit deny in a resource-based policy")


def test_put_key_policy_changes_access_at_once(aws):
    """AWS KMS API Reference, PutKeyPolicy: the new policy replaces the old one,
    so access granted by the old one is gone and the new one's is there."""
    kms = aws("kms", BAKE)
    key = kms.create_key()["KeyMetadata"]
    prod = aws("kms", PROD)
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                       Policy=key_policy(BAKE, statement(root(PROD), "kms:DescribeKey")))
    assert prod.describe_key(KeyId=key["Arn"])["KeyMetadata"]["Arn"] == key["Arn"]
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=key_policy(BAKE))
    assert refused(prod.describe_key, KeyId=key["Arn"])[0] == "AccessDeniedException"


def test_deny_applies_only_to_the_principals_it_names(aws):
    """AWS KMS Developer Guide, "Key policies" (a statement's Principal says whom
    it applies to): a Deny naming one account leaves the key's owner and the
    other allowed accounts alone, while a Deny naming the owner applies to it."""
    key = bake_key(aws, statement(root(PROD), "kms:DescribeKey"),
                   statement(root(STAGE), "kms:DescribeKey", effect="Deny"))
    assert aws("kms", PROD).describe_key(KeyId=key["Arn"])["KeyMetadata"]["Arn"] == key["Arn"]
    owner = aws("kms", BAKE)
    assert owner.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Arn"] == key["Arn"]
    owner.put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                         Policy=key_policy(BAKE, statement(root(BAKE), "kms:Describe*", effect="Deny")))
    assert refused(owner.describe_key, KeyId=key["KeyId"])[0] == "AccessDeniedException"
