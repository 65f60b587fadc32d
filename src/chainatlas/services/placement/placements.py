"""Rule placements in the database: classify enterprises onto a chain, with evidence, never over an analyst.

- Manual rows win: an analyst's "not on this chain" (method=manual, node_id NULL, rejected) keeps every rule
  placement off the firm; a manual rejection of a node keeps rule placements off that node and its sub-nodes;
  a manual or imported placement on a node makes a rule row there redundant, so none is written.
- Each rule row stores the fingerprint of its node (keywords, exclusions, codes) as used.
- Re-classification after a chain-file change rewrites only what changed: a firm's rule rows are left exactly
  as they are (same ids, same timestamps) unless its placements under the new chain differ — a node whose
  fingerprint changed, a node added or lost, or a different score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, aliased

from chainatlas.domain.chain import Chain, load_chain
from chainatlas.engines.classify import Placement as RulePlacement, Record
from chainatlas.engines.classify_batch import BatchClassifier
from chainatlas.store.db import audit
from chainatlas.store.models import Enterprise, EnterpriseProduct, Placement, Relation

RULE, MANUAL, IMPORTED = "rule", "manual", "imported"
BATCH = 2_000


@dataclass
class ClassifySummary:
    chain_id: str
    enterprises: int = 0  # examined
    changed: int = 0  # firms whose rule placements were rewritten
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    skipped_manual: int = 0  # rule placements held back by an analyst's decision


def stored_records(session: Session, ids: Sequence[int]) -> list[Record]:
    """The firms as the engine reads them, from what the database stores: name, product lines with their revenue
    shares (in the order they were imported), business scope, GB/T 4754 code and industry text — the fields
    `classify` reads from a file, so a firm gets the same placements either way — and the components it supplies
    to named customers (its stored supply relations, in import order), evidence a file has no column for."""
    lines: dict[int, list[tuple[str, float | None]]] = defaultdict(list)
    for eid, product, share in session.execute(
        select(EnterpriseProduct.enterprise_id, EnterpriseProduct.product, EnterpriseProduct.revenue_share)
        .where(EnterpriseProduct.enterprise_id.in_(ids)).order_by(EnterpriseProduct.id)
    ):
        lines[eid].append((product, share))
    supplied: dict[int, list[tuple[str, str]]] = defaultdict(list)
    customer = aliased(Enterprise)
    for eid, product, customer_name in session.execute(
        select(Relation.supplier_id, Relation.product, customer.name)
        .join(customer, customer.id == Relation.customer_id)
        .where(Relation.supplier_id.in_(ids), Relation.product != "").order_by(Relation.id)
    ):
        if (product, customer_name) not in supplied[eid]:  # one line per component and customer, whatever the year
            supplied[eid].append((product, customer_name or ""))
    firms = session.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.business_scope, Enterprise.industry_code,
               Enterprise.industry).where(Enterprise.id.in_(ids)).order_by(Enterprise.id))
    return [Record(id=str(eid), name=name or "", products=lines.get(eid, []), scope=scope or "",
                   industry_code=code or "", industry=industry or "", supplied=supplied.get(eid, []))
            for eid, name, scope, code, industry in firms]


def _blocked(chain: Chain, decisions: list[Placement]) -> tuple[bool, set[str]]:
    """(firm ruled off the chain, nodes a rule may not use) from the firm's manual and imported rows."""
    off_chain = any(d.method == MANUAL and d.rejected and d.node_id is None for d in decisions)
    blocked: set[str] = set()
    for d in decisions:
        if d.node_id is None or d.node_id not in chain.nodes:
            continue
        blocked.add(d.node_id)
        if d.method == MANUAL and d.rejected:  # "not on X" covers X's sub-nodes too
            blocked.update(n.id for n in chain.descendants(d.node_id))
    return off_chain, blocked


def _same(row: Placement, new: RulePlacement, fingerprint: str) -> bool:
    return row.node_fingerprint == fingerprint and abs(row.score - new.score) < 1e-9 and row.evidence == new.evidence


def classify_enterprises(
    session: Session, chain: Chain | str, enterprise_ids: Iterable[int] | None = None, by_user: str = "classifier"
) -> ClassifySummary:
    """Store rule placements for the given enterprises (default: all live ones); returns what was written."""
    if isinstance(chain, str):
        chain = load_chain(chain)
    classifier = BatchClassifier(chain)
    fingerprints = {nid: node.fingerprint() for nid, node in chain.nodes.items()}
    summary = ClassifySummary(chain.id)
    query = select(Enterprise.id).where(Enterprise.merged_into_id.is_(None)).order_by(Enterprise.id)
    ids = list(session.scalars(query)) if enterprise_ids is None else sorted(set(enterprise_ids))
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        records = stored_records(session, batch)
        placed: dict[str, list[RulePlacement]] = defaultdict(list)
        for p in classifier.classify_records(records):
            placed[p.id].append(p)
        existing: dict[int, list[Placement]] = defaultdict(list)
        for row in session.scalars(
            select(Placement).where(Placement.chain_id == chain.id, Placement.enterprise_id.in_(batch))
        ):
            existing[row.enterprise_id].append(row)
        new_rows: list[dict] = []  # written at once with Core: an import's firms bring tens of thousands
        for record in records:
            firm_id = int(record.id)
            summary.enterprises += 1
            rows = existing.get(firm_id, [])
            rule_rows = {r.node_id: r for r in rows if r.method == RULE}
            off_chain, blocked = _blocked(chain, [r for r in rows if r.method != RULE])
            wanted: dict[str, RulePlacement] = {}
            for p in placed.get(record.id, ()):
                if off_chain or p.node_id in blocked:
                    summary.skipped_manual += 1
                    continue
                wanted[p.node_id] = p
            changed = False
            for node_id, row in rule_rows.items():
                if node_id not in wanted:
                    session.delete(row)
                    summary.deleted += 1
                    changed = True
            for node_id, p in wanted.items():
                row = rule_rows.get(node_id)
                fingerprint = fingerprints[node_id]
                if row is not None and _same(row, p, fingerprint):
                    continue
                changed = True
                if row is None:
                    new_rows.append({"enterprise_id": firm_id, "chain_id": chain.id, "node_id": node_id,
                                     "method": RULE, "rejected": False, "score": p.score, "confidence": p.confidence,
                                     "evidence": p.evidence, "node_fingerprint": fingerprint, "created_by": by_user,
                                     "note": ""})
                    summary.inserted += 1
                    continue
                summary.updated += 1
                row.score, row.confidence, row.evidence = p.score, p.confidence, p.evidence
                row.node_fingerprint, row.created_by, row.rejected = fingerprint, by_user, False
            summary.changed += changed
        session.flush()
        if new_rows:
            session.execute(insert(Placement), new_rows)
    if summary.changed:  # the audit log records writes; re-placing firms that stay where they were writes nothing
        audit(session, by_user, "classify", "chain", chain.id, after=asdict(summary))
    return summary


# ---------------------------------------------------------------- reading and correcting placements


@dataclass(frozen=True)
class EffectivePlacement:
    """A placement as the rest of the system sees it: after manual decisions have overruled the rules."""

    node_id: str
    score: float
    confidence: float
    method: str
    evidence: list
    placement_id: int
    created_by: str
    note: str


def effective_placements(
    session: Session, chain: Chain | str, enterprise_ids: Iterable[int] | None = None
) -> dict[int, list[EffectivePlacement]]:
    """Enterprise id → its placements on the chain, manual first then best score; vetoed rows left out."""
    if isinstance(chain, str):
        chain = load_chain(chain)
    query = select(Placement).where(Placement.chain_id == chain.id)
    rows_by_firm: dict[int, list[Placement]] = defaultdict(list)
    if enterprise_ids is None:
        for row in session.scalars(query):
            rows_by_firm[row.enterprise_id].append(row)
    else:
        ids = sorted(set(enterprise_ids))
        for start in range(0, len(ids), BATCH):
            for row in session.scalars(query.where(Placement.enterprise_id.in_(ids[start:start + BATCH]))):
                rows_by_firm[row.enterprise_id].append(row)
    out: dict[int, list[EffectivePlacement]] = {}
    for firm_id, rows in rows_by_firm.items():
        off_chain, blocked = _blocked(chain, [r for r in rows if r.method == MANUAL and r.rejected])
        if off_chain:
            continue
        kept = [
            r for r in rows
            if not r.rejected and r.node_id in chain.nodes and (r.method != RULE or r.node_id not in blocked)
        ]
        kept.sort(key=lambda r: (r.method == RULE, -r.score))
        seen: set[str] = set()
        result = []
        for r in kept:
            if r.node_id in seen:
                continue
            seen.add(r.node_id)
            result.append(
                EffectivePlacement(r.node_id, r.score, r.confidence, r.method, r.evidence or [], r.id, r.created_by, r.note)
            )
        if result:
            out[firm_id] = result
    return out


class PlacementError(ValueError):
    """A correction that cannot be made; the message is Chinese and says what to do."""


def correct_placement(
    session: Session,
    enterprise_id: int,
    chain_id: str,
    *,
    action: str,
    node_id: str | None = None,
    by_user: str,
    note: str = "",
) -> Placement:
    """An analyst's decision, stored as a manual row that every later re-classification respects.

    action: "place" (on node_id), "reject" (not on node_id), "off_chain" (not on this chain at all),
    "clear" (withdraw the analyst's earlier decisions on node_id, or all of them when node_id is None).
    """
    chain = load_chain(chain_id)
    if session.get(Enterprise, enterprise_id) is None:
        raise PlacementError(f"企业 {enterprise_id} 不存在")
    if action in {"place", "reject"} and node_id not in chain.nodes:
        raise PlacementError(f"产业链“{chain.name_zh}”中没有节点“{node_id}”：请从节点列表中选择")
    manual = list(
        session.scalars(
            select(Placement).where(
                Placement.enterprise_id == enterprise_id, Placement.chain_id == chain_id, Placement.method == MANUAL
            )
        )
    )
    before = [{"node_id": r.node_id, "rejected": r.rejected} for r in manual]
    if action == "clear":
        for row in manual:
            if node_id is None or row.node_id == node_id:
                session.delete(row)
        result = Placement(enterprise_id=enterprise_id, chain_id=chain_id, node_id=node_id, method=MANUAL)
    elif action in {"place", "reject", "off_chain"}:
        target = None if action == "off_chain" else node_id
        for row in manual:  # the newest decision on a node replaces the older one
            if row.node_id == target or (action == "place" and row.node_id is None):
                session.delete(row)
        result = Placement(
            enterprise_id=enterprise_id,
            chain_id=chain_id,
            node_id=target,
            method=MANUAL,
            rejected=action != "place",
            score=1.0 if action == "place" else 0.0,
            confidence=1.0,
            evidence=[{"field": "manual", "by": by_user, "note": note}],
            created_by=by_user,
            note=note,
        )
        session.add(result)
    else:
        raise PlacementError(f"未知操作“{action}”：可用 place、reject、off_chain、clear")
    session.flush()
    audit(
        session, by_user, f"placement.{action}", "enterprise", enterprise_id,
        before={"manual": before}, after={"node_id": node_id, "action": action, "note": note},
    )
    return result


def product_nodes(chain: Chain, products: Iterable[str]) -> dict[str, str]:
    """The node each product or component name places on by itself (English component words included): where a
    supply relation's product sits on the chain. A name placing nowhere is left out."""
    best: dict[str, str] = {}
    records = [Record(id=p, products=[(p, None)]) for p in set(products) if p]
    for p in BatchClassifier(chain).classify_records(records) if records else ():
        best.setdefault(p.id, p.node_id)  # best first within a record
    return best


# ---------------------------------------------------------------- placing the firms an import touched


def placement_chain_ids(session: Session) -> list[str]:
    """The chains every import places firms on: the default chain and every chain loaded into the database."""
    from chainatlas import config
    from chainatlas.services.catalog.chains import loaded_chain_ids

    return list(dict.fromkeys([config.default_chain(), *loaded_chain_ids(session)]))


def placed_count(session: Session, chain_id: str, enterprise_ids: Iterable[int]) -> int:
    """How many of the firms have a placement in force on the chain: rule rows are never written against an
    analyst's veto, so a firm with any standing row on a node is placed."""
    ids = sorted(set(enterprise_ids))
    return sum(session.scalar(
        select(func.count(func.distinct(Placement.enterprise_id))).where(
            Placement.chain_id == chain_id, Placement.enterprise_id.in_(ids[start:start + BATCH]),
            Placement.rejected.is_(False), Placement.node_id.is_not(None))) or 0
        for start in range(0, len(ids), BATCH))


def place_firms(session: Session, enterprise_ids: Iterable[int], by_user: str) -> dict[str, ClassifySummary]:
    """Place the given firms on every import chain (`placement_chain_ids`) from their stored evidence — the path
    every import (command line, web, any format) ends with, so the database holds what `classify` would say."""
    from chainatlas.services.catalog.chains import sync_chain

    ids = sorted(set(enterprise_ids))
    done = {}
    for chain_id in placement_chain_ids(session):
        chain = load_chain(chain_id)
        sync_chain(session, chain)  # gaps and the map join placements to the chain's nodes
        done[chain_id] = classify_enterprises(session, chain, ids, by_user=by_user) if ids else ClassifySummary(
            chain_id)
    return done
