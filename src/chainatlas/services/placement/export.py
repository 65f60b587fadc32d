"""The database's effective placements as `classify` writes its file (id,node_id,node_name,score,evidence), so the
two can be compared line for line and a bureau can hand the placements to other tools."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain, load_chain
from chainatlas.services.placement.placements import effective_placements
from chainatlas.store.models import Enterprise

HEADER = ("id", "node_id", "node_name", "score", "evidence")


@dataclass(frozen=True)
class PlacementRow:
    id: str  # the firm's key from its import: USCC, else stock code, else name
    node_id: str
    node_name: str
    score: float
    evidence: list


def firm_keys(session: Session, ids: list[int]) -> dict[int, str]:
    """Each firm's key as a file names it: its USCC, else its stock code, else its name."""
    keys: dict[int, str] = {}
    for start in range(0, len(ids), 2_000):
        chunk = ids[start:start + 2_000]
        for eid, uscc, listing, name in session.execute(
            select(Enterprise.id, Enterprise.uscc, Enterprise.listing_code, Enterprise.name)
            .where(Enterprise.id.in_(chunk))
        ):
            keys[eid] = uscc or listing or name
    return keys


def placement_rows(session: Session, chain: Chain | str) -> list[PlacementRow]:
    """Every firm's effective placements on the chain (after analysts' decisions), firm by firm, best first."""
    if isinstance(chain, str):
        chain = load_chain(chain)
    placed = effective_placements(session, chain)
    keys = firm_keys(session, sorted(placed))
    return [PlacementRow(keys[eid], p.node_id, chain.nodes[p.node_id].name_zh, p.score, p.evidence)
            for eid in sorted(placed) for p in placed[eid]]


def write_placements_csv(rows: list[PlacementRow], out: Path) -> None:
    """As `classify` writes: UTF-8 with a BOM (Excel opens it), CRLF, score with three decimals, evidence as
    compact JSON; the file appears whole or not at all."""
    out = Path(out)
    partial = out.with_name(f".{out.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            for r in rows:
                writer.writerow((r.id, r.node_id, r.node_name, f"{r.score:.3f}",
                                 json.dumps(r.evidence, ensure_ascii=False, separators=(",", ":"))))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
