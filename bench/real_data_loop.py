"""Issue 19's loop on the real listed-company data, from an empty database, timed step by step.

Imports the Tushare 2024 list (5,363 A-share firms, reg_capital in 万元) and a long product file built from
ChainKnowledgeGraph (one row per firm × main product × revenue share, ~53,000 rows), registers the second chain
(光伏与新型储能), adds two city zones by their GB/T 2260 codes, and prints: each step's time, firms placed per
chain, the per-node firm counts of both cities on both chains, their 归链核实 lists (firms to check by hand), and whether `export placements` equals `classify`
on the same firms.

    nice .venv/bin/python bench/real_data_loop.py [--shared ../shared/data] [--city 440300 --city 310000]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import tempfile
import time
from importlib import resources
from pathlib import Path

from chainatlas.domain.chain import load_chain
from chainatlas.services.analysis.diagnosis import diagnose
from chainatlas.services.placement import add_chain
from chainatlas.services.catalog.regions import region_name
from chainatlas.services.catalog.zones import save_zone, zone_from_divisions
from chainatlas.services.ingest.imports import import_enterprises, import_products
from chainatlas.services.placement import classify_file, placement_check
from chainatlas.services.placement.export import placement_rows, write_placements_csv
from chainatlas.store import db

SEPARATORS = re.compile(r"[;；、，,\n|:：]")


def build_files(shared: Path, work: Path) -> tuple[Path, Path, int]:
    """(long product file, the same firms as one wide row each for classify, product rows)."""
    lines: dict[str, dict[str, str]] = {}
    with open(shared / "industry_chain" / "ckg_company_product.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            weight = float(r["weight"])
            lines.setdefault(r["company_code"], {})[SEPARATORS.sub(" ", r["product"]).strip()] = (
                f"{weight:.10f}".rstrip("0").rstrip(".") or "0")
    long_file, wide_file = work / "products.csv", work / "wide.csv"
    rows = 0
    with open(long_file, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["股票代码", "产品", "收入占比"])
        for code, products in lines.items():
            writer.writerows([code, p, s] for p, s in products.items())
            rows += len(products)
    with open(shared / "listed_companies" / "tushare_a_share_basic_2024.csv", encoding="utf-8") as fh, \
            open(wide_file, "w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["股票代码", "企业名称", "所属行业", "主营产品"])
        for r in csv.DictReader(fh):
            products = lines.get(r["ts_code"], {})
            writer.writerow([r["ts_code"], r["name"], r["industry"], "、".join(f"{p}:{s}" for p, s in products.items())])
    return long_file, wide_file, rows


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn()
    print(f"{label}: {time.perf_counter() - started:.2f} s")
    return result


def pairs(path: Path) -> set[tuple[str, str]]:
    with open(path, encoding="utf-8-sig") as fh:
        return {(r["id"], r["node_id"]) for r in csv.DictReader(fh)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--city", action="append", default=[])
    args = parser.parse_args()
    cities = args.city or ["440300", "310000"]
    work = Path(tempfile.mkdtemp(prefix="chainatlas-loop-"))
    url = f"sqlite:///{work / 'loop.db'}"
    db.migrate(url)
    long_file, wide_file, product_rows = build_files(args.shared, work)
    tushare = args.shared / "listed_companies" / "tushare_a_share_basic_2024.csv"
    with db.session_scope(url) as s:
        summary = timed("import enterprises (Tushare 2024, 5,363 rows, --unit 万元, places them)",
                        lambda: import_enterprises(s, tushare, units=["万元"]))
    print(f"  inserted {summary.rows_inserted:,}, held {summary.rows_held}, placed {summary.placed}")
    with db.session_scope(url) as s:
        summary = timed(f"import products ({product_rows:,} rows, re-places the firms)",
                        lambda: import_products(s, long_file))
    print(f"  lines added {summary.rows_inserted:,}, held {summary.rows_held:,}, firms placed {summary.placed}")
    pv = Path(str(resources.files("chainatlas") / "chains" / "pv-storage.yaml"))
    os.environ.setdefault("CHAINATLAS_HOME", str(work / "home"))  # the registered chain's copy stays in the work dir
    with db.session_scope(url) as s:
        added = timed("chain add pv-storage (places every firm)", lambda: add_chain(s, pv))
    print(f"  pv-storage: {added.placed:,} firms placed")
    zone_ids = {}
    for code in cities:
        with db.session_scope(url) as s:
            zone_ids[code] = timed(f"zone add {region_name(code)} ({code}) (recomputes every firm's zone)",
                                   lambda: save_zone(s, zone_from_divisions(region_name(code), [code]))).id

    for chain_id in ("nev-icv", "pv-storage"):
        chain = load_chain(chain_id)
        with db.session_scope(url) as s:
            rows = placement_rows(s, chain)
            write_placements_csv(rows, work / f"db-{chain_id}.csv")
            print(f"\n{chain.name_zh} ({chain_id}): {len({r.id for r in rows}):,} of 5,363 listed firms placed, "
                  f"{len(rows):,} placements")
            for code in cities:
                d = diagnose(s, zone_ids[code], chain_id)
                counts = {ns.name_zh: ns.firm_count for ns in d.nodes.values() if ns.firm_count}
                print(f"  {region_name(code)}: {d.zone_firm_count} firms in the zone, {d.zone_chain_firm_count} on "
                      f"the chain; per node: " + "、".join(f"{k} {v}" for k, v in
                                                          sorted(counts.items(), key=lambda kv: -kv[1])))
                check = timed(f"  归链核实 (placement check) {region_name(code)}",
                              lambda: placement_check(s, zone_ids[code], chain))
                print(f"    of {check.zone_firms} zone firms: {check.placed} placed ({check.inferred_total} inferred from "
                      f"a generic line), {check.decided_off} decided off the chain, {check.unplaced_total} unplaced "
                      f"({check.unplaced_with_hints} of them with chain words in their text)")
        out = work / f"classify-{chain_id}.csv"
        timed(f"  classify the same firms on {chain_id} (1 worker)", lambda: classify_file(wide_file, chain, out, 1))
        same = pairs(out) == pairs(work / f"db-{chain_id}.csv")
        print(f"  export placements == classify (id, node) pair for pair: {same}")


if __name__ == "__main__":
    main()
