"""Rebuild the national reference set of real firms (src/chainatlas/data/reference/) from ../shared/data.

Public facts only, as the source files state them: the 2024 Tushare list of A-share companies (short name, province,
city, Tushare industry, registered capital in 万元, employees), the ChainKnowledgeGraph full names and main products
with their revenue shares. Kept: the firms our classifier places on the chain on something more than placeholder
product lines (0.001 marks a line whose share the source did not measure). Nothing is invented or estimated.

    .venv/bin/python scripts/build_reference_firms.py [--shared ../shared/data] [--chain nev-icv]
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

from chainatlas.domain.chain import load_chain
from chainatlas.engines.classify import Classifier, Record
from chainatlas.ingest.address import divisions
from chainatlas.services.ingest.reference import COLUMNS, reference_path
from chainatlas.services.targets.ranking import rests_on_placeholders
from chainatlas.services.targets.weights import target_settings


def _products(shared: Path) -> dict[str, list[tuple[str, float | None]]]:
    out: dict[str, list[tuple[str, float | None]]] = defaultdict(list)
    with open(shared / "industry_chain" / "ckg_company_product.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            weight = row["weight"].strip()
            out[row["company_code"]].append((row["product"].strip(), float(weight) if weight else None))
    return out


def _full_names(shared: Path) -> dict[str, str]:
    with open(shared / "industry_chain" / "ckg_company.csv", encoding="utf-8") as fh:
        # codes come as "300750.SZ" or as a bare "301079": the six digits are the key
        return {row["code"].split(".")[0]: row["fullname"].strip() for row in csv.DictReader(fh) if row["fullname"].strip()}


def listed_rows(shared: Path) -> tuple[dict[str, dict[str, str]], list[Record]]:
    """Every listed company of the Tushare file as a reference-file row (COLUMNS), and as a classifier record."""
    products, full_names = _products(shared), _full_names(shared)
    rows: dict[str, dict[str, str]] = {}
    records: list[Record] = []
    with open(shared / "listed_companies" / "tushare_a_share_basic_2024.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = row["ts_code"]
            place = divisions().resolve(f"{row['province']}{row['city']}")
            lines = products.get(code, [])
            rows[code] = {
                "listing_code": code, "name": full_names.get(row["symbol"], row["name"]), "short_name": row["name"],
                "province_code": place.province_code, "city_code": place.city_code, "industry": row["industry"],
                "registered_capital_wan": row["reg_capital"], "employees": row["employees"].removesuffix(".0"),
                "products": "；".join(f"{p}:{'' if s is None else s}" for p, s in lines),
            }
            records.append(Record(id=code, name=rows[code]["name"], products=lines, industry=row["industry"]))
    return rows, records


def build(shared: Path, chain_id: str) -> list[dict[str, str]]:
    """The rows of the firms placed on the chain on more than placeholder-share lines."""
    rows, records = listed_rows(shared)
    classifier = Classifier(load_chain(chain_id))
    placeholder = target_settings().placeholder_share
    kept: set[str] = set()
    for p in classifier.classify_batch(records):
        if not rests_on_placeholders(p.evidence, placeholder):
            kept.add(p.id)
    return [rows[code] for code in sorted(kept)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--chain", default="nev-icv")
    args = parser.parse_args()
    firms = build(args.shared, args.chain)
    out = reference_path(args.chain)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(firms)
    print(f"{len(firms)} firms → {out}")


if __name__ == "__main__":
    main()
