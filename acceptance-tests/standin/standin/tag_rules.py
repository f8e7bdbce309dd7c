"""EC2 tag restrictions, checked before a request creates anything.

AWS EC2 User Guide, "Tag your Amazon EC2 resources", Tag restrictions: at
most 50 tags per resource, keys of at most 128 and values of at most 256
Unicode characters, and the `aws:` prefix is reserved for AWS. The same page
says resources tagged on creation are created with their tags or not at all,
so a creating action must run these checks before it creates a resource.
Error codes are those of "Error codes for the Amazon EC2 API":
TagLimitExceeded for too many tags, InvalidParameterValue for a bad key or value.

(The API Reference's Tag data type gives 127 characters for a key; the User
Guide's 128 is used here, the more permissive of the two.)
"""

from __future__ import annotations

from collections.abc import Mapping

from moto.ec2.exceptions import InvalidParameterValueErrorTagNull

from .errors import ec2_error

MAX_TAGS_PER_RESOURCE = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
RESERVED_PREFIX = "aws:"


def check(tags: Mapping[str, str | None]) -> None:
    """Raise the EC2 error AWS answers if one resource may not carry `tags`."""
    for key, value in tags.items():
        if not key:
            raise ec2_error("InvalidParameterValue", "A tag key must not be empty.")
        if len(key) > MAX_KEY_LENGTH:
            raise ec2_error(
                "InvalidParameterValue",
                f"Tag key '{key[:40]}...' has {len(key)} characters; at most {MAX_KEY_LENGTH} are allowed.",
            )
        if key.startswith(RESERVED_PREFIX):
            raise ec2_error(
                "InvalidParameterValue",
                f"Tag key '{key}' is invalid: the '{RESERVED_PREFIX}' prefix is reserved for AWS use.",
            )
        if value is None:
            raise InvalidParameterValueErrorTagNull()
        if len(value) > MAX_VALUE_LENGTH:
            raise ec2_error(
                "InvalidParameterValue",
                f"The value of tag '{key}' has {len(value)} characters; at most {MAX_VALUE_LENGTH} are allowed.",
            )
    if len(tags) > MAX_TAGS_PER_RESOURCE:
        raise ec2_error(
            "TagLimitExceeded",
            f"The request would give a resource {len(tags)} tags; at most {MAX_TAGS_PER_RESOURCE} are allowed.",
        )
