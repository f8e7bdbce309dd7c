"""Strict mode's refusals, each in the error its service documents.

- An unknown, inactive or missing access key, or a signature the key's
  secret did not make: EC2 answers `AuthFailure` ("Error codes for the Amazon
  EC2 API", HTTP 401); the other services `InvalidClientTokenId` (HTTP 403),
  `SignatureDoesNotMatch` (HTTP 403) for a wrong signature, or
  `MissingAuthenticationToken` when the request is not signed at all
  ("Common Errors" of each API Reference).
- A denied action: EC2 `UnauthorizedOperation` (HTTP 403) with an encoded
  authorization message that STS DecodeAuthorizationMessage decodes
  (sts_api.py); KMS `AccessDeniedException` (HTTP 400, KMS API Reference);
  STS `AccessDenied` (HTTP 403, AssumeRole); Recycle Bin and SSM
  `AccessDeniedException`. Messages take IAM's form ("Troubleshoot access
  denied error messages"): "User: ARN is not authorized to perform: ACTION on
  resource: RESOURCE because no identity-based policy allows the ACTION action".

The stand-in's encoded message is base64 of the decoded JSON (AWS's is
opaque); its fields are those the DecodeAuthorizationMessage reference
describes: allowed, explicitDeny, matchedStatements, failures, context.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import protocols
from ..errors import (
    JSON_CONTENT_TYPE,
    REST_JSON_CONTENT_TYPE,
    XML_CONTENT_TYPE,
    aws_query_error_body,
    ec2_error_body,
    json_error_body,
)
from ..protocols import Request

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


@dataclass
class Refusal(Exception):
    """An answer strict mode gives instead of the service."""

    code: str
    message: str
    status: int = 400
    details: dict = field(default_factory=dict)  # for the EC2 encoded message


def auth_failure(request: Request, reason: str) -> Refusal:
    if request.protocol == protocols.EC2:
        return Refusal("AuthFailure", "AWS was not able to validate the provided access credentials", 401)
    if reason == "missing":
        return Refusal("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
    if reason == "signature":
        return Refusal("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                       "signature you provided. Check your AWS Secret Access Key and signing method.", 403)
    return Refusal("InvalidClientTokenId", "The security token included in the request is invalid.", 403)


def denied(request: Request, principal_arn: str, action: str, resource: str, because: str,
           details: dict | None = None) -> Refusal:
    message = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {because}"
    service = request.service or ""
    if request.protocol == protocols.EC2:
        encoded = base64.b64encode(json.dumps(details or {}, sort_keys=True).encode()).decode()
        return Refusal("UnauthorizedOperation", f"You are not authorized to perform this operation. {message}. "
                       f"Encoded authorization failure message: {encoded}", 403)
    if service == "kms":
        return Refusal("AccessDeniedException", message, 400)
    if request.protocol == protocols.AWS_QUERY:
        return Refusal("AccessDenied", message, 403)
    return Refusal("AccessDeniedException", message, 403 if request.protocol == protocols.REST_JSON else 400)


def decoded_message(allowed: bool, explicit: bool, principal_id: str, principal_arn: str, action: str,
                    resource: str, keys: Mapping[str, list[str]], statements: tuple = ()) -> dict:
    """The document DecodeAuthorizationMessage answers for one refusal."""
    return {
        "allowed": allowed,
        "explicitDeny": explicit,
        "matchedStatements": {"items": [
            {k: v for k, v in s.items() if not k.startswith("_")} for s in statements]},
        "failures": {"items": []},
        "context": {
            "principal": {"id": principal_id, "arn": principal_arn},
            "action": action,
            "resource": resource,
            "conditions": {"items": [{"key": k, "values": {"items": [{"value": v} for v in values]}}
                                     for k, values in sorted(keys.items())]},
        },
    }


def respond(start_response, request: Request, refusal: Refusal) -> list[bytes]:
    if request.protocol == protocols.EC2:
        body, content_type = ec2_error_body(refusal.code, refusal.message), XML_CONTENT_TYPE
    elif request.protocol == protocols.AWS_QUERY:
        body = aws_query_error_body(refusal.code, refusal.message, refusal.status, request.xml_namespace())
        content_type = XML_CONTENT_TYPE
    elif request.protocol == protocols.REST_JSON:
        body, content_type = json_error_body(refusal.code, refusal.message), REST_JSON_CONTENT_TYPE
    else:
        body, content_type = json_error_body(refusal.code, refusal.message), JSON_CONTENT_TYPE
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if request.protocol == protocols.REST_JSON:
        headers.append(("x-amzn-ErrorType", refusal.code))  # restJson1 reads the code from here too
    start_response(f"{refusal.status} {_REASONS.get(refusal.status, 'Error')}", headers)
    return [body]


def respond_plain(start_response, status: int, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(f"{status} {_REASONS.get(status, 'Error')}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
