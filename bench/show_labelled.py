"""Print labelled firms as the placement engine reads them: name, industries, gold segments, split and the labeller's
note, every product line with its revenue share, and the engine's placements with their evidence.

Run: CHAINATLAS_SHARED_DATA=../shared/data .venv/bin/python bench/show_labelled.py 600619.SH 002812.SZ …
A code of a sealed split prints only with CHAINATLAS_SCORE_SEALED=1 (reading a holdout's firms is scoring it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from chainatlas.domain.chain import load_chain
from chainatlas.engines.classify import Classifier
from chainatlas.engines.placement_quality import load_labelled

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "data" / "labels" / "nev_icv_companies.csv"
SHARED = Path(os.environ.get("CHAINATLAS_SHARED_DATA", ROOT.parent / "shared" / "data"))


def main(codes: list[str]) -> None:
    chain = load_chain("nev-icv")
    classifier = Classifier(chain)
    splits = {"train", "sealed", "sealed2"} if os.environ.get("CHAINATLAS_SCORE_SEALED") == "1" else {"train"}
    found = {item.record.id: item for item in load_labelled(SHARED, chain, LABELS, splits=splits)}
    for code in codes:
        item = found.get(code)
        if item is None:
            print(f"== {code}: not a labelled firm of the splits {sorted(splits)}")
            continue
        r = item.record
        print(f"== {r.id} {r.name} | industry: {r.industry} {r.industry_code} | gold {sorted(item.gold)} | "
              f"{item.split} | {item.note}")
        print("   products:", "; ".join(f"{p}:{w:.3f}" for p, w in r.products))
        for p in classifier.classify(r):
            print("   ->", p.node_id, round(p.score, 2), p.evidence)


if __name__ == "__main__":
    main(sys.argv[1:])
