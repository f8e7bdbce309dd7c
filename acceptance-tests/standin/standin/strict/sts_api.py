"""STS actions strict mode answers itself (AWS STS API Reference):

- GetCallerIdentity: the principal as strict mode knows it (moto names a
  12-digit key's caller `user/moto`; AWS names the root user
  `arn:aws:iam::ACCOUNT:root`, with the account id as UserId);
- DecodeAuthorizationMessage: the document behind an EC2
  UnauthorizedOperation's encoded message (errors.py), as DecodedMessage;
  a message that is not one is InvalidAuthorizationMessageException.

Both answer in the request's protocol (awsQuery XML, or JSON for an SDK
that speaks the JSON protocol to STS).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from xml.sax.saxutils import escape

from .. import protocols
from ..protocols import Request
from .errors import Refusal
from .principals import Principal

ANSWERED = frozenset({"GetCallerIdentity", "DecodeAuthorizationMessage"})


def answer(start_response, request: Request, principal: Principal) -> list[bytes]:
    if request.action == "GetCallerIdentity":
        result = {"UserId": principal.user_id, "Account": principal.account, "Arn": principal.arn}
    else:
        result = {"DecodedMessage": _decode(request.params.get("EncodedMessage", ""))}
    if request.protocol == protocols.AWS_QUERY:
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in result.items())
        namespace = request.xml_namespace() or "https://sts.amazonaws.com/doc/2011-06-15/"
        body = (f'<{request.action}Response xmlns="{namespace}"><{request.action}Result>{fields}'
                f"</{request.action}Result><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
                f"</ResponseMetadata></{request.action}Response>").encode()
        content_type = "text/xml"
    else:
        body, content_type = json.dumps(result).encode(), "application/x-amz-json-1.1"
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _decode(encoded: str) -> str:
    try:
        document = json.loads(base64.b64decode(encoded, validate=True))
        if not isinstance(document, dict) or "allowed" not in document:
            raise ValueError("not an authorization message")
    except (binascii.Error, ValueError):
        raise Refusal("InvalidAuthorizationMessageException",
                      "The message is not a valid authorization message.", 400) from None
    return json.dumps(document)
