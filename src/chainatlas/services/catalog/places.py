"""Where firms are, for the map of China (按图索骥 on a real map): firms grouped by city, each city at its point.

City points are the seat coordinates that the cpca package (a dependency, used for addresses) ships in its
resources/adcodes.csv: 12-digit division code, name, longitude, latitude.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.store.models import Enterprise


@dataclass
class MapPoint:
    city_code: str
    name: str
    lon: float
    lat: float
    firms: list[str] = field(default_factory=list)
    local: int = 0  # firms of the zone among them


@cache
def _seats() -> dict[str, tuple[str, float, float]]:
    """6-digit division code → (name, longitude, latitude)."""
    text = (resources.files("cpca") / "resources" / "adcodes.csv").read_text(encoding="utf-8")
    out = {}
    for row in csv.DictReader(text.splitlines()):
        code = row["adcode"][:6]
        if row["adcode"][6:].strip("0") == "" and row["longitude"]:
            out.setdefault(code, (row["name"], float(row["longitude"]), float(row["latitude"])))
    return out


def city_seat(city_code: str) -> tuple[str, float, float] | None:
    """A prefecture (4 digits) at its seat; a municipality's districts fall back to the province's point."""
    seats = _seats()
    seat = seats.get(f"{city_code[:4]}00") or seats.get(f"{city_code[:2]}0000")
    if seat and seat[0] in ("市辖区", "县") and f"{city_code[:2]}0000" in seats:  # 北京、上海 …: the city's own name
        seat = (seats[f"{city_code[:2]}0000"][0], seat[1], seat[2])
    return seat


def firm_points(session: Session, enterprise_ids: Iterable[int], zone_id: str | None = None) -> list[MapPoint]:
    ids = list(dict.fromkeys(enterprise_ids))
    points: dict[str, MapPoint] = {}
    for i in range(0, len(ids), 500):
        rows = session.execute(select(Enterprise.name, Enterprise.short_name, Enterprise.city_code, Enterprise.zone_id)
                               .where(Enterprise.id.in_(ids[i:i + 500]))).all()
        for name, short, city, zone in rows:
            seat = city_seat(city or "") if city else None
            if seat is None:
                continue
            point = points.setdefault(city[:4], MapPoint(city[:4], *seat))
            point.firms.append(short or name)
            point.local += int(bool(zone_id) and zone == zone_id)
    return sorted(points.values(), key=lambda p: (-len(p.firms), p.city_code))
