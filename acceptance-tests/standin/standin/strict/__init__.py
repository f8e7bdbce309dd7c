"""Strict mode (`python -m standin --strict`): the stand-in behaves like real
AWS accounts, so nothing a strict run does can lean on stand-in conveniences.

- app.py answers every /_standin/ admin route (and moto's own /moto-api/)
  with 404;
- gate.py refuses unknown access keys (principals.py) and evaluates IAM
  policies for every EC2, KMS, STS, Recycle Bin and SSM request:
  identity.py (users' and roles' policies), resource_policy.py (trust and key
  policies), policy.py and conditions.py (statements), ec2_resources.py,
  ec2_objects.py, kms.py, kms_request.py, other_resources.py (the Service
  Authorization Reference's resources and condition keys per action),
  sts.py (AssumeRole trust and role chaining), errors.py (each service's
  refusal);
- bpa.py: block public access for AMIs and snapshots, on by default;
- orgs.py: organization membership from the Organizations API.

`install` hooks the default mode's KMS checks and organization readers to
strict mode's; it runs once, before the first request.
"""

from __future__ import annotations


def install() -> None:
    from . import kms, orgs

    kms.install()
    orgs.install()
