"""Benchmark `chainatlas classify` on 1,000,000 generated records against `grep -F -o -f <all keywords>`.

Run: .venv/bin/python bench/classify.py [--records 1000000] [--input FILE] [--repeat 3] [--append-results]
Input: `chainatlas demo generate` (realistic registry rows with Chinese headers, noise, on- and off-chain firms;
--source demo, the default) or a simple generator over the chain vocabulary (--source simple, ~40% of firms
on the chain, several chain words in every scope: a worst case for hit density). Times grep over the same
file as a floor, then the whole classify command end to end (process start, read, classify, write) with
1 and 2 workers (one polars thread each), and two references for what two cores can give: two greps side by side
(the machine's ceiling for a light, cache-resident job) and a perfect split of classify itself (the file cut in
two halves beforehand, two one-worker commands side by side, no coordination at all), which shows how much of
the distance to 2x is the machine's (two memory-heavy processes slow each other down on this VM) and how much
the command's own cutting, waiting and joining.
Prints figures; --append-results adds them to bench/RESULTS.md. --input reuses a file made earlier by
`chainatlas demo generate` (generating a million records takes longer than classifying them).

Each command runs --repeat times, the rounds interleaved (grep, classify, classify --workers 2, again) so that a
slow spell of a shared machine hits all of them alike; the figures are the best run (as timeit reports) and the
median. The package's bytecode is compiled first, as an install does (a checkout run with
PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every module at every start).
"""

from __future__ import annotations

import argparse
import compileall
import csv
import os
import platform
import random
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import chainatlas
from chainatlas.domain.chain import load_chain
from chainatlas.engines.classify import Classifier

from _common import record_results

CLI = str(Path(sys.executable).parent / "chainatlas")

PLACES = ["武汉", "湖北", "上海", "苏州", "宁波", "深圳", "广州", "合肥", "重庆", "长沙", "天津", "青岛", "襄阳", "十堰"]
BRANDS = ["华", "鑫", "瑞", "恒", "博", "远", "达", "晟", "锐", "宏", "智", "丰", "安", "盛", "诚", "联", "科", "新"]
SUFFIXES = ["有限公司", "股份有限公司", "科技有限公司", "集团有限公司"]
OFF_CHAIN = ["饼干", "白酒", "中药饮片", "住宅开发", "物业管理", "服装", "家具", "水泥", "光伏组件", "手机摄像头模组",
             "消费类锂电池", "光伏逆变器", "家电电机", "航空发动机零部件", "工业机器人", "医疗器械", "饲料",
             "钢材贸易", "软件开发", "广告服务", "印刷品", "陶瓷", "玻璃制品", "塑料管材", "涂料", "化肥",
             "空调压缩机", "安防摄像机", "电力电缆", "LED照明", "教育培训", "餐饮服务", "乳制品", "造纸"]
SCOPE_TAIL = ["的研发、生产和销售", "的技术开发、技术咨询", "的批发与零售", "；货物进出口", "；普通机械设备制造"]
CODES_ON = ["3670", "3612", "3841", "3812", "3962", "3973", "3831", "7452", "8111"]
CODES_OFF = ["1419", "1512", "7010", "1810", "3021", "2710", "3851", "3874", "6513", "4411"]


def generate(path: Path, n: int, seed: int = 2024) -> None:
    rng = random.Random(seed)
    chain = load_chain("nev-icv")
    vocab = [w for node in chain.nodes.values() for w in node.keywords]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "uscc", "products", "business_scope", "industry_code"])
        for i in range(n):
            on = rng.random() < 0.4
            pool = vocab if on else OFF_CHAIN
            k = rng.randint(1, 4)
            shares = sorted((rng.random() for _ in range(k)), reverse=True)
            total = sum(shares)
            items = [(rng.choice(pool), s / total) for s in shares]
            products = ";".join(f"{p}:{s:.2f}" if rng.random() < 0.7 else p for p, s in items)
            scope = "、".join(rng.choice(pool) for _ in range(rng.randint(2, 5))) + rng.choice(SCOPE_TAIL)
            name = rng.choice(PLACES) + "".join(rng.sample(BRANDS, 2)) + (items[0][0] if rng.random() < 0.3 else "") + rng.choice(SUFFIXES)
            code = rng.choice(CODES_ON if on else CODES_OFF) if rng.random() < 0.6 else ""
            w.writerow([f"E{i:07d}", name, "", products, scope, code])


def timed(cmd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and all its children) — CPU time is what a busy machine
    distorts least, so the ratios below are given in CPU time too."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True, executable="/bin/bash")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def split_in_halves(data: Path, folder: Path) -> list[Path]:
    """The file's data rows cut in two at the line start nearest its middle, each half with the header line
    (the generated files hold no line break inside a cell)."""
    raw = data.read_bytes()
    header_end = raw.index(b"\n") + 1
    middle = raw.index(b"\n", header_end + (len(raw) - header_end) // 2) + 1
    halves = [folder / "half1.csv", folder / "half2.csv"]
    halves[0].write_bytes(raw[:middle])
    halves[1].write_bytes(raw[:header_end] + raw[middle:])
    return halves


def cpu_model() -> str:
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--append-results", action="store_true")
    ap.add_argument("--source", choices=["demo", "simple"], default="demo")
    ap.add_argument("--input", type=Path, help="an existing input file instead of a generated one")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command (best and median reported)")
    args = ap.parse_args()
    compileall.compile_dir(Path(chainatlas.__file__).parent, quiet=1)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data, words = folder / "firms.csv", folder / "keywords.txt"
        t = time.perf_counter()
        if args.input:
            data = args.input
            args.records = sum(1 for _ in open(data, "rb")) - 1
        elif args.source == "demo":
            subprocess.run([CLI, "demo", "generate", "-n", str(args.records), "--out", str(data)], check=True,
                           capture_output=True)
        else:
            generate(data, args.records)
        size_mb = data.stat().st_size / 1e6
        print(f"{'read' if args.input else 'generated'} {args.records:,} records, {size_mb:.0f} MB "
              f"in {time.perf_counter() - t:.1f} s")
        classifier = Classifier(load_chain("nev-icv"))
        words.write_text("\n".join(classifier.all_words()) + "\n", encoding="utf-8")
        print(f"{len(classifier.all_words())} keywords / weak keywords / exclusion words")
        outputs = {w: folder / f"placements{w}.csv" for w in (1, 2)}
        halves = split_in_halves(data, folder)
        half_outputs = [half.with_suffix(".out.csv") for half in halves]
        classify_half = f"{CLI} classify {{}} --chain nev-icv --out {{}} --workers 1 2> /dev/null".format
        # grep writes every match (-o); count them so grep cannot stop early on a /dev/null stdout.
        grep_into = f"LC_ALL=C grep -F -o -f {words} {data} | wc -l > {folder}/{{}}".format
        grep = grep_into("n")
        commands = {
            "grep C": grep,
            "grep UTF-8": grep.replace("LC_ALL=C ", "LC_ALL=C.UTF-8 "),
            # the machine's own ceiling for two light jobs at once: two greps of the whole file side by side
            "grep C, two at once": f"{grep_into('n1')} & {grep_into('n2')} & wait",
            **{f"classify {w}": f"{CLI} classify {data} --chain nev-icv --out {outputs[w]} --workers {w} 2> /dev/null"
               for w in (1, 2)},
            # the best any split can do here: each half classified by its own command, both at once; and one half
            # alone, to see how much two such processes slow each other down
            "classify halves, two at once": " & ".join(map(classify_half, halves, half_outputs)) + " & wait",
            "classify half, alone": classify_half(halves[0], half_outputs[0]),
            # "on one core", literally: both pinned to CPU 0
            "grep C, one core": f"taskset -c 0 bash -c {shlex.quote(grep)}",
            "classify, one core": f"taskset -c 0 {CLI} classify {data} --chain nev-icv --out {outputs[1]} "
                                  "--workers 1 2> /dev/null",
        }
        writes = {"classify 1": [outputs[1]], "classify 2": [outputs[2]], "classify halves, two at once": half_outputs,
                  "classify half, alone": half_outputs[:1], "classify, one core": [outputs[1]]}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                # every run writes a new file: replacing the last run's 240 MB output would add freeing its pages
                for output in writes.get(name, []):
                    output.unlink(missing_ok=True)
                runs[name].append(timed(command))
        matches = int((folder / "n").read_text().strip())
        placements = sum(1 for _ in open(outputs[1], encoding="utf-8-sig")) - 1
        # the perfect split did the same work: its two outputs hold the whole file's placements
        split_placements = sum(sum(1 for _ in open(output, encoding="utf-8-sig")) - 1 for output in half_outputs)
        same = outputs[1].read_bytes() == outputs[2].read_bytes()
    load_end = os.getloadavg()[0]
    best = {name: (min(w for w, _ in r), min(c for _, c in r)) for name, r in runs.items()}
    median = {name: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r)) for name, r in runs.items()}
    (gw, gc), (uw, uc), (g2, _), (w1, c1), (w2, c2), (h2, _), (h1, _), (g0, _), (k0, _) = (best[n] for n in commands)
    (mgw, mgc), (muw, muc), (mg2, _), (mw1, mc1), (mw2, mc2), (mh2, _), (mh1, _), (mg0, _), (mk0, _) = (
        median[n] for n in commands)
    ceiling, median_ceiling = 2 * gw / g2, 2 * mgw / mg2

    def paired(a: str, b: str) -> float:
        """The median over rounds of a's wall time over b's in the same round: commands that ran seconds apart
        share the VM's spell, which drifts by tens of percent within minutes."""
        return statistics.median(x[0] / y[0] for x, y in zip(runs[a], runs[b]))
    lines = [
        f"- machine: {os.cpu_count()} cores, {cpu_model()}; Python {platform.python_version()}; "
        f"{datetime.now(timezone.utc):%Y-%m-%d}; load average at start {load:.1f}, at the end {load_end:.1f}; "
        f"best of {args.repeat} interleaved runs (median in brackets)",
        f"- input: {args.records:,} records from {args.input or f'the {args.source} generator'} ({size_mb:.0f} MB CSV), "
        f"{len(classifier.all_words())} patterns; "
        f"grep finds {matches:,} matches; classify writes {placements:,} placements",
        f"- `grep -F -o -f keywords` LC_ALL=C: {gw:.1f} s wall / {gc:.1f} s CPU ({mgw:.1f} / {mgc:.1f}); "
        f"C.UTF-8: {uw:.1f} s wall / {uc:.1f} s CPU ({muw:.1f} / {muc:.1f})",
        f"- `chainatlas classify --workers 1` (one process, one thread): {w1:.1f} s wall / {c1:.1f} s CPU "
        f"({mw1:.1f} / {mc1:.1f}; {args.records / c1:,.0f} records per CPU-second) = {c1 / gc:.2f}× grep CPU in the "
        f"C locale ({mc1 / mgc:.2f}× by medians), {c1 / uc:.2f}× in UTF-8; wall {w1 / gw:.2f}× / {w1 / uw:.2f}×",
        f"- on one core (both pinned to CPU 0 with taskset): grep {g0:.1f} s ({mg0:.1f}), classify {k0:.1f} s "
        f"({mk0:.1f}) wall = {k0 / g0:.2f}× ({mk0 / mg0:.2f}× by medians)",
        f"- `chainatlas classify --workers 2`: {w2:.1f} s wall / {c2:.1f} s CPU ({mw2:.1f} / {mc2:.1f}; "
        f"{args.records / c2:,.0f} records per CPU-second, {c1 / c2:.0%} of one worker's); "
        f"wall speed-up **{w1 / w2:.2f}×** over 1 worker ({mw1 / mw2:.2f}× by medians); "
        f"output {'byte for byte the 1-worker file' if same else 'DIFFERENT from the 1-worker file'}",
        f"- the machine's ceiling for two light jobs: two greps side by side take {g2:.1f} s ({mg2:.1f}) against {gw:.1f} s "
        f"({mgw:.1f}) for one, i.e. its two cores give {ceiling:.2f}× ({median_ceiling:.2f}×) one core's throughput; "
        f"`--workers 2` reaches {w1 / w2 / ceiling:.0%} of that ({mw1 / mw2 / median_ceiling:.0%} by medians)",
        f"- a perfect split of classify (the two halves of the file, cut beforehand, each classified by its own "
        f"one-worker command, both at once): {h2:.1f} s ({mh2:.1f}) = {w1 / h2:.2f}× ({mw1 / mh2:.2f}×) one worker on "
        f"the whole file ({split_placements:,} placements in the two outputs); `--workers 2` reaches {h2 / w2:.0%} "
        f"of that ({mh2 / mw2:.0%} by medians); one half alone "
        f"takes {h1:.1f} s ({mh1:.1f}): side by side, the two halves took {h2 / h1:.2f}× ({mh2 / mh1:.2f}×) as long",
        f"- paired by round (median of the ratios within each round): classify on one core "
        f"{paired('classify, one core', 'grep C, one core'):.2f}× grep on one core; two workers' speed-up "
        f"{paired('classify 1', 'classify 2'):.2f}×, a perfect split's "
        f"{paired('classify 1', 'classify halves, two at once'):.2f}×; two greps side by side "
        f"{2 / paired('grep C, two at once', 'grep C'):.2f}× one grep's throughput",
    ]
    print("\n".join(lines))
    if args.append_results:
        record_results("## classify (issue 4)", "\n".join(lines))
        print("appended to bench/RESULTS.md")


if __name__ == "__main__":
    main()
