"""Reading products cells many at a time (`parse_product_cells`) gives exactly what reading each alone gives."""

from __future__ import annotations

import random

from chainatlas.domain.products import parse_product_cells, parse_products


def test_cells_read_together_equal_cells_read_alone() -> None:
    # The same line in cells with and without share marks, blank lines, every share spelling, odd whitespace.
    cells = [
        "动力电池:0.82；储能系统(6%)、BMS,DC/DC变换器 30%,4680电池",
        "BMS；动力电池",  # no share mark anywhere: "动力电池" read as in the first cell's neighbours
        "4680电池、储能系统(6%)", "储能系统 (6 %)", "电机：82%|电控:0.001||", " ；、 ", "", "电芯 12", "电芯 12%",
        "驱动电机（35%）\n电控 (1.5%)", "正极材料:-0.07;负极材料:1.5", "\u3000隔膜\u3000：0.2", "线束\x1c:0.3",
        "连接器:０.５", "BMS", "内部抵销:-0.04、电池(-5%)", "电池 -5%",
    ]
    assert parse_product_cells(cells) == [parse_products(c) for c in cells]
    rng = random.Random(7)
    pieces = ["动力电池", "BMS", ":0.82", "(6%)", " 30%", "-", "；", "、", ",", " ", "：", "%", "（", "）", "0.5", "\n", "|"]
    fuzz = ["".join(rng.choices(pieces, k=rng.randint(0, 12))) for _ in range(3000)]
    assert parse_product_cells(fuzz) == [parse_products(c) for c in fuzz]
