"""The national reference set: real firms of the chain from public facts, the outside universe for targets.

A new installation and the demo load it, so a target list names real firms with what their public records say
(name, place, industry, main products and their revenue shares, registered capital, employees) and nothing else.
The file and how it is rebuilt are described in data/reference/SOURCES.md (scripts/build_reference_firms.py).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.ingest.names import exchange_warning, name_key
from chainatlas.services.placement.placements import classify_enterprises
from chainatlas.store.models import Enterprise, EnterpriseProduct

REFERENCE_SOURCE = "public:reference"
COLUMNS = ("listing_code", "name", "short_name", "province_code", "city_code", "industry", "registered_capital_wan",
           "employees", "products")


def reference_path(chain_id: str) -> Path:
    return Path(str(resources.files("chainatlas") / "data" / "reference" / f"listed-{chain_id}.csv"))


@dataclass(frozen=True)
class ReferenceFirm:
    listing_code: str
    name: str
    short_name: str
    province_code: str
    city_code: str
    industry: str
    registered_capital_yuan: int | None
    employees: int | None
    products: tuple[tuple[str, float | None], ...]


def _products(text: str) -> tuple[tuple[str, float | None], ...]:
    out = []
    for item in filter(None, text.split("；")):
        product, _, share = item.rpartition(":")
        out.append((product, float(share) if share else None))
    return tuple(out)


def firm_from_row(row: dict[str, str]) -> ReferenceFirm:
    """One row of the reference file (COLUMNS) as a firm."""
    return ReferenceFirm(
        listing_code=row["listing_code"], name=row["name"], short_name=row["short_name"],
        province_code=row["province_code"], city_code=row["city_code"], industry=row["industry"],
        registered_capital_yuan=round(float(row["registered_capital_wan"]) * 10_000)
        if row["registered_capital_wan"] else None,
        employees=int(float(row["employees"])) if row["employees"] else None,
        products=_products(row["products"]),
    )


def read_reference(chain_id: str) -> list[ReferenceFirm]:
    path = reference_path(chain_id)
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return [firm_from_row(row) for row in csv.DictReader(fh)]


def add_firms(session: Session, firms: list[ReferenceFirm], chain_id: str,
              source: str = REFERENCE_SOURCE) -> list[Enterprise]:
    """Insert the firms with their public facts and place them on the chain (no check for ones already held)."""
    added = []
    for f in firms:
        ent = Enterprise(
            name=f.name, name_norm=name_key(f.name).norm[:200], short_name=f.short_name, listing_code=f.listing_code, province_code=f.province_code,
            city_code=f.city_code, registered_capital=f.registered_capital_yuan,
            registered_capital_yuan=f.registered_capital_yuan, employees=f.employees,
            # Tushare's industry is a name, not a GB/T 4754 code; the classifier reads a name there as text.
            industry_code=f.industry[:8], source=source, status="存续",
            risk_flags=[w] if (w := exchange_warning(f.short_name, f.name)) else [],
        )
        ent.products = [EnterpriseProduct(product=p, revenue_share=s) for p, s in f.products]
        added.append(ent)
    session.add_all(added)
    session.flush()
    if added:
        classify_enterprises(session, chain_id, [e.id for e in added])
    return added


def load_reference(session: Session, chain_id: str) -> int:
    """Add the reference firms the database does not hold yet (same stock code or name), placed on the chain;
    returns how many were added. Firms already there, a user's own records included, are left as they are."""
    firms = read_reference(chain_id)
    codes = set(session.scalars(select(Enterprise.listing_code).where(Enterprise.listing_code != "")))
    names = set(session.scalars(select(Enterprise.name).where(Enterprise.name.in_([f.name for f in firms]))))
    new = [f for f in firms if f.listing_code not in codes and f.name not in names]
    return len(add_firms(session, new, chain_id))
