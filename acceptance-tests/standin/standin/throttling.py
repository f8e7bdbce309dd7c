"""EC2 request throttling: `--ec2-token-buckets` (options.py).

Follows "Request throttling for the Amazon EC2 API" (Amazon EC2 Developer
Guide, https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html;
the same page in the EC2 API Reference, AWSEC2/latest/APIReference/throttling.html):

- EC2 throttles each account per Region with the token bucket algorithm;
  every request of an API takes one token from that API's bucket (request
  rate limiting): limits apply to each API action, the category only
  decides the bucket's size and refill rate;
- a bucket holds at most its maximum capacity and refills at its rate per
  second up to that maximum; a request finding its bucket empty fails with
  RequestLimitExceeded and the action is not performed;
- categories (table "Request token bucket sizes and refill rates"):
  non-mutating actions (Describe*, List*, Search*, Get*) 100 tokens, 20 a
  second; the unfiltered and unpaginated non-mutating actions
  (DescribeInstances, DescribeInstanceStatus, DescribeNetworkInterfaces,
  DescribeSecurityGroups, DescribeSnapshots, DescribeSpotInstanceRequests,
  DescribeVolumes) sent with neither a filter nor pagination take from a
  smaller bucket, 50 tokens, 10 a second; mutating actions (every other
  action) 50, 5; resource-intensive actions (listed below) 50, 5;
  uncategorized actions their own sizes (UNCATEGORIZED);
- RunInstances, StartInstances, StopInstances and TerminateInstances also
  take one token per instance from a resource token bucket (table
  "Resource token bucket sizes and refill rates"); the request fails if
  either bucket cannot pay.

The stand-in's choices: a bucket refills continuously (the page adds the
tokens "every second"); SnapshotId.N, ImageId.N or OwnerId.N are neither a
filter nor pagination, so DescribeSnapshots by id alone takes from the
smaller bucket (the page names only those two); every EC2 request counts,
refused ones included (strict mode's AuthFailure and UnauthorizedOperation
too: the page does not say); RequestLimitExceeded is HTTP 503, the status
EC2 answers it with and SDKs retry on as throttling. Not modelled: the
console's own non-mutating bucket (100, 10: no request here comes from the
console), limit increases, and the uncategorized rows of features the
stand-in does not serve (Verified Access, VPC endpoints, BYOIP, capacity
blocks, Client VPN, ...): those actions take their category's bucket.
"""

from __future__ import annotations

import re

from . import options, state

NON_MUTATING = (100.0, 20.0)
UNFILTERED_NON_MUTATING = (50.0, 10.0)
MUTATING = (50.0, 5.0)
RESOURCE_INTENSIVE = (50.0, 5.0)

UNFILTERED_ACTIONS = frozenset({
    "DescribeInstances", "DescribeInstanceStatus", "DescribeNetworkInterfaces",
    "DescribeSecurityGroups", "DescribeSnapshots", "DescribeSpotInstanceRequests", "DescribeVolumes",
})
RESOURCE_INTENSIVE_ACTIONS = frozenset({
    "AcceptVpcPeeringConnection", "AuthorizeSecurityGroupIngress", "CancelSpotInstanceRequests",
    "CreateKeyPair", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection",
    "RejectVpcPeeringConnection", "RevokeSecurityGroupIngress", "RequestSpotInstances",
})
# (maximum capacity, refill rate per second) of the uncategorized actions on
# images, snapshots, volumes, tags, instances, launch templates, network
# interfaces, block public access and default VPCs.
UNCATEGORIZED: dict[str, tuple[float, float]] = {
    "AssignIpv6Addresses": (100, 5), "AssignPrivateIpAddresses": (100, 5),
    "AssociateIamInstanceProfile": (100, 5), "CopyImage": (100, 1),
    "CreateDefaultSubnet": (1, 1), "CreateDefaultVpc": (1, 1),
    "CreateLaunchTemplateVersion": (100, 5), "CreateNetworkInterface": (100, 5),
    "CreateRestoreImageTask": (50, 0.1), "CreateSnapshot": (100, 5), "CreateSnapshots": (100, 5),
    "CreateStoreImageTask": (50, 0.1), "CreateTags": (100, 10), "CreateVolume": (100, 5),
    "DeleteNetworkInterface": (100, 5), "DeleteSnapshot": (100, 5), "DeleteTags": (100, 10),
    "DeleteVolume": (100, 5), "DeregisterImage": (100, 5), "DescribeStoreImageTasks": (50, 0.5),
    "DisableFastLaunch": (5, 2), "DisableImageBlockPublicAccess": (1, 0.1),
    "DisableSnapshotBlockPublicAccess": (1, 0.1), "DisassociateIamInstanceProfile": (100, 5),
    "EnableFastLaunch": (5, 2), "EnableImageBlockPublicAccess": (1, 0.1),
    "EnableSnapshotBlockPublicAccess": (1, 0.1), "ModifyImageAttribute": (100, 5),
    "ModifyInstanceMetadataDefaults": (2, 2), "ModifyInstanceMetadataOptions": (100, 5),
    "ModifyLaunchTemplate": (100, 5), "ModifyNetworkInterfaceAttribute": (100, 5),
    "ModifySnapshotAttribute": (100, 5), "RunInstances": (5, 2), "StartInstances": (5, 2),
    "TerminateInstances": (100, 5), "UnassignPrivateIpAddresses": (100, 5),
}
# Resource token buckets: (maximum capacity, refill rate per second).
RESOURCE_BUCKETS: dict[str, tuple[float, float]] = {
    "RunInstances": (1000, 2), "TerminateInstances": (1000, 20),
    "StartInstances": (1000, 2), "StopInstances": (1000, 20),
}
_NON_MUTATING_PREFIXES = ("Describe", "List", "Search", "Get")
_FILTER = re.compile(r"^Filter\.\d+\.")
_INSTANCE_ID = re.compile(r"^InstanceId\.\d+$")
MESSAGE = "Request limit exceeded."


def enabled() -> bool:
    return options.CURRENT.ec2_token_buckets


def request_bucket(action: str, params: dict[str, str]) -> tuple[str, tuple[float, float]]:
    """(bucket name, (capacity, refill per second)) a request of `action` takes a token from."""
    if action in UNCATEGORIZED:
        return action, UNCATEGORIZED[action]
    if action in RESOURCE_INTENSIVE_ACTIONS:
        return action, RESOURCE_INTENSIVE
    if action.startswith(_NON_MUTATING_PREFIXES):
        paged = "MaxResults" in params or "NextToken" in params
        if action in UNFILTERED_ACTIONS and not paged and not any(_FILTER.match(k) for k in params):
            return f"{action}/unfiltered", UNFILTERED_NON_MUTATING
        return action, NON_MUTATING
    return action, MUTATING


def resources_of(action: str, params: dict[str, str]) -> int:
    """How many instances a request acts on: its resource tokens."""
    if action == "RunInstances":
        try:
            return max(1, int(params.get("MaxCount") or 1))
        except ValueError:
            return 1
    return sum(1 for key in params if _INSTANCE_ID.match(key))


def admit(account: str, region: str, action: str, params: dict[str, str]) -> bool:
    """Take the request's tokens from its buckets if they hold enough; False
    (nothing taken) if one cannot pay: the request is throttled. Callers hold
    state.LOCK."""
    moment = state.now()
    charges: list[tuple[tuple[str, str, str], tuple[float, float], float]] = []
    name, size = request_bucket(action, params)
    charges.append(((account, region, name), size, 1.0))
    if action in RESOURCE_BUCKETS:
        charges.append(((account, region, f"{action}/resources"), RESOURCE_BUCKETS[action],
                        float(resources_of(action, params))))
    levels = {key: _level(key, size, moment) for key, size, _ in charges}
    if any(levels[key] < cost for key, _, cost in charges):
        for key, _, _ in charges:
            state.STATE.token_buckets[key] = (levels[key], moment)
        return False
    for key, _, cost in charges:
        state.STATE.token_buckets[key] = (levels[key] - cost, moment)
    return True


def _level(key: tuple[str, str, str], size: tuple[float, float], moment: float) -> float:
    capacity, rate = size
    tokens, since = state.STATE.token_buckets.get(key, (capacity, moment))
    return min(capacity, tokens + rate * (moment - since))

