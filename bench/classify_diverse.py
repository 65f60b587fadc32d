"""Benchmark `chainatlas classify` on diverse registry records (issue 20: > 90 % of the product and scope cells
distinct, drawn from real vocabulary by `diverse_registry.py`) against `grep -F -o -f <all keywords>`.

Run: nice .venv/bin/python bench/classify_diverse.py [--records 200000 --records 1000000] [--repeat 5]
     [--shared ../shared/data] [--chain nev-icv] [--append-results]

What is timed, each command as a whole process (Python start and imports inside the wall time, as users wait for it):
- `LC_ALL=C grep -F -o -f keywords FILE > matches` and `chainatlas classify FILE --workers 1`, both pinned to CPU 0
  with taskset: the "one core" comparison of the goal (classify within 1.5× grep);
- `chainatlas classify --workers 1` and `--workers 2`, not pinned: the scaling over the machine's two vCPUs; two
  greps side by side show what the machine gives two jobs at that moment;
- `chainatlas classify` on a 10-row file: the fixed cost of a run (start-up and exit).
The commands run --repeat times in interleaved rounds (a slow spell of the shared machine hits all alike); figures
are best-of and median, wall and CPU seconds, and the median of the per-round ratios. The machine is shared with
other jobs: the load average is printed at the start and the end. Generated files are kept in --cache (making a
million records takes longer than classifying them) and reused when there.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import os
import statistics
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import chainatlas
from chainatlas import config
from chainatlas.domain.chain import load_chain
from chainatlas.engines.classify import Classifier

from _common import record_results
from classify import timed
from diverse_registry import distinct_shares, generate
from kernel import machine

CLI = str(Path(sys.executable).parent / "chainatlas")
ROOT = Path(__file__).resolve().parent.parent
HEADING = "## classify on diverse records (issue 20, `bench/classify_diverse.py`)"


def input_file(cache: Path, records: int, shared: Path, seed: int) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"diverse_{records}_seed{seed}.csv"
    if not path.exists():
        partial = path.with_suffix(".partial")
        generate(partial, records, shared, seed)
        partial.replace(path)
    return path


def bench(data: Path, words: Path, repeat: int, chain: str
          ) -> tuple[dict[str, list[tuple[float, float]]], dict[str, int]]:
    """Runs of each command, (wall, CPU) seconds per round; and counts of the outputs."""
    with tempfile.TemporaryDirectory(prefix="chainatlas-diverse-") as tmp:
        folder = Path(tmp)
        small = folder / "ten.csv"
        with data.open("rb") as fh:
            small.write_bytes(b"".join(itertools.islice(fh, 11)))
        out = {name: folder / f"{name}.out" for name in ("grep", "grep2", "one_core", "w1", "w2", "ten")}
        classify = f"{CLI} classify {{}} --chain {chain} --out {{}} --workers {{}} 2> /dev/null".format
        grep = f"LC_ALL=C grep -F -o -f {words} {data} > {{}}".format
        commands = {
            "grep, one core": f"taskset -c 0 bash -c '{grep(out['grep'])}'",
            "classify, one core": "taskset -c 0 " + classify(data, out["one_core"], 1),
            "classify --workers 1": classify(data, out["w1"], 1),
            "classify --workers 2": classify(data, out["w2"], 2),
            "two greps side by side": f"{grep(out['grep'])} & {grep(out['grep2'])} & wait",
            "classify, 10 rows": classify(small, out["ten"], 1),
        }
        writes = {"grep, one core": ["grep"], "classify, one core": ["one_core"], "classify --workers 1": ["w1"],
                  "classify --workers 2": ["w2"], "two greps side by side": ["grep", "grep2"],
                  "classify, 10 rows": ["ten"]}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        timed(commands["classify, 10 rows"])  # fills the chain build cache, as any earlier run would have
        for _ in range(repeat):
            for name, command in commands.items():
                for key in writes[name]:  # every run writes a new file (freeing the last one's pages is not its cost)
                    out[key].unlink(missing_ok=True)
                runs[name].append(timed(command))
        w1 = out["w1"].read_bytes()
        counts = {"matches": out["grep"].read_bytes().count(b"\n"), "placements": w1.count(b"\n") - 1,
                  "same": int(w1 == out["w2"].read_bytes() == out["one_core"].read_bytes())}
    return runs, counts


def report(records: int, data: Path, shares: dict[str, float], patterns: int, runs: dict, counts: dict,
           load: tuple[float, float], repeat: int, model: str) -> str:
    best = {n: (min(w for w, _ in r), min(c for _, c in r)) for n, r in runs.items()}
    med = {n: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r)) for n, r in runs.items()}

    def fig(name: str) -> str:
        return f"{best[name][0]:.2f} s wall / {best[name][1]:.2f} s CPU ({med[name][0]:.2f} / {med[name][1]:.2f})"

    def paired(a: str, b: str) -> float:
        return statistics.median(x[0] / y[0] for x, y in zip(runs[a], runs[b]))
    g, k = "grep, one core", "classify, one core"
    w1, w2, gg = "classify --workers 1", "classify --workers 2", "two greps side by side"
    return "\n".join([
        f"- {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {machine()}, SHARED with other helpers' jobs this session: "
        f"load average {load[0]:.1f} at the start, {load[1]:.1f} at the end; best of {repeat} interleaved rounds "
        f"(median in brackets); Python {sys.version.split()[0]}; all under `nice`; {model}; chain build cache "
        f"{'off' if config.build_cache() is None else 'warm (an untimed run first: every timed run reads it)'}",
        f"- input: {records:,} generated registry records ({data.stat().st_size / 1e6:.0f} MB CSV, `diverse_registry.py`),"
        f" distinct: products {shares['主营产品']:.1%}, business scope {shares['经营范围']:.1%}, names "
        f"{shares['企业名称']:.1%}, industry {shares['所属行业']:.1%} — diverse input, every per-text cache misses; "
        f"{patterns} patterns; grep writes {counts['matches']:,} matches; classify writes {counts['placements']:,} "
        f"placements; the one-core, 1-worker and 2-worker outputs {'are byte for byte equal' if counts['same'] else 'DIFFER'}",
        f"- one core (both pinned to CPU 0 with taskset, start-up included): `LC_ALL=C grep -F -o -f` {fig(g)}; "
        f"`classify --workers 1` {fig(k)} = **{best[k][0] / best[g][0]:.2f}× grep** best-of "
        f"({med[k][0] / med[g][0]:.2f}× by medians, {paired(k, g):.2f}× paired by round; CPU {best[k][1] / best[g][1]:.2f}×)",
        f"- not pinned: `--workers 1` {fig(w1)}; `--workers 2` {fig(w2)}: speed-up **{best[w1][0] / best[w2][0]:.2f}×** "
        f"best-of ({med[w1][0] / med[w2][0]:.2f}× by medians, {paired(w1, w2):.2f}× paired by round), "
        f"{best[w1][1] / best[w2][1]:.0%} of one worker's records per CPU-second; two greps side by side {fig(gg)} = "
        f"{2 * best[g][0] / best[gg][0]:.2f}× one grep's throughput ({2 / paired(gg, g):.2f}× paired)",
        f"- fixed cost of a run (`classify` on a 10-row file): {fig('classify, 10 rows')}",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, action="append", help="records per file (repeatable); default 200,000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "chainatlas-bench")
    parser.add_argument("--chain", default="nev-icv", help="chain id or file (a file with a learned model beside it)")
    parser.add_argument("--append-results", action="store_true")
    args = parser.parse_args()
    if not (args.shared / "industry_chain" / "ckg_company_product.csv").exists():
        sys.exit(f"the public data is not at {args.shared} (--shared)")
    compileall.compile_dir(Path(chainatlas.__file__).parent, quiet=1)  # as an install does
    classifier = Classifier(load_chain(args.chain))
    words = classifier.all_words()
    model = (f"the learned model beside {args.chain} deciding" if classifier.model is not None else
             "rules alone (no learned model" + (", CHAINATLAS_PLACEMENT_MODEL=0)" if not config.placement_model()
                                                else " for the chain)"))
    blocks = []
    with tempfile.TemporaryDirectory() as tmp:
        keywords = Path(tmp) / "keywords.txt"
        keywords.write_text("\n".join(words) + "\n", encoding="utf-8")
        for records in args.records or [200_000]:
            data = input_file(args.cache, records, args.shared, args.seed)
            shares = distinct_shares(data)
            print(f"{data}: distinct products {shares['主营产品']:.1%}, scopes {shares['经营范围']:.1%}", flush=True)
            if min(shares["主营产品"], shares["经营范围"]) <= 0.9:
                sys.exit("the input is not diverse enough (goal: > 90 % distinct product and scope cells)")
            load = os.getloadavg()[0]
            runs, counts = bench(data, keywords, args.repeat, args.chain)
            blocks.append(report(records, data, shares, len(words), runs, counts, (load, os.getloadavg()[0]),
                                 args.repeat, model))
            print(blocks[-1], flush=True)
    if args.append_results:
        record_results(HEADING, "\n\n".join(blocks))
        print("appended to bench/RESULTS.md")


if __name__ == "__main__":
    main()
