"""The strict-mode gate every AWS request passes before the service sees it.

In order: who calls (principals.py; unknown keys are refused), whether the
principal may (IAM policy evaluation per service: EC2, KMS, STS, Recycle
Bin, SSM), then the answers strict mode gives itself
(GetCallerIdentity, DecodeAuthorizationMessage). Anything else goes on to the
patch layer and moto.

Other services only need a known principal: their own actions are not
evaluated against IAM policies (README, gaps).
"""

from __future__ import annotations

from .. import protocols
from ..protocols import Request
from . import context, ec2_resources, errors, identity, kms_request, other_resources, sts, sts_api
from .errors import Refusal
from .policy import Query
from .principals import AuthFailure, Principal, resolve


def handle(environ: dict, start_response, request: Request, body: bytes) -> list[bytes] | None:
    """A refusal or strict mode's own answer; None lets the request through."""
    try:
        try:
            principal = resolve(environ, body)
        except AuthFailure as failure:
            raise errors.auth_failure(request, failure.reason) from None
        context.CURRENT.set(principal)
        authorize(principal, request, environ, body)
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

