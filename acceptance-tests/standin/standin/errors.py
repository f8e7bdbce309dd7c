"""Error bodies in the wire formats AWS SDKs classify.

EC2 and the other query-protocol services answer errors with an XML document;
JSON-protocol services (KMS) with a `__type` field. Using the real shapes
matters: SDKs pick retry behaviour (throttling, transient) from the code.
"""

from __future__ import annotations

import json
import uuid
from xml.sax.saxutils import escape

from moto.ec2.exceptions import EC2ClientError


def ec2_error(code: str, message: str) -> EC2ClientError:
    """An EC2 client error moto renders in the EC2 XML error format."""
    return EC2ClientError(code, message)


def query_error_body(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    ).encode()


def json_error_body(code: str, message: str) -> bytes:
    return json.dumps({"__type": code, "message": message}).encode()
