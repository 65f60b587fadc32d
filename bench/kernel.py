"""What the pure-Python placement kernel costs: `chainatlas classify --workers 1` with the compiled kernel and with
CHAINATLAS_KERNEL=python, on the same diverse generated registry (`chainatlas demo generate`: noisy names, scopes,
product lists; on- and off-chain firms), the two interleaved round by round so a slow spell of a shared machine hits
both alike; the outputs are checked byte for byte equal.

Run: .venv/bin/python bench/kernel.py [--records 200000] [--repeat 3] [--append-results]
Prints each kernel's best and median seconds and the median of the per-round ratios; --append-results adds them
to bench/RESULTS.md (section "placement kernel: compiled or pure Python (issue 18)").
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from _common import record_results

CLI = str(Path(sys.executable).parent / "chainatlas")
KERNELS = ("compiled", "python")


def machine() -> str:
    """CPU model, cores and memory, as RESULTS.md names a machine."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    return f"{cpu}, {os.cpu_count()} vCPUs, {mem / 2**20:.0f} GiB"


def run(firms: Path, out: Path, kernel: str) -> float:
    env = dict(os.environ, CHAINATLAS_KERNEL=kernel)
    started = time.perf_counter()
    subprocess.run([CLI, "classify", str(firms), "--out", str(out), "--workers", "1"], env=env, check=True,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--append-results", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chainatlas-kernel-bench-") as tmp:
        firms = Path(tmp) / "firms.csv"
        subprocess.run([CLI, "demo", "generate", "--enterprises", str(args.records), "--seed", "18", "--out",
                        str(firms)], check=True, stdout=subprocess.DEVNULL)
        seconds: dict[str, list[float]] = {k: [] for k in KERNELS}
        outputs = {k: Path(tmp) / f"{k}.csv" for k in KERNELS}
        for _ in range(args.repeat):
            for kernel in KERNELS:
                seconds[kernel].append(run(firms, outputs[kernel], kernel))
        same = outputs["compiled"].read_bytes() == outputs["python"].read_bytes()
        rows = outputs["compiled"].read_bytes().count(b"\n") - 1
    ratios = [p / c for c, p in zip(seconds["compiled"], seconds["python"])]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    lines = [
        f"{when}, {machine()} shared with other jobs, `chainatlas classify --workers 1` on "
        f"{args.records:,} generated firms (`demo generate --seed 18`: diverse, noisy rows; {rows:,} placements), "
        f"{args.repeat} interleaved rounds, load average {load:.1f} at the end (other helpers' jobs running):",
        "",
        "| kernel | best s | median s |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {k} | {min(v):.2f} | {statistics.median(v):.2f} |" for k, v in seconds.items()]
    lines += ["", f"pure Python / compiled, median of the per-round ratios: {statistics.median(ratios):.2f}x "
                  f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}); outputs byte for byte equal: {same}"]
    block = "\n".join(lines)
    print(block)
    if not same:
        sys.exit("the two kernels wrote different files")
    if args.append_results:
        record_results("## placement kernel: compiled or pure Python (issue 18)", block)


if __name__ == "__main__":
    main()
