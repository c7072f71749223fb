"""Sample sizes and their allocation across offices (strata)."""

from __future__ import annotations

import math
from collections.abc import Mapping


def sample_size(eligible: int, *, rate: float | None = None, size: int | None = None) -> int:
    """How many members to draw: `size` if given, else `rate` of the eligible (rounded half up).

    Never more than there are eligible cases.
    """
    if size is not None:
        wanted = size
    elif rate is not None:
        wanted = math.floor(rate * eligible + 0.5)
    else:
        raise ValueError("give a rate or a size")
    return max(0, min(wanted, eligible))


def allocate(eligible: Mapping[str, int], total: int, minimum: int = 0) -> dict[str, int]:
    """Split `total` across strata in proportion to their eligible counts.

    1. Every stratum is first promised `minimum` (or all it has, if fewer).
    2. Strata whose proportional share falls below that promise keep the promise and leave the
       pool; the rest of `total` is shared again among the others, until nothing changes.
    3. Fractions are settled by the largest-remainder method, ties broken by stratum name, so
       the result is deterministic and sums to `total` (more only when the minimums need more).
    """
    sizes = {key: max(0, count) for key, count in eligible.items()}
    total = max(0, min(total, sum(sizes.values())))
    floor_of = {key: min(minimum, count) for key, count in sizes.items()}
    fixed: dict[str, int] = {}
    while True:
        free = {key: count for key, count in sizes.items() if key not in fixed}
        remaining = total - sum(fixed.values())
        pool = sum(free.values())
        shares = {key: remaining * count / pool if pool else 0.0 for key, count in free.items()}
        below = {key for key, share in shares.items() if share < floor_of[key]}
        if not below:
            break
        fixed.update({key: floor_of[key] for key in below})
    result = dict(fixed)
    result.update({key: math.floor(share) for key, share in shares.items()})
    left = max(0, remaining - sum(math.floor(s) for s in shares.values()))
    by_remainder = sorted(shares, key=lambda key: (-(shares[key] - math.floor(shares[key])), key))
    for key in by_remainder[:left]:
        result[key] += 1
    return {key: min(result[key], sizes[key]) for key in sizes}
