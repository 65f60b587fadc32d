"""The merge-review queue: doubtful pairs from entity resolution wait here for an analyst.

accept → merge the right record into the left (the survivor): its names, products, designations, placements
and relations move over, blanks on the survivor are filled, and the merged record points at the survivor
(merged_into_id). Everything the merge changed is kept in the candidate's snapshot, so `split` undoes it.
Every decision is audited.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from chainatlas.ingest.names import is_latin, looks_like_full_name
from chainatlas.services.catalog.regions import place_label
from chainatlas.store.db import audit
from chainatlas.store.models import (
    AuditEntry,
    Designation,
    Enterprise,
    EnterpriseAlias,
    EnterpriseProduct,
    MergeCandidate,
    Placement,
    Relation,
)

# Survivor fields a merge may fill when they are blank (never overwrites a known value).
FILLABLE = ("uscc", "name_en", "short_name", "address", "province_code", "city_code", "district_code", "street_code",
            "zone_id", "park_id", "registered_capital", "capital_currency", "registered_capital_yuan", "founded_on",
            "industry_code", "business_scope", "ownership", "listing_code", "employees", "revenue_yuan",
            "output_yuan", "status", "parent_group", "website")
_CHILDREN = (("aliases", EnterpriseAlias), ("products", EnterpriseProduct), ("designations", Designation),
             ("placements", Placement))


class ReviewError(ValueError):
    """A review action that cannot be done; the message says why, in Chinese."""


@dataclass
class ReviewItem:
    id: int
    probability: float
    status: str
    left: dict[str, Any]
    right: dict[str, Any]
    evidence: dict[str, str]


def _brief(ent: Enterprise) -> dict[str, Any]:
    return {"id": ent.id, "name": ent.name, "uscc": ent.uscc or "", "address": ent.address,
            "district_code": ent.district_code, "city_code": ent.city_code, "province_code": ent.province_code,
            "place": place_label(ent.province_code, ent.city_code, ent.district_code),
            "industry_code": ent.industry_code or "", "industry": ent.industry or "", "name_en": ent.name_en or "", "founded_on": ent.founded_on,
            "listing_code": ent.listing_code or "", "source": ent.source}


# The comparisons of engines/linkage.py (and the import's note on a record fitting several firms), in the order and
# words the review page shows them; the values beside them come from the two records.
EVIDENCE = (("name_core", "名称"), ("place", "地区"), ("address", "地址"), ("founded", "成立日期"),
            ("listing", "股票代码"), ("uscc", "信用代码"), ("is_branch", "总部/分支"), ("name_en", "英文名称"),
            ("industry", "所属行业"), ("several", "提示"))


@dataclass
class ReviewGroup:
    """Pending pairs whose evidence reads the same, comparison by comparison: an officer decides them together."""

    key: str
    evidence: dict[str, str]
    items: list[ReviewItem]

    @property
    def ids(self) -> list[int]:
        return [item.id for item in self.items]


def review_groups(items: list[ReviewItem]) -> list[ReviewGroup]:
    """The pending pairs grouped by their evidence (the same label for each comparison), largest group first."""
    groups: dict[str, ReviewGroup] = {}
    for item in items:
        evidence = {key: item.evidence[key] for key, _ in EVIDENCE if item.evidence.get(key)}
        key = "；".join(f"{label}：{evidence[k]}" for k, label in EVIDENCE if k in evidence) or "无依据"
        groups.setdefault(key, ReviewGroup(key, evidence, [])).items.append(item)
    return sorted(groups.values(), key=lambda g: (-len(g.items), -max(i.probability for i in g.items)))


@dataclass
class BatchDecision:
    done: list[int]
    refused: list[str]  # why each refused pair was left as it was, in Chinese


def decide_many(session: Session, candidate_ids: list[int], decision: str, by_user: str) -> BatchDecision:
    """Accept or reject several pending pairs at once. A pair that can no longer be decided (already decided, or
    one of its firms merged by an earlier pair of the batch) is left pending and said why; the others are done."""
    if decision not in ("accept", "reject"):
        raise ReviewError(f"未知的审核操作“{decision}”：可选 accept（合并）或 reject（不是同一家）")
    act = accept if decision == "accept" else reject
    result = BatchDecision([], [])
    ambiguous = _ambiguous_in_batch(session, list(dict.fromkeys(candidate_ids))) if decision == "accept" else {}
    for cid in dict.fromkeys(candidate_ids):
        if cid in ambiguous:
            result.refused.append(f"#{cid}：{ambiguous[cid]}")
            continue
        try:
            with session.begin_nested():
                act(session, cid, by_user)
        except ReviewError as exc:
            result.refused.append(f"#{cid}：{exc}")
        else:
            result.done.append(cid)
    return result


def _ambiguous_in_batch(session: Session, candidate_ids: list[int]) -> dict[int, str]:
    """The pairs of a batch merge that pair one record with several firms the import could not tell apart
    (evidence “several”, 符合N家企业): merged together they made four different companies one (上海电气 with
    上海置信电气, 上海广电电气, 上海摩恩电气 …). Such a pair is merged only when it is the only one of its record in the
    batch; the others are refused with why."""
    pairs = [c for c in (session.get(MergeCandidate, cid) for cid in candidate_ids)
             if c is not None and (c.evidence or {}).get("several")]
    seen = Counter(x for c in pairs for x in (c.left_id, c.right_id))
    out = {}
    for c in pairs:
        shared = next((x for x in (c.left_id, c.right_id) if seen[x] > 1), None)
        if shared is not None:
            firm = session.get(Enterprise, shared)
            out[c.id] = (f"“{firm.name if firm else shared}”在本批中与多家企业配对（导入时它符合多家企业），"
                         "只能与其中确为同一家的一家合并：请只勾选那一对")
    return out


def list_candidates(session: Session, status: str = "pending", limit: int = 100) -> list[ReviewItem]:
    rows = session.scalars(
        select(MergeCandidate).where(MergeCandidate.status == status)
        .order_by(MergeCandidate.probability.desc(), MergeCandidate.id).limit(limit)
    )
    items = []
    for c in rows:
        left, right = session.get(Enterprise, c.left_id), session.get(Enterprise, c.right_id)
        if left is None or right is None:
            continue
        items.append(ReviewItem(c.id, c.probability, c.status, _brief(left), _brief(right), dict(c.evidence or {})))
    return items


def count_pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(MergeCandidate).where(MergeCandidate.status == "pending")) or 0


def _candidate(session: Session, candidate_id: int) -> MergeCandidate:
    c = session.get(MergeCandidate, candidate_id)
    if c is None:
        raise ReviewError(f"找不到待审核记录 #{candidate_id}。请用 chainatlas review list 查看编号")
    return c


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@dataclass(frozen=True)
class MergePair:
    survivor_id: int
    merged_id: int
    probability: float = 1.0
    evidence: dict | None = None


def merge_enterprises(
    session: Session,
    survivor_id: int,
    merged_id: int,
    *,
    by_user: str,
    candidate: MergeCandidate | None = None,
    probability: float = 1.0,
    evidence: dict | None = None,
    batch_id: int | None = None,
    decided_by: str | None = None,
) -> MergeCandidate:
    """Merge `merged_id` into `survivor_id`, recording a snapshot that `split` can undo."""
    ids = merge_many(session, [MergePair(survivor_id, merged_id, probability, evidence)], by_user=by_user,
                     batch_id=batch_id, decided_by=decided_by, candidates={merged_id: candidate} if candidate else None)
    return session.get(MergeCandidate, ids[0])


def merge_many(
    session: Session,
    pairs: list[MergePair],
    *,
    by_user: str,
    batch_id: int | None = None,
    decided_by: str | None = None,
    candidates: dict[int, MergeCandidate] | None = None,
) -> list[int]:
    """Merge many pairs with a few set-wise statements (an import may merge thousands); returns candidate ids.

    Each merged record must be distinct and not itself a survivor in the same call.
    """
    from chainatlas.store import bulk

    if not pairs:
        return []
    session.flush()
    merged_ids = [p.merged_id for p in pairs]
    survivor_ids = sorted({p.survivor_id for p in pairs})
    if len(set(merged_ids)) != len(merged_ids) or set(merged_ids) & set(survivor_ids):
        raise ReviewError("同一企业不能在一次操作中既被合并又作为保留方")
    cols = ("id", "name", "merged_into_id", *FILLABLE)
    records: dict[int, dict[str, Any]] = {}
    for chunk in bulk.chunks(sorted(set(merged_ids) | set(survivor_ids))):
        for row in session.execute(select(*(getattr(Enterprise, c) for c in cols)).where(Enterprise.id.in_(chunk))):
            records[row.id] = dict(zip(cols, row))
    for p in pairs:
        if p.survivor_id == p.merged_id:
            raise ReviewError("不能把企业合并到自身")
        for eid in (p.survivor_id, p.merged_id):
            if eid not in records:
                raise ReviewError(f"企业 #{eid} 不存在")
            if records[eid]["merged_into_id"] is not None:
                raise ReviewError(f"企业 #{eid} 已被合并到 #{records[eid]['merged_into_id']}，请先处理那条合并")
    # names each survivor already carries, so moved or added aliases never collide
    taken: dict[int, set[str]] = {sid: {records[sid]["name"]} for sid in survivor_ids}
    for chunk in bulk.chunks(survivor_ids):
        for eid, alias in session.execute(select(EnterpriseAlias.enterprise_id, EnterpriseAlias.alias)
                                          .where(EnterpriseAlias.enterprise_id.in_(chunk))):
            taken[eid].add(alias)
    target = {p.merged_id: p.survivor_id for p in pairs}
    moved: dict[int, dict[str, list[int]]] = {m: {key: [] for key, _ in _CHILDREN} for m in merged_ids}
    child_updates: dict[str, list[dict]] = {key: [] for key, _ in _CHILDREN}
    for key, model in _CHILDREN:
        columns = [model.id, model.enterprise_id] + ([EnterpriseAlias.alias] if model is EnterpriseAlias else [])
        for chunk in bulk.chunks(merged_ids):
            for row in session.execute(select(*columns).where(model.enterprise_id.in_(chunk)).order_by(model.id)):
                survivor = target[row[1]]
                if model is EnterpriseAlias:
                    if row[2] in taken[survivor]:
                        continue  # (enterprise, alias) is unique: a duplicate stays with the merged record
                    taken[survivor].add(row[2])
                moved[row[1]][key].append(row[0])
                child_updates[key].append({"id": row[0], "enterprise_id": survivor})
    for key, model in _CHILDREN:
        if child_updates[key]:
            session.execute(update(model), child_updates[key])
    relation_updates = _move_relations(session, target, moved)
    for group in _same_keys(relation_updates):
        session.execute(update(Relation), group)
    # fill the survivors' blanks; a USCC is unique, so it moves (merged record first, then survivor)
    fills: dict[int, dict[str, Any]] = {m: {} for m in merged_ids}
    survivor_changes: dict[int, dict[str, Any]] = {}
    merged_changes: list[dict[str, Any]] = []
    for p in pairs:
        surv, merg = records[p.survivor_id], records[p.merged_id]
        change = {"id": p.merged_id, "merged_into_id": p.survivor_id}
        for col in FILLABLE:
            if surv[col] in (None, "") and merg[col] not in (None, ""):
                fills[p.merged_id][col] = _json(surv[col])
                surv[col] = merg[col]
                survivor_changes.setdefault(p.survivor_id, {"id": p.survivor_id})[col] = merg[col]
                if col == "uscc":
                    change["uscc"] = None
        merged_changes.append(change)
    for group in _same_keys(merged_changes):
        session.execute(update(Enterprise), group)
    for group in _same_keys(list(survivor_changes.values())):
        session.execute(update(Enterprise), group)
    # the merged record's name becomes an alias of the survivor
    alias_rows, alias_of = [], {}
    for p in pairs:
        name = records[p.merged_id]["name"][:300]
        if name not in taken[p.survivor_id]:
            taken[p.survivor_id].add(name)
            alias_rows.append({"enterprise_id": p.survivor_id, "alias": name, "kind": _name_kind(name),
                               "source": f"merge:{p.merged_id}", "recorded_on": date.today()})
            alias_of[len(alias_rows) - 1] = p.merged_id
    alias_ids = bulk.allocate_ids(session, EnterpriseAlias.__table__, len(alias_rows))
    for row, aid in zip(alias_rows, alias_ids):
        row["id"] = aid
    bulk.insert_rows(session, EnterpriseAlias.__table__, alias_rows)
    added = {alias_of[i]: aid for i, aid in enumerate(alias_ids)}
    now = datetime.now(timezone.utc)
    snapshots = {p.merged_id: {"moved": moved[p.merged_id], "filled_before": fills[p.merged_id],
                               "alias_added": added.get(p.merged_id)} for p in pairs}
    candidates = candidates or {}
    new_rows = []
    for p in pairs:
        c = candidates.get(p.merged_id)
        if c is not None:
            c.status, c.decided_by, c.decided_at, c.snapshot = "accepted", decided_by or by_user, now, snapshots[p.merged_id]
        else:
            new_rows.append({"left_id": p.survivor_id, "right_id": p.merged_id, "probability": round(p.probability, 4),
                             "evidence": p.evidence or {}, "status": "accepted", "batch_id": batch_id,
                             "decided_by": decided_by or by_user, "decided_at": now,
                             "snapshot": snapshots[p.merged_id]})
    cand_ids = bulk.allocate_ids(session, MergeCandidate.__table__, len(new_rows))
    for row, cid in zip(new_rows, cand_ids):
        row["id"] = cid
    bulk.insert_rows(session, MergeCandidate.__table__, new_rows)
    session.flush()
    by_merged = {row["right_id"]: row["id"] for row in new_rows}
    by_merged.update({m: c.id for m, c in candidates.items()})
    bulk.insert_rows(session, AuditEntry.__table__, [
        {"at": now, "username": by_user, "action": "enterprise.merge", "entity_type": "enterprise",
         "entity_id": str(p.survivor_id),
         "before": {"survivor": p.survivor_id, "merged": p.merged_id, "filled": fills[p.merged_id]},
         "after": {"merged_into_id": p.survivor_id, "candidate": by_merged[p.merged_id],
                   "probability": round(p.probability, 4),
                   "moved": {k: len(v) for k, v in moved[p.merged_id].items()}}}
        for p in pairs
    ])
    session.expire_all()  # the statements above bypassed the ORM's view of these rows
    return [by_merged[p.merged_id] for p in pairs]


def _name_kind(name: str) -> str:
    """What a merged record's name is to the survivor: its English, short or another full name."""
    if is_latin(name):
        return "english"
    return "other" if looks_like_full_name(name) else "short"


def _same_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group bulk-update parameter sets by their keys (an executemany needs one statement shape)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


def _move_relations(session: Session, target: dict[int, int], moved: dict[int, dict[str, list[int]]]) -> list[dict]:
    """Relations of merged records move to their survivor unless that makes a self-loop or a duplicate."""
    from chainatlas.store import bulk

    ids = list(target)
    involved = ids + list(set(target.values()))
    existing: set[tuple] = set()
    rows = []
    for chunk in bulk.chunks(involved, 400):
        for rel in session.execute(select(Relation.id, Relation.supplier_id, Relation.customer_id, Relation.product,
                                          Relation.year)
                                   .where(Relation.supplier_id.in_(chunk) | Relation.customer_id.in_(chunk))):
            rows.append(rel)
            existing.add((rel.supplier_id, rel.customer_id, rel.product, rel.year))
    updates = []
    for m in ids:
        moved[m]["relations_supplier_id"] = []
        moved[m]["relations_customer_id"] = []
    for rel in sorted(set(rows)):
        s, c = target.get(rel.supplier_id, rel.supplier_id), target.get(rel.customer_id, rel.customer_id)
        if (s, c) == (rel.supplier_id, rel.customer_id) or s == c or (s, c, rel.product, rel.year) in existing:
            continue
        existing.add((s, c, rel.product, rel.year))
        change = {"id": rel.id}
        if s != rel.supplier_id:
            change["supplier_id"] = s
            moved[rel.supplier_id]["relations_supplier_id"].append(rel.id)
        if c != rel.customer_id:
            change["customer_id"] = c
            moved[rel.customer_id]["relations_customer_id"].append(rel.id)
        updates.append(change)
    return updates


def accept(session: Session, candidate_id: int, by_user: str) -> MergeCandidate:
    c = _candidate(session, candidate_id)
    if c.status != "pending":
        raise ReviewError(f"#{candidate_id} 的状态是“{c.status}”，只有待审核(pending)的记录可以接受")
    return merge_enterprises(session, c.left_id, c.right_id, by_user=by_user, candidate=c, probability=c.probability)


def reject(session: Session, candidate_id: int, by_user: str) -> MergeCandidate:
    c = _candidate(session, candidate_id)
    if c.status != "pending":
        raise ReviewError(f"#{candidate_id} 的状态是“{c.status}”，只有待审核(pending)的记录可以拒绝")
    c.status, c.decided_by, c.decided_at = "rejected", by_user, datetime.now(timezone.utc)
    audit(session, by_user, "enterprise.merge_rejected", "merge_candidate", c.id, {"status": "pending"},
          {"status": "rejected", "left": c.left_id, "right": c.right_id})
    session.flush()
    return c


def split(session: Session, candidate_id: int, by_user: str) -> MergeCandidate:
    """Undo an accepted merge (by an analyst or automatic): both records stand alone again, as before."""
    c = _candidate(session, candidate_id)
    if c.status != "accepted":
        raise ReviewError(f"#{candidate_id} 的状态是“{c.status}”，只有已合并(accepted)的记录可以拆分")
    survivor, merged = session.get(Enterprise, c.left_id), session.get(Enterprise, c.right_id)
    if survivor is None or merged is None:
        raise ReviewError(f"#{candidate_id} 涉及的企业已被删除，无法拆分")
    snap = c.snapshot or {}
    moved = snap.get("moved", {})
    for key, model in _CHILDREN:
        ids = moved.get(key, [])
        if ids:
            session.execute(update(model).where(model.id.in_(ids), model.enterprise_id == survivor.id)
                            .values(enterprise_id=merged.id))
    for side in ("supplier_id", "customer_id"):
        ids = moved.get(f"relations_{side}", [])
        if ids:
            col = getattr(Relation, side)
            session.execute(update(Relation).where(Relation.id.in_(ids), col == survivor.id).values({side: merged.id}))
    if snap.get("alias_added"):
        alias = session.get(EnterpriseAlias, snap["alias_added"])
        if alias is not None:
            session.delete(alias)
    restored = {}
    for col, before in snap.get("filled_before", {}).items():
        value = getattr(survivor, col)
        if col == "uscc":
            setattr(survivor, col, before)
            session.flush()
            merged.uscc = value
        else:
            if col == "founded_on" and before:
                before = date.fromisoformat(before)
            setattr(survivor, col, before)
        restored[col] = _json(value)
    merged.merged_into_id = None
    c.status, c.decided_by, c.decided_at = "split", by_user, datetime.now(timezone.utc)
    session.flush()
    audit(session, by_user, "enterprise.split", "enterprise", merged.id,
          {"merged_into_id": survivor.id, "candidate": c.id}, {"merged_into_id": None, "restored": restored})
    return c
