"""Verdicts, opportunities and targets for real cities from the listed-company data (issue 21's check).

Every A-share company of ../shared/data (Tushare 2024 facts, ChainKnowledgeGraph products with shares) is loaded
into a fresh SQLite database and placed on nev-icv; each city named below becomes a zone holding its own listed
firms. Prints, per city, the verdicts of the chain's main segments, the top opportunities and the first targets of
the top gaps with their reasons — and looks for the bad targets issue 21 named (a mattress maker on drive motors,
a list from a 0.000 product line).

    nice .venv/bin/python bench/real_cities.py [--shared ../shared/data] [--city 3509 --city 4201]
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path

from sqlalchemy import update

from chainatlas.services.analysis.diagnosis import diagnose
from chainatlas.services.ingest.reference import add_firms, firm_from_row
from chainatlas.services.targets.ranking import rank_targets
from chainatlas.store import db
from chainatlas.store.models import Enterprise, Zone

ROOT = Path(__file__).resolve().parents[1]
CITIES = {"3509": "宁德市", "4201": "武汉市", "5001": "重庆市", "3605": "新余市"}
SEGMENTS = ("battery-cells-packs", "lithium-resources", "cathode", "drive-motor", "passenger-nev", "commercial-nev",
            "auto-chips", "chassis-parts")


def _builder():  # the reference-file script: one definition of how a Tushare row becomes a firm
    spec = importlib.util.spec_from_file_location("build_reference_firms", ROOT / "scripts" / "build_reference_firms.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(url: str, shared: Path, cities: list[str]) -> int:
    db.migrate(url)
    rows, _ = _builder().listed_rows(shared)
    with db.session_scope(url) as s:
        for code in cities:
            s.add(Zone(id=f"city-{code}", name=f"{CITIES.get(code, code)}（整市，上市公司口径）", city_code=code))
        s.flush()
        added = add_firms(s, [firm_from_row(r) for r in rows.values()], source="public:tushare")
        for code in cities:
            s.execute(update(Enterprise).where(Enterprise.city_code == code).values(zone_id=f"city-{code}"))
    return len(added)


def report(url: str, zone_id: str, top: int = 6) -> None:
    with db.session_scope(url) as s:
        d = diagnose(s, zone_id, chain_id="nev-icv")
        print(f"\n== {d.zone_name}：链上上市企业 {d.zone_chain_firm_count} 家 / 全部 {d.zone_firm_count} 家")
        for node_id in SEGMENTS:
            ns = d.nodes[node_id]
            basis = next((r for r in ns.reasons if r.startswith("依据")), "")
            print(f"  {ns.name_zh}：{ns.verdict}（{ns.firm_count} 家）{basis}")
        print("  机会前几位：")
        for g in d.gaps[:top]:
            print(f"    {g.opportunity:.3f} {g.gap_type} {g.name_zh}")
        for g in d.gaps[:3]:
            rows = rank_targets(s, zone_id, g.node_id, limit=5, chain_id="nev-icv")
            print(f"  【{g.name_zh}】招商目标：")
            for r in rows:
                print(f"    {r.score:5.1f} {r.name}（{r.city_name or '—'}）{r.reason_zh}")


def bad_targets(url: str, zone_id: str) -> None:
    """The lists issue 21 found wrong: who is on drive motors and radar now, and on which evidence."""
    with db.session_scope(url) as s:
        for node in ("drive-motor", "radar"):
            rows = rank_targets(s, zone_id, node, limit=20, chain_id="nev-icv")
            print(f"\n  {node} 前 20 名（{len(rows)} 家）：")
            for r in rows:
                print(f"    {r.score:5.1f} {r.name} — {r.reason_zh.split('；')[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--city", action="append", default=[])
    args = parser.parse_args()
    cities = args.city or ["3509", "4201"]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/real.db"
        started = time.perf_counter()
        n = load(url, args.shared, cities)
        print(f"载入上市公司 {n} 家并挂链：{time.perf_counter() - started:.1f} s")
        for code in cities:
            report(url, f"city-{code}")
        bad_targets(url, f"city-{cities[-1]}")


if __name__ == "__main__":
    main()
