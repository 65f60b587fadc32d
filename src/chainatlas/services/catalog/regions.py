"""The GB/T 2260 division table shipped with the package (data/divisions/gbt2260.csv, source beside it): names for
every province, city, county and street code, and the database's `regions` table filled from it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.store.models import Region

LEVEL_OF_LENGTH = {2: "province", 4: "city", 6: "county", 9: "street"}
LEVEL_ZH = {"province": "省", "city": "市", "county": "区县", "street": "街道乡镇"}


@dataclass(frozen=True)
class Division:
    code: str  # 2, 4, 6 or 9 digits
    name: str
    level: str  # province / city / county / street
    parent_code: str


class DivisionError(ValueError):
    """A division code that is not in GB/T 2260; the message says which and what to do."""


@lru_cache(maxsize=1)
def division_table() -> dict[str, Division]:
    path = resources.files("chainatlas") / "data" / "divisions" / "gbt2260.csv"
    with path.open(encoding="utf-8") as fh:
        return {r["code"]: Division(r["code"], r["name"], r["level"], r["parent_code"]) for r in csv.DictReader(fh)}


def short_code(code: str) -> str:
    """A division code as the table keys it: 440000 → 44, 440300 → 4403, 440305 → 440305, 12 digits → 9."""
    text = code.strip()
    if len(text) == 12 and text.isdigit():
        text = text[:9]
    if len(text) == 6 and text.isdigit():
        if text.endswith("0000"):
            return text[:2]
        if text.endswith("00"):
            return text[:4]
    return text


def division(code: str) -> Division:
    found = division_table().get(short_code(code))
    if found is None:
        raise DivisionError(
            f"“{code}”不是有效的行政区划代码：请填写 GB/T 2260 代码，如 440000（省）、440300（市）、440305（区县）"
            "或 9 位街道乡镇代码 440305001；可在国家统计局“统计用区划代码”中查询")
    return found


def region_name(code: str) -> str:
    found = division_table().get(short_code(code)) if code else None
    return found.name if found else ""


def place_label(*codes: str) -> str:
    """Where a firm is, as officers write it: 广东省 深圳市 南山区 from its province, city and county codes, each
    name once (a municipality's province and city are both 上海市); "" when no code is known."""
    return " ".join(dict.fromkeys(name for name in (region_name(c) for c in codes if c) if name))


def ensure_regions(session: Session) -> int:
    """Put every province, city and county of the table into `regions` (streets where a zone names them);
    returns how many rows were added. Runs in a few milliseconds once they are there."""
    from chainatlas.store.bulk import insert_rows

    have = set(session.scalars(select(Region.code).where(Region.level != "street")))
    missing = [d for d in division_table().values() if d.level != "street" and d.code not in have]
    insert_rows(session, Region.__table__, [
        {"code": d.code, "name": d.name, "level": d.level, "parent_code": d.parent_code or None} for d in missing])
    return len(missing)
