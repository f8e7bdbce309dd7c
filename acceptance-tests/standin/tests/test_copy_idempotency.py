"""CopyImage ClientToken: what a repeated token answers, for how long."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD
from helpers import copy, error_code, make_ami, owned_counts, share, wait_state


@pytest.fixture
def shared_source(aws):
    bake = aws("ec2", BAKE)
    image_id, snaps = make_ami(bake)
    share(bake, image_id, snaps, PROD)
    return image_id


def test_client_token_is_idempotent(aws, shared_source):
    """AWS EC2 Developer Guide, "Ensuring idempotency in Amazon EC2 API requests":
    the same ClientToken with the same parameters returns the first result; other
    parameters are IdempotentParameterMismatch; tokens are per account."""
    prod = aws("ec2", PROD)
    first = copy(prod, shared_source, Encrypted=True, ClientToken="tok-1")
    assert copy(prod, shared_source, Encrypted=True, ClientToken="tok-1") == first
    assert len(prod.describe_images(Owners=["self"])["Images"]) == 1
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, name="other-name", Encrypted=True, ClientToken="tok-1")
    assert error_code(excinfo) == "IdempotentParameterMismatch"
    assert copy(aws("ec2", BAKE), shared_source, Encrypted=True, ClientToken="tok-1") != first


def test_token_reused_after_deregister_returns_the_original_ami_and_creates_nothing(aws, shared_source):
    """AWS EC2 Developer Guide, "Ensuring idempotency in Amazon EC2 API requests":
    retrying a completed request with the same client token and parameters
    succeeds without performing any further action; the token outlives what it
    made (RunInstances: valid for at least 24 hours after the instance is
    terminated). So after the copy is deregistered the retry answers the
    deregistered AMI's id and copies nothing; other parameters still mismatch."""
    prod = aws("ec2", PROD)
    first = copy(prod, shared_source, ClientToken="tok-gone")
    wait_state(prod, first, "available")
    prod.deregister_image(ImageId=first, DeleteAssociatedSnapshots=True)
    assert owned_counts(prod) == (0, 0)

    assert copy(prod, shared_source, ClientToken="tok-gone") == first
    assert owned_counts(prod) == (0, 0)
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, Description="changed", ClientToken="tok-gone")
    assert error_code(excinfo) == "IdempotentParameterMismatch"
    assert owned_counts(prod) == (0, 0)


def test_token_reused_after_the_source_is_gone_returns_the_original(aws, shared_source):
    """AWS EC2 Developer Guide, "Ensuring idempotency in Amazon EC2 API requests":
    a retry of a completed request performs no action, so it does not look at the
    source again; a deregistered source does not turn it into InvalidAMIID.NotFound."""
    prod = aws("ec2", PROD)
    first = copy(prod, shared_source, ClientToken="tok-src")
    aws("ec2", BAKE).deregister_image(ImageId=shared_source)
    assert copy(prod, shared_source, ClientToken="tok-src") == first
    assert owned_counts(prod)[0] == 1
