"""Signature Version 4 verification for the keys whose secret the stand-in
knows: IAM users' access keys and role sessions' temporary keys.

IAM User Guide, "AWS Signature Version 4 for API requests" ("Create a
canonical request", "Create a string to sign", "Calculate the signature"):
the canonical request is the method, the URI path encoded once more (every
service here but S3), the query parameters encoded and sorted, the signed
headers (lower-cased names, trimmed values), the signed header names, and
the payload's SHA-256 (or the x-amz-content-sha256 header); it is signed with
a key derived from the secret, date, Region and service.

A 12-digit root key has no secret (any secret signs for that account), and a
presigned request (credentials in the query string) is not verified; the
request time is not checked against the clock (README, gaps).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import quote, unquote

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<headers>[^,\s]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]+)\s*$")


def signed_by(environ: dict, body: bytes, secret: str) -> bool:
    """Whether the request's Authorization header was made with `secret`
    (True when the request carries no SigV4 Authorization header)."""
    match = _AUTHORIZATION.match(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        return "HTTP_AUTHORIZATION" not in environ
    key_id, date, region, service, _ = (match.group("credential").split("/") + [""] * 5)[:5]
    names = match.group("headers").split(";")
    timestamp = _header(environ, "x-amz-date")
    canonical = "\n".join([
        environ.get("REQUEST_METHOD", "GET").upper(),
        _canonical_path(environ),
        _canonical_query(environ),
        "".join(f"{name}:{_header(environ, name)}\n" for name in names),
        ";".join(names),
        _header(environ, "x-amz-content-sha256") or hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", timestamp, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group("signature"))


def _header(environ: dict, name: str) -> str:
    special = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
    value = environ.get(special.get(name) or "HTTP_" + name.upper().replace("-", "_"), "")
    return " ".join(str(value).split())


def _canonical_path(environ: dict) -> str:
    """The path as sent (encoded once by the client), encoded a second time."""
    raw = environ.get("RAW_URI") or quote(environ.get("PATH_INFO", "/"))
    return quote(raw.split("?", 1)[0] or "/", safe="/~")


def _canonical_query(environ: dict) -> str:
    pairs = []
    for item in filter(None, environ.get("QUERY_STRING", "").split("&")):
        key, _, value = item.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))
