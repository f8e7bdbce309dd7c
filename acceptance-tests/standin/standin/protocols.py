"""Which AWS service a request is for, and so which wire protocol it speaks.

Every service shares the stand-in's one endpoint, so the Host header does not
name the service. The SigV4 credential scope does ("Signature Version 4":
`Credential=KEY/DATE/REGION/SERVICE/aws4_request`), and every SDK signs its
requests; the Host, the X-Amz-Target header and the query API Version are
fall-backs for unsigned requests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs

EC2 = "ec2"  # ec2Query: <Response><Errors><Error>
AWS_QUERY = "awsQuery"  # STS, IAM, ...: <ErrorResponse><Error><Type>
JSON = "json"  # KMS, ...: {"__type": ...}

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request")
_AWS_HOST = re.compile(r"^([a-z0-9-]+)(?:\.[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?(?::\d+)?$")
# API versions of the query services the product calls, for unsigned requests.
_SERVICE_OF_VERSION = {"2016-11-15": "ec2", "2011-06-15": "sts", "2010-05-08": "iam"}


@dataclass(frozen=True)
class Request:
    action: str
    service: str | None
    protocol: str
    version: str | None

    def xml_namespace(self) -> str | None:
        """The awsQuery document namespace, e.g. https://sts.amazonaws.com/doc/2011-06-15/."""
        if self.service and self.version:
            return f"https://{self.service}.amazonaws.com/doc/{self.version}/"
        return None


def classify(environ: dict, body: bytes) -> Request:
    target = environ.get("HTTP_X_AMZ_TARGET")
    content_type = environ.get("CONTENT_TYPE", "")
    params = _query_params(environ, body)
    service = _service_of(environ, params)
    if target or content_type.startswith("application/x-amz-json"):
        action = target.rsplit(".", 1)[-1] if target else "Unknown"
        return Request(action, service, JSON, None)
    action = params.get("Action", "Unknown")
    # A request naming no service is taken as EC2's, the stand-in's main service.
    protocol = AWS_QUERY if service not in (None, "ec2") else EC2
    return Request(action, service, protocol, params.get("Version"))


def _service_of(environ: dict, params: dict[str, str]) -> str | None:
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if scope:
        return scope.group(1).lower()
    host = _AWS_HOST.match(environ.get("HTTP_HOST", "").lower())
    if host:
        return host.group(1)
    return _SERVICE_OF_VERSION.get(params.get("Version", ""))


def _query_params(environ: dict, body: bytes) -> dict[str, str]:
    """First value of each query-string and form-body parameter."""
    params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if body and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        form = parse_qs(body.decode("utf-8", "replace"))
        params.update({k: v[0] for k, v in form.items()})
    return params
