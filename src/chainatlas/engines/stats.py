"""Interval estimates for the quality figures the benches and the training command report."""

from __future__ import annotations

import math


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson 95 % interval of the proportion k/n (0..1); (nan, nan) when n is 0. Small labelled sets make the
    plain normal interval too narrow near 0 and 1, which is where accuracy and leakage sit."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - spread, centre + spread
