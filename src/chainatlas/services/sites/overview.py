"""The 载体 picture for pages, the wall chart and the 大屏: sites as map points, park outlines, and the panel numbers.

No online map tiles (the bureau's intranet has none and the data is confidential): each park's outline is drawn
from the zone's own data — the convex hull of its sites' coordinates, padded — so the map shows where things are
relative to each other, not a street map.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain import sites as dom
from chainatlas.domain.money import format_yuan
from chainatlas.services.sites.space import available_area, idle_sites, land_balance, per_mu_by_park
from chainatlas.store.models import Enterprise, Park, Project, Site

STATUS_COLORS = {"可供": "#1b7f4c", "洽谈中": "#f2a33a", "已出让": "#6b7685", "已租": "#4a6fa5", "已入驻": "#1756a9"}
PAD_DEG = 0.004  # ≈ 400 m around a park's outermost sites


def available_panel(session: Session, zone_id: str, today: date | None = None) -> list[dict[str, Any]]:
    """Available area by park and kind (亩 of land, ㎡ of factories and offices), for the 载体 panels."""
    parks = dict(session.execute(select(Park.id, Park.name).where(Park.zone_id == zone_id)).all())
    areas = available_area(session, zone_id, today)
    rows: dict[str, dict[str, Any]] = {}
    for (park_id, kind), area in areas.items():
        row = rows.setdefault(park_id, {"park_id": park_id, "park": parks.get(park_id, "园区外"),
                                        "land_mu": 0.0, "factory_m2": 0.0, "office_m2": 0.0})
        row[{"land": "land_mu", "factory": "factory_m2", "office": "office_m2"}[kind]] += area
    return sorted(rows.values(), key=lambda r: (-r["land_mu"], -r["factory_m2"], r["park"]))


def sites_overview(session: Session, zone_id: str, *, idle_months: int, today: date | None = None) -> dict[str, Any]:
    today = today or config.today()
    parks = list(session.scalars(select(Park).where(Park.zone_id == zone_id)))
    sites = list(session.scalars(select(Site).where(Site.zone_id == zone_id).order_by(Site.code)))
    projects = {p.id: (p.code, p.name) for p in session.scalars(
        select(Project).where(Project.id.in_({s.project_id for s in sites if s.project_id})))}
    firms = dict(session.execute(
        select(Enterprise.park_id, func.count()).where(Enterprise.zone_id == zone_id, Enterprise.park_id.is_not(None),
                                                       Enterprise.merged_into_id.is_(None))
        .group_by(Enterprise.park_id)).all())
    points = [{
        "code": s.code, "name": s.name, "kind": s.kind, "kind_zh": dom.KINDS[s.kind], "status": s.status,
        "value": [s.lon, s.lat], "area": _area_text(s), "park_id": s.park_id,
        "project": projects.get(s.project_id or 0, ("", ""))[1], "color": STATUS_COLORS.get(s.status, "#a3abb8"),
    } for s in sites if s.lon is not None and s.lat is not None]
    outlines = []
    for park in parks:
        coords = [(p["value"][0], p["value"][1]) for p in points if p["park_id"] == park.id]
        if coords:
            outlines.append({"park_id": park.id, "name": park.name, "polygon": _padded_hull(coords),
                             "firms": int(firms.get(park.id, 0))})
    balance = land_balance(session, zone_id, today.year)
    return {
        "points": points,
        "outlines": outlines,
        "colors": STATUS_COLORS,
        "unmapped": sum(1 for s in sites if s.lon is None or s.lat is None),
        "counts": {status: sum(1 for s in sites if s.status == status) for status in dom.STATUSES},
        "panel": available_panel(session, zone_id, today),
        "per_mu": [{"park": p.name, "land_mu": round(p.land_mu, 1), "output_per_mu": format_yuan(_round(p.output_per_mu)),
                    "tax_per_mu": format_yuan(_round(p.tax_per_mu)), "sites": p.sites,
                    "assumed_plot_ratio": p.assumed_plot_ratio} for p in per_mu_by_park(session, zone_id)],
        "idle": [{"code": s.code, "name": s.name, "area": _area_text(s), "months": m}
                 for s, m in idle_sites(session, zone_id, idle_months, today)],
        "idle_months": idle_months,
        "balance": {"year": balance.year, "need_mu": round(balance.need_mu, 1), "likely_mu": round(balance.likely_mu, 1),
                    "available_mu": round(balance.available_mu, 1),
                    "available_factory_m2": round(balance.available_factory_m2), "warning": balance.warning,
                    "projects": [{"code": c, "name": n, "mu": mu} for c, n, mu in balance.projects]},
        "is_demo": any(s.source == "demo" for s in sites),
    }


def _round(value: float | None) -> int | None:
    return None if value is None else round(value)


def _area_text(site: Site) -> str:
    return f"{dom.to_mu(site.area_m2, 'm2'):,.1f}亩" if site.kind == "land" else f"{site.area_m2:,.0f}㎡"


def _padded_hull(coords: list[tuple[float, float]]) -> list[list[float]]:
    """Convex hull (Andrew's monotone chain) of the points, each corner pushed out from the centre by PAD_DEG."""
    pts = sorted(set(coords))
    if len(pts) < 3:
        (x0, y0), (x1, y1) = (min(p[0] for p in pts), min(p[1] for p in pts)), (max(p[0] for p in pts), max(p[1] for p in pts))
        return [[x0 - PAD_DEG, y0 - PAD_DEG], [x1 + PAD_DEG, y0 - PAD_DEG], [x1 + PAD_DEG, y1 + PAD_DEG],
                [x0 - PAD_DEG, y1 + PAD_DEG]]

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = lower[:-1] + upper[:-1]
    cx, cy = sum(p[0] for p in hull) / len(hull), sum(p[1] for p in hull) / len(hull)
    out = []
    for x, y in hull:
        dx, dy = x - cx, y - cy
        norm = (dx * dx + dy * dy) ** 0.5 or 1.0
        out.append([round(x + dx / norm * PAD_DEG, 6), round(y + dy / norm * PAD_DEG, 6)])
    return out
