"""归链核实: the zone's firms an officer should look at so that no firm of the chain is missed.

Two lists, each decided by hand on the same manual rows every re-classification respects (`correct_placement`):
- placements the engine only inferred from a generic line (泛称推断: "汽车零部件 20%", the node a guess), to confirm
  or move;
- firms placed nowhere on the chain (and not decided off it), with the chain words their text does hold — weak words
  below the rules' gate, a segment's prior from the industry code — as hints, most promising first. A firm whose
  text holds no chain word at all is listed after them: only the officer's knowledge can place it.

The hints are `Classifier.candidates` over the firm as stored (`stored_firms`), the same reading `classify` makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain
from chainatlas.engines.classify import Classifier, Record
from chainatlas.services.placement.placements import (
    MANUAL,
    EffectivePlacement,
    effective_placements,
    inferred_from_generic_line,
    stored_firms,
)
from chainatlas.store.models import Enterprise, Placement

HINTS_PER_FIRM = 3
PRODUCTS_SHOWN = 4


@dataclass(frozen=True)
class Hint:
    """A node the firm's text speaks for without placing it: its rule score (0 when only weak words or a prior
    speak) and the evidence entries behind it."""

    node_id: str
    node_name: str
    score: float
    evidence: list[dict]


@dataclass
class CheckRow:
    enterprise_id: int
    name: str
    industry: str
    products: list[str]  # the first product lines, with their revenue share when given
    inferred: EffectivePlacement | None = None  # the generic-line placement to confirm (list 1)
    hints: list[Hint] = field(default_factory=list)  # list 2


@dataclass
class PlacementCheck:
    zone_firms: int
    placed: int  # firms with an effective placement on the chain (inferred ones included)
    decided_off: int  # firms an officer has put off the chain
    inferred: list[CheckRow]
    inferred_total: int
    unplaced: list[CheckRow]  # firms with hints first (best hint first), then firms with none
    unplaced_total: int
    unplaced_with_hints: int
    limit: int | None


def is_inferred(placements: Sequence[EffectivePlacement]) -> bool:
    """The firm's placements rest on generic lines only: every one is a rule placement by the fallback."""
    return bool(placements) and all(inferred_from_generic_line(p.method, p.evidence) for p in placements)


_classifiers: dict[str, tuple[Chain, Classifier]] = {}


def _classifier(chain: Chain) -> Classifier:
    """One Classifier per loaded chain: load_chain hands out a new Chain when its file changes."""
    held = _classifiers.get(chain.id)
    if held is None or held[0] is not chain:
        held = (chain, Classifier(chain))
        _classifiers[chain.id] = held
    return held[1]


def firm_hints(session: Session, chain: Chain, enterprise_ids: Sequence[int]) -> dict[int, list[Hint]]:
    """For each firm, the nodes its stored text speaks for that the rules do not place it on, best first."""
    if not enterprise_ids:
        return {}
    return _hints(chain, *stored_firms(session, enterprise_ids))


def _hints(chain: Chain, frame: pl.DataFrame, lists: dict[str, Sequence[tuple]]) -> dict[int, list[Hint]]:
    """`firm_hints` of the firms `stored_firms` read."""
    classifier = _classifier(chain)
    out: dict[int, list[Hint]] = {}
    for row in frame.iter_rows(named=True):
        record = Record(id=row["id"], name=row["name"], products=lists[row["products"]], scope=row["scope"],
                        industry_code=row["industry_code"], industry=row["industry"],
                        supplied=lists[row["supplied"]])
        hints = [
            Hint(c.node, chain.nodes[c.node].name_zh, c.score, c.evidence)
            for c in classifier.candidates(record) if not c.placed and (c.evidence or c.prior > 0)
        ]
        hints.sort(key=lambda h: -h.score)
        out[int(row["id"])] = hints[:HINTS_PER_FIRM]
    return out


def _products(frame: pl.DataFrame, lists: dict[str, Sequence[tuple]]) -> dict[int, list[str]]:
    """Each firm's first product lines as a page shows them (产品 35.0%)."""
    out: dict[int, list[str]] = {}
    for eid, key in zip(frame["id"].to_list(), frame["products"].to_list()):
        out[int(eid)] = [f"{p} {s:.1%}" if isinstance(s, float) else p for p, s in lists[key][:PRODUCTS_SHOWN]]
    return out


def placement_check(session: Session, zone_id: str, chain: Chain, limit: int | None = 200) -> PlacementCheck:
    """The zone's firms to check on the chain: inferred placements, then unplaced firms (at most `limit` each, all
    with None)."""
    firms = session.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.industry)
        .where(Enterprise.zone_id == zone_id, Enterprise.merged_into_id.is_(None)).order_by(Enterprise.id)
    ).all()
    ids = [f.id for f in firms]
    effective = effective_placements(session, chain, ids)
    in_zone = select(Enterprise.id).where(Enterprise.zone_id == zone_id, Enterprise.merged_into_id.is_(None))
    decided_off = set(session.scalars(
        select(Placement.enterprise_id).where(
            Placement.chain_id == chain.id, Placement.method == MANUAL, Placement.rejected.is_(True),
            Placement.node_id.is_(None), Placement.enterprise_id.in_(in_zone))
    ))
    inferred_ids = [i for i in ids if is_inferred(effective.get(i, ()))]
    unplaced_ids = [i for i in ids if i not in effective and i not in decided_off]
    # the firms as stored, read once: the unplaced ones' text gives their hints, every listed one its product lines
    frame, lists = stored_firms(session, inferred_ids + unplaced_ids)
    hints = _hints(chain, frame.filter(pl.col("id").cast(pl.Int64).is_in(unplaced_ids)), lists) if unplaced_ids else {}
    unplaced_ids.sort(key=lambda i: (not hints.get(i), -(hints[i][0].score if hints.get(i) else 0.0), i))
    products = _products(frame, lists)
    by_id = {f.id: f for f in firms}

    def row(eid: int) -> CheckRow:
        f = by_id[eid]
        return CheckRow(eid, f.name, f.industry or "", products.get(eid, []),
                        inferred=effective[eid][0] if eid in effective else None, hints=hints.get(eid, []))

    return PlacementCheck(
        zone_firms=len(ids), placed=len(effective), decided_off=len(decided_off),
        inferred=[row(i) for i in inferred_ids[:limit]], inferred_total=len(inferred_ids),  # [:None] is all
        unplaced=[row(i) for i in unplaced_ids[:limit]],
        unplaced_total=len(unplaced_ids), unplaced_with_hints=sum(1 for i in unplaced_ids if hints.get(i)),
        limit=limit,
    )
