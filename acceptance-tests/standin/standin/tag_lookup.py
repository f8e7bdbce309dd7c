"""The tags of one resource, looked up instead of searched for.

moto renders every AMI, snapshot and volume's `tagSet` by asking its tag store
for `resource-id = <that id>` (TaggedEC2Resource.get_tags). The store answers
any filter by matching every tag of every resource in the account against the
filter's pattern, so one DescribeImages or DescribeSnapshots of R resources in
an account holding T tags did R x T regex matches: quadratic in the account's
size (2 s of stand-in CPU to refresh 200 shares and 200 copies), where EC2
answers a page in time that does not grow with the rest of the account.

A filter that is exactly one resource id without wildcards selects exactly that
resource's tags (DescribeTags reference: `resource-id` takes the id; `*` and
`?` are the only wildcards, and moto translates the value with fnmatch, so `[`
is one too), so that one case reads the resource's entry directly. The answer
is the same list, in the same order and shape, that the search built; every
other filter takes moto's search unchanged.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models.tags import TagBackend
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

from . import consistency

_moto_describe_tags = TagBackend.describe_tags
_WILDCARDS = frozenset("*?[")


def _single_id(filters: dict[str, list[str]] | None) -> str | None:
    """The one literal resource id `filters` names, if that is all it says."""
    if not filters or set(filters) != {"resource-id"}:
        return None
    values = filters["resource-id"]
    if len(values) != 1 or _WILDCARDS & set(values[0]):
        return None
    return values[0]


def describe_tags(self: Any, filters: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
    resource_id = _single_id(filters)
    if resource_id is None:
        return _moto_describe_tags(self, filters)
    # .get: the store is a defaultdict, and a lookup must not add an entry.
    # Tag writes not seen yet are not seen here either (consistency.py).
    tags = consistency.tags(self, resource_id, self.tags.get(resource_id, {}))
    resource_type = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
    return [
        {"resource_id": resource_id, "key": key, "value": value, "resource_type": resource_type}
        for key, value in tags.items()
    ]


def install() -> None:
    TagBackend.describe_tags = describe_tags
