"""Error bodies in the wire formats AWS SDKs classify.

Each AWS protocol has its own error document, and SDKs parse only their
service's one: EC2 (ec2Query) answers `<Response><Errors><Error>`; STS, IAM
and the other awsQuery services answer `<ErrorResponse><Error><Type>`
(Smithy, "AWS query protocol", Operation error serialization); JSON-protocol
services (KMS) and restJson1 services (Recycle Bin) answer a `__type` field
(Smithy, "AWS restJson1 protocol": the code may come in the body). The shape matters: an SDK that cannot
parse the body sees no error code, so it neither reports nor retries the
error as what it is (throttling, transient).
"""

from __future__ import annotations

import json
import uuid
from xml.sax.saxutils import escape, quoteattr

from moto.ec2.exceptions import EC2ClientError

# Query protocols send errors as XML; JSON protocols as JSON.
XML_CONTENT_TYPE = "text/xml;charset=UTF-8"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
REST_JSON_CONTENT_TYPE = "application/json"


def ec2_error(code: str, message: str) -> EC2ClientError:
    """An EC2 client error moto renders in the EC2 XML error format."""
    return EC2ClientError(code, message)


def ec2_error_body(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()


def aws_query_error_body(code: str, message: str, http_status: int, namespace: str | None) -> bytes:
    """The awsQuery error document. Type names who is at fault: the service
    (Receiver) for a 5xx answer, the caller (Sender) otherwise."""
    fault = "Receiver" if http_status >= 500 else "Sender"
    xmlns = f" xmlns={quoteattr(namespace)}" if namespace else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<ErrorResponse{xmlns}><Error><Type>{fault}</Type>"
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()


def json_error_body(code: str, message: str) -> bytes:
    return json.dumps({"__type": code, "message": message}).encode()
