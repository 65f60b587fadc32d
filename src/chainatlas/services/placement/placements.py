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

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from operator import itemgetter
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from chainatlas.domain.chain import Chain, load_chain
from chainatlas.engines.classify import Record
from chainatlas.engines.classify_batch import INPUT_COLUMNS, BatchClassifier
from chainatlas.store import bulk
from chainatlas.store.db import audit
from chainatlas.store.models import Enterprise, EnterpriseProduct, Placement, Relation

RULE, MANUAL, IMPORTED = "rule", "manual", "imported"
BATCH = 2_000
_first = itemgetter(0)
# Firms read and placed at once: the batch engine's cost per call is mostly fixed (a frame, its distinct texts),
# so a million-firm import places in ten calls, not five hundred; memory stays bounded (≈ 0.2 GB of records).
PLACE_BATCH = 100_000


@dataclass
class ClassifySummary:
    chain_id: str
    enterprises: int = 0  # examined
    changed: int = 0  # firms whose rule placements were rewritten
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    skipped_manual: int = 0  # rule placements held back by an analyst's decision


def _id_filters(column: Any, ids: Sequence[int]) -> list[Any]:
    """WHERE clauses that together cover the sorted `ids` on an indexed id column: one BETWEEN where they are dense
    (an import's new firms are one stretch of ids), else IN lists of BATCH. A clause may also match ids not asked
    for, so callers keep only the rows of `ids`. Callers filter nothing else in SQL: with a chain_id condition
    beside it, SQLite may walk the chain's index through every placement of the chain for each batch."""
    if not ids:
        return []
    if ids[-1] - ids[0] < 2 * len(ids):
        return [column.between(ids[0], ids[-1])]
    return [column.in_(ids[start:start + BATCH]) for start in range(0, len(ids), BATCH)]


def stored_firms(session: Session, ids: Sequence[int]) -> tuple[pl.DataFrame, dict[str, Sequence[tuple]]]:
    """The firms as the engine reads them, from what the database stores: name, product lines with their revenue
    shares (in the order they were imported), business scope, GB/T 4754 code and industry text — the fields
    `classify` reads from a file, so a firm gets the same placements either way — and the components it supplies
    to named customers (its stored supply relations, in import order), evidence a file has no column for.

    As `BatchClassifier.classify_frame` takes them: a frame (INPUT_COLUMNS and "supplied", in id order) whose
    products and supplied cells are keys of the returned lists (a firm's lines as text, so equal lists share one)."""
    ids = sorted(set(ids))
    wanted = set(ids)
    session.flush()  # the reads below go to the connection (plain rows, without the ORM's per-row cost)
    conn = session.connection()
    lines: dict[int, list[tuple[int, str, float | None]]] = defaultdict(list)
    supplied_rows: list[tuple[int, int, str, str | None]] = []
    firms: list[tuple] = []
    customer = aliased(Enterprise)
    for where in _id_filters(EnterpriseProduct.enterprise_id, ids):
        for line_id, eid, product, share in conn.execute(
            select(EnterpriseProduct.id, EnterpriseProduct.enterprise_id, EnterpriseProduct.product,
                   EnterpriseProduct.revenue_share).where(where)
        ):
            if eid in wanted:
                lines[eid].append((line_id, product, share))
    for where in _id_filters(Relation.supplier_id, ids):
        supplied_rows.extend(row for row in conn.execute(
            select(Relation.id, Relation.supplier_id, Relation.product, customer.name)
            .join(customer, customer.id == Relation.customer_id).where(where, Relation.product != "")
        ) if row[1] in wanted)
    supplied: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for _, eid, product, customer_name in sorted(supplied_rows, key=_first):  # import order
        if (product, customer_name) not in supplied[eid]:  # one line per component and customer, whatever the year
            supplied[eid].append((product, customer_name or ""))
    for where in _id_filters(Enterprise.id, ids):
        firms.extend(row for row in conn.execute(
            select(Enterprise.id, Enterprise.name, Enterprise.business_scope, Enterprise.industry_code,
                   Enterprise.industry).where(where)
        ) if row[0] in wanted)
    firms.sort(key=_first)
    lists: dict[str, Sequence[tuple]] = {"[]": []}

    def keyed(found: list[tuple]) -> str:
        key = repr(found)
        lists.setdefault(key, found)
        return key

    frame = pl.DataFrame({
        "id": [str(row[0]) for row in firms], "name": [row[1] or "" for row in firms],
        "products": [keyed([(product, share) for _, product, share in sorted(lines[row[0]], key=_first)])
                     if row[0] in lines else "[]" for row in firms],
        "scope": [row[2] or "" for row in firms], "industry_code": [row[3] or "" for row in firms],
        "industry": [row[4] or "" for row in firms],
        "supplied": [keyed(supplied[row[0]]) if row[0] in supplied else "[]" for row in firms],
    }, schema=dict.fromkeys((*INPUT_COLUMNS, "supplied"), pl.String))
    return frame, lists


@dataclass
class WrittenFirms:
    """Firms as the engine reads them, from a caller that has just written them and nothing since (an import's new
    firms): the frame `stored_firms` would read back (INPUT_COLUMNS and "supplied", "id" as text, in id order, with
    "_id" as a number) and its lists, without reading a million rows back from the database."""

    frame: pl.DataFrame
    lists: dict[str, Sequence[tuple]]

    @classmethod
    def of(cls, ids: Sequence[int], names: Sequence[str | None], products: Sequence[Sequence[tuple]],
           scopes: Sequence[str | None], industry_codes: Sequence[str | None],
           industries: Sequence[str | None]) -> "WrittenFirms":
        """The firms `ids` (ascending) with the values written for them; each firm's product lines as written (a
        product cut to 200 characters, as stored), in their order. Equal lists made by one parse share a key."""
        # each list object once, keyed by its id() in decimal (a stored list's key is its repr, "[…]"): the lists
        # one parse made for equal cells share a key
        by_id = {id(lines): lines for lines in products if lines}
        if any(len(product) > 200 for lines in by_id.values() for product, _ in lines):
            by_id = {k: [(product[:200], share) for product, share in lines] for k, lines in by_id.items()}
        lists: dict[str, Sequence[tuple]] = {"[]": [], **{str(k): lines for k, lines in by_id.items()}}
        keys = pl.Series([id(lines) if lines else 0 for lines in products], dtype=pl.UInt64).cast(pl.String)
        keys = keys.replace("0", "[]")

        def text(values: Sequence[str | None]) -> pl.Series:
            return pl.Series(values, dtype=pl.String).fill_null("")

        number = pl.Series(ids, dtype=pl.Int64)
        frame = pl.DataFrame({
            "id": number.cast(pl.String), "name": text(names), "products": keys,
            "scope": text(scopes), "industry_code": text(industry_codes), "industry": text(industries),
            "supplied": pl.repeat("[]", len(ids), dtype=pl.String, eager=True),
        })
        return cls(frame.with_columns(_id=number), lists)

    def read(self, session: Session, ids: Sequence[int]) -> tuple[pl.DataFrame, dict[str, Sequence[tuple]]]:
        """As `stored_firms(session, ids)` (ids ascending): the firms given here from their values, the others
        read from the database."""
        part = self.frame.filter(pl.col("_id").is_between(ids[0], ids[-1])) if ids else self.frame.clear()
        part = part.filter(pl.col("_id").is_in(ids)) if part.height else part
        given = set(part["_id"].to_list())
        rest = [i for i in ids if i not in given]
        if not rest:
            return part.drop("_id"), self.lists
        frame, lists = stored_firms(session, rest)
        if not part.height:
            return frame, lists
        both = pl.concat([part.drop("_id"), frame]).sort(pl.col("id").cast(pl.Int64))
        return both, {**self.lists, **lists}


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


def _same(row: Placement, score: float, evidence: list, fingerprint: str) -> bool:
    return row.node_fingerprint == fingerprint and abs(row.score - score) < 1e-9 and row.evidence == evidence


def _standing_rows(session: Session, chain_id: str, ids: Sequence[int]) -> dict[int, list[Placement]]:
    """The firms' placement rows on the chain, as ORM objects (a rule row may be updated or deleted). Firms an
    import has just created have none, and cost one indexed range read."""
    wanted = set(ids)
    row_ids = [row_id for where in _id_filters(Placement.enterprise_id, ids)
               for row_id, eid, chain in session.execute(
                   select(Placement.id, Placement.enterprise_id, Placement.chain_id).where(where))
               if chain == chain_id and eid in wanted]
    existing: dict[int, list[Placement]] = defaultdict(list)
    for start in range(0, len(row_ids), BATCH):
        for row in session.scalars(select(Placement).where(Placement.id.in_(row_ids[start:start + BATCH]))):
            existing[row.enterprise_id].append(row)
    return existing


def classify_enterprises(
    session: Session, chain: Chain | str, enterprise_ids: Iterable[int] | None = None, by_user: str = "classifier",
    written: WrittenFirms | None = None,
) -> ClassifySummary:
    """Store rule placements for the given enterprises (default: all live ones); returns what was written.
    `written`: firms among them as the caller has just written them (not read back)."""
    if isinstance(chain, str):
        chain = load_chain(chain)
    classifier = BatchClassifier(chain)
    fingerprints = {nid: node.fingerprint() for nid, node in chain.nodes.items()}
    summary = ClassifySummary(chain.id)
    query = select(Enterprise.id).where(Enterprise.merged_into_id.is_(None)).order_by(Enterprise.id)
    ids = list(session.scalars(query)) if enterprise_ids is None else sorted(set(enterprise_ids))
    for start in range(0, len(ids), PLACE_BATCH):
        batch = ids[start:start + PLACE_BATCH]
        frame, lists = written.read(session, batch) if written is not None else stored_firms(session, batch)
        placed = classifier.classify_frame(frame, lists.__getitem__, lists.__getitem__).select(
            "id", "node_id", "score", "confidence", "evidence")
        summary.enterprises += frame.height
        existing = _standing_rows(session, chain.id, batch)
        standing = pl.col("id").is_in([str(firm_id) for firm_id in existing])
        # Firms with no row on the chain yet (every firm an import creates) take all their placements as they are;
        # one placement per node, the later one, as for firms with rows below.
        fresh = placed.filter(~standing).unique(["id", "node_id"], keep="last", maintain_order=True)
        summary.inserted += fresh.height
        summary.changed += fresh["id"].n_unique()
        new_rows = [fresh, _replace_rule_rows(session, chain, fingerprints, existing, placed.filter(standing),
                                              summary, by_user)]
        session.flush()
        rows_out = pl.concat(new_rows).with_columns(pl.col("id").cast(pl.Int64)).sort("id", maintain_order=True)
        n = rows_out.height
        # the engine's evidence is JSON text already: stored as it is (the same list when read)
        bulk.insert_columns(session, Placement.__table__, {
            "enterprise_id": rows_out["id"].to_list(), "node_id": rows_out["node_id"].to_list(),
            "score": rows_out["score"].to_list(), "confidence": rows_out["confidence"].to_list(),
            "evidence": rows_out["evidence"].to_list(),
            "node_fingerprint": [fingerprints[node_id] for node_id in rows_out["node_id"]],
            "chain_id": [chain.id] * n, "method": [RULE] * n, "rejected": [False] * n,
            "created_by": [by_user] * n, "note": [""] * n}, json_text=("evidence",))
    if summary.changed:  # the audit log records writes; re-placing firms that stay where they were writes nothing
        audit(session, by_user, "classify", "chain", chain.id, after=asdict(summary))
    return summary


def _replace_rule_rows(session: Session, chain: Chain, fingerprints: dict[str, str],
                       existing: dict[int, list[Placement]], placed: pl.DataFrame, summary: ClassifySummary,
                       by_user: str) -> pl.DataFrame:
    """For firms with rows on the chain: hold back what an analyst ruled out, update or delete their rule rows
    where the placements changed; returns the placements to insert (as `placed`)."""
    by_firm: dict[int, list[tuple]] = defaultdict(list)
    for p in placed.iter_rows():
        by_firm[int(p[0])].append(p)
    inserts: list[tuple] = []
    for firm_id in sorted(existing):
        rows = existing[firm_id]
        rule_rows = {r.node_id: r for r in rows if r.method == RULE}
        off_chain, blocked = _blocked(chain, [r for r in rows if r.method != RULE])
        wanted: dict[str, tuple] = {}
        for p in by_firm.get(firm_id, ()):
            if off_chain or p[1] in blocked:
                summary.skipped_manual += 1
                continue
            wanted[p[1]] = p
        changed = False
        for node_id, row in rule_rows.items():
            if node_id not in wanted:
                session.delete(row)
                summary.deleted += 1
                changed = True
        for node_id, p in wanted.items():
            row = rule_rows.get(node_id)
            _, _, score, confidence, evidence_text = p
            evidence = json.loads(evidence_text)
            fingerprint = fingerprints[node_id]
            if row is not None and _same(row, score, evidence, fingerprint):
                continue
            changed = True
            if row is None:
                inserts.append(p)
                summary.inserted += 1
                continue
            summary.updated += 1
            row.score, row.confidence, row.evidence = score, confidence, evidence
            row.node_fingerprint, row.created_by, row.rejected = fingerprint, by_user, False
        summary.changed += changed
    return pl.DataFrame(inserts, schema=placed.schema, orient="row")


# ---------------------------------------------------------------- reading and correcting placements


def inferred_from_generic_line(method: str, evidence: Sequence[Any] | None) -> bool:
    """A rule placement made by the chain's fallback for generic lines (evidence kind "generic", engines/classify.py):
    its node is inferred from a word such as 汽车零部件, not read, and is for an officer to check (泛称推断)."""
    return method == RULE and any(isinstance(e, dict) and e.get("kind") == "generic" for e in evidence or ())


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
    firm = session.get(Enterprise, enterprise_id)
    if firm is None:
        raise PlacementError(f"企业 {enterprise_id} 不存在")
    if firm.merged_into_id is not None:  # a decision on a merged record is on no firm any page or count shows
        into = session.get(Enterprise, firm.merged_into_id)
        raise PlacementError(f"“{firm.name}”已合并到“{into.name if into else firm.merged_into_id}”，"
                             "请在合并后的企业页面修正归链")
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
    wanted = set(ids)
    return len({eid for where in _id_filters(Placement.enterprise_id, ids)
                for eid, chain, rejected, node_id in session.execute(
                    select(Placement.enterprise_id, Placement.chain_id, Placement.rejected, Placement.node_id)
                    .where(where))
                if chain == chain_id and not rejected and node_id is not None and eid in wanted})


def place_firms(session: Session, enterprise_ids: Iterable[int], by_user: str,
                written: WrittenFirms | None = None) -> dict[str, ClassifySummary]:
    """Place the given firms on every import chain (`placement_chain_ids`) from their stored evidence — the path
    every import (command line, web, any format) ends with, so the database holds what `classify` would say.
    `written`: firms among them as the caller has just written them (their stored evidence, not read back)."""
    from chainatlas.services.catalog.chains import sync_chain

    ids = sorted(set(enterprise_ids))
    done = {}
    for chain_id in placement_chain_ids(session):
        chain = load_chain(chain_id)
        sync_chain(session, chain)  # gaps and the map join placements to the chain's nodes
        done[chain_id] = (classify_enterprises(session, chain, ids, by_user=by_user, written=written) if ids
                          else ClassifySummary(chain_id))
    return done
