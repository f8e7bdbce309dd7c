"""The WSGI middleware in front of moto's multi-service server app.

Every AWS request passes through here first: it is attributed to an account
and a region, counted, logged with its time, possibly faulted, and only then
handed to (patched) moto. Requests under /_standin/ are the admin API and
never reach moto.

In strict mode (options.py) there is no admin API, nor moto's own
/moto-api/: both answer 404. Every AWS request passes strict mode's gate
(strict/gate.py) before it reaches the layer and moto.

With --ec2-token-buckets an EC2 request whose bucket is empty is answered
RequestLimitExceeded here (throttling.py), before the gate and moto. A KMS
request's GrantTokens are kept for the grant checks it leads to
(kms_grants.REQUEST_TOKENS, for --consistency-lag).

With --call-log FILE every AWS request, however it was answered, is also
appended to FILE as one JSON line (call_log_file.py).
"""

from __future__ import annotations

import io
import json
import re
import socket
import struct
import time
from typing import Any

from . import admin, call_log_file, kms_api, kms_grants, lifecycle, protocols, rbin, state, throttling
from .accounts import access_key_of, account_of, is_account_id
from .errors import (
    JSON_CONTENT_TYPE,
    REST_JSON_CONTENT_TYPE,
    XML_CONTENT_TYPE,
    aws_query_error_body,
    ec2_error_body,
    json_error_body,
)
from .options import Options
from .state import LOCK, Fault, empty_answer_body

# Paths that steer the stand-in itself rather than act as AWS.
_CONTROL_PATHS = ("/_standin/", "/moto-api/")


class StandinApp:
    def __init__(self, moto_app, options: Options | None = None) -> None:
        self.moto_app = moto_app
        self.options = options or Options()
        self.call_log = call_log_file.CallLogFile(self.options.call_log) if self.options.call_log else None

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if self.options.strict and path.startswith(_CONTROL_PATHS):
            from .strict import errors as strict_errors

            return strict_errors.respond_plain(start_response, 404, {"error": "no such route in strict mode"})
        if path.startswith("/_standin/"):
            return admin.handle(environ, start_response)
        if self.call_log is not None:
            return self.call_log.record(environ, start_response,
                                        lambda answer: self._serve_aws(environ, answer))
        return self._serve_aws(environ, start_response)

    def _serve_aws(self, environ, start_response):
        if self.options.strict:
            from .strict import gate

            try:
                return self._serve(environ, start_response, gate)
            finally:
                gate.finish()
        return self._serve(environ, start_response, None)

    def _serve(self, environ, start_response, gate):
        """Serve one AWS request; `gate` is strict mode's (None in the default mode)."""
        body = _read_body(environ)
        request = protocols.classify(environ, body)
        access_key = access_key_of(environ)
        if gate is not None:
            # Only the access key says which account acts: a client cannot pick one by header.
            environ.pop("HTTP_X_MOTO_ACCOUNT_ID", None)
        if access_key is not None and is_account_id(access_key):
            # moto only maps keys it issued itself; a 12-digit key names its account.
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = access_key
        account = account_of(access_key)

        with LOCK:
            state.STATE.count_call(account, request.action)
            fault = state.STATE.pick_fault(request.action, account, request.params)
            # A call a fault answers never reached EC2, so it takes no token.
            answered_by_fault = fault is not None and bool(
                fault.error_code or fault.drop_connection or fault.empty_answer)
            throttled = (not answered_by_fault and request.protocol == protocols.EC2 and throttling.enabled()
                         and not throttling.admit(account, request.region, request.action, request.params))
            entry = _log_entry(account, request, fault, throttled)
            state.STATE.log_call(entry)
            environ[call_log_file.ENTRY_KEY] = entry
        if fault is not None:
            answered = _apply_fault(fault, environ, start_response, request)
            if answered is not None:
                return answered
        if throttled:
            return _respond_error(start_response, 503, "Service Unavailable",
                                  ec2_error_body("RequestLimitExceeded", throttling.MESSAGE))
        if request.protocol == protocols.JSON:
            return self._with_grant_tokens(body, lambda: self._forward(environ, start_response, request,
                                                                        account, body, gate))
        return self._forward(environ, start_response, request, account, body, gate)

    @staticmethod
    def _with_grant_tokens(body: bytes, serve):
        """Serve with the request's GrantTokens known to the grant checks."""
        try:
            document = json.loads(body) if body.strip() else {}
            tokens = document.get("GrantTokens") if isinstance(document, dict) else None
        except ValueError:
            tokens = None
        names = frozenset(t for t in tokens if isinstance(t, str)) if isinstance(tokens, list) else frozenset()
        reset = kms_grants.REQUEST_TOKENS.set(names)
        try:
            return serve()
        finally:
            kms_grants.REQUEST_TOKENS.reset(reset)

    def _forward(self, environ, start_response, request: protocols.Request, account: str, body: bytes, gate):
        """The gate (strict mode), the layer's own answers, then moto."""
        with LOCK:
            lifecycle.tick()
            if gate is not None:
                answered = gate.handle(environ, start_response, request, body)
                if answered is not None:
                    return answered
            if request.protocol == protocols.REST_JSON:
                # moto 5.2.5 has no Recycle Bin (it answers HTTP 500); the layer does.
                return rbin.handle(start_response, request, account, body, environ.get("PATH_INFO", ""))
            if kms_api.is_kms(environ):
                # Grants, and other accounts' keys, which moto cannot see (kms_api.py).
                answered = kms_api.handle(environ, start_response, request, account, body)
                if answered is not None:
                    return answered
            # Drain moto's response inside the lock: its backends are not thread-safe.
            return list(self.moto_app(environ, start_response))


_FILTER_NAME = re.compile(r"Filter\.(\d+)\.Name$")
_FILTER_VALUE = re.compile(r"Filter\.(\d+)\.Value\.\d+$")
# What the call log counts per action: log key -> the wire name of a list parameter.
_LISTS = {
    "DescribeImages": {"image_ids": "ImageId", "executable_users": "ExecutableBy"},
    "DescribeSnapshots": {"snapshot_ids": "SnapshotId", "restorable_by": "RestorableBy"},
}


def _log_entry(account: str, request: protocols.Request, fault: Fault | None,
               throttled: bool = False) -> dict[str, Any]:
    """One call for GET /_standin/call_log. `faulted`: a fault answered or dropped
    it (a latency-only fault lets it through, so it is not faulted); `throttled`:
    --ec2-token-buckets answered it RequestLimitExceeded."""
    entry: dict[str, Any] = {
        "t": state.now(),
        "wall": state.epoch_now(),
        "account": account,
        "region": request.region,
        "service": request.service,
        "action": request.action,
        "faulted": fault is not None and bool(fault.error_code or fault.drop_connection),
        "throttled": throttled,
    }
    lists = _LISTS.get(request.action or "")
    if lists is not None:
        entry.update(_describe_size(request.params, lists))
    return entry


def _describe_size(params: dict[str, str], lists: dict[str, str]) -> dict[str, Any]:
    """How many entries each counted list parameter has, how many values each
    filter has (by filter name), the MaxResults asked for (None: none) and
    whether a NextToken was sent, e.g. {"image_ids": 0, "executable_users": 0,
    "filter_values": {"image-id": 40}, "max_results": None, "next_token": False}."""
    names = {m.group(1): v for k, v in params.items() if (m := _FILTER_NAME.match(k))}
    values: dict[str, int] = {}
    for key in params:
        match = _FILTER_VALUE.match(key)
        if match:
            name = names.get(match.group(1), "")
            values[name] = values.get(name, 0) + 1
    counts: dict[str, Any] = {
        log_key: sum(1 for k in params if re.fullmatch(rf"{wire}\.\d+", k))
        for log_key, wire in lists.items()
    }
    counts["filter_values"] = values
    raw = params.get("MaxResults")
    counts["max_results"] = int(raw) if raw is not None and raw.isdigit() else raw
    counts["next_token"] = bool(params.get("NextToken"))
    return counts


def _respond_error(start_response, status: int, reason: str, body: bytes) -> list[bytes]:
    start_response(f"{status} {reason}", [("Content-Type", XML_CONTENT_TYPE), ("Content-Length", str(len(body)))])
    return [body]


def _read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _apply_fault(fault: Fault, environ, start_response, request: protocols.Request):
    """Delay, drop or answer with an error; None lets the request through."""
    if fault.latency_seconds:
        time.sleep(fault.latency_seconds)
    if fault.drop_connection:
        _drop(environ)
    if fault.empty_answer:
        body = empty_answer_body(request.action)
        start_response("200 OK", [("Content-Type", XML_CONTENT_TYPE), ("Content-Length", str(len(body)))])
        return [body]
    if not fault.error_code:
        return None
    body, content_type = _error_document(fault, request)
    start_response(
        f"{fault.http_status} Injected",
        [("Content-Type", content_type), ("Content-Length", str(len(body)))],
    )
    return [body]


def _error_document(fault: Fault, request: protocols.Request) -> tuple[bytes, str]:
    """The fault as the request's own service would answer it, so its SDK parses the code."""
    code = fault.error_code or ""
    message = fault.message or f"Injected fault: {code}"
    if request.protocol == protocols.JSON:
        return json_error_body(code, message), JSON_CONTENT_TYPE
    if request.protocol == protocols.REST_JSON:
        return json_error_body(code, message), REST_JSON_CONTENT_TYPE
    if request.protocol == protocols.AWS_QUERY:
        body = aws_query_error_body(code, message, fault.http_status, request.xml_namespace())
        return body, XML_CONTENT_TYPE
    return ec2_error_body(code, message), XML_CONTENT_TYPE


def _drop(environ) -> None:
    """Reset the TCP connection without any response, like a network failure."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        # Linger 0 makes the final close a RST; shutdown() ends the exchange at
        # once even though werkzeug still holds file objects on the socket.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    # werkzeug treats ConnectionError as "client went away" and writes nothing.
    raise ConnectionResetError("standin: injected dropped connection")
