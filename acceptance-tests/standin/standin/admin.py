"""The admin API under /_standin/: JSON in, JSON out, never seen by moto."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Callable
from urllib.parse import parse_qs

from . import kms_grants, lifecycle, orgs, state
from .accounts import is_account_id
from .state import EMPTY_ANSWERS, LOCK, Fault


class BadRequest(Exception):
    pass


def _reset(_: dict) -> dict:
    from moto.moto_api._internal.models import moto_api_backend

    with LOCK:
        moto_api_backend.reset()
        state.reset()
    return {"status": "ok"}


def _config(body: dict) -> dict:
    unknown = set(body) - {"copy_duration_seconds", "concurrent_snapshot_copies"}
    if unknown:
        raise BadRequest(f"unknown config keys: {sorted(unknown)}")
    with LOCK:
        if "copy_duration_seconds" in body:
            value = float(body["copy_duration_seconds"])
            if value < 0:
                raise BadRequest("copy_duration_seconds must be >= 0")
            # One value: every copy takes it (a --copy-duration range ends here).
            state.STATE.copy_duration_seconds = state.STATE.copy_duration_max_seconds = value
        if "concurrent_snapshot_copies" in body:
            limit = body["concurrent_snapshot_copies"]
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
                raise BadRequest("concurrent_snapshot_copies must be an integer >= 0, or null")
            # 0 and null both mean no limit.
            state.STATE.concurrent_snapshot_copies = limit or None
        return {
            "copy_duration_seconds": state.STATE.copy_duration_seconds,
            # Read-only: the upper end of a --copy-duration range (else the same value).
            "copy_duration_max_seconds": state.STATE.copy_duration_max_seconds,
            "concurrent_snapshot_copies": state.STATE.concurrent_snapshot_copies,
        }


def _clock(body: dict) -> dict:
    """Move the stand-in's wall clock forward (never back), so a deprecation
    time set in the future (AWS refuses past ones) can be made to pass."""
    with LOCK:
        if "advance_seconds" in body:
            value = float(body["advance_seconds"])
            if not (math.isfinite(value) and value >= 0):
                raise BadRequest("advance_seconds must be a finite number >= 0")
            state.STATE.clock_offset_seconds += value
        return {
            "now": state.wall_now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "offset_seconds": state.STATE.clock_offset_seconds,
        }


def _add_fault(body: dict) -> dict:
    if not body.get("action"):
        raise BadRequest("action is required")
    if body.get("account") is not None and not is_account_id(body["account"]):
        raise BadRequest("account must be a 12-digit account id")
    known = set(Fault.__dataclass_fields__) - {"fired"}
    unknown = set(body) - known
    if unknown:
        raise BadRequest(f"unknown fault fields: {sorted(unknown)}")
    params = body.get("params")
    if params is not None and not (
        isinstance(params, dict) and all(isinstance(v, str) for v in params.values())
    ):
        raise BadRequest("params must be an object of parameter names to string values")
    if body.get("empty_answer") and body["action"] not in EMPTY_ANSWERS:
        raise BadRequest(f"empty_answer works for {sorted(EMPTY_ANSWERS)} only")
    fault = Fault(**body)
    with LOCK:
        state.STATE.faults.append(fault)
        return {"faults": len(state.STATE.faults)}


def _list_faults(_: dict) -> dict:
    with LOCK:
        return {"faults": [dataclasses.asdict(f) for f in state.STATE.faults]}


def _clear_faults(_: dict) -> dict:
    with LOCK:
        state.STATE.faults.clear()
    return {"faults": 0}


def _calls(_: dict) -> dict:
    with LOCK:
        return state.STATE.calls_snapshot()


def _clear_calls(_: dict) -> dict:
    with LOCK:
        state.STATE.clear_calls()
    return {}


def _call_log(query: dict) -> dict:
    """Every call in arrival order; `?since=T` keeps those with t > T, `?action=A`
    those of action A. `dropped`: calls that fell off the front of the bounded log."""
    since = float(query["since"]) if "since" in query else None
    action = query.get("action")
    with LOCK:
        calls = [
            dict(entry)
            for entry in state.STATE.call_log
            if (since is None or entry["t"] > since) and (action is None or entry["action"] == action)
        ]
        return {"calls": calls, "dropped": state.STATE.call_log_dropped}


def _copy_quota(_: dict) -> dict:
    """The snapshot-copy quota and its counters, by "ACCOUNT/REGION" (destination)."""
    with LOCK:
        lifecycle.tick()  # ended copies free their slots before they are counted
        in_flight = state.STATE.snapshot_copies_in_flight()
        keys = set(in_flight) | set(state.STATE.copy_peak) | set(state.STATE.copy_refused)
        return {
            "limit": state.STATE.concurrent_snapshot_copies,
            "in_flight": {k: in_flight.get(k, 0) for k in sorted(keys)},
            "peak": {k: state.STATE.copy_peak.get(k, 0) for k in sorted(keys)},
            "refused": {k: state.STATE.copy_refused.get(k, 0) for k in sorted(keys)},
        }


def _reset_copy_quota_counters(_: dict) -> dict:
    """Start a new measurement: peaks become what is in flight now, refusals zero."""
    with LOCK:
        lifecycle.tick()
        state.STATE.copy_peak = dict(state.STATE.snapshot_copies_in_flight())
        state.STATE.copy_refused = {}
    return _copy_quota({})


def _copies(_: dict) -> dict:
    """Every CopyImage the stand-in has started since reset, in start order, with
    its times on the call log's monotonic clock: `done_at` is when the copy is
    scheduled to end (any request from then on sees it available or failed);
    `finished`: it has ended (or was deregistered while pending). `now` is that
    clock's reading at the answer, `wall` the real Unix time at the same moment."""
    with LOCK:
        lifecycle.tick()
        return {
            "now": state.now(),
            "wall": state.epoch_now(),
            "copies": [
                {
                    "image_id": job.image_id,
                    "account": job.account,
                    "region": job.region,
                    "snapshots": len(job.snapshot_ids),
                    "started_at": job.started_at,
                    "done_at": job.done_at,
                    "finished": job.finished,
                    "completion_duration_minutes": job.completion_duration_minutes,
                }
                for job in state.STATE.copies.values()
            ],
        }


def _fail_copy(body: dict) -> dict:
    reason = body.get("reason") or "Copy failed (injected by the stand-in)"
    # A documented EC2 StateReason code; callers may pick another.
    failure = {"Code": body.get("code") or "Server.InternalError", "Message": reason}
    with LOCK:
        if body.get("next"):
            state.STATE.fail_next_copy = failure
            return {"next": True}
        image_id = body.get("image_id")
        if not image_id:
            raise BadRequest("image_id or next is required")
        if not lifecycle.fail_copy(image_id, failure):
            raise BadRequest(f"{image_id} is not a pending copy")
        return {"image_id": image_id}


# The DeleteSnapshotResults codes that mean "not deleted" for a reason other than
# another AMI using the snapshot (EC2 API Reference, DeleteSnapshotReturnCode).
FAILURE_CODES = ("missing-permissions", "internal-error", "client-error")


def _arm_snapshot_delete_result(body: dict) -> dict:
    """Make the next `count` (default 1) DeleteAssociatedSnapshots deletions of
    `snapshot_id` report `code` and leave the snapshot in place."""
    unknown = set(body) - {"snapshot_id", "code", "count"}
    if unknown:
        raise BadRequest(f"unknown fields: {sorted(unknown)}")
    snapshot_id = body.get("snapshot_id")
    if not isinstance(snapshot_id, str) or not snapshot_id.startswith("snap-"):
        raise BadRequest("snapshot_id must be a snapshot id (snap-...)")
    if body.get("code") not in FAILURE_CODES:
        raise BadRequest(f"code must be one of {list(FAILURE_CODES)}")
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise BadRequest("count must be an integer >= 1")
    with LOCK:
        state.STATE.snapshot_delete_results[snapshot_id] = {"code": body["code"], "remaining": count}
    return _snapshot_delete_results({})


def _snapshot_delete_results(_: dict) -> dict:
    with LOCK:
        return {"results": {k: dict(v) for k, v in state.STATE.snapshot_delete_results.items()}}


def _clear_snapshot_delete_results(_: dict) -> dict:
    with LOCK:
        state.STATE.snapshot_delete_results.clear()
    return {"results": {}}


def _org(body: dict) -> dict:
    try:
        return orgs.declare(body)
    except orgs.OrgError as err:
        raise BadRequest(str(err)) from err


ROUTES: dict[tuple[str, str], Callable[[dict], Any]] = {
    ("POST", "/_standin/reset"): _reset,
    ("POST", "/_standin/config"): _config,
    ("GET", "/_standin/config"): _config,
    ("POST", "/_standin/clock"): _clock,
    ("GET", "/_standin/clock"): _clock,
    ("POST", "/_standin/faults"): _add_fault,
    ("GET", "/_standin/faults"): _list_faults,
    ("DELETE", "/_standin/faults"): _clear_faults,
    ("GET", "/_standin/calls"): _calls,
    ("DELETE", "/_standin/calls"): _clear_calls,
    ("GET", "/_standin/call_log"): _call_log,
    ("GET", "/_standin/copy_quota"): _copy_quota,
    ("DELETE", "/_standin/copy_quota"): _reset_copy_quota_counters,
    ("GET", "/_standin/copies"): _copies,
    ("POST", "/_standin/fail_copy"): _fail_copy,
    ("POST", "/_standin/org"): _org,
    ("GET", "/_standin/kms_grants"): lambda _: kms_grants.admin_view(),
    ("POST", "/_standin/snapshot_delete_result"): _arm_snapshot_delete_result,
    ("GET", "/_standin/snapshot_delete_result"): _snapshot_delete_results,
    ("DELETE", "/_standin/snapshot_delete_result"): _clear_snapshot_delete_results,
}


def handle(environ, start_response):
    route = ROUTES.get((environ["REQUEST_METHOD"], environ["PATH_INFO"].rstrip("/")))
    if route is None:
        return _respond(start_response, 404, {"error": "no such admin route"})
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object")
        if environ["REQUEST_METHOD"] == "GET":
            # A GET carries its options in the query string (?since=12.5).
            query = parse_qs(environ.get("QUERY_STRING", ""))
            body = {**{k: v[-1] for k, v in query.items()}, **body}
        return _respond(start_response, 200, route(body))
    except (BadRequest, ValueError, TypeError) as err:
        return _respond(start_response, 400, {"error": str(err)})


def _respond(start_response, status: int, payload: Any):
    data = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]
