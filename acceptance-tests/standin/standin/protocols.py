"""Which AWS service a request is for, and so which wire protocol it speaks.

Every service shares the stand-in's one endpoint, so the Host header does not
name the service. The SigV4 credential scope does ("Signature Version 4":
`Credential=KEY/DATE/REGION/SERVICE/aws4_request`), and every SDK signs its
requests; the Host, the X-Amz-Target header and the query API Version are
fall-backs for unsigned requests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs

EC2 = "ec2"  # ec2Query: <Response><Errors><Error>
AWS_QUERY = "awsQuery"  # STS, IAM, ...: <ErrorResponse><Error><Type>
JSON = "json"  # KMS, ...: {"__type": ...}
REST_JSON = "restJson1"  # Recycle Bin: the action is the method and path; errors are JSON

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_AWS_HOST = re.compile(r"^([a-z0-9-]+)(?:\.[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?(?::\d+)?$")
# Where moto reads the region from, in its order (moto.core.responses, get_region_from_url).
_REGION_IN_HOST = re.compile(r"\.([^.]+)\.amazonaws\.com")
_REGION_IN_USER_AGENT = re.compile(r"region/([a-z]{2}-[a-z]+-\d)")
DEFAULT_REGION = "us-east-1"
# API versions of the query services the product calls, for unsigned requests.
_SERVICE_OF_VERSION = {"2016-11-15": "ec2", "2011-06-15": "sts", "2010-05-08": "iam"}
# restJson1 services the stand-in answers itself: (method, path pattern, action),
# from each service's API Reference (Recycle Bin: "Request Syntax" of each action).
REST_JSON_ROUTES = {
    "rbin": (
        ("POST", r"/rules", "CreateRule"),
        ("POST", r"/list-rules", "ListRules"),
        ("GET", r"/rules/[^/]+", "GetRule"),
        ("DELETE", r"/rules/[^/]+", "DeleteRule"),
        ("PATCH", r"/rules/[^/]+", "UpdateRule"),
        ("PATCH", r"/rules/[^/]+/lock", "LockRule"),
        ("PATCH", r"/rules/[^/]+/unlock", "UnlockRule"),
        ("GET", r"/tags/.+", "ListTagsForResource"),
        ("POST", r"/tags/.+", "TagResource"),
        ("DELETE", r"/tags/.+", "UntagResource"),
    ),
}


@dataclass(frozen=True)
class Request:
    action: str
    service: str | None
    protocol: str
    version: str | None
    region: str = DEFAULT_REGION
    # The request's parameters, one value per name: query-string and form
    # parameters (`ImageId.1`, `Filter.1.Value.2`, `RoleArn`, ...), or the
    # top-level scalar members of a JSON body (`KeyId`).
    params: dict[str, str] = field(default_factory=dict, compare=False)

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
    region = region_of(environ)
    if service in REST_JSON_ROUTES:
        action = rest_json_action(service, environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        return Request(action, service, REST_JSON, None, region, {**params, **_json_params(body)})
    if target or content_type.startswith("application/x-amz-json"):
        action = target.rsplit(".", 1)[-1] if target else "Unknown"
        return Request(action, service, JSON, None, region, {**params, **_json_params(body)})
    action = params.get("Action", "Unknown")
    # A request naming no service is taken as EC2's, the stand-in's main service.
    protocol = AWS_QUERY if service not in (None, "ec2") else EC2
    return Request(action, service, protocol, params.get("Version"), region, params)


def rest_json_action(service: str, method: str, path: str) -> str:
    """The action a restJson1 request names by its method and path, or "Unknown"."""
    for route_method, pattern, action in REST_JSON_ROUTES[service]:
        if method == route_method and re.fullmatch(pattern, path.rstrip("/") or "/"):
            return action
    return "Unknown"


def region_of(environ: dict) -> str:
    """The region moto will act in for this request, found as moto finds it:
    the Host, then the User-Agent, then the SigV4 credential scope."""
    host = _REGION_IN_HOST.search(environ.get("HTTP_HOST", ""))
    if host:
        return host.group(1)
    agent = _REGION_IN_USER_AGENT.search(environ.get("HTTP_USER_AGENT", ""))
    if agent:
        return agent.group(1)
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if scope:
        return scope.group(1)
    return DEFAULT_REGION


def _service_of(environ: dict, params: dict[str, str]) -> str | None:
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if scope:
        return scope.group(2).lower()
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


def _json_params(body: bytes) -> dict[str, str]:
    """Top-level strings, numbers and booleans of a JSON request body, as strings."""
    try:
        document = json.loads(body) if body.strip() else {}
    except ValueError:
        return {}
    if not isinstance(document, dict):
        return {}
    return {
        key: (json.dumps(value) if isinstance(value, bool) else str(value))
        for key, value in document.items()
        if isinstance(value, (str, int, float, bool))
    }
