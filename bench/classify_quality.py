"""Placement quality on the hand-labelled A-share set: per-segment precision/recall, top-1 precision, leakage.

Run: .venv/bin/python bench/classify_quality.py [--errors] [--split train|sealed|sealed2|train,sealed,sealed2]
Splits of the label file: `train` (what the vocabulary and the learned layer may be tuned on; cross-validate there)
and the holdouts `sealed` (a hashed share of the firms labelled in session 9) and `sealed2` (firms chosen by rule in
session 10), each frozen in a commit before any tuning and scored once at the end. Scoring a holdout needs
CHAINATLAS_SCORE_SEALED=1 so it is never printed by accident. Several splits joined by commas are scored as one set
(all labelled firms: `--split train,sealed,sealed2`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from chainatlas.domain.chain import load_chain
from chainatlas.engines.classify import Classifier
from chainatlas.engines.classify_batch import BatchClassifier
from chainatlas.engines.placement_quality import Quality, evaluate, load_labelled
from chainatlas.engines.stats import wilson_interval


ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "data" / "labels" / "nev_icv_companies.csv"
SHARED = Path(os.environ.get("CHAINATLAS_SHARED_DATA", ROOT.parent / "shared" / "data"))


def report(name: str, q: Quality, show_errors: bool) -> None:
    print(f"\n== {name}: {q.n_on} on-chain firms, {q.n_off} off-chain firms")
    lo, hi = wilson_interval(q.top1_correct, q.n_on)
    print(f"accuracy (unplaced = wrong):              {q.accuracy:.3f} ({q.top1_correct}/{q.n_on}; 95 % {lo:.3f}–{hi:.3f})"
          "  goal ≥ 0.90")
    lo, hi = wilson_interval(q.off_placed, q.n_off)
    print(f"off-chain firms placed anywhere:          {q.off_placed_share:.3f} ({q.off_placed}/{q.n_off}; 95 % "
          f"{lo:.3f}–{hi:.3f})  goal ≤ 0.05")
    print(f"top-1 precision on placed on-chain firms: {q.top1_precision:.3f} ({q.top1_correct}/{q.on_placed})  goal ≥ 0.90")
    print(f"on-chain firms placed at all (coverage):  {q.on_coverage:.3f} ({q.on_placed}/{q.n_on})")
    print(f"{'segment':28} {'prec':>6} {'recall':>6}   tp  fp  fn")
    for seg, (tp, fp, fn) in q.per_segment.items():
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")
        print(f"{seg:28} {p:6.2f} {r:6.2f} {tp:4d} {fp:3d} {fn:3d}")
    if show_errors:
        print("\n".join(q.errors))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", action="store_true", help="list every wrong, missed and leaked firm")
    ap.add_argument("--split", default="train",
                    help="a split of the label file (train, sealed, sealed2), or several joined by commas")
    ap.add_argument("--chain", default="nev-icv", help="chain id or file (a learned model beside it is applied)")
    args = ap.parse_args()
    splits = set(args.split.split(","))
    if any(s.startswith("sealed") for s in splits) and os.environ.get("CHAINATLAS_SCORE_SEALED") != "1":
        ap.error("a sealed split is scored once, at the end, by setting CHAINATLAS_SCORE_SEALED=1")
    chain = load_chain(args.chain)
    classifier = Classifier(chain)
    # only the rows of the split scored are read: scoring train never touches a sealed split's firms
    items = load_labelled(SHARED, chain, LABELS, splits=splits)
    if not items:
        ap.error(f"no labelled firm has split {args.split!r}")
    report(args.split, evaluate(classifier, items), args.errors)
    # `chainatlas classify` runs the batch engine: it must place the split's firms exactly as the engine does.
    records = [i.record for i in items]
    expected = [(p.id, p.node_id, p.score, p.evidence) for r in records for p in classifier.classify(r)]
    batch = [(p.id, p.node_id, p.score, p.evidence) for p in BatchClassifier(chain).classify_records(records)]
    print(f"\nbatch engine (chainatlas classify): {len(batch)} placements, "
          f"{'identical to' if batch == expected else 'DIFFERENT FROM'} the engine's {len(expected)}")


if __name__ == "__main__":
    main()
