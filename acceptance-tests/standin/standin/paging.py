"""MaxResults / NextToken for DescribeImages and DescribeSnapshots.

moto answers both actions in one piece and ignores the two parameters. The
rules here, and where each comes from:

- A page holds at most MaxResults items; NextToken, present only while items
  remain, is passed back to continue after the last item of the page (EC2 API
  Reference, DescribeImages / DescribeSnapshots: MaxResults, NextToken;
  "This value is null when there are no more items to return").
- MaxResults below 5 is InvalidParameterValue, and above 1,000 it returns
  1,000 items. The DescribeSnapshots reference gives the range 5..1,000 and
  the cap of 1,000 for larger values; the DescribeImages reference gives no
  range, so the same one is applied (EC2 answers the "Expecting a value
  greater than 5" error below for a smaller value).
- MaxResults together with ids (SnapshotIds, ImageIds) is
  InvalidParameterCombination. DescribeSnapshots documents it ("You cannot
  specify this parameter and the snapshot IDs parameter in the same
  request"); DescribeImages does not, and EC2 answers it the same way.
- Without MaxResults everything is answered, as before.

Items are ordered by id (AWS promises no order) and the token names the last
id of its page, so a page never repeats or skips an item that exists on both
calls, whatever is created or deleted in between. The token is opaque
(base64 of the action and that id); one that does not decode, or that belongs
to the other action, is InvalidPaginationToken.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from .errors import ec2_error

MIN_RESULTS = 5
MAX_RESULTS = 1000


def page_size(raw: Any, ids_set: str | None) -> int | None:
    """The page size a request asks for (None: no paging). `ids_set` is the
    wire name of the id list (`imagesSet`, `snapshotSet`) when the request
    names ids, else None."""
    if raw in (None, ""):
        return None
    try:
        size = int(raw)
    except (TypeError, ValueError):
        raise ec2_error(
            "InvalidParameterValue", f"Value ( {raw} ) for parameter maxResults is invalid."
        ) from None
    if ids_set is not None:
        raise ec2_error(
            "InvalidParameterCombination",
            f"The parameter {ids_set} cannot be used with the parameter maxResults",
        )
    if size < MIN_RESULTS:
        raise ec2_error(
            "InvalidParameterValue",
            f"Value ( {size} ) for parameter maxResults is invalid. "
            f"Expecting a value greater than {MIN_RESULTS}.",
        )
    return min(size, MAX_RESULTS)


def encode_token(action: str, last_id: str) -> str:
    raw = json.dumps({"action": action, "after": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(action: str, token: str) -> str:
    """The id a token continues after; InvalidPaginationToken if it is not one
    this action handed out."""
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if decoded.get("action") == action and isinstance(decoded.get("after"), str):
            return decoded["after"]
    except (binascii.Error, ValueError, AttributeError, UnicodeDecodeError):
        pass
    raise ec2_error("InvalidPaginationToken", f"The pagination token '{token}' is invalid.")


def paginate(
    action: str, items: Sequence[Any], size: int | None, token: str | None
) -> tuple[list[Any], str | None]:
    """One page of `items` (each with an `.id`) and the token for the next, if any."""
    ordered = sorted(items, key=lambda item: item.id)
    if token:
        after = decode_token(action, token)
        ordered = [item for item in ordered if item.id > after]
    if size is None or len(ordered) <= size:
        return ordered, None
    chunk = ordered[:size]
    return chunk, encode_token(action, chunk[-1].id)
