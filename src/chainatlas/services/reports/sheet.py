"""The sheet layout every Excel export shares, as bureaus lay out a ledger table: a title row, a note row (date,
and 演示数据 when any demo row is in it), one row of Chinese headers frozen in place, then the rows; numbers are numeric
cells (money in 亿元, the unit in the header), never text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.cells import formula_like
from chainatlas.store.models import Enterprise

HEADER_ROW = 2  # 0-based: title, note, header


@dataclass(frozen=True)
class Col:
    header: str
    width: float
    kind: str = "text"  # text / int / yi (亿元) / float / pct / date / bool


class Sheet:
    """One worksheet as bureaus lay out a ledger table: title row, note row (as-of date, demo warning), frozen
    Chinese header with a filter, then the rows (money as numeric 亿元 cells)."""

    def __init__(self, wb: xlsxwriter.Workbook, name: str, title: str, note: str, cols: Sequence[Col], demo: bool):
        self.ws = wb.add_worksheet(name)
        self.cols, self.row = list(cols), HEADER_ROW + 1
        f = wb.add_format
        self.fmt = {
            "text": f({"valign": "top", "text_wrap": False}),
            "quoted": f({"valign": "top", "text_wrap": False, "quote_prefix": True}),  # domain/cells.py
            "int": f({"num_format": "#,##0"}),
            "yi": f({"num_format": "#,##0.00"}),
            "float": f({"num_format": "0.00"}),
            "pct": f({"num_format": "0.0"}),
            "date": f({"num_format": "yyyy-mm-dd"}),
            "bool": f({"align": "center"}),
        }
        self.ws.write(0, 0, title, f({"bold": True, "font_size": 14}))
        demo_note = "　【演示数据】本表含程序生成的虚构企业或项目，仅供演示，不是真实统计。" if demo else ""
        self.ws.write(1, 0, note + demo_note, f({"font_color": "#c00000" if demo else "#555555"}))
        head = f({"bold": True, "bg_color": "#dde4ec", "border": 1, "text_wrap": True, "valign": "vcenter"})
        for j, c in enumerate(self.cols):
            self.ws.write(HEADER_ROW, j, c.header, head)
            self.ws.set_column(j, j, c.width)
        self.ws.set_row(HEADER_ROW, 30)
        self.ws.freeze_panes(HEADER_ROW + 1, 0)

    def append(self, values: Sequence[Any]) -> None:
        for j, (c, v) in enumerate(zip(self.cols, values)):
            if v is None or v == "":
                continue
            if c.kind == "date" and isinstance(v, (date, datetime)):
                self.ws.write_datetime(self.row, j, datetime(v.year, v.month, v.day), self.fmt["date"])
            elif c.kind == "bool":
                self.ws.write_string(self.row, j, "是" if v else "", self.fmt["bool"])
            elif c.kind in ("int", "yi", "float", "pct"):
                self.ws.write_number(self.row, j, v, self.fmt[c.kind])
            else:
                text = str(v)
                self.ws.write_string(self.row, j, text, self.fmt["quoted" if formula_like(text) else "text"])
        self.row += 1

    def finish(self) -> int:
        if self.row > HEADER_ROW + 1:
            self.ws.autofilter(HEADER_ROW, 0, self.row - 1, len(self.cols) - 1)
        return self.row - HEADER_ROW - 1


def sheet_note(as_of: date, extra: str = "") -> str:
    return f"截至 {as_of:%Y-%m-%d}　导出时间 {config.now():%Y-%m-%d %H:%M}" + (f"　{extra}" if extra else "")


def any_demo(session: Session, ids: Sequence[int]) -> bool:
    if not ids:
        return False
    return session.scalar(select(Enterprise.id).where(Enterprise.id.in_(list(ids)[:900]), Enterprise.source == "demo")
                          .limit(1)) is not None
