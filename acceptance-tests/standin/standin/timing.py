"""The random draws behind the timing flags, from one seeded generator.

`--consistency-lag` draws a delay per write and `--copy-duration` a
duration per copy (options.py). Both come from one `random.Random` seeded
with `--seed`, so the same run of requests against a fresh stand-in sees
the same delays; a default-mode reset (POST /_standin/reset) seeds it
again. Draws happen while the request lock is held (state.LOCK), so the
order of draws is the order of requests.
"""

from __future__ import annotations

import random

from . import options

_RNG = random.Random(options.DEFAULT_SEED)


def reseed() -> None:
    _RNG.seed(options.CURRENT.seed)


def lag_seconds() -> float:
    """A fresh consistency delay: uniform in [0, --consistency-lag]; 0 when off."""
    bound = options.CURRENT.consistency_lag_seconds
    return _RNG.uniform(0.0, bound) if bound > 0 else 0.0


def copy_seconds(low: float, high: float) -> float:
    """A copy's duration: `low` when the range is one value, else uniform in [low, high]."""
    return low if high <= low else _RNG.uniform(low, high)
