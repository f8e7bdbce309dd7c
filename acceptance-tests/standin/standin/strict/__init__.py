"""Strict mode (`python -m standin --strict`): the stand-in behaves like real
AWS accounts. This package holds its parts; app.py wires them in.

- principals.py, signature.py: who calls (only principals that exist);
- policy.py, conditions.py, identity.py, resource_policy.py: IAM policy
  evaluation (identity policies, trust and key policies);
- context.py, orgs.py: the request's global condition keys.
"""
