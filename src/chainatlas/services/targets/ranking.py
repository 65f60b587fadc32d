"""Ranked target enterprises for a gap node (按图索骥).

For a node of the chain, every enterprise placed on it (or on a node below it) outside the zone is scored
on visible components — fit to the node, links to the zone's chain leaders (direct supply; supply to
similar OEMs, predicted by engines/linkpred.py), scale, expansion, designations, foreign investment and
distance — with weights the user may change and save (weights.py). Firms already in the zone or in the
pipeline are left out; firms with risk flags or a revoked licence are vetoed and shown as such. Each row
carries its reason (reasons.py); a target moves into the project pipeline as a 线索.

Speed: the per-node candidate arrays and the per-zone leader links are computed once and cached per
process, keyed by the data version (cache.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Integer, String, case, cast, func, select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import Chain, load_chain
from chainatlas.services.catalog.zones import resolve_zone
from chainatlas.services.placement.placements import effective_placements
from chainatlas.services.targets import cache
from chainatlas.services.targets.leader_links import LeaderLinks, peers_supplied, zone_leader_links
from chainatlas.services.targets.reasons import explain, fit_evidence
from chainatlas.services.targets.weights import (
    COMPONENTS,
    TargetError,
    designation_value,
    province_neighbours,
    target_settings,
    user_weights,
    validate_weights,
    veto_reason,
)
from chainatlas.store.models import Designation, Enterprise, Placement, Project, Region, Zone

INACTIVE_STAGES = ("终止",)  # a project in any other stage keeps its investor off the target list


# ---------------------------------------------------------------- candidates on a node


@dataclass
class _Candidates:
    """Column arrays over the enterprises placed on a node, sorted by id (the expensive part, cached)."""

    ids: np.ndarray  # int64, sorted
    fit: np.ndarray
    scale: np.ndarray  # unknown scale is the median of the known (neutral), see scale_known
    scale_known: np.ndarray  # bool
    expansion: np.ndarray
    expansion_count: np.ndarray  # int32
    designation: np.ndarray
    foreign: np.ndarray
    province: np.ndarray  # int32, 0 = unknown
    city: np.ndarray  # int32, 0 = unknown
    zone: np.ndarray  # int32 code, -1 = no zone
    zone_codes: dict[str, int]
    veto: np.ndarray  # bool


def _node_ids(chain: Chain, node_id: str) -> list[str]:
    if node_id not in chain.nodes:
        raise TargetError(f"产业链“{chain.name_zh}”中没有环节“{node_id}”。请用 chainatlas chain show 查看环节编码")
    return [node_id] + [n.id for n in chain.descendants(node_id)]


def _manual_rejections(chain_id: str):
    """Enterprises with an analyst's rejection on the chain: their placements go through effective_placements."""
    return select(Placement.enterprise_id).where(
        Placement.chain_id == chain_id, Placement.method == "manual", Placement.rejected.is_(True)
    )


def _placement_fit_subquery(chain_id: str, node_ids: Sequence[str]):
    """Fit on the nodes for enterprises without manual rejections (the bulk): every non-rejected row is
    effective there, manual rows count 1 and rule or imported rows their confidence."""
    fit = case((Placement.method == "manual", 1.0), else_=Placement.confidence)
    return (
        select(Placement.enterprise_id.label("eid"), func.max(fit).label("fit"))
        .where(
            Placement.chain_id == chain_id,
            Placement.node_id.in_(list(node_ids)),
            Placement.rejected.is_(False),
            Placement.enterprise_id.notin_(_manual_rejections(chain_id)),
        )
        .group_by(Placement.enterprise_id)
        .subquery()
    )


def _fits_with_decisions(session: Session, chain_id: str, node_ids: Sequence[str]) -> dict[int, float]:
    """Fit for the few enterprises an analyst has ruled on, by the placement service's own rules
    (a rejection covers the node's sub-nodes; "not on this chain" removes the firm)."""
    nodes = set(node_ids)
    ids = session.scalars(
        select(Placement.enterprise_id).distinct().where(
            Placement.enterprise_id.in_(_manual_rejections(chain_id)),
            Placement.chain_id == chain_id,
            Placement.node_id.in_(list(nodes)),
            Placement.rejected.is_(False),
        )
    ).all()
    out: dict[int, float] = {}
    for eid, placements in effective_placements(session, chain_id, ids).items():
        fits = [1.0 if p.method == "manual" else p.confidence for p in placements if p.node_id in nodes]
        if fits:
            out[eid] = max(fits)
    return out


def rests_on_placeholders(evidence: list[dict], placeholder: float) -> bool:
    """True when every word behind a rule placement came from product lines whose revenue share is a placeholder
    (annual-report extracts write 0.001 or 0.000 beside a line they did not measure): a 0.1 % line is no reason
    to court a mattress maker for drive motors."""
    words = [e for e in evidence if e.get("kind") != "prior"]
    return bool(words) and all(
        e.get("field") == "products" and e.get("share") is not None and float(e["share"]) <= placeholder for e in words
    )


def _placeholder_only(session: Session, chain_id: str, node_ids: Sequence[str], placeholder: float) -> set[int]:
    """Firms whose every effective row on the nodes rests on placeholder-share lines only: not candidates.
    Only rows whose evidence names a share can be such; their firms' other rows on the nodes are then read whole."""
    evidence_text = cast(Placement.evidence, String)
    on_nodes = (Placement.chain_id == chain_id, Placement.node_id.in_(list(node_ids)), Placement.rejected.is_(False))
    suspects = {
        eid for eid, text in _plain_rows(session, select(Placement.enterprise_id, evidence_text).where(
            *on_nodes, Placement.method != "manual", evidence_text.like('%"share"%')))
        if rests_on_placeholders(json.loads(text), placeholder)
    }
    if not suspects:
        return suspects
    out = set(suspects)
    ids = sorted(suspects)
    for i in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        for eid, method, text in _plain_rows(session, select(Placement.enterprise_id, Placement.method, evidence_text)
                                             .where(*on_nodes, Placement.enterprise_id.in_(ids[i:i + 900]))):
            if method == "manual" or not rests_on_placeholders(json.loads(text or "[]"), placeholder):
                out.discard(eid)
    return out


def _neutral(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Unknown entries set to the median of the known ones (0.5 when none is known): missing data neither helps
    nor buries a firm — a real firm with no capital on file must not rank below generated ones that have it."""
    fill = float(np.median(values[known])) if known.any() else 0.5
    return np.where(known, values, fill).astype(np.float32)


def _log_scale(values: np.ndarray, floor: float, ceiling: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (np.log10(values) - math.log10(floor)) / (math.log10(ceiling) - math.log10(floor))
    return np.clip(out, 0.0, 1.0)


def _plain_rows(session: Session, stmt: Any) -> list[tuple]:
    """Rows as the driver returns them (tuples), skipping SQLAlchemy's per-row processing: the columns are
    cast in SQL to plain numbers and text, and a million rows load in seconds rather than a minute."""
    result = session.connection().execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _load_candidates(session: Session, chain_id: str, node_ids: Sequence[str]) -> _Candidates:
    """One query over the node's placements joined to the enterprises; columns arrive as plain text and
    numbers (JSON and dates cast to text in SQL) so a million rows load without per-row type conversion."""
    s = target_settings()
    fits = _placement_fit_subquery(chain_id, node_ids)
    e = Enterprise
    # Expansion needs names only when some group has founded firms recently; most databases have none.
    today = config.today()
    cutoff = date(today.year - s.expansion_years, today.month, 1)
    recent = dict(
        session.execute(
            select(e.parent_group, func.count(e.id))
            .where(e.parent_group != "", e.founded_on >= cutoff, e.merged_into_id.is_(None))
            .group_by(e.parent_group)
        ).all()
    )
    flags_text = cast(e.risk_flags, String)
    columns = [
        func.coalesce(e.registered_capital_yuan, 0), func.coalesce(e.revenue_yuan, 0), func.coalesce(e.employees, 0),
        case((e.listing_code != "", 1), else_=0), cast(e.foreign_invested, Integer), e.province_code, e.city_code,
        e.zone_id,
        # only rows that might be vetoed carry their status and flags; the rest come back as NULL
        case((e.status.in_(("", "存续", "在业")), None), else_=e.status),
        case((flags_text.in_(("[]", "null")), None), else_=flags_text),
    ]
    if recent:
        columns += [e.name, e.parent_group, cast(e.founded_on, String)]
    rows = _plain_rows(
        session,
        select(e.id, func.coalesce(fits.c.fit, 0.0), *columns).join(fits, fits.c.eid == e.id)
        .where(e.merged_into_id.is_(None), fits.c.fit >= s.min_fit).order_by(e.id),
    )
    placeholders = _placeholder_only(session, chain_id, node_ids, s.placeholder_share)
    if placeholders:
        rows = [r for r in rows if r[0] not in placeholders]
    decided = {k: v for k, v in _fits_with_decisions(session, chain_id, node_ids).items()
               if v >= s.min_fit and k not in placeholders}
    if decided:
        ids_ = sorted(decided)
        for i in range(0, len(ids_), 900):
            rows += [(r[0], decided[r[0]], *r[1:]) for r in _plain_rows(
                session, select(e.id, *columns).where(e.id.in_(ids_[i:i + 900]), e.merged_into_id.is_(None)))]
        rows.sort(key=lambda r: r[0])
    n = len(rows)
    cols = list(zip(*rows)) if rows else [()] * (2 + len(columns))
    ids = np.array(cols[0], dtype=np.int64)
    cap, rev, emp = (np.array(cols[i], dtype=np.float64) for i in (2, 3, 4))
    listed = np.array(cols[5], dtype=bool)
    sc = s.scale
    parts = np.vstack([
        _log_scale(cap, sc["money_floor_yuan"], sc["money_ceiling_yuan"]),
        _log_scale(rev, sc["money_floor_yuan"], sc["money_ceiling_yuan"]),
        _log_scale(emp, sc["employees_floor"], sc["employees_ceiling"]),
    ])
    known = np.vstack([cap > 0, rev > 0, emp > 0])
    counts = known.sum(axis=0)
    size = _neutral((parts * known).sum(axis=0) / np.maximum(counts, 1), counts > 0)
    scale = np.clip(size + sc["listed_bonus"] * listed, 0.0, 1.0).astype(np.float32)

    # Expansion: enterprises founded recently that name this firm, or its group, as their parent group.
    exp_count = np.zeros(n, dtype=np.int32)
    if recent:
        since = cutoff.isoformat()
        for i, (name, group, founded) in enumerate(zip(cols[12], cols[13], cols[14])):
            count = recent.get(name, 0)
            if group and group != name and group in recent:
                # the firm itself is not its own group's expansion
                count += recent[group] - (1 if founded and founded[:10] >= since else 0)
            exp_count[i] = count
    expansion = np.clip(exp_count / max(s.expansion_full_at, 1), 0.0, 1.0).astype(np.float32)

    designation = np.zeros(n, dtype=np.float32)
    on_nodes = select(Placement.enterprise_id).where(Placement.chain_id == chain_id, Placement.node_id.in_(list(node_ids)))
    drows = session.execute(  # a superset (any placement on the nodes); matched to the candidates below
        select(Designation.enterprise_id, Designation.name, Designation.level).where(Designation.enterprise_id.in_(on_nodes))
    ).all()
    if drows and n:
        d_ids = np.fromiter((d[0] for d in drows), dtype=np.int64, count=len(drows))
        d_val = np.fromiter((designation_value(d[1], d[2] or "", s) for d in drows), dtype=np.float32, count=len(drows))
        pos = np.minimum(np.searchsorted(ids, d_ids), n - 1)
        ok = ids[pos] == d_ids
        np.maximum.at(designation, pos[ok], d_val[ok])

    veto = np.zeros(n, dtype=bool)
    for i in np.flatnonzero([st is not None or fl is not None for st, fl in zip(cols[10], cols[11])]):
        flags = cols[11][i]
        veto[i] = bool(veto_reason(cols[10][i] or "", json.loads(flags) if flags else [], s))

    zone_codes: dict[str, int] = {}
    zone = np.fromiter((zone_codes.setdefault(z, len(zone_codes)) if z else -1 for z in cols[9]), dtype=np.int32, count=n)
    return _Candidates(
        ids=ids,
        fit=np.array(cols[1], dtype=np.float32),
        scale=scale,
        scale_known=counts > 0,
        expansion=expansion,
        expansion_count=exp_count,
        designation=designation,
        foreign=np.array(cols[6], dtype=np.float32),
        province=np.fromiter((int(v) if v and v.isdigit() else 0 for v in cols[7]), dtype=np.int32, count=n),
        city=np.fromiter((int(v) if v and v.isdigit() else 0 for v in cols[8]), dtype=np.int32, count=n),
        zone=zone,
        zone_codes=zone_codes,
        veto=veto,
    )


# ---------------------------------------------------------------- ranking


def _lookup(sorted_ids: np.ndarray, values: np.ndarray | None, ids: np.ndarray) -> np.ndarray:
    """values[j] where sorted_ids[j] == ids[i], else 0 (or membership as 1.0 when values is None)."""
    out = np.zeros(ids.size, dtype=np.float32)
    if sorted_ids.size == 0 or ids.size == 0:
        return out
    pos = np.searchsorted(sorted_ids, ids)
    pos_c = np.minimum(pos, sorted_ids.size - 1)
    hit = sorted_ids[pos_c] == ids
    out[hit] = 1.0 if values is None else values[pos_c[hit]]
    return out


@dataclass
class TargetRow:
    enterprise_id: int
    name: str
    city_name: str
    node_id: str
    score: float  # 0–100: Σ weight × component / Σ weights × 100
    components: dict[str, float]  # each in [0, 1], keys COMPONENTS
    reason_zh: str
    vetoed: bool = False
    veto_reason: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # the numbers behind the reason, for export and web


@dataclass
class _ZoneNode:
    """Zone-specific component arrays for one node's candidates (cached with the candidates)."""

    cand: _Candidates
    links: LeaderLinks
    matrix: np.ndarray  # len(COMPONENTS) × n, float32
    blocked: np.ndarray  # positions never listed openly: in the zone, or vetoed
    vetoed: np.ndarray  # positions vetoed and outside the zone (listed after the open list, flagged)


def _zone_node(session: Session, zone: Zone, chain: Chain, node_id: str) -> _ZoneNode:
    version = cache.version(session)
    key = ("zone-node", zone.id, zone.city_code, chain.id, node_id)
    hit = cache.CACHE.get(key, version)
    if hit is not None:
        return hit
    cand = cache.CACHE.get(("cand", chain.id, node_id), version)
    if cand is None:
        cand = _load_candidates(session, chain.id, _node_ids(chain, node_id))
        cache.CACHE.put(("cand", chain.id, node_id), version, cand)
    links = zone_leader_links(session, zone.id)
    d = target_settings().distance
    zc = int(zone.city_code) if zone.city_code.isdigit() else -1
    zp = int(zone.city_code[:2]) if zone.city_code[:2].isdigit() else -1
    neigh = np.asarray(sorted(int(p) for p in province_neighbours().get(zone.city_code[:2], ())), dtype=np.int32)
    distance = np.where(
        cand.city == zc, d["same_city"],
        np.where(cand.province == zp, d["same_province"],
                 np.where(np.isin(cand.province, neigh), d["neighbour_province"], d["elsewhere"])),
    )
    distance = _neutral(distance, cand.province > 0)
    matrix = np.vstack([
        cand.fit,
        _lookup(links.direct_ids, None, cand.ids),
        _lookup(links.pred_ids, links.pred_values, cand.ids),
        cand.scale,
        cand.expansion,
        cand.designation,
        cand.foreign,
        distance,
    ]).astype(np.float32)
    code = cand.zone_codes.get(zone.id)
    in_zone = cand.zone == code if code is not None else np.zeros(cand.ids.size, dtype=bool)
    value = _ZoneNode(cand, links, matrix, np.flatnonzero(in_zone | cand.veto), np.flatnonzero(cand.veto & ~in_zone))
    cache.CACHE.put(key, version, value)
    return value


def _pipeline_investors(session: Session, zone_id: str) -> set[int]:
    rows = session.execute(
        select(Project.investor_id, Project.investor_name).where(
            Project.zone_id == zone_id, Project.stage.notin_(INACTIVE_STAGES)
        )
    ).all()
    ids = {r[0] for r in rows if r[0] is not None}
    names = {r[1].strip() for r in rows if r[0] is None and r[1] and r[1].strip()}
    if names:  # ledger rows typed without an enterprise link still count, by exact name
        ids |= set(session.scalars(select(Enterprise.id).where(Enterprise.name.in_(names))))
    return ids


def rank_targets(
    session: Session,
    zone_id: str,
    node_id: str,
    chain_id: str,
    limit: int = 50,
    weights: dict | None = None,
    username: str | None = None,
    include_vetoed: bool = True,
) -> list[TargetRow]:
    """The best `limit` enterprises outside the zone on the node, best first, each explained.

    Weights: `weights` if given, else the user's saved weights, else the defaults (data/targets.yaml).
    Vetoed firms that would have made the list follow it, flagged (vetoed=True) with the reason.
    """
    if limit <= 0:
        raise TargetError(f"名单长度应为正整数，收到 {limit}")
    zone = resolve_zone(session, zone_id)
    chain = load_chain(chain_id)
    w = validate_weights(weights) if weights is not None else user_weights(session, username)
    zn = _zone_node(session, zone, chain, node_id)
    n = zn.cand.ids.size
    if n == 0:
        return []
    wvec = np.asarray([w[k] for k in COMPONENTS], dtype=np.float32)
    score = (wvec @ zn.matrix) * np.float32(100.0 / wvec.sum())
    # Pipeline investors change with every new project: looked up per call, not cached.
    pipeline = np.asarray(sorted(_pipeline_investors(session, zone.id)), dtype=np.int64)
    pos = np.searchsorted(zn.cand.ids, pipeline)
    in_pipeline = pos[(pos < n) & (zn.cand.ids[np.minimum(pos, n - 1)] == pipeline)]
    veto_pos = np.setdiff1d(zn.vetoed, in_pipeline, assume_unique=True)
    veto_scores = score[veto_pos]
    score_open = score.copy()
    score_open[zn.blocked] = -np.inf
    score_open[in_pipeline] = -np.inf
    picked = [int(i) for i in _top(score_open, limit) if np.isfinite(score_open[i])]
    vetoed: list[int] = []
    if include_vetoed and veto_pos.size:
        floor = score_open[picked[-1]] if len(picked) == limit else -np.inf
        vetoed = [int(veto_pos[j]) for j in _top(veto_scores, limit) if veto_scores[j] >= floor]
    return _rows(session, zone, chain, node_id, zn, score, picked, vetoed, w)


def _top(values: np.ndarray, k: int) -> np.ndarray:
    if values.size <= k:
        return np.argsort(-values, kind="stable")
    part = np.argpartition(values, values.size - k)[values.size - k:]  # no negated copy of a million scores
    return part[np.argsort(-values[part], kind="stable")]


def _rows(
    session: Session, zone: Zone, chain: Chain, node_id: str, zn: _ZoneNode, score: np.ndarray,
    picked: list[int], vetoed: list[int], weights: dict[str, float],
) -> list[TargetRow]:
    idx = picked + vetoed
    ids = [int(zn.cand.ids[i]) for i in idx]
    if not ids:
        return []
    e = Enterprise
    ents = {
        r.id: r
        for r in session.execute(
            select(e.id, e.name, e.city_code, e.province_code, e.registered_capital_yuan, e.revenue_yuan, e.employees,
                   e.listing_code, e.foreign_invested, e.status, e.risk_flags).where(e.id.in_(ids))
        )
    }
    desig: dict[int, list[Any]] = {}
    for d in session.execute(
        select(Designation.enterprise_id, Designation.name, Designation.level).where(Designation.enterprise_id.in_(ids))
    ):
        desig.setdefault(d.enterprise_id, []).append(d)
    peer_ids = {i: peers_supplied(zn.links, i) for i, k in zip(ids, idx) if zn.matrix[2, k] > 0}
    fit_why = fit_evidence(session, chain.id, _node_ids(chain, node_id), ids)
    names = zn.links.names
    cities = city_names(session, {e.city_code for e in ents.values() if e.city_code})
    out = []
    for pos, (i, eid) in enumerate(zip(idx, ids)):
        ent = ents[eid]
        comps = {k: round(float(zn.matrix[j, i]), 4) for j, k in enumerate(COMPONENTS)}
        facts = _facts(ent, desig.get(eid, []), zn, i, chain, names, peer_ids.get(eid, []), zone)
        facts["fit_evidence"] = fit_why.get(eid, "")
        reason = explain(comps, weights, facts)
        veto = pos >= len(picked)
        why = veto_reason(ent.status, ent.risk_flags or []) if veto else ""
        out.append(
            TargetRow(
                enterprise_id=eid,
                name=ent.name,
                city_name=cities.get(ent.city_code, ""),
                node_id=node_id,
                score=round(float(score[i]), 2),
                components=comps,
                reason_zh=(f"一票否决：{why}。" + reason) if veto else reason,
                vetoed=veto,
                veto_reason=why,
                facts=facts,
            )
        )
    return out



def city_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())


def _facts(
    ent: Any, designations: list[Any], zn: _ZoneNode, i: int, chain: Chain,
    names: dict[int, str], peers: list[int], zone: Zone,
) -> dict[str, Any]:
    s = target_settings()
    best = max(designations, key=lambda d: designation_value(d.name, d.level or "", s), default=None)
    supplied = []
    for leader_id, what in zn.links.direct.get(ent.id, []):
        label = chain.nodes[what].name_zh if what in chain.nodes else what
        supplied.append((names.get(leader_id, str(leader_id)), label))
    if ent.city_code and ent.city_code == zone.city_code:
        place = "same_city"
    elif ent.province_code and ent.province_code == zone.city_code[:2]:
        place = "same_province"
    elif ent.province_code and ent.province_code in province_neighbours().get(zone.city_code[:2], ()):
        place = "neighbour_province"
    else:
        place = "elsewhere" if ent.province_code else "unknown"
    return {
        "leaders_supplied": supplied,
        "peers": [names.get(p, str(p)) for p in peers],
        "designation": (f"{best.level or ''}{best.name}" if best and designation_value(best.name, best.level or "", s) > 0 else ""),
        "capital_yuan": ent.registered_capital_yuan,
        "revenue_yuan": ent.revenue_yuan,
        "employees": ent.employees,
        "listing_code": ent.listing_code,
        "scale_known": bool(zn.cand.scale_known[i]),
        "expansion_count": int(zn.cand.expansion_count[i]),
        "foreign_invested": bool(ent.foreign_invested),
        "place": place,
        "fit": float(zn.cand.fit[i]),
    }




def explain_target(session: Session, zone_id: str, enterprise_id: int, node_id: str, chain_id: str,
                   username: str | None = None) -> TargetRow:
    """The TargetRow of one enterprise on a node (whether or not it makes the top of the list)."""
    zone = resolve_zone(session, zone_id)
    chain = load_chain(chain_id)
    w = user_weights(session, username)
    zn = _zone_node(session, zone, chain, node_id)
    pos = int(np.searchsorted(zn.cand.ids, enterprise_id))
    if pos >= zn.cand.ids.size or zn.cand.ids[pos] != enterprise_id:
        ent = session.get(Enterprise, enterprise_id)
        who = ent.name if ent else f"编号 {enterprise_id}"
        raise TargetError(f"企业“{who}”不在环节“{chain.nodes[node_id].name_zh}”上（没有有效归类），不能作为该环节的目标")
    wvec = np.asarray([w[k] for k in COMPONENTS], dtype=np.float32)
    score = np.zeros(zn.cand.ids.size, dtype=np.float32)
    score[pos] = float(wvec @ zn.matrix[:, pos]) * 100.0 / float(wvec.sum())
    veto = bool(zn.cand.veto[pos])
    return _rows(session, zone, chain, node_id, zn, score, [] if veto else [pos], [pos] if veto else [], w)[0]


# ---------------------------------------------------------------- into the pipeline


def target_to_project(session: Session, zone_id: str, enterprise_id: int, node_id: str, by_user: str,
                      chain_id: str) -> Project:
    """Register a target as a 线索 in the project pipeline, with the ranking's reason as its source note."""
    from chainatlas.services.pipeline.projects import create_project

    zone = resolve_zone(session, zone_id)
    ent = session.get(Enterprise, enterprise_id)
    if ent is None:
        raise TargetError(f"找不到企业编号 {enterprise_id}")
    if ent.zone_id == zone.id:
        raise TargetError(f"“{ent.name}”已在{zone.name}内，不作为招商目标")
    if enterprise_id in _pipeline_investors(session, zone.id):
        raise TargetError(f"“{ent.name}”已在{zone.name}的项目台账中（未终止），请在台账中跟进，不要重复登记")
    row = explain_target(session, zone.id, enterprise_id, node_id, chain_id, username=by_user)
    if row.vetoed:
        raise TargetError(f"“{ent.name}”被一票否决（{row.veto_reason}），不能转入项目台账")
    node = load_chain(chain_id).nodes[node_id]
    return create_project(
        session,
        zone_id=zone.id,
        name=f"{ent.short_name or ent.name}{node.name_zh}项目",
        by_user=by_user,
        investor_id=ent.id,
        investor_name=ent.name,
        node_ids=[node_id],
        chain_id=chain_id,
        source_kind="目标推荐",
        source_detail=f"目标企业推荐（得分 {row.score:.1f}）：{row.reason_zh}"[:300],
        foreign_invested=bool(ent.foreign_invested),
    )
