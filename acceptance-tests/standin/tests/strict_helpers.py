"""Building blocks for strict-mode tests: principals made through the IAM API.

Strict mode has no admin API and no reset, so every test creates what it
needs, in accounts of its own (conftest's `accounts`), the way a test
against real AWS would: IAM users with access keys, roles with trust
policies, and sessions from AssumeRole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Creds:
    key: str
    secret: str = "x"
    token: str | None = None


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resources="*", condition: dict | None = None, effect: str = "Allow") -> dict:
    statement = {"Effect": effect, "Action": actions, "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def deny(actions, resources="*", condition: dict | None = None) -> dict:
    return allow(actions, resources, condition, effect="Deny")


def trust(principal, condition: dict | None = None, effect: str = "Allow") -> str:
    """A trust policy letting `principal` (a Principal AWS value) assume the role."""
    statement = {"Effect": effect, "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return policy(statement)


def user(strict_aws, account: str, name: str, *statements: dict) -> Creds:
    """An IAM user of `account` with an inline policy of `statements` and an access key."""
    iam = strict_aws("iam", account)
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Creds(key["AccessKeyId"], key["SecretAccessKey"])


def role(strict_aws, account: str, name: str, trust_policy: str, *statements: dict,
         max_session_duration: int | None = None) -> str:
    """A role of `account` with `trust_policy` and an inline policy of `statements`; its ARN."""
    iam = strict_aws("iam", account)
    extra = {"MaxSessionDuration": max_session_duration} if max_session_duration else {}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy, **extra)["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=policy(*statements))
    return arn


def assume(strict_aws, creds: Creds, role_arn: str, **kwargs) -> Creds:
    """AssumeRole with `creds`; the session's credentials."""
    sts = client(strict_aws, "sts", creds)
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=kwargs.pop("RoleSessionName", "test"),
                             **kwargs)["Credentials"]
    return Creds(answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"])


def client(strict_aws, service: str, creds: Creds):
    return strict_aws(service, creds.key, secret=creds.secret, token=creds.token)


def refused(call, **kwargs) -> tuple[str, str, int]:
    """(error code, message, HTTP status) of a call that must fail."""
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    response = excinfo.value.response
    return (response["Error"]["Code"], response["Error"].get("Message", ""),
            response["ResponseMetadata"]["HTTPStatusCode"])
