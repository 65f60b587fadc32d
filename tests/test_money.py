"""Money is stored as integer yuan and shown as 亿元 / 万元; unknown is shown as unknown, not zero."""

from __future__ import annotations

import pytest

from chainatlas.domain.money import format_yuan, parse_money, yi


@pytest.mark.parametrize(
    ("yuan", "shown"),
    [
        (20_000_000_000, "200.00亿元"),
        (1_235_000_000, "12.35亿元"),
        (3_500_000, "350万元"),
        (None, "—"),
        (0, "0元"),
    ],
)
def test_format_yuan(yuan: int | None, shown: str) -> None:
    assert format_yuan(yuan) == shown


def test_format_in_a_fixed_unit_and_as_number() -> None:
    assert format_yuan(50_000_000, unit="亿") == "0.50亿元"
    assert yi(15_130_000_000) == 151.3 and yi(None) is None


def test_excel_float_cells_keep_every_digit() -> None:
    # A cell of 12.34567891 (亿元) must not be cut to 6 decimals on the way to integer yuan.
    assert parse_money(12.34567891, 100_000_000).amount_yuan == 1_234_567_891
    assert parse_money(3500000).amount_yuan == 3_500_000
