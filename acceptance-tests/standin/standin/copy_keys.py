"""CopyImage with KMS keys of other accounts (ec2_copy.py asks here).

EBS User Guide, "Share an Amazon EBS snapshot" (sharing the KMS key of an
encrypted snapshot): to copy a snapshot encrypted with another account's
customer managed key, the copying account needs kms:DescribeKey,
kms:CreateGrant, kms:GenerateDataKey, kms:GenerateDataKeyWithoutPlaintext,
kms:ReEncrypt* and kms:Decrypt on that key, from its key policy or a grant
(kms_access.py decides). EC2 accepts the CopyImage all the same and the copy
fails later: CopyImage, KmsKeyId ("AWS parses KmsKeyId asynchronously").

The same permissions are asked of a destination key (CopyImage KmsKeyId)
of another account, with kms:ReEncryptTo in place of kms:ReEncryptFrom; the
copy then fails as for a missing key (ec2_copy.KEY_FAILURE).

EC2 asks KMS on the caller's behalf: the request carries kms:ViaService
(ec2.REGION.amazonaws.com) and kms:GrantIsForAWSResource true, as for any
integrated service. The stand-in does not model the encryption context EBS
sends, so a grant with an encryption context constraint does not count here.
"""

from __future__ import annotations

from typing import Any

from . import kms_access, kms_keys

SOURCE_ACTIONS = ("kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey",
                  "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:Decrypt")
DESTINATION_ACTIONS = ("kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey",
                       "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptTo", "kms:Decrypt")
# The AWS documentation gives no text for this failure; this is the StateReason
# users report for a copy whose source key the copying account may not use
# (aws-samples/aws-backup-automation, issue 2). Client.InternalError is EC2's
# StateReason code for a failure the client caused (EC2 API Reference, StateReason).
SOURCE_KEY_FAILURE = {
    "Code": "Client.InternalError",
    "Message": "AMI snapshot copy failed with error: Given key ID is not accessible. "
               "You must have DescribeKey permissions on the default CMK",
}


def source_key_failure(account: str, snapshots: list[Any]) -> dict[str, str] | None:
    """The StateReason the copy by `account` of these source snapshots ends
    with, if one of them is encrypted with another account's key that
    `account` may not use for every action the copy needs; else None."""
    for snap in snapshots:
        if not (snap.encrypted and snap.kms_key_id):
            continue
        region = snap.ec2_backend.region_name
        key = kms_keys.find(snap.owner_id, region, snap.kms_key_id)
        if key is None or (key.account_id == account and kms_access.own_account_trusted()):
            continue  # a key of the caller's own, or one gone (moto's lifecycle applies)
        if not usable(account, key, SOURCE_ACTIONS, region):
            return dict(SOURCE_KEY_FAILURE)
    return None


def usable(account: str, key: Any, actions: tuple[str, ...], region: str) -> bool:
    """May `account`, through EC2 in `region`, use `key` for all of `actions`?"""
    via = f"ec2.{region}.amazonaws.com"
    return all(kms_access.allowed(account, key, action, via_service=via) for action in actions)
