"""Which AWS account a request acts in.

Tests address accounts by using the 12-digit account id as the access key id
(moto's documented convention for the x-moto-account-id header is awkward for
SDK clients, so the layer turns such keys into that header). Any other key is
resolved by moto itself: temporary keys issued by STS AssumeRole live in the
role account's IAM backend, so they act in the role's account.
"""

from __future__ import annotations

import re

from moto.core import DEFAULT_ACCOUNT_ID

_SIGV4_KEY = re.compile(r"Credential=([^/,\s]+)/")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def access_key_of(environ: dict) -> str | None:
    match = _SIGV4_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else None


def account_of(access_key: str | None) -> str:
    if access_key is None:
        return DEFAULT_ACCOUNT_ID
    if _ACCOUNT_ID.match(access_key):
        return access_key
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


def is_account_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ACCOUNT_ID.match(value))
