"""智慧选址: rank the zone's sites for a need (a project's land, a target's likely need), each with its reasons.

Hard rules first — a site that breaks one is never ranked, because a leader who is shown it will promise it:
- available now, or by the date the project needs it (可供, or 可供日期 on or before that date); a site held for
  this very project counts as available to it;
- of a kind the project can use (a factory project: land or a standard factory; a headquarters: an office or
  commercial land), and for land, of a land use that allows it (工业 M1–M3 for manufacturing, B/A for HQ and R&D);
- large enough (≥ 90 % of the need, what bureaus accept after a plan adjustment) and not absurdly larger
  (≤ 3× the need: a 200-亩 plot given to a 20-亩 project wastes the zone's scarcest asset).
Then a score out of 100, every part shown: area fit (40: the closer to the need, the better), park focus (25: the
park's stated focus names the node or its chain), chain neighbours (25: the park already holds firms on this node
or on nodes it trades with, chain leaders counted double — the warm paths a new firm works along), readiness (10:
ready now beats ready later).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain import sites as dom
from chainatlas.domain.chain import Chain, load_chain
from chainatlas.services.placement.placements import effective_placements
from chainatlas.store.models import Enterprise, Park, Project, Site

MIN_SHARE, MAX_RATIO = 0.9, 3.0
WEIGHTS = {"area": 40.0, "focus": 25.0, "cluster": 25.0, "ready": 10.0}


class MatchError(ValueError):
    """A need that cannot be matched as asked; the message says what to fill in (Chinese)."""


@dataclass
class SiteMatch:
    site: Site
    score: float
    parts: dict[str, float]
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        s = self.site
        return {"code": s.code, "name": s.name, "kind": s.kind, "kind_zh": dom.KINDS[s.kind], "park_id": s.park_id,
                "status": s.status, "area_m2": s.area_m2, "area_mu": round(dom.to_mu(s.area_m2, "m2"), 2),
                "land_use": s.land_use, "available_from": s.available_from.isoformat() if s.available_from else None,
                "score": round(self.score, 1), "parts": {k: round(v, 1) for k, v in self.parts.items()},
                "reasons": self.reasons}


def need_for_project(session: Session, project: Project, chain: Chain | None = None) -> dom.Need:
    """A project's need from its ledger fields: 用地(亩), 项目类型, 环节, and the date it must have the site by."""
    if not project.land_mu or project.land_mu <= 0:
        raise MatchError(f"项目“{project.name}”（{project.code}）未填写用地需求（亩）。请在项目台账中填写“用地(亩)”后再匹配载体")
    kind = project.project_type or "新建"
    by = project.started_on or project.signed_on
    return dom.Need(area_m2=dom.to_m2(project.land_mu, "mu"), kinds=dom.KINDS_FOR_PROJECT.get(kind, ("land", "factory")),
                    land_uses=dom.USES_FOR_PROJECT.get(kind, ("M1", "M2", "M3")),
                    node_id=(project.node_ids or [""])[0], by_date=by)


def need_from_args(*, need_mu: float | None = None, need_m2: float | None = None, kind: str | None = None,
                   node_id: str = "", by_date: date | None = None, project_type: str = "新建") -> dom.Need:
    if (need_mu is None) == (need_m2 is None):
        raise MatchError("请给出用地需求：--need-mu 亩数 或 --need-m2 平方米数（二选一）")
    value, unit = (need_mu, "mu") if need_mu is not None else (need_m2, "m2")
    if not value or value <= 0:
        raise MatchError("需求面积应大于 0")
    kinds = (dom.parse_kind(kind),) if kind else dom.KINDS_FOR_PROJECT.get(project_type, ("land", "factory"))
    return dom.Need(area_m2=dom.to_m2(value, unit), kinds=kinds,
                    land_uses=dom.USES_FOR_PROJECT.get(project_type, ("M1", "M2", "M3")), node_id=node_id,
                    by_date=by_date)


def match_sites(session: Session, zone_id: str, need: dom.Need, *, chain_id: str, project_id: int | None = None,
                limit: int = 10, today: date | None = None) -> list[SiteMatch]:
    today = today or config.today()
    chain = load_chain(chain_id)
    if need.node_id and need.node_id not in chain.nodes:
        raise MatchError(f"产业链“{chain.name_zh}”中没有环节“{need.node_id}”")
    parks = {p.id: p for p in session.scalars(select(Park).where(Park.zone_id == zone_id))}
    cluster = _cluster(session, zone_id, chain, need.node_id)
    best_cluster = max((firms + leaders for firms, leaders in cluster.values()), default=0)
    out: list[SiteMatch] = []
    for site in session.scalars(select(Site).where(Site.zone_id == zone_id)):
        if not _usable(site, need, project_id, today):
            continue
        parts: dict[str, float] = {}
        reasons: list[str] = []
        ratio = site.area_m2 / need.area_m2
        parts["area"] = WEIGHTS["area"] * max(0.0, 1 - abs(ratio - 1.1) / (MAX_RATIO - 1.1))
        reasons.append(f"面积{_area_text(site)}，为需求的{ratio:.0%}")
        park = parks.get(site.park_id or "")
        focus = _focus_fit(park, chain, need.node_id)
        parts["focus"] = WEIGHTS["focus"] * focus
        if park is not None and focus > 0:
            reasons.append(f"{park.name}定位：{park.focus.split('；')[0][:40]}")
        firms, leaders = cluster.get(site.park_id or "", (0, 0))
        parts["cluster"] = WEIGHTS["cluster"] * ((firms + leaders) / best_cluster if best_cluster else 0.0)
        if firms:
            reasons.append(f"园区内已有本环节及上下游企业{firms}家" + (f"，其中链主{leaders}家" if leaders else ""))
        ready_now = site.status == dom.AVAILABLE and (site.available_from is None or site.available_from <= today)
        held_here = project_id is not None and site.project_id == project_id
        parts["ready"] = WEIGHTS["ready"] * (1.0 if ready_now or held_here else 0.5)
        if held_here:
            reasons.insert(0, "已为本项目预留")
        elif not ready_now:
            reasons.append(f"{site.available_from.isoformat() if site.available_from else ''}起可供")
        if site.kind == "land" and site.land_use:
            reasons.append(f"用地性质{dom.LAND_USES.get(site.land_use, site.land_use)}")
        out.append(SiteMatch(site, sum(parts.values()), parts, reasons))
    out.sort(key=lambda m: (-m.score, m.site.code))
    return out[:limit]


def _usable(site: Site, need: dom.Need, project_id: int | None, today: date) -> bool:
    held_here = project_id is not None and site.project_id == project_id and site.status == dom.NEGOTIATING
    if not held_here:
        if site.status != dom.AVAILABLE:
            return False
        by = need.by_date if isinstance(need.by_date, date) and need.by_date > today else today
        if site.available_from is not None and site.available_from > by:
            return False
    if site.kind not in need.kinds:
        return False
    if site.kind == "land" and site.land_use and site.land_use not in need.land_uses:
        return False
    ratio = site.area_m2 / need.area_m2
    return MIN_SHARE <= ratio <= MAX_RATIO


def _area_text(site: Site) -> str:
    if site.kind == "land":
        return f"{dom.to_mu(site.area_m2, 'm2'):,.1f}亩"
    return f"{site.area_m2:,.0f}㎡"


def _focus_fit(park: Park | None, chain: Chain, node_id: str) -> float:
    """1 when the park's focus names the node (or its segment) by name or keyword, 0.5 when it names the chain."""
    if park is None or not park.focus:
        return 0.0
    if node_id:
        node = chain.node(node_id)
        segment = chain.segment_of(node_id)
        words = {node.name_zh, segment.name_zh, *node.keywords[:20]}
        if any(w and w in park.focus for w in words):
            return 1.0
    chain_words = [w for w in (chain.name_zh, *chain.name_zh.replace("与", "、").split("、")) if len(w) >= 2]
    return 0.5 if any(w in park.focus for w in chain_words) or _shares_words(park.focus, chain.name_zh) else 0.0


def _shares_words(focus: str, chain_name: str) -> bool:
    """'新能源与智能网联汽车' against '智能网联和电动汽车…': two-character words in common beyond the generic ones."""
    grams = {chain_name[i:i + 2] for i in range(len(chain_name) - 1)} - {"产业", "产链", "业链"}
    return sum(1 for g in grams if g in focus) >= 2


def _cluster(session: Session, zone_id: str, chain: Chain, node_id: str) -> dict[str, tuple[int, int]]:
    """park id → (firms of the zone placed on the node or a node it trades with, chain leaders among them);
    the score counts a leader twice."""
    firms = list(session.execute(
        select(Enterprise.id, Enterprise.park_id, Enterprise.is_leader)
        .where(Enterprise.zone_id == zone_id, Enterprise.park_id.is_not(None), Enterprise.merged_into_id.is_(None))))
    if not firms:
        return {}
    near = {node_id, *chain.neighbours(node_id)} if node_id else set(chain.nodes)
    placed = effective_placements(session, chain, [f.id for f in firms])
    counts: Counter[str] = Counter()
    leaders: Counter[str] = Counter()
    for firm in firms:
        if any(p.node_id in near for p in placed.get(firm.id, [])):
            counts[firm.park_id] += 1
            leaders[firm.park_id] += int(firm.is_leader)
    return {park: (n, leaders[park]) for park, n in counts.items()}
