"""Zones (development zones) and their members: load a zone file, find a zone, decide whether an address is in it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.store.models import Park, YearlyTarget, Zone, ZoneMember


class ZoneNotFound(LookupError):
    pass


def builtin_zone_path(zone_id: str) -> Path:
    return Path(str(resources.files("chainatlas") / "data" / "zones" / f"{zone_id}.yaml"))


def read_zone_file(zone_id_or_path: str) -> dict:
    path = Path(zone_id_or_path)
    if not path.suffix:
        path = builtin_zone_path(zone_id_or_path)
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_zone(session: Session, zone_id_or_path: str, chain_id: str = "nev-icv") -> Zone:
    """Insert or refresh a zone, its members, parks and the yearly targets its file names."""
    data = read_zone_file(zone_id_or_path)
    zone = session.get(Zone, data["id"])
    if zone is None:
        zone = Zone(id=data["id"], name=data["name"])
        session.add(zone)
    zone.name, zone.name_en, zone.city_code = data["name"], data.get("name_en", ""), data.get("city_code", "")
    zone.source = data.get("source") or f"{data['name']}开发区范围（管理员配置）"
    zone.members = [ZoneMember(kind=m["kind"], region_code=str(m["code"]), name=m["name"]) for m in data["members"]]
    existing_parks = {p.id: p for p in zone.parks}
    parks = []
    for p in data.get("parks", []):
        park = existing_parks.get(p["id"]) or Park(id=p["id"], zone_id=zone.id, name=p["name"])
        park.name, park.name_en = p["name"], p.get("name_en", "")
        park.focus, park.keywords = p.get("focus", ""), list(p.get("keywords", []))
        parks.append(park)
    zone.parks = parks
    session.flush()
    for t in data.get("targets", []):
        row = session.scalar(
            select(YearlyTarget).where(
                YearlyTarget.zone_id == zone.id,
                YearlyTarget.year == t["year"],
                YearlyTarget.measure == t["measure"],
                YearlyTarget.chain_id == chain_id,
                YearlyTarget.node_id == "",
            )
        )
        if row is None:
            session.add(
                YearlyTarget(
                    zone_id=zone.id, year=t["year"], measure=t["measure"], chain_id=chain_id,
                    node_id="", target_value=int(t["target"]), source=t.get("source", ""),
                )
            )
    session.flush()
    return zone


def resolve_zone(session: Session, id_or_name: str) -> Zone:
    """A zone by id (wuhan-edz) or by its Chinese name or alias (武汉经开区, 中国车谷)."""
    zone = session.get(Zone, id_or_name) or session.scalar(select(Zone).where(Zone.name == id_or_name))
    if zone is not None:
        return zone
    for zone in session.scalars(select(Zone)):
        try:
            aliases = read_zone_file(zone.id).get("aliases", [])
        except FileNotFoundError:
            aliases = []
        if id_or_name in aliases:
            return zone
    known = "、".join(f"{z.name}({z.id})" for z in session.scalars(select(Zone)))
    raise ZoneNotFound(f"找不到开发区“{id_or_name}”。已有：{known or '无，请先运行 chainatlas demo load'}")


def zone_address_keywords(zone_id: str) -> list[str]:
    try:
        return list(read_zone_file(zone_id).get("address_keywords", []))
    except FileNotFoundError:
        return []
