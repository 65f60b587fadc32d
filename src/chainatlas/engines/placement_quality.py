"""Measure placement quality against a hand-labelled set of firms (precision, recall, off-chain leakage).

The labelled set lists only company codes, names and gold node ids; the firms' products and SW industry are
joined at run time from the public A-share chain graph in the shared data folder (never copied into the repo), and
their Tushare industry (汽车配件, 电气设备 …) from the listed-company table there when it is present.
Scoring is at segment level: a placement on a sub-node counts for its segment.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from chainatlas.domain.chain import Chain
from chainatlas.engines.classify import Classifier, Record
from chainatlas.engines.stats import wilson_interval

@dataclass
class Labelled:
    record: Record
    gold: set[str]  # gold segment ids; empty = off the chain
    split: str
    note: str = ""


@dataclass
class Quality:
    """The issue's figures for one set of labelled firms. On-chain firms count only when they have product text."""

    n_on: int
    n_off: int
    on_placed: int  # on-chain firms with at least one placement
    top1_correct: int  # ... whose best placement is on a gold segment
    off_placed: int  # off-chain firms placed anywhere
    per_segment: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # seg -> (tp, fp, fn)
    errors: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """On-chain firms whose primary placement is on a gold segment, over ALL on-chain firms (a firm left
        unplaced counts as wrong, as a user feels it)."""
        return self.top1_correct / self.n_on if self.n_on else 0.0

    @property
    def unplaced(self) -> int:
        return self.n_on - self.on_placed

    @property
    def top1_precision(self) -> float:
        return self.top1_correct / self.on_placed if self.on_placed else 0.0

    @property
    def on_coverage(self) -> float:
        return self.on_placed / self.n_on if self.n_on else 0.0

    @property
    def off_placed_share(self) -> float:
        return self.off_placed / self.n_off if self.n_off else 0.0

    def summary(self) -> dict:
        """The figures with Wilson 95 % intervals, for a metrics file."""
        def interval(k: int, n: int) -> list[float]:
            return [round(x, 4) for x in wilson_interval(k, n)]

        return {"accuracy": round(self.accuracy, 4), "accuracy_95": interval(self.top1_correct, self.n_on),
                "on_chain_with_products": self.n_on, "correct": self.top1_correct, "unplaced": self.unplaced,
                "off_chain_share": round(self.off_placed_share, 4),
                "off_chain_95": interval(self.off_placed, self.n_off), "off_chain": self.n_off,
                "off_chain_placed": self.off_placed,
                "per_segment_tp_fp_fn": {seg: list(v) for seg, v in self.per_segment.items()}}


def load_labelled(shared_data: Path, chain: Chain, labels: Path, splits: set[str] | None = None) -> list[Labelled]:
    """Join the label file to the shared company/product/industry tables (only the rows of `splits` if given:
    the others are skipped unread)."""
    folder = shared_data / "industry_chain"
    fullname: dict[str, str] = {}
    with open(folder / "ckg_company.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            fullname[row["code"].split(".")[0]] = row["fullname"]
    stock_industry: dict[str, str] = {}  # Tushare's own industry, by ts_code (000030.SZ)
    tushare = shared_data / "listed_companies" / "tushare_a_share_basic_2024.csv"
    if tushare.exists():
        with open(tushare, encoding="utf-8") as fh:
            stock_industry = {row["ts_code"]: row["industry"] for row in csv.DictReader(fh)}
    industry: dict[str, str] = {}
    with open(folder / "ckg_company_sw_industry.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            industry[row["company_code"]] = row["industry_name"]
    products: dict[str, list[tuple[str, float | None]]] = defaultdict(list)
    with open(folder / "ckg_company_product.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            products[row["company_code"]].append((row["product"], float(row["weight"])))
    out: list[Labelled] = []
    with open(labels, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if splits is not None and row["split"] not in splits:
                continue
            code = row["company_code"]
            gold = {chain.segment_of(g).id for g in row["gold_nodes"].split(";") if g}
            record = Record(
                id=code,
                name=fullname.get(code.split(".")[0], row["name"]),
                products=products.get(code, []),
                industry_code=industry.get(code, ""),  # the SW industry name: read as industry text
                industry=stock_industry.get(code, ""),
            )
            out.append(Labelled(record, gold, row["split"], row["note"]))
    return out


def evaluate(classifier: Classifier, items: list[Labelled]) -> Quality:
    chain = classifier.chain
    return score(items, [[chain.segment_of(p.node_id).id for p in classifier.classify(item.record)]
                         for item in items])


def score(items: list[Labelled], predicted: list[list[str]]) -> Quality:
    """The figures for predicted segment lists (primary first), one per item, against the items' gold segments."""
    q = Quality(n_on=0, n_off=0, on_placed=0, top1_correct=0, off_placed=0)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for item, segs in zip(items, predicted, strict=True):
        firm = f"{item.record.id} {item.record.name}"
        if item.gold:
            if not item.record.products:
                continue  # the figures are on firms with product text
            q.n_on += 1
            if segs:
                q.on_placed += 1
                if segs[0] in item.gold:
                    q.top1_correct += 1
                else:
                    q.errors.append(f"WRONG {firm}: {segs} gold {sorted(item.gold)}")
            else:
                q.errors.append(f"MISS  {firm}: gold {sorted(item.gold)}")
        else:
            q.n_off += 1
            if segs:
                q.off_placed += 1
                q.errors.append(f"OFF   {firm}: placed {segs}")
        for seg in set(segs) | item.gold:
            c = counts[seg]
            if seg in segs and seg in item.gold:
                c[0] += 1
            elif seg in segs:
                c[1] += 1
            else:
                c[2] += 1
    q.per_segment = {seg: (c[0], c[1], c[2]) for seg, c in sorted(counts.items())}
    return q
