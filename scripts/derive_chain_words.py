"""Derive product words for a chain's nodes from the public product graph, into `<chain>.derived.csv` beside it.

The graph (`../shared/data/industry_chain/ckg_product_product.csv`, mined from encyclopedia text) says which
products are kinds of which (产品小类) and which are made from which (上游材料, 下游产品). It is very noisy (recipes,
herbal medicine), so a word is taken from it only where the chain's own words place the products around it:

- **kind** (strong): B is a 产品小类 of a product A that the chain's words already place on node N, and B itself
  is placed nowhere: a kind of N's product the keyword list never names.
- **sole input** (weak): M is placed nowhere, and every product the graph makes from M — at least two of them —
  is placed on one upstream or midstream node N: an input used only for N.
- **category** (weak): A is placed nowhere, and at least two of its kinds, half of them or more, are placed, all in
  one segment: a category word whose kinds the chain's trade makes.

One graph edge is an anecdote (the graph hangs 牛皮卡 under 牛皮 and a piston compressor's valve under 气阀), so the two
weak rules ask two products to agree.

A word is kept only if listed firms name it as a product (ckg_company_product.csv), it is no generic word, no
exclusion word of its node touches it, it is not tied to nodes of different segments, and firms of several unrelated
industries do not list it. The chain file is read as written (parse_chain: without an existing derived file), so
reruns do not feed on their own output. Only words and graph paths are written, never facts about firms. What the
words do to placements (train split only) is measured by bench/derived_words.py.

    .venv/bin/python scripts/derive_chain_words.py [--shared ../shared/data] [--chain src/chainatlas/chains/nev-icv.yaml]
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from chainatlas.domain.chain import STAGE_IDS, Chain, parse_chain
from chainatlas.domain.chain_derived import COLUMNS, derived_path
from chainatlas.engines.classify import PHRASE_SEPARATORS, Classifier, Record

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "ChainKnowledgeGraph ckg_product_product.csv"
KIND, SOLE_INPUT, CATEGORY = "产品小类", "专用上游材料", "产品大类"
AGREE = 2  # graph products that must agree before a sole input or a category word is tied to a node
# Category words that name no product by themselves (the graph hangs many kinds under them).
GENERIC = frozenset(
    "材料 产品 设备 系统 服务 配件 零部件 部件 组件 附件 总成 其他 制品 软件 硬件 工程 模具 原料 原材料 化工原料 "
    "金属 塑料 橡胶 钢材 钢铁 不锈钢 铝合金 复合材料 助剂 溶剂 有机溶剂 包装 包装材料 电子 电器 机械 装置 "
    "仪器 仪表 控制系统 控制器 传感器 电机 发动机 电池 芯片 终端 平台 解决方案 技术服务 贸易 加工 制造 销售".split()
)
MAX_INDUSTRIES = 3  # listed by firms of more SW level-1 industries than this: a word of many trades, not ours


@dataclass(frozen=True)
class DerivedTerm:
    node_id: str
    term: str
    strength: str  # strong / weak
    relation: str
    path: str

    def row(self) -> dict[str, str]:
        return {"node_id": self.node_id, "term": self.term, "strength": self.strength, "relation": self.relation,
                "path": self.path, "source": SOURCE}


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def listed_products(folder: Path, terms: set[str]) -> dict[str, set[str]]:
    """Each of `terms` that occurs in a product named by listed firms (as the engine matches words: inside a longer
    product too) → the SW level-1 industries (2-digit codes) of the firms naming such products."""
    industry = {r["company_code"]: r["industry_code"][:2] for r in _read(folder / "ckg_company_sw_industry.csv")}
    firms: dict[str, set[str]] = defaultdict(set)
    for r in _read(folder / "ckg_company_product.csv"):
        firms[r["product"].strip()].add(r["company_code"])
    automaton = ahocorasick.Automaton()
    for term in terms:
        automaton.add_word(term, term)
    automaton.make_automaton()
    out: dict[str, set[str]] = defaultdict(set)
    for product, codes in firms.items():
        for _, term in automaton.iter(product):
            out[term].update(industry.get(code, "?") for code in codes)
    return out


class Placer:
    """The node a product name alone is placed on by the chain's own words (None: nowhere), cached."""

    def __init__(self, chain: Chain):
        # the chain's words alone: a learned layer beside the chain was trained on these words, not the reverse
        self.chain, self.classifier, self.cache = chain, Classifier(chain, model=None), {}

    def __call__(self, product: str) -> str | None:
        if product not in self.cache:
            placed = self.classifier.classify(Record(id="p", products=[(product, None)]))
            self.cache[product] = placed[0].node_id if placed else None
        return self.cache[product]

    def segment(self, node_id: str) -> str:
        return self.chain.segment_of(node_id).id


def derive(shared: Path, chain_path: Path) -> list[DerivedTerm]:
    """The derived words of the chain file at `chain_path`, from the product graph in `shared`, in a stable order."""
    chain = parse_chain(chain_path.read_text(encoding="utf-8"), str(chain_path))
    folder = shared / "industry_chain"
    place = Placer(chain)
    subtypes: dict[str, set[str]] = defaultdict(set)  # A → its kinds B
    consumers: dict[str, set[str]] = defaultdict(set)  # M → products made from M
    for r in _read(folder / "ckg_product_product.csv"):
        a, rel, b = r["from_product"].strip(), r["relation"], r["to_product"].strip()
        if rel == "产品小类":
            subtypes[a].add(b)
        elif rel == "上游材料":  # b is an upstream material of a
            consumers[b].add(a)
        elif rel == "下游产品":  # b is a downstream product of a
            consumers[a].add(b)

    found: dict[str, list[DerivedTerm]] = defaultdict(list)
    for a in sorted(subtypes):
        node = place(a)
        if node is not None:
            for b in sorted(subtypes[a]):
                if place(b) is None:
                    found[b].append(DerivedTerm(node, b, "strong", KIND, f"{a} —产品小类→ {b}"))
            continue
        kinds = sorted(b for b in subtypes[a] if place(b) is not None)
        nodes = {place(b) for b in kinds}
        if len(kinds) >= AGREE and 2 * len(kinds) >= len(subtypes[a]) and len({place.segment(n) for n in nodes}) == 1:
            node = nodes.pop() if len(nodes) == 1 else place.segment(kinds[0])
            found[a].append(DerivedTerm(node, a, "weak", CATEGORY, f"{a} —产品小类→ {'、'.join(kinds[:3])}"))
    for m in sorted(consumers):
        nodes = {place(p) for p in consumers[m]}
        # a vehicle's or a service's inputs are other segments' products (a steering system is a chassis part
        # even when the graph only names a bus chassis made from it): only materials and components are tied
        if (place(m) is None and len(consumers[m]) >= AGREE and len(nodes) == 1 and None not in nodes
                and chain.nodes[min(nodes)].stage != STAGE_IDS[-1]):
            made = "、".join(sorted(consumers[m])[:3])
            found[m].append(DerivedTerm(nodes.pop(), m, "weak", SOLE_INPUT, f"{made} —上游材料→ {m}"))

    listed = listed_products(folder, {t for t in found if len(t) >= 2})
    out: list[DerivedTerm] = []
    for term, ties in sorted(found.items()):
        if len({place.segment(t.node_id) for t in ties}) > 1 or not _acceptable(term, ties[0].node_id, chain, listed):
            continue
        out.append(min(ties, key=lambda t: (t.strength != "strong", t.node_id, t.path)))  # one row per word
    order = list(chain.nodes)
    return sorted(out, key=lambda t: (order.index(t.node_id), t.term))


def _acceptable(term: str, node_id: str, chain: Chain, listed: dict[str, set[str]]) -> bool:
    """The conservative filters: a real product word of this node's trade, not a category, not excluded here."""
    if len(term) < 2 or term in GENERIC or any(sep in term for sep in PHRASE_SEPARATORS):
        return False
    if term not in listed or len(listed[term] - {"?"}) > MAX_INDUSTRIES:
        return False
    node: str | None = node_id
    while node is not None:  # the node's exclusion words and its ancestors' (children inherit them)
        if any(x in term or term in x for x in chain.nodes[node].exclude):
            return False
        node = chain.nodes[node].parent
    return True


def write(terms: list[DerivedTerm], out: Path) -> None:
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(t.row() for t in terms)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--chain", type=Path, default=ROOT / "src" / "chainatlas" / "chains" / "nev-icv.yaml")
    ap.add_argument("--out", type=Path, help="default: <chain>.derived.csv beside the chain file")
    args = ap.parse_args()
    terms = derive(args.shared, args.chain)
    out = args.out or derived_path(args.chain)
    write(terms, out)
    print(f"{len(terms)} derived words → {out}")


if __name__ == "__main__":
    main()
