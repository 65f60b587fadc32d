"""Spark local mode against the single-machine path: `classify` and `matrix` on N generated records.

    nice python bench/spark_bench.py --records 1000000 [--records 10000000] [--link-records 50000]
                                     [--master local[2]] [--data /tmp/x]

Each command runs as its own process (`chainatlas …`), as a user runs it: the Spark figures include the JVM's start
and the Python workers' (a cluster job pays them too, once per job). For each run the script prints wall seconds,
CPU seconds of the whole process tree (the command, the JVM, Spark's Python workers: summed from /proc every 0.1 s,
so a process shorter than that is missed) and the peak of the tree's summed resident memory. Inputs are
`chainatlas demo generate` files (diverse generated firms with the usual noise, marked generated), made once per size
in the data folder; the single-machine `classify` uses every core (--workers 2 here), as Spark local[2] does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Run:
    name: str
    wall: float
    cpu: float
    peak_mb: float


def _tree(root: int) -> list[int]:
    """The root and its descendants, from /proc's parent links."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _sample(pid: int) -> tuple[float, float] | None:
    """(CPU seconds, resident MB) of one process."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/statm") as fh:
            rss = int(fh.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLK, rss * PAGE / 2**20


def measure(name: str, command: list[str]) -> Run:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cpu_of: dict[int, float] = {}
    peak = 0.0
    while process.poll() is None:
        rss = 0.0
        for pid in _tree(process.pid):
            sample = _sample(pid)
            if sample:
                cpu_of[pid] = sample[0]
                rss += sample[1]
        peak = max(peak, rss)
        time.sleep(0.1)
    wall = time.perf_counter() - started
    err = process.stderr.read().decode() if process.stderr else ""
    if process.returncode:
        raise SystemExit(f"{name} failed ({process.returncode}):\n{err[-3000:]}")
    summary = [line for line in err.splitlines() if line.startswith("✓")]
    print(f"  {name:<28} wall {wall:7.1f} s   CPU {sum(cpu_of.values()):7.1f} s   peak {peak:7.0f} MB   "
          f"{summary[-1] if summary else ''}", flush=True)
    return Run(name, wall, sum(cpu_of.values()), peak)


def _generated(cli: list[str], data: Path, n: int) -> Path:
    """The generated file of n records in the data folder, made once."""
    registry = data / f"firms-{n}.csv"
    if not registry.exists():
        measure(f"generate {n:,}", [*cli, "demo", "generate", "-n", str(n), "--seed", "24", "--out", str(registry)])
    print(f"{n:,} generated records ({registry.stat().st_size / 2**20:.0f} MB CSV)")
    return registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, action="append", help="generated records (repeatable)")
    parser.add_argument("--link-records", type=int, default=0,
                        help="also `link` a generated file of this many records with itself (a dedupe), both engines")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--data", type=Path, default=Path("/tmp/chainatlas-spark-bench"))
    args = parser.parse_args()
    cli = [sys.executable, "-m", "chainatlas.cli.main"]
    args.data.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0))
    print(f"machine: {os.cpu_count()} CPUs ({cores} usable), load average {os.getloadavg()[0]:.1f} at start")
    if args.link_records:
        n = args.link_records
        registry = _generated(cli, args.data, n)
        print(f"link: {n:,} generated records, deduplicated (about 5 % repeated firms, exact or with noise)")
        measure("link duckdb", [*cli, "link", str(registry), "--out", str(args.data / f"pairs-{n}.csv")])
        measure(f"link spark {args.master}", [*cli, "link", str(registry), "--out", str(args.data / f"pairs-{n}-spark.csv"),
                                              "--engine", "spark", "--master", args.master])
    for n in args.records or []:
        registry = _generated(cli, args.data, n)
        single, spread = args.data / f"placed-{n}.csv", args.data / f"placed-{n}-spark.csv"
        for path in (spread, args.data / f"matrix-{n}-spark.parquet"):
            shutil.rmtree(path, ignore_errors=True)
        measure("classify one machine", [*cli, "classify", str(registry), "--out", str(single),
                                         "--workers", str(cores)])
        measure(f"classify spark {args.master}", [*cli, "classify", str(registry), "--out", str(spread),
                                                  "--engine", "spark", "--master", args.master])
        measure("matrix duckdb", [*cli, "matrix", str(registry), "--placements", str(single),
                                  "--out", str(args.data / f"matrix-{n}.parquet")])
        measure(f"matrix spark {args.master}", [*cli, "matrix", str(registry), "--placements", str(spread),
                                                "--out", str(args.data / f"matrix-{n}-spark.parquet"),
                                                "--engine", "spark", "--master", args.master])


if __name__ == "__main__":
    main()
