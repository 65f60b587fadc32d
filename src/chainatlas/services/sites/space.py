"""Use of space: 亩均产值 / 亩均税收 by park and firm, idle sites, and the land the pipeline needs against what is free.

亩均 (per 亩 of land used) is how provinces judge zones and firms (the 亩均论英雄 evaluations): yearly output or tax
divided by the land the firm occupies. A firm in a standard factory or an office occupies the land under its floor
area: floor area ÷ plot ratio (容积率), taken as 1.0 where the ledger gives none — said in the result, since it
understates 亩均 for multi-storey buildings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain import sites as dom
from chainatlas.domain.stages import DROP, HOLD
from chainatlas.store.models import Enterprise, Park, Project, Site

# Projects that will need their land this year: signed or registered and not yet building on a site of their own.
NEEDING_STAGES = ("签约", "注册")
LIKELY_STAGE = "在谈"


@dataclass
class PerMu:
    key: str  # park id or site code
    name: str
    land_mu: float
    output_yuan: int | None
    tax_yuan: int | None
    sites: int
    assumed_plot_ratio: int = 0  # how many buildings had no 容积率 (taken as 1.0)

    @property
    def output_per_mu(self) -> float | None:
        return self.output_yuan / self.land_mu if self.output_yuan is not None and self.land_mu else None

    @property
    def tax_per_mu(self) -> float | None:
        return self.tax_yuan / self.land_mu if self.tax_yuan is not None and self.land_mu else None


@dataclass
class LandBalance:
    year: int
    need_mu: float  # signed projects still without a site
    likely_mu: float  # projects in negotiation that will need land if they sign
    available_mu: float  # land plots available by the end of the year
    available_factory_m2: float
    projects: list[tuple[str, str, float]] = field(default_factory=list)  # (code, name, 亩) of the signed need

    @property
    def short_mu(self) -> float:
        return max(0.0, self.need_mu - self.available_mu)

    @property
    def warning(self) -> str:
        if self.need_mu > self.available_mu:
            return (f"预警：已签约待落地项目需地{self.need_mu:,.1f}亩，年内可供工业用地仅{self.available_mu:,.1f}亩，"
                    f"缺口{self.short_mu:,.1f}亩。请加快收储、盘活闲置用地或引导项目进入标准厂房")
        if self.need_mu + self.likely_mu > self.available_mu:
            return (f"关注：已签约与在谈项目合计需地{self.need_mu + self.likely_mu:,.1f}亩，"
                    f"超过年内可供工业用地{self.available_mu:,.1f}亩")
        return ""


def _land_mu(site: Site) -> tuple[float, bool]:
    """The land a site stands for, in 亩, and whether the plot ratio was assumed."""
    if site.kind == "land":
        return dom.to_mu(site.area_m2, "m2"), False
    ratio = site.plot_ratio if site.plot_ratio and site.plot_ratio > 0 else None
    return dom.to_mu(site.area_m2 / (ratio or 1.0), "m2"), ratio is None


def per_mu_by_park(session: Session, zone_id: str) -> list[PerMu]:
    """Occupied sites with output or tax known, summed by park (only sites with figures count, on both sides)."""
    parks = {p.id: p.name for p in session.scalars(select(Park).where(Park.zone_id == zone_id))}
    sums: dict[str, PerMu] = {}
    for site in _occupied_with_figures(session, zone_id):
        key = site.park_id or ""
        _count(sums.setdefault(key, PerMu(key, parks.get(key, "园区外"), 0.0, None, None, 0)), site)
    return sorted(sums.values(), key=lambda r: -(r.output_per_mu or 0))


def per_mu_by_firm(session: Session, zone_id: str) -> list[PerMu]:
    names = dict(session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.zone_id == zone_id)).all())
    by_firm: dict[str, PerMu] = {}
    for site in _occupied_with_figures(session, zone_id):
        key = str(site.enterprise_id) if site.enterprise_id else site.code
        name = names.get(site.enterprise_id, "") if site.enterprise_id else f"{site.name}（入驻企业未登记）"
        _count(by_firm.setdefault(key, PerMu(key, name or site.name, 0.0, None, None, 0)), site)
    return sorted(by_firm.values(), key=lambda r: -(r.output_per_mu or 0))


def _count(row: PerMu, site: Site) -> None:
    mu, assumed = _land_mu(site)
    row.land_mu += mu
    row.sites += 1
    row.assumed_plot_ratio += int(assumed)
    row.output_yuan = _add(row.output_yuan, site.output_yuan)
    row.tax_yuan = _add(row.tax_yuan, site.tax_yuan)


def _occupied_with_figures(session: Session, zone_id: str) -> list[Site]:
    return list(session.scalars(select(Site).where(
        Site.zone_id == zone_id, Site.status.in_(dom.TAKEN),
        (Site.output_yuan.is_not(None)) | (Site.tax_yuan.is_not(None)))))


def _add(total: int | None, value: int | None) -> int | None:
    if value is None:
        return total
    return value if total is None else total + value


def idle_sites(session: Session, zone_id: str, months: int, today: date | None = None) -> list[tuple[Site, int]]:
    """Sites available (unlet, unsold) for more than `months` months, longest idle first, with their idle months."""
    today = today or config.today()
    out = []
    for site in session.scalars(select(Site).where(Site.zone_id == zone_id, Site.status == dom.AVAILABLE)):
        # idle from the later of "became available" and "can be delivered": a plot deliverable next year is not idle
        dates = [d for d in (site.status_since, site.available_from) if d is not None]
        since = max(dates) if dates else None
        if since is None or since > today:
            continue
        idle = (today.year - since.year) * 12 + today.month - since.month - (today.day < since.day)
        if idle > months:
            out.append((site, idle))
    return sorted(out, key=lambda pair: (-pair[1], pair[0].code))


def available_area(session: Session, zone_id: str, by: date | None = None) -> dict[tuple[str, str], float]:
    """(park id, kind) → area available by a date (亩 for land, ㎡ for buildings): the 载体 panel's numbers."""
    by = by or config.today()
    out: dict[tuple[str, str], float] = defaultdict(float)
    for site in session.scalars(select(Site).where(Site.zone_id == zone_id, Site.status == dom.AVAILABLE)):
        if site.available_from is not None and site.available_from > by:
            continue
        area = dom.to_mu(site.area_m2, "m2") if site.kind == "land" else site.area_m2
        out[(site.park_id or "", site.kind)] += area
    return dict(out)


def land_balance(session: Session, zone_id: str, year: int) -> LandBalance:
    """The land the year's pipeline needs against the industrial land available by 31 December."""
    year_end = date(year, 12, 31)
    held = {s.project_id for s in session.scalars(select(Site).where(Site.zone_id == zone_id,
                                                                      Site.project_id.is_not(None)))}
    need, likely = 0.0, 0.0
    listed: list[tuple[str, str, float]] = []
    for p in session.scalars(select(Project).where(Project.zone_id == zone_id, Project.land_mu > 0,
                                                   Project.stage.not_in((DROP, HOLD)))):
        if p.id in held or "land" not in dom.KINDS_FOR_PROJECT.get(p.project_type or "新建", ()):
            continue
        if p.stage in NEEDING_STAGES and (p.signed_on is None or p.signed_on.year <= year):
            need += p.land_mu
            listed.append((p.code, p.name, p.land_mu))
        elif p.stage == LIKELY_STAGE:
            likely += p.land_mu
    available = available_area(session, zone_id, year_end)
    land = sum(a for (park, kind), a in available.items() if kind == "land")
    factory = sum(a for (park, kind), a in available.items() if kind == "factory")
    return LandBalance(year, need, likely, land, factory, sorted(listed, key=lambda r: -r[2]))

