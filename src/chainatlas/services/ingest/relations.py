"""Import supplier → customer relations: parties found by USCC or name, unknown ones created (outside any zone) and
placed; one transaction, idempotent."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import load_chain
from chainatlas.domain.uscc import division_code
from chainatlas.ingest.address import place_from_division_code
from chainatlas.ingest.mapping import RELATION_FIELDS, ColumnMap, HeaderMapping
from chainatlas.ingest.names import name_key
from chainatlas.ingest.records import Parsed, Problem, parse_table
from chainatlas.store import bulk
from chainatlas.services.ingest.link import link_new
from chainatlas.services.ingest.parties import Found, Parties
from chainatlas.services.ingest.place import place_touched
from chainatlas.services.ingest.report import summary_dict
from chainatlas.services.ingest.resolve import load_index
from chainatlas.services.ingest.rows import FirmRecord, NewFirms
from chainatlas.services.placement.placements import product_nodes
from chainatlas.services.ingest.source import ImportSummary, Progress, note_file, read_mapped, summary_or_prior
from chainatlas.store.db import audit
from chainatlas.store.models import Enterprise, HeldRow, ImportBatch, MergeCandidate, Relation


def import_relations(
    session: Session,
    path: Path | str,
    *,
    mapping: Path | dict | None = None,
    by_user: str = "system",
    progress: Progress | None = None,
    sheet: str | None = None,
    units: list[str] = (),
    as_of: date | None = None,
) -> ImportSummary:
    """Import supplier → customer relations. Parties are found by USCC or name — English and brand names through
    services/ingest/parties.py — and created (outside any zone, source "import:<batch>:relation") when unknown;
    created parties then go through splink like new firms (confident matches merged, doubtful ones queued), and
    are placed. A row whose supplier is its customer is held with the reason."""
    started = time.perf_counter()
    path = Path(path)
    report = progress or (lambda stage, done, total: None)
    summary = summary_or_prior(session, "relations", path)
    if summary.already_imported:
        return summary
    table, hmap = read_mapped(path, RELATION_FIELDS, mapping, sheet, ("supplier_name", "customer_name"), units)
    note_file(summary, table, hmap)
    parsed = parse_table(table, hmap, path.name, required=())
    _require_party(parsed, hmap, path.name)
    batch = ImportBatch(kind="relations", file_name=path.name[:300], sha256=summary.sha256,
                        mapping=hmap.as_dict(),
                        by_user=by_user, rows_total=len(table), as_of=as_of or config.today())
    session.add(batch)
    session.flush()
    summary.batch_id = batch.id
    source = f"import:{batch.id}:relation"
    index = load_index(session)
    existing = {
        (s, c, p, y) for s, c, p, y in session.execute(
            select(Relation.supplier_id, Relation.customer_id, Relation.product, Relation.year))
    }
    created: list[int] = []
    parties = Parties(session, index)
    made: list[FirmRecord] = []  # the counterparties created, for splink to look at with the stored firms
    made_ids: list[int] = []
    queue: list[dict] = []  # names that fit several stored firms, each pair for review

    def party(name: str | None, uscc: str | None) -> int:
        name = " ".join((name or "").split())
        key = name_key(name) if name else None
        found = parties.find(name, uscc) if name else Found(index.find(uscc, None, ""))
        if found.firm is not None:
            return found.firm
        # counterparties are few (hundreds) next to relations; the ORM keeps ids right on every database
        ent = Enterprise(name=name or uscc or "", name_norm=key.norm[:200] if key else "", uscc=uscc, source=source)
        if key and key.latin:
            ent.name_en = name
        if uscc:
            place = place_from_division_code(division_code(uscc))
            ent.province_code, ent.city_code, ent.district_code = (
                place.province_code, place.city_code, place.district_code)
        session.add(ent)
        session.flush()
        created.append(ent.id)
        index.add(ent.id, uscc, None, [key.norm] if key else [])
        queue.extend({"left_id": other, "right_id": ent.id, "probability": 0.5, "status": "pending",
                      "evidence": {"name_core": found.why, "several": f"符合{len(found.several)}家企业，需人工确认"},
                      "batch_id": batch.id, "decided_by": "", "decided_at": None, "snapshot": {}}
                     for other in found.several)
        if key and not found.several:
            made.append(FirmRecord(0, {"name": name, "name_en": ent.name_en}, name, key.norm, key.core,
                                   key.is_branch, [], [], []))
            made_ids.append(ent.id)
        return ent.id

    pending: list[tuple[int, int, str, int | None, int | None]] = []
    for i in range(len(parsed)):
        if i in parsed.problems:
            continue
        s = party(parsed.get("supplier_name", i), parsed.get("supplier_uscc", i))
        c = party(parsed.get("customer_name", i), parsed.get("customer_uscc", i))
        if s == c:  # BYD supplying 比亚迪股份有限公司 is a firm's own work, not a supply relation
            col = hmap.column_of("supplier_name")
            parsed.problems.setdefault(i, []).append(Problem(
                path.name, table.row_numbers[i], col.header if col else "供应商名称",
                parsed.get("supplier_name", i) or "", "供应商与客户是同一家企业",
                "一家企业不能是自己的供应商：请核对该行的供应商或客户名称（品牌名、英文名也会被认作同一家）"))
            continue
        product = (parsed.get("product", i) or "")[:200]
        year = parsed.get("year", i)
        key = (s, c, product, year)
        if key in existing:
            summary.rows_merged += 1
            continue
        existing.add(key)
        pending.append((s, c, product, year, parsed.get("value_yuan", i)))
        if i % 20_000 == 0:
            report("比对", i, len(parsed))
    # the node a relation's product sits on (an English component name too: Fuel Injection, Disc Brake)
    node_of = product_nodes(load_chain(config.default_chain()), (p for _, _, p, _, _ in pending))
    bulk.insert_rows(session, Relation.__table__, [
        {"supplier_id": s, "customer_id": c, "product": p, "year": y, "value_yuan": val, "node_id": node_of.get(p),
         "source": f"import:{batch.id}"} for s, c, p, y, val in pending
    ])
    bulk.insert_rows(session, MergeCandidate.__table__, queue)
    # the counterparties no name found: splink merges the confident ones (their relations move) and queues the rest
    linked, queued, survivors = (link_new(session, NewFirms.of_records(made, made_ids), batch.id, by_user)
                                 if made else (set(), 0, set()))
    summary.rows_linked, summary.rows_review = len(linked), queued + len(queue)
    held = []
    for i in sorted(parsed.problems):
        summary.problems.extend(parsed.problems[i])
        held.append({"batch_id": batch.id, "row_number": table.row_numbers[i], "values": parsed.raw_row(i),
                     "problems": [pr.as_dict() for pr in parsed.problems[i]]})
    bulk.insert_rows(session, HeldRow.__table__, held)
    summary.rows_inserted, summary.rows_held = len(pending), len(held)
    summary.enterprises_created = len(created) - len(linked)
    # a counterparty's name can say what it makes, and a supplier is placed by what it supplies to its customers
    # (stored relations are evidence of the engine), known before this file or not
    suppliers = {s for s, _, _, _, _ in pending if s not in linked}
    summary.placed = place_touched(session, (set(created) - linked) | survivors | suppliers, by_user)
    batch.rows_inserted, batch.rows_merged, batch.rows_held = len(pending), summary.rows_merged, len(held)
    audit(session, by_user, "import.relations", "import_batch", batch.id, None, summary_dict(summary))
    session.flush()
    summary.seconds = time.perf_counter() - started
    return summary


def _require_party(parsed: Parsed, hmap: HeaderMapping, file_name: str) -> None:
    """Each side of a relation needs a name or a USCC."""
    for side, label in (("supplier", "供应商"), ("customer", "客户")):
        col: ColumnMap | None = hmap.column_of(f"{side}_name")
        for i in range(len(parsed)):
            if not parsed.get(f"{side}_name", i) and not parsed.get(f"{side}_uscc", i):
                parsed.problems.setdefault(i, []).append(Problem(
                    file_name, parsed.table.row_numbers[i], col.header if col else f"{label}名称", "",
                    f"{label}名称和信用代码都为空", f"请补全{label}名称或统一社会信用代码，或删除该行"))
