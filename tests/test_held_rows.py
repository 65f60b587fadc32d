"""Held rows fixed in place: the corrected row takes the file's own import path, or nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainatlas.services.ingest.enterprises import import_enterprises
from chainatlas.services.ingest.held import fix_held_row
from chainatlas.store.models import AuditEntry, Enterprise, HeldRow, ImportBatch

pytestmark = pytest.mark.db


def _held(s: Session, tmp_path: Path) -> HeldRow:
    path = tmp_path / "名单.csv"
    path.write_text("企业名称,统一社会信用代码,注册地址,注册资本(万元),经营范围\n"
                    "武汉星测激光雷达科技有限公司,,武汉经济技术开发区车城大道88号,5000,激光雷达研发生产\n"
                    "武汉错码测试有限公司,91420100ABCDEFGHIJ,武汉经开区沌阳大道1号,一千万,车载软件开发\n",
                    encoding="utf-8")
    summary = import_enterprises(s, path, by_user="li")
    assert (summary.rows_inserted, summary.rows_held) == (1, 1)
    return s.scalars(select(HeldRow)).one()


def test_a_fixed_row_lands_and_leaves_its_batch(zone_session: Session, tmp_path: Path) -> None:
    s = zone_session
    held = _held(s, tmp_path)
    batch_id = held.batch_id
    assert {p["column"] for p in held.problems} >= {"统一社会信用代码", "注册资本(万元)"}
    result = fix_held_row(s, held.id, {"统一社会信用代码": "", "注册资本(万元)": "1000"}, by_user="li")
    assert result.landed and result.batch_id != batch_id and result.problems == []
    firm = s.scalars(select(Enterprise).where(Enterprise.name == "武汉错码测试有限公司")).one()
    assert firm.registered_capital_yuan == 10_000_000 and firm.uscc is None
    assert s.scalar(select(func.count(HeldRow.id))) == 0 and s.get(ImportBatch, batch_id).rows_held == 0
    entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "import.held.fixed")).one()
    assert entry.before["values"]["注册资本(万元)"] == "一千万" and entry.after["values"]["注册资本(万元)"] == "1000"


def test_a_row_still_wrong_writes_nothing_and_says_why(zone_session: Session, tmp_path: Path) -> None:
    s = zone_session
    held = _held(s, tmp_path)
    firms, batches = s.scalar(select(func.count(Enterprise.id))), s.scalar(select(func.count(ImportBatch.id)))
    result = fix_held_row(s, held.id, {"注册资本(万元)": "1000"}, by_user="li")  # the USCC is still wrong
    assert not result.landed and [p.column for p in result.problems] == ["统一社会信用代码"]
    assert s.scalar(select(func.count(Enterprise.id))) == firms and s.scalar(select(func.count(ImportBatch.id))) == batches
    assert s.get(HeldRow, held.id) is not None
