"""Wall-chart bench: an A0 chart of a zone with 2,000 firms on the chain, from a real SQLite file to the PDF.

    .venv/bin/python bench/wallchart_bench.py [--firms 2000] [--size A0] [--out /tmp/wall.pdf]

Builds a throwaway database (zone file, chain, 2,000 generated in-zone firms placed on nodes, 600 firms
elsewhere as target candidates), then times the stages of `render_wallchart`: diagnosis and targets (data),
layout, PDF. Target: the whole A0 render under 15 s. Prints wall and CPU seconds and the load average, since
the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from chainatlas.domain.chain import load_chain
from chainatlas.engines.wall_layout import layout_wallchart, problems
from chainatlas.services.catalog import sync_chain
from chainatlas.engines.wall_render import layout_to_pdf
from chainatlas.services.reports import build_wall_spec
from chainatlas.services.catalog import load_zone
from chainatlas.store import db
from chainatlas.store.models import Designation, Enterprise, Placement

WORDS = "华中东风岚图光谷智能汽车电子新材料精密动力电池系统零部件制造科技星河长江楚天瑞达恒通"
CITIES = [("3205", "苏州"), ("4403", "深圳"), ("3101", "上海"), ("3301", "杭州"), ("5101", "成都"), ("3502", "厦门")]


def build_world(url: str, firms: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    chain = load_chain("nev-icv")
    nodes = list(chain.nodes)
    weights = [rng.random() ** 2 for _ in nodes]
    with db.session_scope(url) as s:
        sync_chain(s, chain)
        zone = load_zone(s, "wuhan-edz", chain_id="nev-icv")
        rows = []
        for i in range(firms + 600):
            local = i < firms
            city = ("4201", "武汉") if local else rng.choice(CITIES)
            name = city[1] + "".join(rng.choice(WORDS) for _ in range(rng.randint(2, 7))) + f"{i}有限公司"
            e = Enterprise(
                name=name, name_norm=name, city_code=city[0], province_code=city[0][:2],
                zone_id=zone.id if local else None, registered_capital_yuan=rng.randint(1, 5000) * 1_000_000,
                is_leader=local and rng.random() < 0.004, listing_code="600000" if rng.random() < 0.03 else "",
                source="demo", status="存续",
            )
            if rng.random() < 0.08:
                e.designations.append(Designation(name="专精特新", level="省级"))
            node = rng.choices(nodes, weights)[0]
            e.placements.append(Placement(chain_id=chain.id, node_id=node, method="rule", score=1.0, confidence=0.9,
                                          evidence=[], node_fingerprint=chain.nodes[node].fingerprint()))
            rows.append(e)
        s.add_all(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--firms", type=int, default=2000)
    ap.add_argument("--size", default="A0")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db.migrate(url)
        build_world(url, args.firms)
        with db.session_factory(url)() as session:
            t0, c0 = time.perf_counter(), time.process_time()
            spec = build_wall_spec(session, "wuhan-edz", chain_id="nev-icv")
            t1, c1 = time.perf_counter(), time.process_time()
            layout = layout_wallchart(spec, args.size)
            t2, c2 = time.perf_counter(), time.process_time()
            pdf = layout_to_pdf(layout)
            t3, c3 = time.perf_counter(), time.process_time()
    if args.out:
        Path(args.out).write_bytes(pdf)
    firms = sum(len(n.firms) for n in spec.nodes())
    texts = sum(len(s.texts) for s in layout.sheets)
    print(f"firms on chart: {firms} (in zone: {args.firms}), paper {args.size}, sheets {len(layout.sheets)}, "
          f"cap {layout.cap}/node, text boxes {texts}, layout problems {len(problems(layout))}")
    print(f"data (diagnose + rank_targets): {t1 - t0:6.2f} s wall {c1 - c0:6.2f} s cpu")
    print(f"layout:                         {t2 - t1:6.2f} s wall {c2 - c1:6.2f} s cpu")
    print(f"PDF (pydyf, font subset):      {t3 - t2:6.2f} s wall {c3 - c2:6.2f} s cpu  ({len(pdf) / 1024:.0f} KiB)")
    print(f"total:                          {t3 - t0:6.2f} s wall {c3 - c0:6.2f} s cpu  (target < 15 s)")
    print(f"load average (1/5/15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())}, cores {os.cpu_count()}")


if __name__ == "__main__":
    main()
