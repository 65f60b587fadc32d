"""The interval every quality figure is reported with."""

import math

import pytest

from chainatlas.engines.stats import wilson_interval


def test_wilson_interval_matches_hand_worked_values() -> None:
    lo, hi = wilson_interval(0, 10)  # the normal interval would be 0–0; Wilson's upper end is z²/(n+z²)
    assert lo == pytest.approx(0.0, abs=1e-12) and hi == pytest.approx(1.96**2 / (10 + 1.96**2))
    lo, hi = wilson_interval(46, 77)
    assert (round(lo, 3), round(hi, 3)) == (0.486, 0.700)
    assert lo < 46 / 77 < hi


def test_wilson_interval_of_nothing_is_undefined() -> None:
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
