"""Benchmark: top 50 targets for one node among 1,000,000 candidates (issue 6), and the backtest on real data.

    .venv/bin/python bench/targets_bench.py [--candidates 1000000] [--calls 50] [--db /tmp/targets_bench.db]
                                             [--marklines ../shared/data/supply_chain/marklines_oem_supplier_by_component.csv]

Builds a SQLite file with bulk inserts: N generated enterprises (程序生成, not real) all placed on
thermal-management, with capital, revenue, designations, foreign flags, risk flags and locations drawn at
random; 300 OEMs, 5 of them chain leaders in the zone, buying from the candidates. Times rank_targets():
the first call (builds the per-node arrays), then repeated calls with changing weights (the case a user
dragging sliders produces), a call after a data change (rebuild), and a call after a new pipeline project
(no rebuild). Then runs the link-prediction backtest on the MarkLines OEM–supplier file.
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

from chainatlas.services.targets import backtest as bt
from chainatlas.services import targets
from chainatlas.store import db

from _common import fresh_zone_db
from chainatlas.store.models import Designation, Project

NODE = "thermal-management"
MARKLINES = Path(__file__).resolve().parents[2] / "shared" / "data" / "supply_chain" / "marklines_oem_supplier_by_component.csv"


def build(path: Path, n: int, seed: int = 11) -> None:
    url = fresh_zone_db(path)
    rng = np.random.default_rng(seed)
    now = datetime.now(timezone.utc).isoformat()
    provinces = ["42", "43", "36", "34", "41", "50", "61", "44", "32", "33", "31", "11", "37", "51", "65"]
    prov = rng.choice(provinces, size=n)
    city = np.char.add(prov.astype(str), np.char.zfill(rng.integers(1, 15, n).astype(str), 2))
    capital = np.where(rng.random(n) < 0.8, rng.lognormal(17, 1.6, n).astype(np.int64), -1)
    revenue = np.where(rng.random(n) < 0.4, rng.lognormal(18, 1.5, n).astype(np.int64), -1)
    employees = np.where(rng.random(n) < 0.5, rng.lognormal(4.5, 1.2, n).astype(np.int64), -1)
    in_zone = rng.random(n) < 0.003
    foreign = rng.random(n) < 0.08
    risky = rng.random(n) < 0.01
    listed = rng.random(n) < 0.004
    n_oem = 300
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    cols = ("id, name, name_norm, name_en, short_name, address, province_code, city_code, district_code, street_code, "
            "zone_id, registered_capital_yuan, revenue_yuan, employees, capital_currency, industry_code, "
            "business_scope, ownership, foreign_invested, listing_code, status, risk_flags, is_leader, parent_group, "
            "website, source, created_at, updated_at")
    oems = ((i + 1, f"整车厂{i}", f"整车厂{i}", "", f"整车{i}", "", "42" if i < 5 else "31", "4201" if i < 5 else "3101",
             "", "", "wuhan-edz" if i < 5 else None, 10**10, None, None, "CNY", "3612", "", "", 0, "", "存续", "[]",
             1 if i < 5 else 0, f"集团{i % 40}", "", "bench", now, now) for i in range(n_oem))
    con.executemany(f"INSERT INTO enterprises ({cols}) VALUES ({','.join('?' * 28)})", oems)
    firms = (
        (n_oem + i + 1, f"候选企业{i}", f"候选企业{i}", "", "", "", prov[i], city[i], "", "",
         "wuhan-edz" if in_zone[i] else None, None if capital[i] < 0 else int(capital[i]),
         None if revenue[i] < 0 else int(revenue[i]), None if employees[i] < 0 else int(employees[i]), "CNY", "3670",
         "", "", int(foreign[i]), "600000.SH" if listed[i] else "", "存续", '["经营异常"]' if risky[i] else "[]", 0,
         f"候选集团{i % 5000}" if i % 7 == 0 else "", "", "bench", now, now)
        for i in range(n)
    )
    con.executemany(f"INSERT INTO enterprises ({cols}) VALUES ({','.join('?' * 28)})", firms)
    conf = np.clip(rng.normal(0.75, 0.12, n), 0.3, 0.99)
    con.executemany(
        "INSERT INTO placements (enterprise_id, chain_id, node_id, method, rejected, score, confidence, evidence, "
        "node_fingerprint, created_by, note, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        ((n_oem + i + 1, "nev-icv", NODE, "rule", 0, 1.5, float(conf[i]), "[]", "", "system", "", now) for i in range(n)),
    )
    designated = np.flatnonzero(rng.random(n) < 0.06)
    names = rng.choice(["高新技术企业", "专精特新", "专精特新小巨人", "瞪羚企业"], size=designated.size, p=[0.6, 0.25, 0.1, 0.05])
    con.executemany(
        "INSERT INTO designations (enterprise_id, name, level, year) VALUES (?,?,?,?)",
        ((n_oem + int(i) + 1, str(nm), "国家级", 2022) for i, nm in zip(designated.tolist(), names.tolist())),
    )
    # 300 OEMs each buy from ~200 suppliers drawn from a popular core and a long tail (60,000 relations)
    pop = rng.pareto(1.1, n) + 1
    pop /= pop.sum()
    rel = set()
    for o in range(n_oem):
        for sup in rng.choice(n, size=200, replace=False, p=pop).tolist():
            rel.add((n_oem + sup + 1, o + 1))
    con.executemany(
        "INSERT INTO relations (supplier_id, customer_id, product, node_id, year, source) VALUES (?,?,?,?,?,?)",
        ((s_, c, "", NODE, int(rng.integers(2019, 2025)), "bench") for s_, c in sorted(rel)),
    )
    con.commit()
    con.close()


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--db", type=Path, default=Path("/tmp/targets_bench.db"))
    ap.add_argument("--reuse", action="store_true", help="reuse an existing bench database")
    ap.add_argument("--marklines", type=Path, default=MARKLINES)
    args = ap.parse_args()

    if not (args.reuse and args.db.exists()):
        t = time.perf_counter()
        build(args.db, args.candidates)
        print(f"built {args.candidates:,} candidates in {time.perf_counter() - t:.1f} s → {args.db}")
    url = f"sqlite:///{args.db}"
    factory = db.session_factory(url)
    rng = np.random.default_rng(3)

    def call(weights: dict | None = None) -> tuple[float, list]:
        with factory() as s:
            t = time.perf_counter()
            rows = targets.rank_targets(s, "wuhan-edz", NODE, limit=50, weights=weights, chain_id="nev-icv")
            return (time.perf_counter() - t) * 1000, rows

    first, rows = call()
    print(f"first call (builds per-node arrays and leader links): {first:,.0f} ms; {len(rows)} rows; "
          f"top: {rows[0].name} {rows[0].score:.1f} — {rows[0].reason_zh}")
    warm = []
    for _ in range(args.calls):
        w = {k: float(v) for k, v in zip(targets.COMPONENTS, rng.random(len(targets.COMPONENTS)))}
        ms, _ = call(w)
        warm.append(ms)
    print(f"warm calls with random weights (n={len(warm)}): p50 {pct(warm, 50):.1f} ms, p95 {pct(warm, 95):.1f} ms, "
          f"max {max(warm):.1f} ms")
    with factory() as s:
        code = f"2099{int(time.time()) % 10**7:07d}"  # unique per run, so --reuse works
        s.add(Project(code=code, name="基准项目", zone_id="wuhan-edz", investor_id=int(rows[0].enterprise_id),
                      stage="接洽"))
        s.commit()
    ms, after_project = call()
    print(f"after a new pipeline project (no rebuild; the investor drops out: "
          f"{rows[0].enterprise_id not in {r.enterprise_id for r in after_project}}): {ms:.1f} ms")
    with factory() as s:
        s.add(Designation(enterprise_id=int(rows[-1].enterprise_id), name="独角兽", level="", year=2024))
        s.commit()
    ms, _ = call()
    print(f"after a data change (designation added → arrays rebuilt): {ms:,.0f} ms")
    again = [call()[0] for _ in range(10)]
    print(f"warm again (n=10): p95 {pct(again, 95):.1f} ms")
    print(f"load average: {os.getloadavg()}")

    if args.marklines.exists():
        groups = args.marklines.parent / "marklines_maker_group.csv"
        data = bt.read_marklines(args.marklines, groups if groups.exists() else None)
        print()
        for split in ("random:0.2", "year:2021"):
            t = time.perf_counter()
            report = bt.run_backtest(data, bt.Split.parse(split, seed=7))
            print(report.table_zh())
            print(f"({time.perf_counter() - t:.2f} s)\n")
        lifts, aucs = [], []
        for seed in range(1, 11):
            r = bt.run_backtest(data, bt.Split.parse("random:0.2", seed=seed))
            lifts.append(r.lift(20))
            aucs.append(r.model.auc)
        print(f"random:0.2 over seeds 1–10: hit@20 lift mean {statistics.mean(lifts):.2f} "
              f"(min {min(lifts):.2f}, max {max(lifts):.2f}); AUC mean {statistics.mean(aucs):.3f}")
        print(json.dumps({"lift20_by_seed": [round(x, 2) for x in lifts]}))
    else:
        print(f"MarkLines file not found at {args.marklines}: backtest skipped")


if __name__ == "__main__":
    main()
