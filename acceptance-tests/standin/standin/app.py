"""The WSGI middleware in front of moto's multi-service server app.

Every AWS request passes through here first: it is attributed to an account,
counted, possibly faulted, and only then handed to (patched) moto. Requests
under /_standin/ are the admin API and never reach moto.
"""

from __future__ import annotations

import io
import socket
import struct
import time
from urllib.parse import parse_qs

from . import admin, lifecycle
from .accounts import access_key_of, account_of, is_account_id
from .errors import json_error_body, query_error_body
from .state import LOCK, Fault
from . import state


class StandinApp:
    def __init__(self, moto_app) -> None:
        self.moto_app = moto_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_standin/"):
            return admin.handle(environ, start_response)

        body = _read_body(environ)
        action, json_protocol = _action_of(environ, body)
        access_key = access_key_of(environ)
        if access_key is not None and is_account_id(access_key):
            # moto only maps keys it issued itself; a 12-digit key names its account.
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = access_key
        account = account_of(access_key)

        with LOCK:
            state.STATE.count_call(account, action)
            fault = state.STATE.pick_fault(action, account)
        if fault is not None:
            answered = _apply_fault(fault, environ, start_response, json_protocol)
            if answered is not None:
                return answered

        with LOCK:
            lifecycle.tick()
            # Drain moto's response inside the lock: its backends are not thread-safe.
            return list(self.moto_app(environ, start_response))


def _read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _action_of(environ, body: bytes) -> tuple[str, bool]:
    """The API action name, and whether the service speaks the JSON protocol."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1], True
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0], False
    if body and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0], False
    return "Unknown", False


def _apply_fault(fault: Fault, environ, start_response, json_protocol: bool):
    """Delay, drop or answer with an error; None lets the request through."""
    if fault.latency_seconds:
        time.sleep(fault.latency_seconds)
    if fault.drop_connection:
        _drop(environ)
    if not fault.error_code:
        return None
    message = fault.message or f"Injected fault: {fault.error_code}"
    if json_protocol:
        body = json_error_body(fault.error_code, message)
        content_type = "application/x-amz-json-1.1"
    else:
        body = query_error_body(fault.error_code, message)
        content_type = "text/xml;charset=UTF-8"
    start_response(
        f"{fault.http_status} Injected",
        [("Content-Type", content_type), ("Content-Length", str(len(body)))],
    )
    return [body]


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
