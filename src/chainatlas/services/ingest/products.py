"""Import a long product file — one row per firm × product line (× revenue share), as annual-report extracts and
data vendors deliver main products — into the firms already in the database, then re-place those firms.

The firm is found by USCC, else stock code, else name (the import's deterministic keys); a row whose firm is not
in the database is held back with its problem (import the enterprise list first), never turned into a new firm.
A product line a firm already has takes the file's share. One transaction, idempotent (same bytes: no change).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.ingest.mapping import PRODUCT_FIELDS
from chainatlas.ingest.names import name_key
from chainatlas.ingest.records import Problem, parse_table, raw_row
from chainatlas.store import bulk
from chainatlas.services.ingest.place import place_touched
from chainatlas.services.ingest.report import summary_dict
from chainatlas.services.ingest.resolve import listing_key, load_index
from chainatlas.services.ingest.source import (
    ImportProblem,
    ImportSummary,
    Progress,
    note_file,
    read_mapped,
    summary_or_prior,
)
from chainatlas.store.db import audit
from chainatlas.store.models import EnterpriseProduct, HeldRow, ImportBatch

KEY_FIELDS = ("uscc", "listing_code", "name")


def import_products(session: Session, path: Path | str, *, mapping: Path | dict | None = None, by_user: str = "system",
                    progress: Progress | None = None, sheet: str | None = None,
                    as_of: date | None = None) -> ImportSummary:
    """Add the file's product lines (with their revenue shares) to the firms it names; see the module docstring."""
    started = time.perf_counter()
    path = Path(path)
    report = progress or (lambda stage, done, total: None)
    summary = summary_or_prior(session, "products", path)
    if summary.already_imported:
        return summary
    report("读取", 0, 1)
    table, hmap = read_mapped(path, PRODUCT_FIELDS, mapping, sheet, ("product",))
    if not any(hmap.column_of(f) for f in KEY_FIELDS):
        raise ImportProblem(f"{path.name}：找不到识别企业的列（统一社会信用代码、股票代码或企业名称）。第{table.header_row}行的表头为："
                            f"{'、'.join(table.headers)}。请修改表头，或用 --mapping 指定（如 columns: {{证券代码: listing_code}}）")
    note_file(summary, table, hmap)
    report("校验", 0, len(table))
    parsed = parse_table(table, hmap, path.name, required=("product",))
    batch = ImportBatch(kind="products", file_name=path.name[:300], sha256=summary.sha256, mapping=hmap.as_dict(),
                        by_user=by_user, rows_total=len(table), as_of=as_of or config.today())
    session.add(batch)
    session.flush()
    summary.batch_id = batch.id

    report("比对", 0, len(table))
    index = load_index(session)
    key_header = next(c.header for f in KEY_FIELDS if (c := hmap.column_of(f)))
    lines: dict[int, dict[str, float | None]] = defaultdict(dict)  # firm → product → share, in file order
    for i in range(len(parsed)):
        if i in parsed.problems:
            continue
        name = parsed.get("name", i)
        firm = index.find(parsed.get("uscc", i), listing_key(parsed.get("listing_code", i)),
                          name_key(name).norm if name else "")
        if firm is None:
            key = parsed.get("uscc", i) or parsed.get("listing_code", i) or name or ""
            parsed.problems[i] = [Problem(path.name, table.row_numbers[i], key_header, key, "库中没有这家企业",
                                          "请先导入企业名单（chainatlas import enterprises），或核对代码与名称")]
            continue
        product = parsed.get("product", i)[:200]
        if product in lines[firm]:
            summary.rows_merged += 1  # the same line twice in the file: the later share wins
        lines[firm][product] = parsed.get("share", i)
    report("写入", 0, len(lines))
    summary.rows_inserted, summary.enterprises_updated = _add_lines(session, lines, f"import:{batch.id}")

    held = []
    for i in sorted(parsed.problems):
        summary.problems.extend(parsed.problems[i])
        held.append({"batch_id": batch.id, "row_number": table.row_numbers[i], "values": raw_row(table, i),
                     "problems": [pr.as_dict() for pr in parsed.problems[i]]})
    bulk.insert_rows(session, HeldRow.__table__, held)
    summary.rows_held = len(held)
    report("归链", 0, 1)
    summary.placed = place_touched(session, set(lines), by_user)
    batch.rows_inserted, batch.rows_merged, batch.rows_held = summary.rows_inserted, summary.rows_merged, len(held)
    audit(session, by_user, "import.products", "import_batch", batch.id, None, summary_dict(summary))
    session.flush()
    summary.seconds = time.perf_counter() - started
    return summary


def _add_lines(session: Session, lines: dict[int, dict[str, float | None]], source: str) -> tuple[int, int]:
    """Add new product lines, update the share of known ones; returns (lines added, firms changed)."""
    have: dict[tuple[int, str], EnterpriseProduct] = {}
    for chunk in bulk.chunks(list(lines)):
        for row in session.scalars(select(EnterpriseProduct).where(EnterpriseProduct.enterprise_id.in_(chunk))):
            have[(row.enterprise_id, row.product)] = row
    added: dict[str, list] = {"enterprise_id": [], "product": [], "revenue_share": [], "source": []}
    changed = set()
    for firm, products in lines.items():
        for product, share in products.items():
            row = have.get((firm, product))
            if row is None:
                for col, value in zip(added.values(), (firm, product, share, source)):
                    col.append(value)
                changed.add(firm)
            elif share is not None and row.revenue_share != share:
                row.revenue_share, row.source = share, source
                changed.add(firm)
    bulk.insert_columns(session, EnterpriseProduct.__table__, added)
    session.flush()
    return len(added["product"]), len(changed)
