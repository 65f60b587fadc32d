"""Zones (development zones) as data users manage: defined by a zone file or by GB/T 2260 division codes, with parks
and address words; adding or changing one recomputes which firms in the database are in it.

A zone is a set of members — provinces, cities, counties (GB/T 2260) or streets (9-digit 统计用区划代码) — plus
parks and address words. 武汉经开区 has no division code of its own: a county and three streets make it up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from chainatlas.ingest.address import Place, ZoneSpec, match_zone
from chainatlas.services.catalog.regions import LEVEL_OF_LENGTH, DivisionError, division, ensure_regions, region_name
from chainatlas.store.db import audit
from chainatlas.store.models import Enterprise, Park, Project, Region, YearlyTarget, Zone, ZoneMember


class ZoneNotFound(LookupError):
    pass


class ZoneError(ValueError):
    """A zone definition that cannot be saved; the message is Chinese and says what to fix."""


@dataclass
class ZoneDefinition:
    """What a zone file or the zone form gives."""

    id: str
    name: str
    members: list[tuple[str, str, str]]  # (kind, code, name); kind: province / city / county / street
    name_en: str = ""
    aliases: list[str] = field(default_factory=list)
    address_keywords: list[str] = field(default_factory=list)
    parks: list[dict[str, Any]] = field(default_factory=list)  # {id, name, name_en, focus, keywords}
    targets: list[dict[str, Any]] = field(default_factory=list)  # {year, measure, target, source}
    source: str = ""


def builtin_zone_path(zone_id: str) -> Path:
    return Path(str(resources.files("chainatlas") / "data" / "zones" / f"{zone_id}.yaml"))


def read_zone_file(zone_id_or_path: str | Path) -> ZoneDefinition:
    """A zone file (YAML), anywhere on disk, or a built-in zone by id; every part of it is read."""
    path = Path(zone_id_or_path)
    if not path.suffix:
        path = builtin_zone_path(str(zone_id_or_path))
    if not path.is_file():
        raise ZoneError(f"找不到开发区文件 {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ZoneError(f"{path.name}：YAML 格式有误：{exc}") from exc
    if not isinstance(data, dict) or not data.get("id") or not data.get("name") or not data.get("members"):
        raise ZoneError(f"{path.name}：开发区文件需要 id、name 和 members（区划代码列表）")
    members = []
    for m in data["members"]:
        code = str(m["code"] if isinstance(m, dict) else m)
        members.append(_member(code, m.get("name", "") if isinstance(m, dict) else ""))
    return ZoneDefinition(
        id=str(data["id"]), name=str(data["name"]), members=members, name_en=data.get("name_en", ""),
        aliases=[str(a) for a in data.get("aliases", [])],
        address_keywords=[str(w) for w in data.get("address_keywords", [])],
        parks=[_park(p, str(data["id"]), i) for i, p in enumerate(data.get("parks", []))],
        targets=list(data.get("targets", [])),
        source=str(data.get("source") or f"{data['name']}开发区范围（管理员配置）"),
    )


def zone_from_divisions(name: str, codes: list[str], *, zone_id: str | None = None, parks: list[str] = (),
                        address_keywords: list[str] = (), aliases: list[str] = ()) -> ZoneDefinition:
    """A zone from its name and division codes (省/市/区县 6 digits, 街道 9 digits); parks as "名称" or
    "名称:关键词1+关键词2"."""
    name = name.strip()
    if not name:
        raise ZoneError("请填写开发区名称")
    members = [_member(code.strip()) for code in codes if code.strip()]
    if not members:
        raise ZoneError("请至少填写一个行政区划代码，如 440300（深圳市）或 420114070（沌口街道）")
    zid = zone_id or f"zone-{members[0][1]}"
    park_dicts = []
    for i, text in enumerate(p for p in parks if p.strip()):
        park_name, _, words = text.partition(":")
        park_dicts.append(_park({"name": park_name.strip(), "keywords": [w for w in words.split("+") if w]}, zid, i))
    return ZoneDefinition(zid, name, members, aliases=list(aliases), address_keywords=list(address_keywords),
                          parks=park_dicts, source=f"{name}开发区范围（管理员配置）")


def _member(code: str, name: str = "") -> tuple[str, str, str]:
    try:
        found = division(code)
    except DivisionError as exc:
        raise ZoneError(str(exc)) from None
    return (LEVEL_OF_LENGTH[len(found.code)], found.code, name or found.name)


def _park(p: dict[str, Any], zone_id: str, i: int) -> dict[str, Any]:
    if not p.get("name"):
        raise ZoneError(f"第 {i + 1} 个园区没有名称")
    return {"id": str(p.get("id") or f"{zone_id}-park-{i + 1}"), "name": str(p["name"]),
            "name_en": str(p.get("name_en", "")), "focus": str(p.get("focus", "")),
            "keywords": [str(k) for k in p.get("keywords", [])]}


# ---------------------------------------------------------------- saving and removing


def save_zone(session: Session, definition: ZoneDefinition, *, by_user: str = "system",
              chain_id: str | None = None) -> Zone:
    """Insert or replace a zone, its members, parks and yearly targets; then recompute every firm's zone."""
    from chainatlas import config

    clash = session.scalar(select(Zone).where(Zone.name == definition.name, Zone.id != definition.id))
    if clash is not None:
        raise ZoneError(f"已有同名开发区“{definition.name}”（{clash.id}）：请换一个名称，或修改那个开发区")
    zone = session.get(Zone, definition.id)
    before = zone_dict(zone) if zone is not None else None
    if zone is None:
        zone = Zone(id=definition.id, name=definition.name)
        session.add(zone)
    zone.name, zone.name_en, zone.source = definition.name, definition.name_en, definition.source
    zone.aliases, zone.address_keywords = list(definition.aliases), list(definition.address_keywords)
    cities = {code[:4] for _, code, _ in definition.members if len(code) >= 4}
    single_city = len(cities) == 1 and all(len(code) >= 4 for _, code, _ in definition.members)
    zone.city_code = next(iter(cities)) if single_city else ""
    zone.members = [ZoneMember(kind=kind, region_code=code, name=name) for kind, code, name in definition.members]
    existing_parks = {p.id: p for p in zone.parks}
    parks = []
    for p in definition.parks:
        park = existing_parks.get(p["id"]) or Park(id=p["id"], zone_id=zone.id, name=p["name"])
        park.name, park.name_en, park.focus, park.keywords = p["name"], p["name_en"], p["focus"], p["keywords"]
        parks.append(park)
    zone.parks = parks
    session.flush()
    for t in definition.targets:
        _target(session, zone.id, t, chain_id or config.default_chain())
    ensure_regions(session)
    for kind, code, name in definition.members:
        if kind == "street" and session.get(Region, code) is None:
            session.add(Region(code=code, name=name, level="street", parent_code=code[:6]))
    session.flush()
    recompute_membership(session)
    audit(session, by_user, "zone.save", "zone", zone.id, before, zone_dict(zone))
    return zone


def _target(session: Session, zone_id: str, t: dict[str, Any], chain_id: str) -> None:
    row = session.scalar(select(YearlyTarget).where(
        YearlyTarget.zone_id == zone_id, YearlyTarget.year == t["year"], YearlyTarget.measure == t["measure"],
        YearlyTarget.chain_id == chain_id, YearlyTarget.node_id == ""))
    if row is None:
        session.add(YearlyTarget(zone_id=zone_id, year=t["year"], measure=t["measure"], chain_id=chain_id, node_id="",
                                 target_value=int(t["target"]), source=t.get("source", "")))
    else:  # the file says the target now (a year's target raised from 15 to 20 projects stayed 15)
        row.target_value, row.source = int(t["target"]), t.get("source", "")


def load_zone(session: Session, zone_id_or_path: str | Path, chain_id: str | None = None,
              by_user: str = "system") -> Zone:
    """A zone file (or built-in zone id) saved as `zone add FILE` saves it."""
    return save_zone(session, read_zone_file(zone_id_or_path), by_user=by_user, chain_id=chain_id)


def remove_zone(session: Session, id_or_name: str, by_user: str = "system") -> str:
    """Remove a zone: its firms stay in the database, outside any zone; a zone with projects is kept."""
    zone = resolve_zone(session, id_or_name)
    projects = session.scalar(select(func.count()).select_from(Project).where(Project.zone_id == zone.id))
    if projects:
        raise ZoneError(f"开发区“{zone.name}”有 {projects} 个招商项目，不能删除：请先把项目移到其他开发区")
    before = zone_dict(zone)
    park_ids = [p.id for p in zone.parks]
    session.execute(update(Enterprise).where(Enterprise.zone_id == zone.id).values(zone_id=None, park_id=None))
    if park_ids:
        session.execute(update(Enterprise).where(Enterprise.park_id.in_(park_ids)).values(park_id=None))
    session.execute(delete(YearlyTarget).where(YearlyTarget.zone_id == zone.id))
    session.delete(zone)
    session.flush()
    recompute_membership(session)  # a firm of the removed zone may be in another one
    audit(session, by_user, "zone.remove", "zone", before["id"], before, None)
    return before["name"]


def zone_dict(zone: Zone) -> dict[str, Any]:
    return {"id": zone.id, "name": zone.name, "name_en": zone.name_en, "city_code": zone.city_code,
            "aliases": list(zone.aliases or []), "address_keywords": list(zone.address_keywords or []),
            "members": [{"kind": m.kind, "code": m.region_code, "name": m.name} for m in zone.members],
            "parks": [{"id": p.id, "name": p.name, "keywords": list(p.keywords or [])} for p in zone.parks],
            "source": zone.source}


# ---------------------------------------------------------------- finding zones and their firms


def resolve_zone(session: Session, id_or_name: str) -> Zone:
    """A zone by id (wuhan-edz), by its Chinese name or by an alias (武汉经开区, 中国车谷)."""
    zone = session.get(Zone, id_or_name) or session.scalar(select(Zone).where(Zone.name == id_or_name))
    if zone is not None:
        return zone
    zones = list(session.scalars(select(Zone).order_by(Zone.id)))
    for zone in zones:
        if id_or_name in (zone.aliases or []):
            return zone
    known = "、".join(f"{z.name}({z.id})" for z in zones)
    raise ZoneNotFound(f"找不到开发区“{id_or_name}”。已有：{known or '无（加载演示数据：chainatlas demo load）'}。"
                       "新建开发区：chainatlas zone add --name 名称 --division 区划代码，或 chainatlas zone add 文件.yaml")


def zone_specs(session: Session, zone_id: str | None = None) -> list[ZoneSpec]:
    """What puts an address in each zone; the zones named by streets and counties come before city- and
    province-wide ones, so a firm in both is in the more specific zone."""
    zones = [resolve_zone(session, zone_id)] if zone_id else list(session.scalars(select(Zone).order_by(Zone.id)))
    specs = []
    for zone in zones:
        spec = ZoneSpec(zone.id, zone.city_code, address_keywords=list(zone.address_keywords or []))
        for member in zone.members:
            code = member.region_code
            if member.kind == "province":
                spec.province_codes.add(code[:2])
            elif member.kind == "city":
                spec.city_codes.add(code[:4])
            elif member.kind == "county":
                spec.county_codes.add(code[:6])
            else:
                spec.street_counties.add(code[:6])
                spec.street_names[member.name] = code
                for suffix in ("街道办事处", "街道", "镇", "乡"):
                    if member.name.endswith(suffix) and len(member.name) - len(suffix) >= 2:
                        spec.street_names.setdefault(member.name[: -len(suffix)], code)
                        break
        keywords = [(kw, park.id) for park in zone.parks for kw in {park.name, *park.keywords}]
        spec.park_keywords = sorted(keywords, key=lambda kp: -len(kp[0]))
        specs.append(spec)
    return sorted(specs, key=lambda s: bool(s.province_codes or s.city_codes))


def recompute_membership(session: Session) -> dict[str, int]:
    """Decide again, for every live firm in the database, which zone and park it is in — from its address (with
    its street and park, where an import found them), else from its province, city and county codes. Writes only
    the firms whose zone, park or street changes; returns each zone's firm count."""
    specs = zone_specs(session)
    parks = {p.id: p.name for p in session.scalars(select(Park))}
    rows = session.execute(select(
        Enterprise.id, Enterprise.address, Enterprise.province_code, Enterprise.city_code, Enterprise.district_code,
        Enterprise.street_code, Enterprise.zone_id, Enterprise.park_id,
    ).where(Enterprise.merged_into_id.is_(None))).all()
    cache: dict[tuple, Any] = {}
    changes = []
    counts: dict[str, int] = {}
    for eid, address, province, city, district, street, zone_id, park_id in rows:
        text = "".join(x for x in (address, region_name(street) if street else "", parks.get(park_id or "")) if x)
        key = (text, province, city, district)
        hit = cache.get(key, 0)
        if hit == 0:
            hit = cache[key] = match_zone(text, Place(province or "", city or "", district or ""), specs) if specs \
                else None
        new = (hit.zone_id, hit.park_id, hit.street_code or street) if hit else (None, None, street)
        if hit:
            counts[hit.zone_id] = counts.get(hit.zone_id, 0) + 1
        if new != (zone_id, park_id, street):
            changes.append({"id": eid, "zone_id": new[0], "park_id": new[1], "street_code": new[2] or ""})
    for start in range(0, len(changes), 5_000):
        session.execute(update(Enterprise), changes[start:start + 5_000])
    session.flush()
    return counts


def zone_firm_count(session: Session, zone_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Enterprise).where(
        Enterprise.zone_id == zone_id, Enterprise.merged_into_id.is_(None))) or 0


def list_zones(session: Session) -> list[tuple[Zone, int]]:
    return [(z, zone_firm_count(session, z.id)) for z in session.scalars(select(Zone).order_by(Zone.id))]
