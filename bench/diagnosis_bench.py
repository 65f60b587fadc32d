"""Benchmark: full chain diagnosis for one zone over N synthetic enterprises in R regions (issue 5).

    .venv/bin/python bench/diagnosis_bench.py [--enterprises 1000000] [--regions 300] [--db /tmp/diag_bench.db]

Builds a SQLite file with bulk inserts (enterprises, placements on nev-icv, leaders' supplier relations),
then times only diagnose(), leader_view() and what_if(). The data is generated (程序生成), not real: each region
gets its own skewed mix of nodes so that RCA, proximity and density have structure to find.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from chainatlas.domain.chain import load_chain
from chainatlas.services.analysis import HypotheticalFirm, diagnose, leader_view, what_if
from chainatlas.store import db

from _common import fresh_zone_db

ZONE_CITY = "4201"


def build(path: Path, n_firms: int, n_regions: int, seed: int = 5) -> dict[str, int]:
    url = fresh_zone_db(path)

    rng = np.random.default_rng(seed)
    chain = load_chain("nev-icv")
    # Firms are placed on leaf nodes and on segments without children, as the classifier reports them.
    leaves = [n for n in chain.nodes if not chain.children(n)]
    regions = [ZONE_CITY] + [f"{11 + i // 20:02d}{1 + i % 20:02d}" for i in range(n_regions - 1)]
    sizes = rng.pareto(1.2, n_regions) + 1
    city_of = rng.choice(n_regions, size=n_firms, p=sizes / sizes.sum())
    zone_members = np.flatnonzero(city_of == 0)[: max(3000, n_firms // 300)]
    in_zone = np.zeros(n_firms, dtype=bool)
    in_zone[zone_members] = True
    capital = np.where(rng.random(n_firms) < 0.7, (rng.lognormal(16, 1.5, n_firms)).astype(np.int64), -1)
    now = datetime.now(timezone.utc).isoformat()

    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    cols = ("id, name, name_norm, name_en, short_name, address, province_code, city_code, district_code, street_code, "
            "zone_id, registered_capital_yuan, capital_currency, industry_code, business_scope, ownership, "
            "foreign_invested, listing_code, status, risk_flags, is_leader, parent_group, website, source, "
            "created_at, updated_at")
    rows = (
        (i + 1, f"企业{i}", f"企业{i}", "", "", "", regions[c][:2], regions[c], "", "",
         "wuhan-edz" if in_zone[i] else None, None if capital[i] < 0 else int(capital[i]), "CNY", "", "", "",
         0, "", "存续", "[]", 0, "", "", "bench", now, now)
        for i, c in enumerate(city_of.tolist())
    )
    con.executemany(f"INSERT INTO enterprises ({cols}) VALUES ({','.join('?' * 26)})", rows)

    # 60% of firms on the chain; each region draws from its own Dirichlet mix of nodes; 10% also on a second node.
    mix = rng.dirichlet(np.full(len(leaves), 0.3), size=n_regions)
    placed = np.flatnonzero(rng.random(n_firms) < 0.6)
    cum = mix.cumsum(axis=1)
    u = rng.random(placed.size)
    node_idx = (u[:, None] > cum[city_of[placed]]).sum(axis=1).clip(0, len(leaves) - 1)
    second = placed[rng.random(placed.size) < 0.1]
    pl_rows = [(int(f) + 1, "nev-icv", leaves[k], "rule", 0, 1.2, 0.8, "[]", "", "system", "", now)
               for f, k in zip(placed.tolist(), node_idx.tolist())]
    pl_rows += [(int(f) + 1, "nev-icv", leaves[int(k)], "rule", 0, 1.0, 0.6, "[]", "", "system", "", now)
                for f, k in zip(second.tolist(), rng.integers(0, len(leaves), second.size).tolist())]
    con.executemany(
        "INSERT INTO placements (enterprise_id, chain_id, node_id, method, rejected, score, confidence, evidence, "
        "node_fingerprint, created_by, note, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", pl_rows)

    # Five leaders in the zone, each with 300 suppliers (a third local), half with a known value.
    leaders = zone_members[:5] + 1
    con.executemany("UPDATE enterprises SET is_leader = 1 WHERE id = ?", [(int(x),) for x in leaders])
    rel_rows = []
    for leader in leaders.tolist():
        local = rng.choice(zone_members[5:], 100, replace=False) + 1
        away = rng.choice(n_firms, 200, replace=False) + 1
        for j, sup in enumerate(np.concatenate([local, away]).tolist()):
            value = int(rng.integers(1, 500)) * 100_000 if j % 2 else None
            rel_rows.append((int(sup), int(leader), f"零件{j}", value, "bench"))
    con.executemany("INSERT OR IGNORE INTO relations (supplier_id, customer_id, product, value_yuan, source) "
                    "VALUES (?,?,?,?,?)", rel_rows)
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return {"enterprises": n_firms, "regions": n_regions, "placements": len(pl_rows), "zone_firms": int(in_zone.sum()),
            "relations": len(rel_rows), "leader_id": int(leaders[0])}


CPU: dict[str, list[float]] = {}


def timed(fn, repeat: int, key: str) -> list[float]:  # type: ignore[no-untyped-def]
    """Wall-clock seconds per run; CPU seconds of this process go to CPU[key] (others share the 2 cores)."""
    out = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - t)
        CPU.setdefault(key, []).append(time.process_time() - c)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--enterprises", type=int, default=1_000_000)
    ap.add_argument("--regions", type=int, default=300)
    ap.add_argument("--db", type=Path, default=Path("/tmp/chainatlas_diag_bench.db"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reuse", action="store_true", help="reuse an existing bench database")
    args = ap.parse_args()

    t = time.perf_counter()
    if args.reuse and args.db.exists():
        info = json.loads(args.db.with_suffix(".json").read_text())
    else:
        info = build(args.db, args.enterprises, args.regions)
        args.db.with_suffix(".json").write_text(json.dumps(info))
    build_s = time.perf_counter() - t
    url = f"sqlite:///{args.db}"
    factory = db.session_factory(url)

    load_before = os.getloadavg()
    with factory() as s:
        result = {}
        load_chain("nev-icv")  # parsing the chain file is once per process, not part of a diagnosis
        result["diagnose"] = timed(lambda: result.setdefault("d", diagnose(s, "wuhan-edz", chain_id="nev-icv")), 1, "diagnose")
        result["diagnose"] += timed(lambda: diagnose(s, "wuhan-edz", chain_id="nev-icv"), args.repeat - 1, "diagnose")
        result["leader_view"] = timed(
            lambda: leader_view(s, "wuhan-edz", str(info["leader_id"]), chain_id="nev-icv"), args.repeat, "leader_view")
        result["what_if"] = timed(
            lambda: what_if(s, "wuhan-edz", [HypotheticalFirm(("lidar",), count=5)], chain_id="nev-icv"), 1, "what_if")
    load_after = os.getloadavg()
    d = result["d"]
    print(f"data: {info}; build {build_s:.1f} s (not timed below)")
    print(f"zone firms {d.zone_firm_count}, chain firms {d.zone_chain_firm_count}, regions in matrix {d.region_count}, "
          f"gaps {len(d.gaps)}")
    for key in ("diagnose", "leader_view", "what_if"):
        runs = result[key]
        print(f"{key:12s} wall {', '.join(f'{r:.2f}' for r in runs)} s (median {statistics.median(runs):.2f}); "
              f"CPU {', '.join(f'{r:.2f}' for r in CPU[key])} s")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1-min; 2 cores shared)")


if __name__ == "__main__":
    main()
