"""Strict mode: where identity-based policies come from (users, groups,
roles; inline and managed; boundaries and session policies) and the
condition operators they may use."""

from __future__ import annotations

import pytest

from strict_helpers import allow, assume, client, deny, policy, refused, role, trust, user

pytestmark = pytest.mark.strict
REGION = "eu-west-1"


def test_strict_group_and_managed_policies_count(strict_aws, accounts):
    """IAM User Guide, "Policy evaluation logic": a user's identity-based
    policies are its inline and managed policies and those of its groups."""
    account = next(accounts)
    iam = strict_aws("iam", account)
    creds = user(strict_aws, account, "member")
    ec2 = client(strict_aws, "ec2", creds)
    assert refused(ec2.describe_images, Owners=["self"])[0] == "UnauthorizedOperation"
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName="member")
    iam.put_group_policy(GroupName="readers", PolicyName="read", PolicyDocument=policy(allow("ec2:DescribeImages")))
    ec2.describe_images(Owners=["self"])
    managed = iam.create_policy(PolicyName="no-snapshots",
                                PolicyDocument=policy(deny("ec2:DescribeImages")))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="member", PolicyArn=managed)
    assert "explicit deny" in refused(ec2.describe_images, Owners=["self"])[1]


def test_strict_role_session_uses_role_policies_boundary_and_session_policy(strict_aws, accounts):
    """IAM User Guide, "Policy evaluation logic": a role session has its
    role's inline and managed policies; a permissions boundary and a session
    policy (AssumeRole `Policy`) only narrow them: the request must be
    allowed by each ("Permissions boundaries for IAM entities", "Session
    policies")."""
    account = next(accounts)
    iam = strict_aws("iam", account)
    caller = user(strict_aws, account, "ci", allow("sts:AssumeRole"))
    arn = role(strict_aws, account, "ops", trust(f"arn:aws:iam::{account}:user/ci"))
    managed = iam.create_policy(PolicyName="ec2-read", PolicyDocument=policy(allow("ec2:Describe*")))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="ops", PolicyArn=managed)
    ec2 = client(strict_aws, "ec2", assume(strict_aws, caller, arn))
    ec2.describe_images(Owners=["self"])
    ec2.describe_snapshots(OwnerIds=["self"])
    narrowed = client(strict_aws, "ec2", assume(strict_aws, caller, arn,
                                                 Policy=policy(allow("ec2:DescribeImages"))))
    narrowed.describe_images(Owners=["self"])
    assert "because no session policy allows" in refused(narrowed.describe_snapshots, OwnerIds=["self"])[1]
    boundary = iam.create_policy(PolicyName="boundary",
                                 PolicyDocument=policy(allow("ec2:DescribeSnapshots")))["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName="ops", PermissionsBoundary=boundary)
    assert "because no permissions boundary allows" in refused(ec2.describe_images, Owners=["self"])[1]
    ec2.describe_snapshots(OwnerIds=["self"])


def test_strict_role_policies_change_at_once_and_deleted_role_grants_nothing(strict_aws, accounts):
    """IAM User Guide, "Policy evaluation logic": a session is evaluated
    against its role's policies as they are when it calls (the stand-in does
    not model IAM's propagation delay)."""
    account = next(accounts)
    caller = user(strict_aws, account, "ci", allow("sts:AssumeRole"))
    arn = role(strict_aws, account, "temp", trust(f"arn:aws:iam::{account}:user/ci"), allow("ec2:DescribeImages"))
    ec2 = client(strict_aws, "ec2", assume(strict_aws, caller, arn))
    ec2.describe_images(Owners=["self"])
    iam = strict_aws("iam", account)
    iam.delete_role_policy(RoleName="temp", PolicyName="inline")
    assert refused(ec2.describe_images, Owners=["self"])[0] == "UnauthorizedOperation"
    iam.delete_role(RoleName="temp")
    assert refused(ec2.describe_images, Owners=["self"])[0] == "UnauthorizedOperation"


@pytest.mark.parametrize("condition,allowed", [
    ({"StringLike": {"aws:username": "build-*"}}, True),
    ({"StringNotLike": {"aws:username": "build-*"}}, False),
    ({"StringEqualsIgnoreCase": {"aws:username": "BUILD-1"}}, True),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/build-?"}}, True),
    ({"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::*:user/build-1"}}, False),
    ({"Bool": {"aws:SecureTransport": "false"}}, True),
    ({"Null": {"aws:PrincipalOrgID": "true"}}, True),
    ({"Null": {"aws:PrincipalOrgID": "false"}}, False),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-none"}}, False),
    ({"StringNotEquals": {"aws:PrincipalOrgID": "o-none"}}, True),
    ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-none"}}, True),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["Stage", "Team"]}}, True),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["Team"]}}, False),
    ({"StringEquals": {"ec2:Region": "us-east-1"}}, False),
    ({"NumericGreaterThan": {"aws:EpochTime": "1000"}}, True),
    ({"DateGreaterThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"}}, False),
])
def test_strict_condition_operators(strict_aws, accounts, condition, allowed):
    """IAM User Guide, "IAM JSON policy elements: Condition operators" and
    "Condition keys with multiple values": String*, Arn*, Bool, Null, Numeric*,
    ...IfExists (true when the key is absent), the negated operators (true when
    the key is absent), ForAnyValue / ForAllValues over aws:TagKeys; key names
    are not case-sensitive. Operators the stand-in does not model (Date*)
    never hold, so they grant nothing (README, gaps)."""
    account = next(accounts)
    image_id = strict_aws("ec2", account).create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]
    creds = user(strict_aws, account, "build-1", allow("ec2:CreateTags", condition=condition))
    call = client(strict_aws, "ec2", creds).create_tags
    tags = [{"Key": "Stage", "Value": "test"}]
    if allowed:
        call(Resources=[image_id], Tags=tags)
    else:
        assert refused(call, Resources=[image_id], Tags=tags)[0] == "UnauthorizedOperation"


def test_strict_policy_variables(strict_aws, accounts):
    """IAM User Guide, "IAM policy elements: Variables and tags": ${aws:username}
    in a Resource or condition value is the caller's user name."""
    account = next(accounts)
    ssm = strict_aws("ssm", account)
    for name in ("/home/alice/key", "/home/bob/key"):
        ssm.put_parameter(Name=name, Value="v", Type="String")
    creds = user(strict_aws, account, "alice",
                 allow("ssm:GetParameter", "arn:aws:ssm:*:*:parameter/home/${aws:username}/*"))
    mine = client(strict_aws, "ssm", creds)
    assert mine.get_parameter(Name="/home/alice/key")["Parameter"]["Value"] == "v"
    code, message, status = refused(mine.get_parameter, Name="/home/bob/key")
    assert (code, status) == ("AccessDeniedException", 400)
    assert f"on resource: arn:aws:ssm:{REGION}:{account}:parameter/home/bob/key" in message


def test_strict_recycle_bin_rule_arns(strict_aws, accounts):
    """Service Authorization Reference, AWS Recycle Bin: GetRule and DeleteRule
    act on rule* arn:${Partition}:rbin:${Region}:${Account}:rule/${ResourceName};
    ListRules has no resource (`*`) and supports rbin:Request/ResourceType;
    a refusal is AccessDeniedException."""
    account = next(accounts)
    rule_id = strict_aws("rbin", account).create_rule(
        ResourceType="EC2_IMAGE", RetentionPeriod={"RetentionPeriodValue": 7, "RetentionPeriodUnit": "DAYS"},
        ResourceTags=[{"ResourceTagKey": "k", "ResourceTagValue": "v"}])["Identifier"]
    creds = user(strict_aws, account, "reporter",
                 allow("rbin:ListRules", condition={"StringEquals": {"rbin:Request/ResourceType": "EC2_IMAGE"}}),
                 allow("rbin:GetRule", f"arn:aws:rbin:{REGION}:{account}:rule/{rule_id}"))
    rbin = client(strict_aws, "rbin", creds)
    assert [r["Identifier"] for r in rbin.list_rules(ResourceType="EC2_IMAGE")["Rules"]] == [rule_id]
    assert refused(rbin.list_rules, ResourceType="EBS_SNAPSHOT")[0] == "AccessDeniedException"
    assert rbin.get_rule(Identifier=rule_id)["Identifier"] == rule_id
    code, message, _ = refused(rbin.delete_rule, Identifier=rule_id)
    assert code == "AccessDeniedException" and f"rule/{rule_id}" in message
