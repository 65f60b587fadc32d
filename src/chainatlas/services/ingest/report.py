"""Report step and the error report: an import's summary as the audit log keeps it, and the held rows' problems as
an Excel file users fix their data from."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.domain.cells import formula_like
from chainatlas.ingest.records import Problem
from chainatlas.services.ingest.source import ImportSummary
from chainatlas.store.models import HeldRow


def summary_dict(s: ImportSummary) -> dict:
    return {"file": s.file_name, "sha256": s.sha256, "rows_total": s.rows_total, "inserted": s.rows_inserted,
            "merged": s.rows_merged, "linked": s.rows_linked, "review": s.rows_review, "held": s.rows_held,
            "updated": s.enterprises_updated, "created": s.enterprises_created, "zones": s.zone_counts,
            "placed": s.placed}


ERROR_HEADERS = ("文件", "行号", "列", "值", "问题", "处理建议")


def write_error_report(problems: list[Problem], out: Path) -> Path:
    """The held-back rows' problems as an Excel file users can fix their data from."""
    import xlsxwriter

    out = Path(out)
    wb = xlsxwriter.Workbook(str(out))
    try:
        ws = wb.add_worksheet("问题清单")
        head = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
        quoted = wb.add_format({"quote_prefix": True})  # the user's cell as text, never a formula (domain/cells.py)
        for j, h in enumerate(ERROR_HEADERS):
            ws.write(0, j, h, head)
        for r, pr in enumerate(problems, start=1):
            for j, value in enumerate((pr.file, pr.row, pr.column, pr.value, pr.problem, pr.action)):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    ws.write_number(r, j, value)
                elif value is not None:
                    text = str(value)
                    ws.write_string(r, j, text, quoted if formula_like(text) else None)
        ws.set_column(0, 0, 24)
        ws.set_column(2, 3, 22)
        ws.set_column(4, 5, 48)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(problems), 1), len(ERROR_HEADERS) - 1)
    finally:
        wb.close()
    return out


def held_problems(session: Session, batch_id: int) -> list[Problem]:
    problems = []
    for held in session.scalars(select(HeldRow).where(HeldRow.batch_id == batch_id).order_by(HeldRow.row_number)):
        problems.extend(Problem(**p) for p in held.problems)
    return problems
