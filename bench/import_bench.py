"""Import and entity-resolution benchmarks (issue 3). Prints figures; run: .venv/bin/python bench/import_bench.py

Phases (each in its own process so peak memory is its own):
  csv1m     generate 1,000,000 enterprise rows (CSV), import into a fresh SQLite file with exact-key resolution
            (with --fuzzy: exact keys, then splink on what they left, as an import does by default)
  xlsx100k  generate 100,000 rows (XLSX), import with full resolution (exact keys + splink)
  link      resolve 100,000 incoming records (70% noisy re-spellings of known firms, 30% new) against the
            ~1,000,000 firms of the csv1m database, with full resolution

Options: --rows N (default 1,000,000), --workdir DIR (default /tmp/chainatlas-bench), --phase NAME, --fuzzy (csv1m
with fuzzy matching on: exact keys + splink, into its own database file, so the link phase's base stays exact-keys).

Each phase prints wall and CPU seconds, the load average before and after, when each stage started and how long it
took, and — with splink — how many pairs the blocking rules kept and how many splink scored (linkage_bounds sets
aside the pairs that cannot reach the review threshold).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import fresh_zone_db


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _PairCounts(logging.Handler):
    """The linkage engine's count of blocked and scored pairs (logged at INFO for each scoring)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.blocked = self.scored = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("blocked pairs"):
            self.blocked += record.args[0]
            self.scored += record.args[1]


def _import(url: str, path: Path, fuzzy: bool) -> dict:
    from chainatlas.services.ingest import import_enterprises
    from chainatlas.store import db

    stages: dict[str, float] = {}
    pairs = _PairCounts()
    engine_log = logging.getLogger("chainatlas.engines.linkage")
    engine_log.addHandler(pairs)
    engine_log.setLevel(logging.INFO)
    load_before = os.getloadavg()
    t0, c0 = time.perf_counter(), time.process_time()

    def progress(stage: str, done: int, total: int) -> None:
        stages.setdefault(stage, round(time.perf_counter() - t0, 1))

    try:
        with db.session_scope(url) as s:
            summary = import_enterprises(s, path, fuzzy=fuzzy, progress=progress)
    finally:
        engine_log.removeHandler(pairs)
    seconds = round(time.perf_counter() - t0, 1)
    starts = list(stages.items())
    # each stage runs until the next one starts; the last one until the commit is done
    step_seconds = {name: round(end - start, 1)
                    for (name, start), end in zip(starts, [t for _, t in starts[1:]] + [seconds])}
    return {
        "seconds": seconds, "cpu_seconds": round(time.process_time() - c0, 1),
        "load_avg": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "stage_starts_s": stages, "stage_seconds": step_seconds, "rows": summary.rows_total,
        "inserted": summary.rows_inserted, "merged_exact": summary.rows_merged, "merged_splink": summary.rows_linked,
        "review": summary.rows_review, "held": summary.rows_held,
        **({"pairs_blocked": pairs.blocked, "pairs_scored": pairs.scored} if fuzzy else {}),
    }


def phase_csv1m(work: Path, rows: int, fuzzy: bool = False) -> dict:
    from chainatlas.services.demo import generate_enterprises

    src = work / f"enterprises_{rows}.csv"
    t = time.perf_counter()
    if not src.exists():
        generate_enterprises(rows, seed=11, out=src)
    gen = round(time.perf_counter() - t, 1)
    url = fresh_zone_db(work / ("bench1m_fuzzy.db" if fuzzy else "bench1m.db"))
    result = _import(url, src, fuzzy=fuzzy)
    return {"phase": "csv1m", "fuzzy": fuzzy, "generate_s": gen, "file_mib": round(src.stat().st_size / 2**20, 1),
            **result, "peak_mib": round(_peak_mib())}


def phase_xlsx100k(work: Path, rows: int) -> dict:
    from chainatlas.services.demo import generate_enterprises

    src = work / f"enterprises_{rows}.xlsx"
    t = time.perf_counter()
    if not src.exists():
        generate_enterprises(rows, seed=12, out=src, fmt="xlsx")
    gen = round(time.perf_counter() - t, 1)
    url = fresh_zone_db(work / "bench_xlsx.db")
    result = _import(url, src, fuzzy=True)
    return {"phase": "xlsx100k", "generate_s": gen, "file_mib": round(src.stat().st_size / 2**20, 1), **result,
            "peak_mib": round(_peak_mib())}


_SIMILAR = {"创": "刨", "泰": "秦", "达": "汰", "通": "涌", "远": "沅", "盛": "晟", "天": "夭", "博": "搏", "新": "欣",
            "源": "原", "德": "得", "安": "案", "诚": "成", "智": "志", "联": "连", "航": "杭", "星": "兴", "明": "铭"}


def _incoming(work: Path, big: Path, n: int) -> Path:
    """n records: 70% known firms re-spelled without their USCC (typo, place moved into brackets, 有限责任公司→
    有限公司), 30% new firms — the shape of a list from a trade fair or a data vendor."""
    from chainatlas.services.demo import generate_enterprises

    rng = random.Random(21)
    with open(big, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        known = [row for row in reader]
    picked = rng.sample(known, int(n * 0.7))
    del known
    out_rows = []
    for row in picked:
        row = list(row)
        row[1] = ""  # no USCC: resolution must use name, address, date
        name = row[0]
        spots = [i for i, c in enumerate(name) if c in _SIMILAR]
        r = rng.random()
        if r < 0.4 and spots:
            i = rng.choice(spots)
            name = name[:i] + _SIMILAR[name[i]] + name[i + 1:]
        elif r < 0.7:
            name = name.replace("有限责任公司", "有限公司") if "有限责任公司" in name else name.replace("有限公司", "有限责任公司")
        row[0] = name
        out_rows.append(row)
    fresh = work / "incoming_new.csv"
    generate_enterprises(n - len(out_rows), seed=99, out=fresh)
    with open(fresh, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        out_rows.extend(reader)
    rng.shuffle(out_rows)
    path = work / f"incoming_{n}.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(out_rows)
    return path


def phase_link(work: Path, rows: int) -> dict:
    big = work / f"enterprises_{rows}.csv"
    base = work / "bench1m.db"
    if not base.exists():
        raise SystemExit("run the csv1m phase first")
    db_path = work / "bench_link.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    shutil.copy(base, db_path)
    for suffix in ("-wal", "-shm"):
        if Path(str(base) + suffix).exists():
            shutil.copy(Path(str(base) + suffix), Path(str(db_path) + suffix))
    incoming = _incoming(work, big, rows // 10)
    from sqlalchemy import func, select

    from chainatlas.store import db
    from chainatlas.store.models import Enterprise

    url = f"sqlite:///{db_path}"
    db.migrate(url)  # a base made before the latest migration is brought up to date (not timed)
    with db.session_scope(url) as s:
        existing = s.scalar(select(func.count()).select_from(Enterprise))
    result = _import(url, incoming, fuzzy=True)
    return {"phase": "link", "existing": existing, "incoming": rows // 10, **result, "peak_mib": round(_peak_mib())}


PHASES = {"csv1m": phase_csv1m, "xlsx100k": phase_xlsx100k, "link": phase_link}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/chainatlas-bench"))
    ap.add_argument("--phase", choices=sorted(PHASES))
    ap.add_argument("--fuzzy", action="store_true", help="csv1m with fuzzy matching on (exact keys + splink)")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.fuzzy and args.phase != "csv1m":
        ap.error("--fuzzy is for --phase csv1m (the other phases always match fuzzily)")
    if args.phase:
        rows = args.rows if args.phase != "xlsx100k" else max(args.rows // 10, 1)
        extra = {"fuzzy": True} if args.fuzzy else {}
        print(json.dumps(PHASES[args.phase](args.workdir, rows, **extra), ensure_ascii=False), flush=True)
        return
    print(f"load average before: {os.getloadavg()}", flush=True)
    for name in ("csv1m", "xlsx100k", "link"):
        subprocess.run([sys.executable, __file__, "--phase", name, "--rows", str(args.rows),
                        "--workdir", str(args.workdir)], check=True)
        print(f"load average after {name}: {tuple(round(x, 2) for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
