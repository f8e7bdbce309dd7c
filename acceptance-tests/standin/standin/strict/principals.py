"""Who calls: the principal behind a request's access key, in strict mode.

IAM User Guide, "IAM identities" and "Temporary security credentials": a
request is signed with the access key of an account's root user, of an IAM
user, or of a role session that STS issued (with its session token). In
strict mode only those that exist may call:

- a 12-digit access key id is that account's root user (the stand-in's
  convention for account credentials; the secret is not checked);
- an IAM user's key is one CreateAccessKey issued and that is `Active`;
- a role session's key is one AssumeRole issued; the request must carry its
  session token (X-Amz-Security-Token).

Requests with a user's or a session's key must be signed with its secret
(signature.py); a root key's secret is not known, so it is not checked.

Anything else is refused before any service sees it, with the error the
service documents for an unknown key (errors.py). Everything is read from
moto's IAM and STS backends, so the identities are exactly those created
through the IAM API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from ..accounts import is_account_id
from . import signature

PARTITION = "aws"
ROOT, USER, ROLE_SESSION = "Account", "User", "AssumedRole"  # aws:PrincipalType values

_SIGV4_KEY = re.compile(r"Credential=([^/,\s]+)/")


class AuthFailure(Exception):
    """The request names no principal that exists: `reason` says why, for the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Principal:
    account: str
    kind: str  # ROOT, USER or ROLE_SESSION
    arn: str  # arn:aws:iam::A:root, ...:user/PATH/NAME, arn:aws:sts::A:assumed-role/ROLE/SESSION
    user_id: str  # aws:userid: the account id, the user's id, or ROLEID:SESSION
    name: str | None = None  # the user's name (aws:username)
    role_arn: str | None = None  # a session's role (aws:PrincipalArn of a session)
    session_name: str | None = None
    # AssumeRole's Policy parameter: a session can do only what it also allows.
    session_policy: str | None = None

    @property
    def is_root(self) -> bool:
        return self.kind == ROOT

    @property
    def principal_arn(self) -> str:
        """aws:PrincipalArn: a session is named by its role's ARN."""
        return self.role_arn or self.arn

    def user(self) -> Any | None:
        """The IAM user, read live (a deleted user has no policies left)."""
        backend = iam_backend(self.account)
        return backend.users.get(self.name) if backend is not None and self.kind == USER else None

    def role(self) -> Any | None:
        """The session's role, read live: a role deleted after AssumeRole grants nothing."""
        backend = iam_backend(self.account)
        if backend is None or self.role_arn is None:
            return None
        return next((r for r in backend.roles.values() if r.arn == self.role_arn), None)


def root(account: str) -> Principal:
    return Principal(account, ROOT, f"arn:{PARTITION}:iam::{account}:root", account)


def access_key_of(environ: dict) -> str | None:
    """The access key id a request is signed with: the Authorization header, or
    the X-Amz-Credential query parameter of a presigned request."""
    match = _SIGV4_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1)
    credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential")
    return credential[0].split("/", 1)[0] if credential else None


def session_token_of(environ: dict) -> str | None:
    token = environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
    if token:
        return token
    query = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Security-Token")
    return query[0] if query else None


def resolve(environ: dict, body: bytes = b"") -> Principal:
    """The principal that signed the request, or AuthFailure."""
    key = access_key_of(environ)
    if not key:
        raise AuthFailure("missing")
    if is_account_id(key):
        return root(key)
    for account, backend in _iam_backends():
        access_key = backend.access_keys.get(key)
        if access_key is None:
            continue
        if not signature.signed_by(environ, body, access_key.secret_access_key):
            raise AuthFailure("signature")
        if access_key.user_name is not None:
            return _user(account, backend, access_key)
        return _session(account, key, session_token_of(environ))
    raise AuthFailure("unknown")


def iam_backend(account: str) -> Any | None:
    """The account's IAM backend if it exists; never creates one (an unknown
    account has no users or roles)."""
    per_partition = dict.get(iam_backends, account)
    return dict.get(per_partition, PARTITION) if per_partition is not None else None


def _iam_backends():
    for account, per_partition in list(dict.items(iam_backends)):
        backend = dict.get(per_partition, PARTITION)
        if backend is not None:
            yield account, backend


def _user(account: str, backend: Any, access_key: Any) -> Principal:
    user = backend.users.get(access_key.user_name)
    if user is None or access_key.status != "Active":
        raise AuthFailure("inactive")
    return Principal(account, USER, user.arn, user.id, name=user.name)


def _session(account: str, key: str, token: str | None) -> Principal:
    per_partition = dict.get(sts_backends, account)
    backend = dict.get(per_partition, PARTITION) if per_partition is not None else None
    session = backend.get_assumed_role_from_access_key(key) if backend is not None else None
    if session is None:
        raise AuthFailure("unknown")
    if token != session.session_token:
        raise AuthFailure("token")
    return Principal(account, ROLE_SESSION, session.arn, session.user_id,
                     role_arn=session.role_arn, session_name=session.session_name,
                     session_policy=session.policy or None)
