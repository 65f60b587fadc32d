"""What the chain's derived vocabulary (product-graph words, `<chain>.derived.csv`) does to placement quality, on
the `train` split of the labelled set only: accuracy (unplaced on-chain firms count as wrong) and off-chain share
without and with the file, the firms gained and lost, and what each derived word changes on its own.

Run: .venv/bin/python bench/derived_words.py [--derived FILE]   (default: the file beside nev-icv.yaml)
The sealed split is never read here: it is scored once, at the end, by bench/classify_quality.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from chainatlas.domain.chain import Chain, builtin_chain_path, merge_derived, parse_chain
from chainatlas.domain.chain_derived import derived_path, read_derived
from chainatlas.engines.classify import Classifier
from chainatlas.engines.placement_quality import Labelled, evaluate, load_labelled
from chainatlas.engines.stats import wilson_interval

from classify_quality import LABELS, SHARED

SPLIT = "train"


def _chain(words: list) -> Chain:
    path = builtin_chain_path("nev-icv")
    chain = parse_chain(path.read_text(encoding="utf-8"), str(path))
    merge_derived(chain, words, "derived words under test")
    return chain


def _primary(classifier: Classifier, items: list[Labelled]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for item in items:
        placed = classifier.classify(item.record)
        out[item.record.id] = classifier.chain.segment_of(placed[0].node_id).id if placed else None
    return out


def _line(name: str, classifier: Classifier, items: list[Labelled]) -> None:
    q = evaluate(classifier, items)
    lo, hi = wilson_interval(q.top1_correct, q.n_on)
    olo, ohi = wilson_interval(q.off_placed, q.n_off)
    print(f"{name:34} accuracy {q.accuracy:.3f} ({q.top1_correct}/{q.n_on}; 95 % {lo:.3f}–{hi:.3f})   "
          f"off-chain placed {q.off_placed_share:.3f} ({q.off_placed}/{q.n_off}; 95 % {olo:.3f}–{ohi:.3f})")


def _verdict(gold: set[str], before: str | None, after: str | None) -> str:
    """+ a firm now right, - a firm now wrong (or an off-chain firm now placed), = neither."""
    right_before = before in gold if gold else before is None
    right_after = after in gold if gold else after is None
    return "+" if right_after and not right_before else "-" if right_before and not right_after else "="


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--derived", type=Path, default=derived_path(builtin_chain_path("nev-icv")))
    args = ap.parse_args()
    words = read_derived(args.derived)
    plain, full = _chain([]), _chain(words)
    items = [i for i in load_labelled(SHARED, plain, LABELS) if i.split == SPLIT]
    print(f"{SPLIT} split, {len(items)} firms; {len(words)} derived words from {args.derived}")
    _line("chain file alone", Classifier(plain), items)
    _line("chain file + derived words", Classifier(full), items)

    before, after = _primary(Classifier(plain), items), _primary(Classifier(full), items)
    print("\nfirms whose primary placement changed (+ now right, - now wrong, = neither):")
    for item in items:
        b, a = before[item.record.id], after[item.record.id]
        if a != b:
            print(f"  {_verdict(item.gold, b, a)} {item.record.id} {item.record.name}: {b} → {a}, "
                  f"gold {sorted(item.gold) or 'off-chain'}")

    print("\neach derived word alone (firms it changes: + / - / =):")
    for word in words:
        alone = _primary(Classifier(_chain([word])), items)
        marks = [_verdict(i.gold, before[i.record.id], alone[i.record.id]) for i in items
                 if alone[i.record.id] != before[i.record.id]]
        if marks:
            print(f"  {word.node_id:26} {word.term:10} {'strong' if word.strong else 'weak':6} +{marks.count('+')} -{marks.count('-')} "
                  f"={marks.count('=')}")
    print("  (words not listed change no train firm)")


if __name__ == "__main__":
    main()
