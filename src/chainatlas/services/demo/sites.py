"""The demo zone's 载体台账: generated land plots, standard factories and offices in the zone's parks (演示, 程序生成).

Consistent with the rest of the demo: plots sold to the demo ledger's projects that are building or producing,
plots held for some signed projects (others still wait for land, so the land balance has something to say),
generated local firms occupying factories with generated output and tax (never a real company: the demo's
real companies carry public facts only). Coordinates are generated around each park's rough position, to draw
the map; they are not surveyed parcels. Dates are relative to the day the demo is loaded.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain import sites as dom
from chainatlas.domain.chain import Chain
from chainatlas.services.placement.placements import effective_placements
from chainatlas.store.models import Enterprise, EnterpriseAlias, Project, Site, SiteEvent, Zone

DEMO = "demo"
NOTE = "演示数据（程序生成，非真实地块）"
# park id → (label for site names, centre lon, lat, land plots, factories, offices, land uses to draw from)
LAYOUT = {
    "icv-ev-park": ("智能网联园", 114.150, 30.480, 10, 6, 0, ("M1", "M1", "M2")),
    "junshan-new-city": ("军山新城", 114.085, 30.420, 8, 3, 0, ("M1", "M2", "B")),
    "modern-services-park": ("现代服务园", 114.175, 30.505, 2, 0, 4, ("B", "A")),
    "smart-vehicle-software-park": ("软件园", 114.192, 30.516, 0, 1, 5, ("A",)),
}
SOFTWARE_SEGMENTS = ("smart-cockpit", "adas-ad", "vehicle-road-cloud", "rd-design")


def load_demo_sites(session: Session, zone: Zone, chain: Chain, seed: int, today: date | None = None) -> int:
    """Generate the site ledger for the demo zone's parks; returns the number of sites."""
    today = today or config.today()
    rng = random.Random(seed)
    parks = {p.id: p for p in zone.parks}
    local = _generated_local_firms(session, zone)
    _assign_parks(session, chain, local, rng)
    sites: list[Site] = []
    for park_id, (label, lon, lat, plots, factories, offices, uses) in LAYOUT.items():
        if park_id not in parks:
            continue
        for kind, count in (("land", plots), ("factory", factories), ("office", offices)):
            for i in range(count):
                sites.append(_site(rng, zone, park_id, parks[park_id].name, label, kind, i + 1, lon, lat, uses, today))
    session.add_all(sites)
    session.flush()
    _occupy(rng, sites, local, today)
    _link_projects(session, rng, zone, sites, today)
    for site in sites:
        session.add(SiteEvent(site_id=site.id, on=site.status_since or today, from_status=None, to_status=site.status,
                              project_id=site.project_id, note=NOTE, by_user="demo"))
    session.flush()
    return len(sites)


def _generated_local_firms(session: Session, zone: Zone) -> list[Enterprise]:
    generated = select(EnterpriseAlias.enterprise_id).where(EnterpriseAlias.alias.like("%程序生成%"))
    return list(session.scalars(select(Enterprise).where(Enterprise.zone_id == zone.id, Enterprise.source == DEMO,
                                                         Enterprise.id.in_(generated)).order_by(Enterprise.id)))


def _assign_parks(session: Session, chain: Chain, firms: list[Enterprise], rng: random.Random) -> None:
    """Generated local firms get a park: software and ICV services in the software park, makers in the two
    manufacturing parks — so the map and the matching see clusters."""
    placed = effective_placements(session, chain, [f.id for f in firms])
    for firm in firms:
        segments = {chain.segment_of(p.node_id).id for p in placed.get(firm.id, [])}
        if segments & set(SOFTWARE_SEGMENTS) and rng.random() < 0.7:
            firm.park_id = "smart-vehicle-software-park"
        else:
            firm.park_id = rng.choices(["icv-ev-park", "junshan-new-city"], weights=[3, 1])[0]


def _site(rng: random.Random, zone: Zone, park_id: str, park_name: str, short: str, kind: str, n: int, lon: float,
          lat: float, uses: tuple[str, ...], today: date) -> Site:
    if kind == "land":
        area, name = dom.to_m2(rng.choice([15, 20, 30, 40, 50, 60, 80, 100, 120, 150]), "mu"), f"{short}{n:02d}号地块"
        use = rng.choice(uses)
    elif kind == "factory":
        area, name, use = float(rng.choice([3000, 5000, 8000, 12000, 20000])), f"{short}标准厂房{n}号楼", ""
    else:
        area, name, use = float(rng.choice([800, 1500, 3000, 6000])), f"{short}写字楼{chr(64 + n)}座", ""
    since = today - timedelta(days=rng.randint(20, 540))
    site = Site(
        code=f"DEMO-{park_id[:3].upper()}-{kind[0].upper()}{n:02d}", zone_id=zone.id, park_id=park_id, kind=kind,
        name=name, address=f"{zone.name}{park_name}（演示）", lon=round(lon + rng.uniform(-0.012, 0.012), 5),
        lat=round(lat + rng.uniform(-0.009, 0.009), 5), area_m2=round(area, 2), land_use=use,
        plot_ratio=rng.choice([1.2, 1.5, 2.0]) if kind == "land" else (rng.choice([1.8, 2.5, None]) if kind == "factory" else 4.0),
        land_price_yuan_per_mu=rng.choice([22, 25, 28, 32]) * 10_000 if kind == "land" else None,
        floors=None if kind == "land" else (rng.choice([1, 3, 4]) if kind == "factory" else rng.choice([12, 18, 24])),
        floor_load_kn_m2=rng.choice([5.0, 8.0, 10.0]) if kind == "factory" else None,
        clear_height_m=rng.choice([6.0, 8.0, 9.5]) if kind == "factory" else None,
        power_kva=rng.choice([400, 800, 1250, 2000]) if kind == "factory" else None,
        rent_fen_per_m2_month=rng.choice([1500, 1800, 2200]) if kind == "factory" else (
            rng.choice([3500, 4500, 6000]) if kind == "office" else None),
        status=dom.AVAILABLE, status_since=since,
        available_from=today + timedelta(days=rng.randint(60, 300)) if rng.random() < 0.2 else None,
        notes=NOTE, source=DEMO, as_of=today,
    )
    return site


def _occupy(rng: random.Random, sites: list[Site], firms: list[Enterprise], today: date) -> None:
    """About a third of factories and offices house generated local firms of their park, with generated figures."""
    by_park: dict[str, list[Enterprise]] = {}
    for firm in firms:
        by_park.setdefault(firm.park_id or "", []).append(firm)
    for site in sites:
        tenants = by_park.get(site.park_id or "", [])
        if site.kind == "land" or not tenants or rng.random() > 0.45:
            continue
        firm = tenants.pop(rng.randrange(len(tenants)))
        site.status, site.enterprise_id, site.available_from = "已入驻", firm.id, None
        site.status_since = today - timedelta(days=rng.randint(200, 1500))
        per_m2 = rng.choice([8_000, 15_000, 25_000, 40_000])  # yuan of output a year per ㎡ of floor
        site.output_yuan = int(site.area_m2 * per_m2)
        site.tax_yuan = int(site.output_yuan * rng.uniform(0.02, 0.06))
        site.figures_year = today.year - 1


def _link_projects(session: Session, rng: random.Random, zone: Zone, sites: list[Site], today: date) -> None:
    """Plots for the demo ledger's projects: sold to those building or producing, held for about half the signed
    ones (the others still need land), none for projects without a land need."""
    projects = list(session.scalars(select(Project).where(Project.zone_id == zone.id, Project.land_mu > 0,
                                                          Project.source == DEMO).order_by(Project.code)))
    free = [s for s in sites if s.kind == "land" and s.status == dom.AVAILABLE and s.land_use.startswith("M")]
    for project in projects:
        if project.stage in ("开工", "投产"):
            status = "已出让"
        elif project.stage in ("签约", "注册") and rng.random() < 0.5:
            status = dom.NEGOTIATING
        else:
            continue
        fits = [s for s in free if 0.9 <= s.area_m2 / dom.to_m2(project.land_mu, "mu") <= 3.0]
        if not fits:
            continue
        site = min(fits, key=lambda s: s.area_m2)
        free.remove(site)
        site.status, site.project_id, site.available_from = status, project.id, None
        site.status_since = project.started_on or project.signed_on or today
