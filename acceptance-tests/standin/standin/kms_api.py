"""KMS requests (JSON protocol, X-Amz-Target TrentService.ACTION) the layer
answers, checks or redirects before moto sees them.

moto looks every key up in the caller's own account, so on its own another
account's key is never found. Here:

- the grant actions are answered by the layer for every caller
  (kms_grant_api.py), since moto's grants are visible in the key's account only;
- an action on another account's key, named by key or alias ARN (or, for
  Decrypt and ReEncrypt, found from the ciphertext), is checked against that
  key's policy and grants (kms_access.py); once allowed, moto answers it in
  the key's account. ReEncrypt needs kms:ReEncryptFrom on the source key and
  kms:ReEncryptTo on the destination key (API Reference, ReEncrypt); when the
  two keys are in different accounts the layer re-encrypts itself;
- everything else, and every request on the caller's own keys, goes to moto
  unchanged, except that moto's own key policy check (DescribeKey: any Deny
  statement, whatever its Principal) is replaced by kms_policy.py's, for the
  account that really calls (`install`).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.kms import kms_backends
from moto.kms.responses import KmsResponse

from . import kms_access, kms_grant_api, kms_policy
from .errors import JSON_CONTENT_TYPE
from .kms_access import KmsError
from .kms_keys import find, key_of_ciphertext
from .protocols import Request

TARGET_PREFIX = "TrentService."
# Tells moto who really calls when the request is redirected to the key's account.
CALLER_HEADER = "X-Standin-Kms-Caller"
GRANT_ACTIONS = {
    "CreateGrant": kms_grant_api.create_grant,
    "ListGrants": kms_grant_api.list_grants,
    "ListRetirableGrants": kms_grant_api.list_retirable_grants,
    "RevokeGrant": kms_grant_api.revoke_grant,
    "RetireGrant": kms_grant_api.retire_grant,
}
# Actions on the one key KeyId names whose reference says "Cross-account use: Yes".
KEY_ACTIONS = frozenset({
    "DescribeKey", "Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
    "GetPublicKey", "Sign", "Verify", "GenerateMac", "VerifyMac",
})


def is_kms(environ: dict) -> bool:
    return environ.get("HTTP_X_AMZ_TARGET", "").startswith(TARGET_PREFIX)


def handle(environ: dict, start_response, request: Request, caller: str, body: bytes):
    """The answer to a KMS request, or None to let moto answer it (possibly
    redirected to the key's account through environ)."""
    environ.pop("HTTP_X_STANDIN_KMS_CALLER", None)  # only `_act_in` may say who calls
    action = request.action
    if action not in GRANT_ACTIONS and action not in KEY_ACTIONS and action != "ReEncrypt":
        return None
    try:
        doc = json.loads(body) if body.strip() else {}
        if not isinstance(doc, dict):
            raise ValueError("not an object")
        if action in GRANT_ACTIONS:
            return _respond(start_response, 200, GRANT_ACTIONS[action](caller, request.region, doc))
        if action == "ReEncrypt":
            return _re_encrypt(environ, start_response, caller, request.region, doc)
        key = find(caller, request.region, doc.get("KeyId")) if doc.get("KeyId") else (
            key_of_ciphertext(request.region, doc.get("CiphertextBlob")) if action == "Decrypt" else None)
        if key is None or key.account_id == caller:
            return None
        kms_access.check(caller, key, f"kms:{action}", doc.get("EncryptionContext"))
        _act_in(environ, key.account_id, caller)
        return None
    except KmsError as err:
        return _respond(start_response, err.status, {"__type": err.code, "message": err.message})
    except ValueError:
        return _respond(start_response, 400, {"__type": "SerializationException",
                                              "message": "The request body is not a JSON object."})


def _re_encrypt(environ: dict, start_response, caller: str, region: str, doc: dict):
    given = doc.get("SourceKeyId")
    source = find(caller, region, given) if given else key_of_ciphertext(region, doc.get("CiphertextBlob"))
    target = find(caller, region, doc.get("DestinationKeyId"))
    if source is None or target is None or source.account_id == target.account_id == caller:
        return None  # moto answers: its own keys, or an error for a key it cannot find
    kms_access.check(caller, source, "kms:ReEncryptFrom", doc.get("SourceEncryptionContext"))
    kms_access.check(caller, target, "kms:ReEncryptTo", doc.get("DestinationEncryptionContext"))
    if source.account_id == target.account_id:
        _act_in(environ, source.account_id, caller)
        return None
    # The keys are in two accounts, which no one moto backend holds.
    try:
        blob = base64.b64decode(doc.get("CiphertextBlob") or "", validate=True)
        plaintext, source_arn = kms_backends[source.account_id][region].decrypt(
            blob, doc.get("SourceEncryptionContext") or {})
        if source_arn != source.arn:
            raise KmsError("IncorrectKeyException", "The key ID in the request does not identify a "
                           "KMS key that can perform this operation.")
        ciphertext, target_arn = kms_backends[target.account_id][region].encrypt(
            target.id, plaintext, doc.get("DestinationEncryptionContext") or {})
    except binascii.Error:
        raise KmsError("InvalidCiphertextException", "The ciphertext is not valid base64.") from None
    except JsonRESTError as err:
        return _respond(start_response, err.code, {"__type": err.error_type, "message": err.message})
    return _respond(start_response, 200, {
        "CiphertextBlob": base64.b64encode(ciphertext).decode(), "KeyId": target_arn,
        "SourceKeyId": source_arn, "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    })


def _act_in(environ: dict, account: str, caller: str) -> None:
    """Make moto answer in `account` (the key's), where the key is (moto reads
    this header first); remember the real caller for `_validate_key_policy`."""
    environ["HTTP_X_STANDIN_KMS_CALLER"] = caller
    environ["HTTP_X_MOTO_ACCOUNT_ID"] = account


def _validate_key_policy(self: KmsResponse, key_id: str, action: str) -> None:
    """moto refuses DescribeKey for any Deny statement, even one naming another
    principal; AWS applies a statement only to the principals it names
    ("Key policies"), so only a Deny that applies to the caller refuses it."""
    caller = self.headers.get(CALLER_HEADER) or self.current_account
    key = self.kms_backend.describe_key(self.kms_backend.get_key_id(key_id))
    context = kms_access.request_context(caller, None)
    if kms_policy.evaluate(key.policy, caller, action, key.arn, context) == kms_policy.DENY:
        denial = kms_access.denied(caller, action, key.arn, explicit=True)
        raise JsonRESTError(denial.code, denial.message)


def install() -> None:
    KmsResponse._validate_key_policy = _validate_key_policy


def _respond(start_response, status: int, payload: Any):
    data = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 412: "Precondition Failed"}.get(status, "Error")
    start_response(f"{status} {reason}", [("Content-Type", JSON_CONTENT_TYPE),
                                          ("Content-Length", str(len(data))),
                                          ("x-amzn-RequestId", str(uuid.uuid4()))])
    return [data]
