"""Derive weak product words for a chain from the public product graph: the file `<chain>.derived.csv` beside the
chain file, which `domain/chain.py` merges into the nodes' weak keywords.

Run: .venv/bin/python scripts/derive_product_vocabulary.py [--chain nev-icv] [--shared ../shared/data] [--out FILE]
(rerunnable: the output depends only on the chain file and the two graph files).

Input: `industry_chain/ckg_product_product.csv` (which products are kinds of, made from, or made into which: mined from
encyclopedia text, very noisy) and `industry_chain/ckg_company_product.csv`, used only as a vocabulary filter: a term is
kept only if some listed firm names it as a product line, so every derived word is one firms really write. No company,
share or any other firm fact goes into the output: terms, nodes and the graph path that justified each.

A graph product "is on" a segment when the chain's own vocabulary gives it a strong word there and no other segment
(scanned by the engine, exclusions and head rule included). A term the vocabulary does not reach yet joins a node as a
weak word when one of these paths leads there:
- kind:      P →产品小类→ T, P on the segment (a kind of a chain product, e.g. 继电器 kinds under 汽车继电器 …);
- category:  T →产品小类→ several products, at least 2 and at least 60 % of them on the same segment (轮毂 → 刹车轮毂,
             铝合金轮毂: a category that is mostly this node's products);
- material:  P →上游材料→ T, every product the graph makes from T on the same segment (a material with no other use
             in the graph, e.g. 锰盐 → 三元前驱体).
Weak words only count for a firm something else ties to the node (a strong word, a prior), so a noisy path costs little.
A term is left out if it has fewer than two characters, a phrase separator, or any word of the chain in it (keyword,
weak keyword or exclusion word: such a term is reached, or kept off, by the vocabulary already).
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path

from chainatlas.domain.chain import derived_vocabulary_path, load_chain
from chainatlas.engines.classify import PHRASE_SEPARATORS, Classifier

ROOT = Path(__file__).resolve().parents[1]
MIN_KINDS, MIN_SHARE_OF_KINDS = 2, 0.6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain", default="nev-icv")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, help="where to write (default: beside the chain file)")
    args = ap.parse_args()
    chain = load_chain(args.chain, derived=False)  # the file's own vocabulary, not last run's derived words
    clf = Classifier(chain)
    folder = args.shared / "industry_chain"
    with open(folder / "ckg_company_product.csv", encoding="utf-8") as fh:
        written = {row["product"] for row in csv.DictReader(fh)}
    with open(folder / "ckg_product_product.csv", encoding="utf-8") as fh:
        edges = [(r["from_product"], r["relation"], r["to_product"]) for r in csv.DictReader(fh)]

    def segment(product: str) -> int | None:
        """The one segment the chain's vocabulary puts a product on with a strong word, else None."""
        segs = {clf.segment_index[n] for _, n, strong in clf._scan(product) if strong}
        return next(iter(segs)) if len(segs) == 1 else None

    def usable(term: str) -> bool:
        if term not in written or len(term) < 2 or any(sep in term for sep in PHRASE_SEPARATORS):
            return False
        # not a word of the chain, no strong word in it (reached already), no exclusion word (kept off on purpose)
        words = {clf.words[wi] for _, wi in clf.automaton.iter(term.lower())} if clf.automaton else set()
        return term.lower() not in {w for w, *_ in words} and not any(strong or excl for _, strong, _, excl in words)

    found: dict[tuple[str, str], str] = {}  # (term, node) → the first path that justified it
    kinds: dict[str, list[str]] = defaultdict(list)
    made_from: dict[str, list[str]] = defaultdict(list)
    for a, rel, b in edges:
        if rel == "产品小类":
            kinds[a].append(b)
        elif rel == "上游材料":
            made_from[b].append(a)
        elif rel == "下游产品":
            made_from[a].append(b)
    for parent, children in kinds.items():
        for child in children:  # kind
            seg = segment(parent)
            if seg is not None and usable(child):
                found.setdefault((child, clf.node_ids[seg]), f"kind: {parent} →产品小类→ {child}")
        segs = [segment(c) for c in children]  # category
        for seg in {s for s in segs if s is not None}:
            on = [c for c, s in zip(children, segs) if s == seg]
            if len(on) >= MIN_KINDS and len(on) >= MIN_SHARE_OF_KINDS * len(children) and usable(parent):
                found.setdefault((parent, clf.node_ids[seg]),
                                 f"category: {parent} →产品小类→ {'、'.join(on[:4])} ({len(on)}/{len(children)})")
    for material, products in made_from.items():  # material
        segs = {segment(p) for p in products}
        if len(segs) == 1 and None not in segs:
            seg = segs.pop()
            if usable(material):
                found.setdefault((material, clf.node_ids[seg]), f"material: {products[0]} →上游材料→ {material}")
    out = args.out or derived_vocabulary_path(chain)
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["term", "node", "path"])
        for (term, node), path in sorted(found.items()):
            w.writerow([term, node, path])
    print(f"{len(found)} derived weak words for {len({n for _, n in found})} nodes → {out}")


if __name__ == "__main__":
    main()
