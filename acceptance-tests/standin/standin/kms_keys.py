"""Which KMS key a request names, in whichever account holds it.

moto keeps each account's keys apart and resolves every KeyId in the
caller's own account, so it never finds another account's key. AWS KMS finds
another account's key only by its key ARN or alias ARN (API Reference, the
"Cross-account use" note of each operation; DescribeKey, KeyId); a key id or
an alias name always means a key of the caller's own account, in the Region
the request is sent to.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from moto.kms import kms_backends
from moto.kms.utils import KEY_ID_LEN

# The root user of an account, as policies and grants name a whole account.
ROOT_ARN = "arn:aws:iam::{}:root"


def root_arn(account: str) -> str:
    return ROOT_ARN.format(account)


def named_account(key_id: str | None, caller: str) -> str:
    """The account a KeyId names: the one in a key or alias ARN, else the caller's."""
    parts = (key_id or "").split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "kms" and parts[4]:
        return parts[4]
    return caller


def find(caller: str, region: str, key_id: str | None) -> Any | None:
    """The key (moto's Key) that `key_id` names for `caller` in `region`, or None.
    An ARN of another Region names no key there."""
    if not key_id:
        return None
    if key_id.startswith("arn:"):
        parts = key_id.split(":", 5)
        if len(parts) != 6 or parts[3] != region:
            return None
    backend = _backend(named_account(key_id, caller), region)
    if backend is None:
        return None
    try:
        return backend.keys.get(backend.any_id_to_key_id(key_id))
    except (AttributeError, KeyError, TypeError):  # an alias that names no key
        return None


def key_of_ciphertext(region: str, blob: str | None) -> Any | None:
    """The key a (base64) CiphertextBlob was made with, in any account of `region`.
    moto's ciphertext starts with the key id; AWS's carries the key too, which is
    how Decrypt finds a symmetric key without a KeyId."""
    try:
        raw = base64.b64decode(blob or "", validate=True)
        key_id = raw[:KEY_ID_LEN].decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    for backend in region_backends(region):
        key = backend.keys.get(key_id)
        if key is not None:
            return key
    return None


def region_backends(region: str) -> Iterator[Any]:
    """Every account's KMS backend that exists in `region` (creates none)."""
    for per_region in list(dict.values(kms_backends)):
        backend = dict.get(per_region, region)
        if backend is not None:
            yield backend


def _backend(account: str, region: str) -> Any | None:
    per_region = dict.get(kms_backends, account)
    return dict.get(per_region, region) if per_region is not None else None
