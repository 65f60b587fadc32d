"""Benchmark: the 招商项目台账 at the size of a busy zone's several years (issue 7).

    .venv/bin/python bench/ledger_bench.py [--projects 3000] [--db /tmp/ledger_bench.db]

Enters N generated projects (程序生成, not real) through the pipeline service — each with a stage history of
up to six changes and two contacts, all audited — then times: the KPI report for a year (whole chain and one
node), the board, an Excel export, a re-import of that file (all unchanged), and an import into an empty ledger.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import delete

from chainatlas.domain.stages import LADDER
from chainatlas.services.pipeline import kpi
from chainatlas.services.pipeline import ledger
from chainatlas.services.pipeline import projects as pipeline
from chainatlas.services.catalog import load_zone
from chainatlas.store import db
from chainatlas.store.models import Project

NODES = ["battery-cells", "bms", "drive-motor", "lidar", "thermal-management", "smart-cockpit", "auto-software"]


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    result = fn()
    print(f"{label:<42} {time.perf_counter() - t:8.2f} s")
    return result


def fill(url: str, n: int) -> None:
    rng = random.Random(7)
    with db.session_scope(url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
        for i in range(n):
            start = date(2022, 1, 1) + timedelta(days=rng.randrange(0, 1000))
            p = pipeline.create_project(s, zone_id="wuhan-edz", name=f"程序生成项目{i}", by_user="bench", on=start,
                                        node_ids=[rng.choice(NODES)], investment_yuan=rng.randrange(1, 500) * 10**7,
                                        investor_name=f"程序生成企业{i % 400}", officer=f"责任人{i % 12}", chain_id="nev-icv")
            on = start
            for stage in LADDER[1 : rng.randrange(1, len(LADDER))]:
                on += timedelta(days=rng.randrange(5, 90))
                pipeline.change_stage(s, p.id, stage, on=on, by_user="bench")
            for _ in range(2):
                pipeline.log_activity(s, p.id, on=on + timedelta(days=rng.randrange(0, 30)), by_user="bench",
                                      content="程序生成的走访记录")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--projects", type=int, default=3000)
    ap.add_argument("--db", default="/tmp/ledger_bench.db")
    args = ap.parse_args()
    Path(args.db).unlink(missing_ok=True)
    url = f"sqlite:///{args.db}"
    db.migrate(url)
    timed(f"enter {args.projects} projects (audited)", lambda: fill(url, args.projects))
    xlsx = Path(args.db).with_suffix(".xlsx")
    with db.session_scope(url) as s:
        r = timed("kpi_report 2024 (whole chain)",
                  lambda: kpi.kpi_report(s, "wuhan-edz", 2024, as_of=date(2024, 10, 31), chain_id="nev-icv"))
        print(f"  signed 2024: {r.row('signed_projects').actual}, alerts: {len(r.alerts)}")
        timed("kpi_report 2024 (node battery-cells-packs)",
              lambda: kpi.kpi_report(s, "wuhan-edz", 2024, as_of=date(2024, 10, 31), node_id="battery-cells-packs", chain_id="nev-icv"))
        timed("board by stage", lambda: pipeline.board(s, "wuhan-edz"))
        timed("export ledger to Excel", lambda: ledger.export_ledger(s, xlsx, "wuhan-edz", year=2024,
                                                                       as_of=date(2024, 10, 31), chain_id="nev-icv"))
        print(f"  file size: {xlsx.stat().st_size / 1e6:.1f} MB")
        res = timed("re-import same file (idempotent)", lambda: ledger.import_ledger(s, xlsx, by_user="bench", chain_id="nev-icv"))
        print(f"  inserted {res.inserted}, updated {res.updated}, unchanged {res.unchanged}")
    with db.session_scope(url) as s:
        s.execute(delete(Project))
    with db.session_scope(url) as s:
        res = timed("import into an empty ledger", lambda: ledger.import_ledger(s, xlsx, by_user="bench", chain_id="nev-icv"))
        print(f"  inserted {res.inserted}, stage changes {res.stage_changes_added}, contacts {res.activities_added}")


if __name__ == "__main__":
    main()
