"""The strict-mode gate every AWS request passes before the service sees it.

In order: who calls (principals.py; unknown keys are refused), whether the
principal may (IAM policy evaluation per service: EC2, KMS, STS, Recycle
Bin, SSM), then the few answers strict mode gives itself (block public
access, GetCallerIdentity, DecodeAuthorizationMessage) and the block public
access refusals. Anything else goes on to the patch layer and moto.

IAM, Organizations and any other service only need a known principal: their
own actions are not evaluated against IAM policies (README, gaps).
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from .. import protocols
from ..protocols import Request
from . import bpa, context, ec2_resources, errors, identity, kms_request, other_resources, sts, sts_api
from .errors import Refusal
from .policy import Query
from .principals import AuthFailure, Principal, resolve

EC2_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"


def handle(environ: dict, start_response, request: Request, body: bytes) -> list[bytes] | None:
    """A refusal or strict mode's own answer; None lets the request through."""
    try:
        try:
            principal = resolve(environ, body)
        except AuthFailure as failure:
            raise errors.auth_failure(request, failure.reason) from None
        context.CURRENT.set(principal)
        authorize(principal, request, environ, body)
        if request.protocol == protocols.EC2 and request.action in bpa.ACTIONS:
            return _ec2_answer(start_response, request.action, bpa.answer(request, principal.account))
        if request.protocol == protocols.EC2:
            bpa.check_share(request, principal.account)
        if request.service == "sts" and request.action in sts_api.ANSWERED:
            return sts_api.answer(start_response, request, principal)
    except Refusal as refusal:
        return errors.respond(start_response, request, refusal)
    return None


def finish() -> None:
    """Forget the request's principal once it has been answered."""
    context.CURRENT.set(None)


def authorize(principal: Principal, request: Request, environ: dict, body: bytes) -> None:
    """Raise the service's access-denied Refusal unless the principal may make the request."""
    service = request.service
    if request.protocol == protocols.EC2:
        targets = ec2_resources.targets(request.action, request.params, request.region, principal.account)
    elif service == "kms":
        return kms_request.check(principal, request, body, environ)
    elif service == "sts" and request.action == "AssumeRole":
        return sts.check_assume_role(principal, request, environ)
    elif service == "sts":
        targets = other_resources.sts_targets(request)
    elif service == "rbin":
        targets = other_resources.rbin_targets(request, principal.account, environ.get("PATH_INFO", ""), body)
    elif service == "ssm":
        targets = other_resources.ssm_targets(request, principal.account, body)
    else:
        return None
    base = context.global_keys(principal, request.region, environ)
    for target in targets:
        query = Query(target.action, target.resource, context.merge(base, target.keys))
        outcome = identity.decide(principal, query)
        if not outcome.allowed:
            details = errors.decoded_message(False, outcome.explicit, principal.user_id, principal.arn,
                                             target.action, target.resource, query.context,
                                             outcome.statements)
            raise errors.denied(request, principal.arn, target.action, target.resource,
                                outcome.reason(target.action), details)
    return None


def _ec2_answer(start_response, action: str, fields: dict[str, str]) -> list[bytes]:
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{EC2_NAMESPACE}">'
            f"<requestId>{uuid.uuid4()}</requestId>{inner}</{action}Response>").encode()
    start_response("200 OK", [("Content-Type", "text/xml;charset=UTF-8"), ("Content-Length", str(len(body)))])
    return [body]

