"""Where a number comes from and how old it is: an imported fact's batch (file, batch id) and as-of date, and whether
it is older than CHAINATLAS_STALE_DAYS (待更新)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.store.models import ImportBatch

_OTHER = {"demo": "演示数据（非真实记录）", "manual": "人工录入", "public": "公开资料", "public:reference": "全国参考企业集（公开资料）"}


@dataclass(frozen=True)
class Provenance:
    label: str  # as officers read it: 导入文件「名单.xlsx」（批次 #3） / 演示数据 / 人工录入
    file_name: str
    batch_id: int | None
    as_of: date | None  # the date the source's facts describe
    age_days: int | None
    stale: bool  # older than the configured age: 待更新


def batch_id_of(source: str) -> int | None:
    parts = (source or "").split(":")
    return int(parts[1]) if len(parts) > 1 and parts[0] == "import" and parts[1].isdigit() else None


def provenances(session: Session, sources: Iterable[str]) -> dict[str, Provenance]:
    """Each distinct source text → its provenance (one query for all the batches named)."""
    sources = set(sources)
    ids = {batch_id_of(s) for s in sources} - {None}
    batches = {b.id: b for b in session.scalars(select(ImportBatch).where(ImportBatch.id.in_(ids)))} if ids else {}
    today, limit = config.today(), config.stale_after_days()
    out = {}
    for source in sources:
        batch = batches.get(batch_id_of(source))
        if batch is None:
            out[source] = Provenance(_OTHER.get(source, source or "—"), "", None, None, None, False)
            continue
        as_of = batch.as_of or config.local_time(batch.at).date()
        age = (today - as_of).days
        relation = "，供应关系中出现" if source.endswith(":relation") else ""
        out[source] = Provenance(f"导入文件「{batch.file_name}」（批次 #{batch.id}{relation}）", batch.file_name, batch.id,
                                 as_of, age, age > limit)
    return out
