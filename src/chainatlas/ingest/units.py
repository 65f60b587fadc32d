"""Units of money columns: which unit each column states, and the columns that state none although their numbers
only make sense in 万元 (Tushare's `reg_capital`, most statistics bureau tables) — a 10,000× error otherwise.

A money column whose header and mapping name no unit is read as yuan; when the median of its bare numbers, read
as yuan, is below SMALL_YUAN (hardly any firm registers or earns so little), the import needs the user's choice
(`--unit 万元`, or `--unit 元` to confirm yuan) before it writes anything.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from chainatlas.ingest.mapping import HeaderMapping, unit_multiplier
from chainatlas.ingest.reader import Table
from chainatlas.ingest.values import clean_text

MONEY_KINDS = ("money", "amount")
SMALL_YUAN = 200_000  # 20 万元: a median below this, read as yuan, means the numbers are in a larger unit
SAMPLE = 2_000
_BARE_NUMBER = re.compile(r"[+-]?\d[\d,]*(\.\d+)?")


@dataclass(frozen=True)
class ColumnUnit:
    header: str
    field: str
    label: str  # the field's Chinese label
    unit: str  # as stated by the header, the mapping or the user's choice; "" when none is
    median: float | None  # of the bare numbers in the column (None: none)
    suspect: bool  # no unit stated, and numbers too small to be yuan

    @property
    def shown(self) -> str:
        return self.unit or "未注明（按元）"

    def fact(self) -> str:
        assert self.median is not None
        return (f"“{self.header}”列（{self.label}）没有注明单位，数值中位数为 {self.median:,.0f}：按元计不到 "
                f"{SMALL_YUAN // 10_000} 万元，很可能是万元。")

    def warning(self) -> str:
        """The fact and the three ways to choose, since the import service does not know which one the user is in."""
        return (self.fact() + f"请选择单位后再导入：命令行加 --unit 万元（或 --unit 元 确认按元；多列不同可写 "
                f"--unit {self.header}=万元）；网页在导入预览中为该列选择单位；接口在 mapping 中写 "
                f'{{"{self.header}": {{"field": "{self.field}", "unit": "万元"}}}}')


def money_units(table: Table, mapping: HeaderMapping) -> list[ColumnUnit]:
    """Each mapped money column with its unit, the median of its bare numbers and whether it needs a choice."""
    kinds = {f.id: (f.kind, f.label_zh) for f in mapping.fields}
    out = []
    for col in mapping.mapped:
        kind, label = kinds.get(col.field or "", ("", ""))
        if kind not in MONEY_KINDS:
            continue
        values = []
        column = table.columns[col.index]
        for i in range(min(len(column), SAMPLE)):
            cell = column[i]
            text = clean_text(cell)
            if isinstance(cell, (int, float)) and not isinstance(cell, bool):
                values.append(float(cell))
            elif _BARE_NUMBER.fullmatch(text):
                values.append(float(text.replace(",", "")))
        median = statistics.median(values) if values else None
        suspect = not col.unit and median is not None and 0 < median * col.multiplier < SMALL_YUAN
        out.append(ColumnUnit(col.header, col.field or "", label, col.unit, median, suspect))
    return out


class UnitError(ValueError):
    """A unit choice that names no known unit or no money column."""


def apply_unit_choices(mapping: HeaderMapping, choices: list[str]) -> None:
    """The user's `--unit` choices: "万元" for every money column that states no unit, or "列名=万元" for one."""
    kinds = {f.id: f.kind for f in mapping.fields}
    money = [c for c in mapping.mapped if kinds.get(c.field or "") in MONEY_KINDS]
    for choice in choices:
        header, _, unit = choice.rpartition("=")
        multiplier = unit_multiplier(unit)
        if multiplier is None:
            raise UnitError(f"不认识的单位“{unit}”：可用 元、千元、万元、百万元、亿元")
        targets = [c for c in money if (c.header == header or c.field == header)] if header else \
            [c for c in money if not c.unit]
        if header and not targets:
            raise UnitError(f"没有名为“{header}”的金额列：金额列有 {'、'.join(c.header for c in money) or '无'}")
        for col in targets:
            col.multiplier, col.unit = multiplier, unit.strip()
