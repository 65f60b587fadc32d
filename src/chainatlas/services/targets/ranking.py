"""Ranked target enterprises for a gap node, and chain-leader attraction (按图索骥, 链主招商).

For a node of the chain, every enterprise placed on it (or on a node below it) outside the zone is scored
on visible components — fit to the node, links to the zone's chain leaders (direct supply; supply to
similar OEMs, predicted by engines/linkpred.py), scale, expansion, designations, foreign investment and
distance — with weights the user may change and save. Firms already in the zone or in the pipeline are
left out; firms with risk flags or a revoked licence are vetoed and shown as such.

Speed: the per-node candidate arrays and the per-zone leader links are computed once and cached per
process, keyed by the data version (store/data_version.py), which every committed write moves: the cache
refreshes the moment the data changes, whichever process changed it.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sqlalchemy import Integer, String, case, cast, func, or_, select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import Chain, load_chain
from chainatlas.domain.money import format_yuan
from chainatlas.engines import linkfeatures, linkpred
from chainatlas.services.targets.backtest import SupplyEdge, english_name_key, recency_weights, relations_from_db
from chainatlas.services.targets.forecast import side_info
from chainatlas.services.placement.placements import effective_placements
from chainatlas.services.catalog.zones import resolve_zone
from chainatlas.store import data_version
from chainatlas.store.db import audit
from chainatlas.store.models import (
    Designation,
    Enterprise,
    Placement,
    Project,
    Region,
    Relation,
    TargetWeights,
    Zone,
)

COMPONENTS = ("fit", "leader_supply", "leader_peers", "scale", "expansion", "designation", "foreign", "distance")
COMPONENT_LABELS = {
    "fit": "环节契合度",
    "leader_supply": "已为本区链主配套",
    "leader_peers": "为同类整车厂配套",
    "scale": "规模",
    "expansion": "扩张信号",
    "designation": "资质称号",
    "foreign": "外资",
    "distance": "区位",
}
INACTIVE_STAGES = ("终止",)  # a project in any other stage keeps its investor off the target list


class TargetError(ValueError):
    """Bad input to the target ranking; the message is Chinese and says what to do."""


# ---------------------------------------------------------------- settings and weights


@dataclass(frozen=True)
class TargetSettings:
    weights: dict[str, float]
    designations: dict[str, float]
    level_bonus: dict[str, float]
    distance: dict[str, float]
    scale: dict[str, float]
    expansion_years: int
    expansion_full_at: int
    veto_risk_flags: tuple[str, ...]
    veto_status: tuple[str, ...]
    min_fit: float
    placeholder_share: float
    forecast_weights: dict[str, float]


def _data_path(name: str) -> Path:
    return Path(str(resources.files("chainatlas") / "data" / name))


@lru_cache(maxsize=1)
def target_settings() -> TargetSettings:
    raw = yaml.safe_load(_data_path("targets.yaml").read_text(encoding="utf-8"))
    return TargetSettings(
        weights={k: float(raw["weights"][k]) for k in COMPONENTS},
        designations={str(k): float(v) for k, v in raw["designations"].items()},
        level_bonus={str(k): float(v) for k, v in raw.get("level_bonus", {}).items()},
        distance={k: float(v) for k, v in raw["distance"].items()},
        scale={k: float(v) for k, v in raw["scale"].items()},
        expansion_years=int(raw["expansion_years"]),
        expansion_full_at=int(raw["expansion_full_at"]),
        veto_risk_flags=tuple(raw["veto_risk_flags"]),
        veto_status=tuple(raw["veto_status"]),
        min_fit=float(raw.get("min_fit", 0.0)),
        placeholder_share=float(raw.get("placeholder_share", 0.001)),
        forecast_weights={k: float(raw["forecast_weights"][k]) for k in (*linkfeatures.FEATURES, "intercept")},
    )


@lru_cache(maxsize=1)
def province_neighbours() -> dict[str, frozenset[str]]:
    raw = yaml.safe_load(_data_path("province_neighbours.yaml").read_text(encoding="utf-8"))
    return {str(k): frozenset(str(x) for x in v) for k, v in raw.items()}


def default_weights() -> dict[str, float]:
    return dict(target_settings().weights)


def validate_weights(weights: dict[str, Any]) -> dict[str, float]:
    """Known components, non-negative numbers, not all zero; missing components keep their default."""
    unknown = sorted(set(weights) - set(COMPONENTS))
    if unknown:
        known = "、".join(f"{k}（{COMPONENT_LABELS[k]}）" for k in COMPONENTS)
        raise TargetError(f"未知的权重项：{'、'.join(unknown)}。可用：{known}")
    out = default_weights()
    for key, value in weights.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TargetError(f"权重“{key}（{COMPONENT_LABELS[key]}）”应为数字，收到“{value}”") from None
        if not math.isfinite(number) or number < 0:
            raise TargetError(f"权重“{key}（{COMPONENT_LABELS[key]}）”应为不小于 0 的数，收到“{value}”")
        out[key] = number
    if sum(out.values()) <= 0:
        raise TargetError("权重不能全部为 0：至少给一项正的权重")
    return out


def user_weights(session: Session, username: str | None) -> dict[str, float]:
    """The user's saved weights over the defaults (a saved set may predate a new component)."""
    if username:
        row = session.get(TargetWeights, username)
        if row is not None and row.weights:
            return validate_weights({k: v for k, v in row.weights.items() if k in COMPONENTS})
    return default_weights()


def weights_in_force(session: Session, username: str | None) -> tuple[dict[str, float], bool]:
    """The weights rank_targets uses for this user, and whether they are the user's own saved set."""
    row = session.get(TargetWeights, username) if username else None
    return user_weights(session, username), row is not None and bool(row.weights)


def save_weights(session: Session, username: str, weights: dict[str, Any], by_user: str | None = None) -> dict[str, float]:
    """Validate and store a user's weights (audited); returns what was stored."""
    if not username:
        raise TargetError("保存权重需要用户名")
    clean = validate_weights(weights)
    row = session.get(TargetWeights, username)
    before = dict(row.weights) if row is not None else None
    if row is None:
        row = TargetWeights(username=username, weights=clean)
        session.add(row)
    else:
        row.weights = clean
    session.flush()
    audit(session, by_user or username, "target_weights.save", "target_weights", username, before, clean)
    return clean


def reset_weights(session: Session, username: str, by_user: str | None = None) -> dict[str, float]:
    row = session.get(TargetWeights, username)
    if row is not None:
        audit(session, by_user or username, "target_weights.reset", "target_weights", username, dict(row.weights), None)
        session.delete(row)
        session.flush()
    return default_weights()


# ---------------------------------------------------------------- cache invalidation

def _data_version(session: Session) -> tuple:
    return (str(session.get_bind().url), *data_version.cache_key(session))


class _Cache:
    """(key) → (version, value); values are rebuilt when the version moves."""

    def __init__(self, size: int = 32) -> None:
        self._items: dict[tuple, tuple[tuple, Any]] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple, version: tuple) -> Any | None:
        with self._lock:
            hit = self._items.get(key)
        if hit is None or hit[0] != version:
            return None
        return hit[1]

    def put(self, key: tuple, version: tuple, value: Any) -> None:
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = (version, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_CACHE = _Cache()


def clear_cache() -> None:
    _CACHE.clear()


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


def designation_value(name: str, level: str, settings: TargetSettings | None = None) -> float:
    settings = settings or target_settings()
    best = max((v for k, v in settings.designations.items() if k in name), default=0.0)
    return max(0.0, best + settings.level_bonus.get(level, 0.0)) if best else 0.0


def veto_reason(status: str, risk_flags: Iterable[str], settings: TargetSettings | None = None) -> str:
    """'' when the firm may be approached, else the Chinese reason it may not."""
    settings = settings or target_settings()
    flags = [str(f) for f in (risk_flags or []) if any(w in str(f) for w in settings.veto_risk_flags)]
    if flags:
        return f"风险标记“{'、'.join(flags)}”"
    if status and any(w in status for w in settings.veto_status):
        return f"登记状态为“{status}”"
    return ""


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


# ---------------------------------------------------------------- the zone's leaders in the supply network


@dataclass
class _LeaderLinks:
    """What the zone's chain leaders buy, and what the network predicts they would buy (cached per zone)."""

    leader_ids: list[int]
    direct: dict[int, list[tuple[int, str]]]  # supplier id → [(leader id, node id or product)]
    direct_ids: np.ndarray  # sorted supplier ids supplying a leader
    pred_ids: np.ndarray  # sorted supplier ids with a positive prediction
    pred_values: np.ndarray  # best normalised prediction over the leaders, aligned with pred_ids
    graph: linkpred.Bipartite | None
    leader_rows: list[int]  # rows of the leaders in graph (leaders with no purchases are absent)
    leader_of_row: list[int]
    similarity: np.ndarray | None  # leader rows × customers
    names: dict[int, str] = field(default_factory=dict)  # short names of the leaders and of every customer


def _zone_leaders(session: Session, zone_id: str) -> list[int]:
    return list(
        session.scalars(
            select(Enterprise.id).where(
                Enterprise.zone_id == zone_id, Enterprise.is_leader.is_(True), Enterprise.merged_into_id.is_(None)
            ).order_by(Enterprise.id)
        )
    )


def _short_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(ids))
    out: dict[int, str] = {}
    for i in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        for eid, name, short in session.execute(
            select(Enterprise.id, Enterprise.name, Enterprise.short_name).where(Enterprise.id.in_(ids[i:i + 900]))
        ):
            out[eid] = short or name
    return out


def _build_leader_links(session: Session, zone_id: str) -> _LeaderLinks:
    links = _compute_leader_links(session, zone_id)
    links.names = _short_names(session, set(links.leader_ids) | set(links.graph.customers if links.graph else ()))
    return links


def _compute_leader_links(session: Session, zone_id: str) -> _LeaderLinks:
    leaders = _zone_leaders(session, zone_id)
    rel = session.execute(
        select(Relation.customer_id, Relation.supplier_id, Relation.node_id, Relation.product, Relation.year)
    ).all()
    direct: dict[int, list[tuple[int, str]]] = {}
    leader_set = set(leaders)
    for c, s_, node, product, _ in rel:
        if c in leader_set:
            direct.setdefault(s_, []).append((c, node or product or ""))
    empty = np.zeros(0, dtype=np.int64)
    # The graph is built whenever relations exist: a firm not flagged 链主 can still be asked about (suppliers).
    if not rel:
        return _LeaderLinks(leaders, direct, np.array(sorted(direct), dtype=np.int64), empty, np.zeros(0),
                            None, [], [], None)
    # Current relations count more (see backtest.recency_weights): the ranking forecasts who is bought from next.
    pairs = {(c, s_) for c, s_, *_ in rel}
    weights = recency_weights([SupplyEdge(c, s_, y) for c, s_, _, _, y in rel], pairs, config.today().year)
    graph = linkpred.bipartite((c, s_, weights[(c, s_)]) for c, s_ in sorted(pairs))
    rows = [graph.customer_index[lid] for lid in leaders if lid in graph.customer_index]
    if not rows:
        return _LeaderLinks(leaders, direct, np.array(sorted(direct), dtype=np.int64), empty, np.zeros(0),
                            graph, [], [], None)
    groups = dict(
        session.execute(
            select(Enterprise.id, Enterprise.parent_group).where(
                Enterprise.id.in_(list(graph.customers)), Enterprise.parent_group != ""
            )
        ).all()
    )
    codes: dict[str, int] = {}
    group_codes = np.asarray([codes.setdefault(groups[c], len(codes)) if c in groups else -1 for c in graph.customers])
    params = linkpred.Params()
    # "Supplies the leaders' peers": other OEMs vote; a supplier of one local leader is 'leader_supply' already.
    scores = linkpred.score_suppliers(graph, rows, params, group_codes, mute=rows)
    known = graph.binary[rows].toarray() > 0
    scores[known] = 0.0  # a leader's own suppliers are 'leader_supply', not a prediction
    top = scores.max(axis=1, keepdims=True)
    norm = np.where(top > 0, scores / np.maximum(top, 1e-12), 0.0).max(axis=0)
    sup_ids = np.asarray(graph.suppliers, dtype=np.int64)
    keep = norm > 0
    order = np.argsort(sup_ids[keep])
    sim = linkpred.customer_similarity(graph, rows, params.measure) ** params.sharpen
    return _LeaderLinks(
        leader_ids=leaders,
        direct=direct,
        direct_ids=np.array(sorted(direct), dtype=np.int64),
        pred_ids=sup_ids[keep][order],
        pred_values=norm[keep][order].astype(np.float32),
        graph=graph,
        leader_rows=rows,
        leader_of_row=[graph.customers[r] for r in rows],
        similarity=sim,
    )


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


def peers_supplied(links: _LeaderLinks, supplier_id: int, leader_id: int | None = None, limit: int = 2) -> list[int]:
    """Why a supplier is predicted: the OEMs it serves that are most similar to the zone's leaders (other
    than the leaders themselves), or to one named leader (any OEM, the zone's other leaders included)."""
    g = links.graph
    if g is None or links.similarity is None or supplier_id not in g.supplier_index:
        return []
    served = g.customers_of(g.supplier_index[supplier_id])
    if leader_id is None:
        sim = links.similarity
        served = served[~np.isin(served, links.leader_rows)]
    elif leader_id in links.leader_of_row:
        sim = links.similarity[[links.leader_of_row.index(leader_id)]]
    else:
        return []
    if served.size == 0:
        return []
    votes = sim[:, served].max(axis=0)
    return [g.customers[served[i]] for i in np.argsort(-votes)[:limit] if votes[i] > 0]


# ---------------------------------------------------------------- ranking


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
    links: _LeaderLinks
    matrix: np.ndarray  # len(COMPONENTS) × n, float32
    blocked: np.ndarray  # positions never listed openly: in the zone, or vetoed
    vetoed: np.ndarray  # positions vetoed and outside the zone (listed after the open list, flagged)


def _zone_node(session: Session, zone: Zone, chain: Chain, node_id: str) -> _ZoneNode:
    version = _data_version(session)
    key = ("zone-node", zone.id, zone.city_code, chain.id, node_id)
    hit = _CACHE.get(key, version)
    if hit is not None:
        return hit
    cand = _CACHE.get(("cand", chain.id, node_id), version)
    if cand is None:
        cand = _load_candidates(session, chain.id, _node_ids(chain, node_id))
        _CACHE.put(("cand", chain.id, node_id), version, cand)
    links = _CACHE.get(("links", zone.id), version)
    if links is None:
        links = _build_leader_links(session, zone.id)
        _CACHE.put(("links", zone.id), version, links)
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
    _CACHE.put(key, version, value)
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
    fit_why = _fit_evidence(session, chain.id, _node_ids(chain, node_id), ids)
    names = zn.links.names
    cities = _city_names(session, {e.city_code for e in ents.values() if e.city_code})
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


_FIELD_ZH = {"name": "企业名称", "scope": "经营范围", "industry": "所属行业"}


def _evidence_text(method: str, evidence: list[dict]) -> str:
    """What a placement rests on, in words: the matched product line and its revenue share first."""
    if method == "manual":
        return "分析员人工归入该环节"
    lines = [e for e in evidence if e.get("field") == "products" and e.get("product")]
    if lines:
        # a fallback placement is told by its generic line, whatever else corroborates its node
        generic = [e for e in lines if e.get("kind") == "generic"]
        best = max(generic or lines, key=lambda e: (e.get("share") is not None, e.get("share") or 0.0))
        share = best.get("share")
        told = f"占营收{share:.1%}" if share is not None else "营收占比未披露"
        derived = "（产品图谱派生词）" if best.get("source") == "derived" else ""
        if best.get("kind") == "generic":  # the fallback for a generic line: the node is inferred, not read
            return f"主营“{best['product']}”{told}，仅泛称“{best['word']}”，环节为推断，待核实"
        return f"主营“{best['product']}”{told}，匹配“{best['word']}”{derived}"
    supplied = [e for e in evidence if e.get("field") == "supplied" and e.get("customer")]
    if supplied:
        return f"向“{supplied[0]['customer']}”供应“{supplied[0].get('product') or supplied[0]['word']}”"
    words = [e for e in evidence if e.get("field") in _FIELD_ZH]
    if words:
        return f"{_FIELD_ZH[words[0]['field']]}含“{words[0]['word']}”"
    return ""


def _fit_evidence(session: Session, chain_id: str, node_ids: Sequence[str], ids: Sequence[int]) -> dict[int, str]:
    """For each listed firm, the evidence of its best placement on the node (or a node below it)."""
    rows = session.execute(
        select(Placement.enterprise_id, Placement.method, Placement.confidence, Placement.evidence).where(
            Placement.chain_id == chain_id, Placement.node_id.in_(list(node_ids)), Placement.rejected.is_(False),
            Placement.enterprise_id.in_(list(ids)))
    ).all()
    best: dict[int, tuple[float, str]] = {}
    for eid, method, confidence, evidence in rows:
        rank = 2.0 if method == "manual" else float(confidence or 0.0)
        if eid not in best or rank > best[eid][0]:
            best[eid] = (rank, _evidence_text(method, evidence or []))
    return {eid: text for eid, (_, text) in best.items()}


def _city_names(session: Session, codes: set[str]) -> dict[str, str]:
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


_PLACE_ZH = {"same_city": "与本区同城", "same_province": "与本区同省", "neighbour_province": "位于相邻省份"}


def explain(components: dict[str, float], weights: dict[str, float], facts: dict[str, Any]) -> str:
    """One Chinese sentence: the facts behind the components that carry the most weight, strongest first."""
    parts: list[tuple[float, str]] = []

    def add(key: str, text: str) -> None:
        if text and components.get(key, 0) > 0:
            parts.append((weights.get(key, 0) * components[key], text))

    if facts["leaders_supplied"]:
        by_leader: dict[str, list[str]] = {}
        for leader, what in facts["leaders_supplied"]:
            if what and what not in by_leader.setdefault(leader, []):
                by_leader[leader].append(what)
        text = "、".join(
            f"{leader}配套{'、'.join(w[:2])}" if w else leader for leader, w in list(by_leader.items())[:2]
        )
        add("leader_supply", f"已为本区链主{text}" if "配套" in text else f"已为本区链主{text}供货")
    if facts["peers"]:
        add("leader_peers", f"为与本区链主相近的{'、'.join(facts['peers'])}配套")
    add("designation", facts["designation"])
    if facts["listing_code"]:
        add("scale", f"上市公司（{facts['listing_code']}）")
    if facts["capital_yuan"]:
        add("scale", f"注册资本{format_yuan(facts['capital_yuan'])}")
    elif facts["revenue_yuan"]:
        add("scale", f"营业收入{format_yuan(facts['revenue_yuan'])}")
    elif facts["employees"]:
        add("scale", f"员工{facts['employees']}人")
    elif not facts.get("scale_known", True):
        add("scale", f"规模数据缺失（按本环节候选企业中位数计{components['scale']:.2f}）")
    if facts["expansion_count"]:
        add("expansion", f"近{target_settings().expansion_years}年所属集团新设企业{facts['expansion_count']}家")
    add("foreign", "外资企业" if facts["foreign_invested"] else "")
    add("distance", _PLACE_ZH.get(facts["place"], "所在地不详（按中位数计）" if facts["place"] == "unknown" else ""))
    parts.sort(key=lambda p: -p[0])
    # The fit always shows with what it rests on: it is why the firm is on this node's list at all.
    fit = f"环节契合度{facts['fit']:.2f}" + (f"（{facts['fit_evidence']}）" if facts.get("fit_evidence") else "")
    chosen = [fit] + [t for _, t in parts[:4]]
    return "；".join(chosen) + "。"


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


# ---------------------------------------------------------------- chain-leader attraction (链主招商)


@dataclass
class SupplierLink:
    enterprise_id: int
    name: str
    city_name: str
    node_id: str  # '' when neither the relation nor a placement says
    node_name: str
    products: list[str]
    score: float | None  # network prediction for potential suppliers (0–1, best = 1); None for known ones
    via: list[str]  # similar OEMs it supplies (why it is predicted)
    warm_paths: list[str]  # local firms that already trade with it


@dataclass
class LeaderSuppliers:
    leader_id: int
    leader_name: str
    zone_id: str
    known_by_node: dict[str, list[SupplierLink]]  # known suppliers outside the zone, by node
    local_known: int  # known suppliers inside the zone
    outside_known: int
    potential: list[SupplierLink]  # predicted suppliers outside the zone, best first


def resolve_enterprise(session: Session, id_or_name: str | int) -> Enterprise:
    """An enterprise by id, full or short Chinese name, or English name (case and legal form ignored)."""
    text = str(id_or_name).strip()
    if text.isdigit():
        ent = session.get(Enterprise, int(text))
        if ent is not None:
            return ent
    ent = session.scalar(
        select(Enterprise).where(or_(Enterprise.name == text, Enterprise.short_name == text), Enterprise.merged_into_id.is_(None))
    )
    if ent is not None:
        return ent
    ent = session.scalar(select(Enterprise).where(func.lower(Enterprise.name_en) == text.lower(),
                                                  Enterprise.merged_into_id.is_(None)).limit(1))
    if ent is not None:
        return ent
    key = english_name_key(text)  # "DONGFENG MOTOR CORP." finds "Dongfeng Motor Corporation"
    for cand in session.scalars(select(Enterprise).where(Enterprise.name_en != "", Enterprise.merged_into_id.is_(None))):
        if english_name_key(cand.name_en) == key:
            return cand
    like = session.scalars(select(Enterprise).where(Enterprise.name.contains(text)).limit(6)).all()
    hint = "、".join(e.name for e in like) if like else "无相近名称"
    raise TargetError(f"找不到企业“{text}”。相近的企业：{hint}。请用企业全称、简称、英文名或编号")


def _best_nodes(session: Session, chain_id: str, ids: Iterable[int]) -> dict[int, str]:
    """Each enterprise's first effective placement (manual first, then best score)."""
    return {eid: ps[0].node_id for eid, ps in effective_placements(session, chain_id, ids).items() if ps}


def _warm_paths(session: Session, zone_id: str, supplier_ids: Iterable[int], exclude: int) -> dict[int, list[str]]:
    ids = list(set(supplier_ids))
    if not ids:
        return {}
    local = select(Enterprise.id).where(Enterprise.zone_id == zone_id, Enterprise.id != exclude)
    out: dict[int, list[str]] = {}
    pairs = session.execute(
        select(Relation.supplier_id, Relation.customer_id).where(
            or_(
                Relation.supplier_id.in_(ids) & Relation.customer_id.in_(local),
                Relation.customer_id.in_(ids) & Relation.supplier_id.in_(local),
            )
        )
    ).all()
    other = {c if s in ids else s for s, c in pairs}
    names = dict(session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(other))).all()) if other else {}
    for s_, c in pairs:
        firm, partner = (s_, c) if s_ in ids else (c, s_)
        lst = out.setdefault(firm, [])
        if names.get(partner) and names[partner] not in lst:
            lst.append(names[partner])
    return out


def suppliers_for_leader(session: Session, zone_id: str, leader: str | int, chain_id: str,
                         limit: int = 30) -> LeaderSuppliers:
    """A chain leader's known suppliers outside the zone, by node, and the suppliers the network predicts
    for it (firms that supply OEMs similar to it), each with the local firms already trading with it."""
    zone = resolve_zone(session, zone_id)
    chain = load_chain(chain_id)
    ent = resolve_enterprise(session, leader)
    rels = session.execute(
        select(Relation.supplier_id, Relation.node_id, Relation.product).where(Relation.customer_id == ent.id)
    ).all()
    sup_ids = {r[0] for r in rels}
    sups = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(sup_ids)))} if sup_ids else {}
    outside = [i for i in sup_ids if sups[i].zone_id != zone.id]
    placed = _best_nodes(session, chain.id, outside)

    links = _CACHE.get(("links", zone.id), _data_version(session))
    if links is None or ent.id not in links.leader_ids:
        links = _build_leader_links_for(session, zone.id, ent.id)
    potential_ids, potential_scores = _predicted_for(session, ent.id, limit * 3)
    pot_ents = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(potential_ids)))} if potential_ids else {}
    keep = [(i, sc) for i, sc in zip(potential_ids, potential_scores) if i in pot_ents and pot_ents[i].zone_id != zone.id
            and pot_ents[i].merged_into_id is None and not veto_reason(pot_ents[i].status, pot_ents[i].risk_flags or [])][:limit]
    placed.update(_best_nodes(session, chain.id, [i for i, _ in keep]))
    warm = _warm_paths(session, zone.id, outside + [i for i, _ in keep], ent.id)
    all_ents = {**sups, **pot_ents}
    cities = _city_names(session, {e.city_code for e in all_ents.values() if e.city_code})
    via_ids = {i: peers_supplied(links, i, ent.id) for i, _ in keep}
    via_names = dict(session.execute(
        select(Enterprise.id, func.coalesce(func.nullif(Enterprise.short_name, ""), Enterprise.name)).where(
            Enterprise.id.in_({p for ps in via_ids.values() for p in ps}))
    ).all()) if via_ids else {}

    def link(eid: int, node: str, products: list[str], score: float | None, via: list[str]) -> SupplierLink:
        e = all_ents[eid]
        return SupplierLink(eid, e.name, cities.get(e.city_code, ""), node,
                            chain.nodes[node].name_zh if node in chain.nodes else "未归类", products, score, via,
                            warm.get(eid, []))

    order = {node_id: i for i, node_id in enumerate(chain.nodes)}
    by_node: dict[str, list[SupplierLink]] = {}
    for sid in sorted(outside, key=lambda i: sups[i].name):
        node = next((n for s_, n, _ in rels if s_ == sid and n), "") or placed.get(sid, "")
        products = sorted({p for s_, _, p in rels if s_ == sid and p})
        by_node.setdefault(node, []).append(link(sid, node, products, None, []))
    potential = [
        link(i, placed.get(i, ""), [], round(float(sc), 4), [via_names.get(p, str(p)) for p in via_ids[i]])
        for i, sc in keep
    ]
    return LeaderSuppliers(
        leader_id=ent.id,
        leader_name=ent.short_name or ent.name,
        zone_id=zone.id,
        known_by_node=dict(sorted(by_node.items(), key=lambda kv: order.get(kv[0], len(order)))),  # chain order
        local_known=len(sup_ids) - len(outside),
        outside_known=len(outside),
        potential=potential,
    )


def _build_leader_links_for(session: Session, zone_id: str, leader_id: int) -> _LeaderLinks:
    """Links computed with one named firm as the leader (a leader of another zone, or not flagged 链主)."""
    links = _build_leader_links(session, zone_id)
    if leader_id in links.leader_ids or links.graph is None or leader_id not in links.graph.customer_index:
        return links
    g = links.graph
    row = g.customer_index[leader_id]
    sim = linkpred.customer_similarity(g, [row], linkpred.Params().measure) ** linkpred.Params().sharpen
    return replace(
        links,
        leader_ids=links.leader_ids + [leader_id],
        leader_rows=links.leader_rows + [row],
        leader_of_row=links.leader_of_row + [leader_id],
        similarity=sim if links.similarity is None else np.vstack([links.similarity, sim]),
    )


def _predicted_for(session: Session, leader_id: int, limit: int) -> tuple[list[int], list[float]]:
    """The maker's likeliest next suppliers by the forecasting model (engines/linkfeatures.py, weights in
    data/targets.yaml, fitted by year on real supply links), among firms with some network evidence for this
    maker (a peer vote or co-supply); scores are probabilities scaled to the best (1.0)."""
    data = relations_from_db(session)
    pairs = {(e.customer, e.supplier) for e in data.edges}
    key = str(leader_id)
    if not any(c == key for c, _ in pairs):
        return [], []
    year = date.today().year
    recency = recency_weights(data.edges, pairs, year)
    graph = linkpred.bipartite((c, s_, recency[(c, s_)]) for c, s_ in sorted(pairs))
    row = graph.customer_index[key]
    feats = linkfeatures.features(graph, [row], side_info(data, graph, year))[0]
    weights = np.asarray([*target_settings().forecast_weights.values()])
    prob = 1.0 / (1.0 + np.exp(-linkfeatures.score(feats, weights)))
    evidence = (feats[:, linkfeatures.FEATURES.index("peers")] > 0) | (feats[:, linkfeatures.FEATURES.index("co_supply")] > 0)
    prob[~evidence | (graph.binary[row].toarray().ravel() > 0)] = 0.0
    order = [i for i in np.argsort(-prob, kind="stable")[:limit] if prob[i] > 0]
    top = prob[order[0]] if order else 1.0
    return [int(graph.suppliers[i]) for i in order], [float(prob[i] / top) for i in order]
