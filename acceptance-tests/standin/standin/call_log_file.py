"""`--call-log FILE` (options.py): one JSON line per AWS request answered.

A run's figures (calls per copy, polls per minute, throttles, retries) must
come from somewhere in strict mode, where no admin route can be read; so
the stand-in appends them to a file that only the one who started it reads.
The server never reads the file back: it is an output, not a route.

Each line is the call log entry of GET /_standin/call_log (app._log_entry:
`t` on the stand-in's monotonic clock at arrival, `wall`, account, region,
service, action, faulted, throttled and, for DescribeImages and
DescribeSnapshots, the sizes of their lists and filters) plus how it was
answered: `status` (the HTTP status; null when a fault dropped the
connection), `error` (the error code of a 4xx/5xx answer, null otherwise)
and `attempt` (the SDK's attempt number from its `amz-sdk-request:
attempt=N; max=M` header; null when the client sent none), so retries are
the lines with `attempt` > 1. Admin routes are not logged.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

# Where app.py leaves a request's call log entry for the recorder.
ENTRY_KEY = "standin.call_log_entry"

_XML_CODE = re.compile(rb"<Code>([^<]+)</Code>")
_ATTEMPT = re.compile(r"attempt=(\d+)")

StartResponse = Callable[..., Any]


class CallLogFile:
    """Appends one line per answered AWS request to `path` (created if missing)."""

    def __init__(self, path: str) -> None:
        # Opened at start-up, so a path that cannot be written stops the server
        # before it serves, and held for the life of the process (no context
        # manager); line-buffered, so every answered call is on disk at once.
        self._handle = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._lock = threading.Lock()

    def record(self, environ: dict[str, Any], start_response: StartResponse,
               serve: Callable[[StartResponse], Iterable[bytes]]) -> Iterable[bytes]:
        """Serve the request with `serve` and log how it was answered."""
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            answer["status"] = int(status.split(" ", 1)[0])
            answer["headers"] = headers
            return start_response(status, headers, *rest)

        try:
            result = serve(capture)
        except ConnectionError:
            # A fault dropped the connection: no status, no body.
            self._write(environ, None, None)
            raise
        except Exception:
            # The server answers an unhandled exception with a bare HTTP 500.
            self._write(environ, 500, None)
            raise
        if not isinstance(result, list):
            # Everything the stand-in answers is a list already; anything else
            # is drained so the status and the body are known.
            chunks = list(result)
            close = getattr(result, "close", None)
            if close is not None:
                close()
            result = chunks
        status = answer.get("status")
        error = error_code(answer.get("headers", []), b"".join(result)) if status and status >= 400 else None
        self._write(environ, status, error)
        return result

    def _write(self, environ: dict[str, Any], status: int | None, error: str | None) -> None:
        entry = environ.get(ENTRY_KEY)
        if entry is None:
            # The request failed before it was classified; nothing to attribute.
            return
        line = dict(entry, status=status, error=error, attempt=attempt_of(environ))
        text = json.dumps(line, separators=(",", ":")) + "\n"
        with self._lock:
            self._handle.write(text)


def error_code(headers: list[tuple[str, str]], body: bytes) -> str | None:
    """The AWS error code of an error answer: the `x-amzn-ErrorType` header
    (REST-JSON), a JSON `__type`, or the XML `<Code>` (EC2, awsQuery)."""
    for name, value in headers:
        if name.lower() == "x-amzn-errortype" and value:
            return _short_code(value.split(":", 1)[0])
    stripped = body.lstrip()
    if stripped.startswith(b"{"):
        try:
            document = json.loads(stripped)
        except ValueError:
            return None
        code = document.get("__type") if isinstance(document, dict) else None
        return _short_code(code) if isinstance(code, str) and code else None
    match = _XML_CODE.search(body)
    return match.group(1).decode("utf-8", "replace") if match else None


def attempt_of(environ: dict[str, Any]) -> int | None:
    """The attempt number the SDK sent in `amz-sdk-request`, or None."""
    match = _ATTEMPT.search(environ.get("HTTP_AMZ_SDK_REQUEST", ""))
    return int(match.group(1)) if match else None


def _short_code(code: str) -> str:
    # "com.amazonaws.kms#NotFoundException" -> "NotFoundException".
    return code.rsplit("#", 1)[-1]
