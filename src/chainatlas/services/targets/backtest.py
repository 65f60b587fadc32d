"""Backtest of supplier prediction: hide known supply relations, rank suppliers per customer, score the recovery.

Two sources: a MarkLines-style CSV (component, region, maker, model, model_year, supplier — English names,
read without the database) or the Relation rows in the database. Hidden relations are chosen by year
(pairs first seen after Y) or as a random share with a seed; the network predictor from
engines/linkpred.py is compared side by side with the popularity baseline.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.engines import linkpred
from chainatlas.store.models import Enterprise, Relation

# Legal-form words that say nothing about which firm it is ("Co., Ltd.", "GmbH", "Kabushiki Kaisha" …).
_LEGAL_WORDS = {
    "co", "company", "ltd", "limited", "corp", "corporation", "inc", "incorporated", "llc", "lp", "gmbh", "ag",
    "se", "kg", "sa", "sas", "spa", "srl", "bv", "nv", "plc", "kk", "kabushiki", "kaisha", "pte", "pty", "oy",
    "ab", "as", "sro", "cokg", "mbh", "the",
}
_FORMERLY = re.compile(r"\(\s*(?:formerly|former|previously|renamed from)\s*:?\s*([^()]*(?:\([^()]*\)[^()]*)*)\)", re.I)
_PARENS = re.compile(r"\([^()]*\)|（[^（）]*）")
_NON_WORD = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")


def english_name_key(name: str) -> str:
    """A comparison key for an English firm name: case, punctuation, legal forms and bracketed places removed.

    "Bosch Automotive Products (Suzhou) Co., Ltd." → "bosch automotive products";
    "Aisin Corporation (Formerly Aisin Seiki Co., Ltd.)" → "aisin". Plants of one firm in different
    cities share a key on purpose: a supplier's plant network is what a zone courts.
    """
    s = _FORMERLY.sub(" ", name)
    while True:  # nested brackets: strip innermost first
        t = _PARENS.sub(" ", s)
        if t == s:
            break
        s = t
    s = s.lower().replace("&", " and ").replace("?", "")  # "?" stands for a character lost to encoding
    words = [w for w in _NON_WORD.sub(" ", s).split() if w not in _LEGAL_WORDS]
    while words and words[-1] == "and":  # "GmbH & Co. KG" leaves a dangling "and"
        words.pop()
    return " ".join(words) or _NON_WORD.sub(" ", name.lower()).strip()


def former_names(name: str) -> list[str]:
    """The names given as "(Formerly …)" inside a firm name."""
    return [m.group(1).strip() for m in _FORMERLY.finditer(name) if m.group(1).strip()]


@dataclass(frozen=True)
class SupplyEdge:
    customer: str  # an OEM (maker) or a customer enterprise id as text
    supplier: str  # normalised key (CSV) or enterprise id as text
    year: int | None
    component: str = ""
    region: str = ""  # the maker's market or segment (MarkLines region; a customer's province in the database)


@dataclass
class SupplyData:
    edges: list[SupplyEdge]
    source: str
    supplier_names: dict[str, str] = field(default_factory=dict)  # key → most frequent original name
    customer_groups: dict[str, str] = field(default_factory=dict)


class BacktestInputError(ValueError):
    pass


_YEAR = re.compile(r"^\s*(\d{4})")
MARKLINES_COLUMNS = ("component", "maker", "model_year", "supplier")


def read_marklines(path: str | Path, groups_path: str | Path | None = None) -> SupplyData:
    """Read the OEM–supplier CSV; `groups_path` (maker_name, year, maker_group) adds each maker's latest group.

    model_year may carry a suffix ("2009 TMS"); the leading year is used. Rows without a supplier are skipped
    (the source leaves a few blank); a missing column is an error naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise BacktestInputError(f"找不到文件 {path}；请给出 MarkLines 格式的 CSV 路径（--file）。")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in MARKLINES_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise BacktestInputError(
                f"{path}：缺少列 {', '.join(missing)}；需要的列为 {', '.join(MARKLINES_COLUMNS)}（第 1 行表头）。"
            )
        raw_rows = []
        for lineno, row in enumerate(reader, start=2):
            supplier = (row["supplier"] or "").strip()
            maker = (row["maker"] or "").strip()
            if not supplier or not maker:
                continue
            m = _YEAR.match(row["model_year"] or "")
            if row["model_year"] and not m:
                raise BacktestInputError(
                    f"{path} 第 {lineno} 行 model_year 列的值 “{row['model_year']}” 不是年份；请改为四位年份（如 2021）。"
                )
            raw_rows.append((maker, supplier, int(m.group(1)) if m else None, (row["component"] or "").strip(),
                             (row.get("region") or "").strip()))
    # "(Formerly X)" renames: rows under the old name belong to the renamed firm.
    renamed: dict[str, str] = {}
    for _, supplier, *_ in raw_rows:
        for old in former_names(supplier):
            renamed.setdefault(english_name_key(old), english_name_key(supplier))
    counts: dict[str, dict[str, int]] = {}
    edges = []
    for maker, supplier, year, component, region in raw_rows:
        key = english_name_key(supplier)
        key = renamed.get(key, key)
        counts.setdefault(key, {}).setdefault(supplier, 0)
        counts[key][supplier] += 1
        edges.append(SupplyEdge(maker, key, year, component, region))
    names = {k: max(v, key=v.__getitem__) for k, v in counts.items()}
    groups: dict[str, str] = {}
    if groups_path is not None:
        groups = read_maker_groups(groups_path)
    return SupplyData(edges, str(path), names, groups)


def read_maker_groups(path: str | Path) -> dict[str, str]:
    """maker → its group in the latest year listed (ARCFOX → BAIC Group)."""
    path = Path(path)
    if not path.exists():
        raise BacktestInputError(f"找不到文件 {path}（整车厂—集团对照表）。")
    latest: dict[str, tuple[int, str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        for col in ("maker_name", "maker_group"):
            if col not in (reader.fieldnames or []):
                raise BacktestInputError(f"{path}：缺少列 {col}（需要 maker_name, year, maker_group）。")
        for row in reader:
            m = _YEAR.match(row.get("year") or "")
            year = int(m.group(1)) if m else 0
            maker, group = row["maker_name"].strip(), row["maker_group"].strip()
            if maker and group and year >= latest.get(maker, (-1, ""))[0]:
                latest[maker] = (year, group)
    return {m: g for m, (_, g) in latest.items()}


def relations_from_db(session: Session) -> SupplyData:
    """Relation rows as supply edges between enterprise ids (merged firms followed to the survivor)."""
    merged = dict(session.execute(select(Enterprise.id, Enterprise.merged_into_id).where(Enterprise.merged_into_id.isnot(None))).all())

    def survivor(eid: int) -> int:
        seen = set()
        while eid in merged and eid not in seen:
            seen.add(eid)
            eid = merged[eid]
        return eid

    customer = Enterprise.__table__.alias("customer")
    edges = [
        SupplyEdge(str(survivor(c)), str(survivor(s)), y, n or p or "", province or "")
        for s, c, y, n, p, province in session.execute(
            select(Relation.supplier_id, Relation.customer_id, Relation.year, Relation.node_id, Relation.product,
                   customer.c.province_code).join(customer, customer.c.id == Relation.customer_id)
        )
    ]
    ids = {int(e.supplier) for e in edges} | {int(e.customer) for e in edges}
    names, groups = {}, {}
    for eid, name, group in session.execute(
        select(Enterprise.id, Enterprise.name, Enterprise.parent_group).where(Enterprise.id.in_(ids))
    ) if ids else []:
        names[str(eid)] = name
        if group:
            groups[str(eid)] = group
    return SupplyData(edges, "数据库供应关系 (relations)", names, groups)


# ---------------------------------------------------------------- splitting and running


@dataclass(frozen=True)
class Split:
    kind: str  # "year" or "random"
    year: int | None = None
    share: float | None = None
    seed: int = 7

    @classmethod
    def parse(cls, text: str, seed: int = 7) -> "Split":
        """`year:2021` (train ≤ 2021, test > 2021) or `random:0.2` (hide 20 % of pairs)."""
        kind, _, value = text.partition(":")
        try:
            if kind == "year":
                return cls("year", year=int(value), seed=seed)
            if kind == "random":
                share = float(value)
                if 0 < share < 1:
                    return cls("random", share=share, seed=seed)
        except ValueError:
            pass
        raise BacktestInputError(f"无法识别的划分方式 “{text}”；请写 year:2021（按年份）或 random:0.2（随机隐藏 20%）。")

    def label(self) -> str:
        if self.kind == "year":
            return f"按年份：≤{self.year} 训练，>{self.year} 检验"
        return f"随机隐藏 {self.share:.0%}（种子 {self.seed}）"


RECENCY_YEARS = 3.0  # a relation last seen this many years before the reference year votes e^-1 as much
UNDATED_WEIGHT = 0.5


def recency_weights(edges: Sequence[SupplyEdge], pairs: set[tuple[str, str]], as_of: int | None) -> dict[tuple[str, str], float]:
    """Weight of each pair by the last year it was seen up to `as_of`: current relations say more about
    who will be bought from next than ones that lapsed years ago (it lifts the by-year backtest most)."""
    last: dict[tuple[str, str], int] = {}
    for e in edges:
        pair = (e.customer, e.supplier)
        if pair in pairs and e.year is not None and (as_of is None or e.year <= as_of):
            last[pair] = max(last.get(pair, e.year), e.year)
    ref = as_of if as_of is not None else max(last.values(), default=0)
    return {p: (float(np.exp(-(ref - last[p]) / RECENCY_YEARS)) if p in last else UNDATED_WEIGHT) for p in pairs}


def split_pairs(edges: Sequence[SupplyEdge], split: Split) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(train pairs, hidden pairs) of (customer, supplier); a pair's year is the first year it was seen."""
    first: dict[tuple[str, str], int | None] = {}
    for e in edges:
        pair = (e.customer, e.supplier)
        if pair not in first:
            first[pair] = e.year
        elif e.year is not None and (first[pair] is None or e.year < first[pair]):
            first[pair] = e.year
    if split.kind == "year":
        train = {p for p, y in first.items() if y is None or y <= split.year}
        test = set(first) - train
    else:
        pairs = sorted(first)
        rng = random.Random(split.seed)
        rng.shuffle(pairs)
        n_hidden = int(round(len(pairs) * float(split.share)))
        test, train = set(pairs[:n_hidden]), set(pairs[n_hidden:])
    return train, test


@dataclass(frozen=True)
class BacktestReport:
    source: str
    split: str
    train_pairs: int
    hidden_pairs: int  # hidden pairs whose customer and supplier both appear in training (rankable)
    unrankable_pairs: int  # hidden pairs with a customer or supplier never seen in training
    customers: int
    suppliers: int
    params: linkpred.Params
    model: linkpred.RankingMetrics
    baseline: linkpred.RankingMetrics

    def lift(self, k: int) -> float | None:
        base = self.baseline.hit_at.get(k, 0.0)
        return None if base == 0 else self.model.hit_at[k] / base

    def table_zh(self) -> str:
        ks = [k for k in sorted(self.model.hit_at) if k != 50]
        m, b = self.model, self.baseline
        head = ["指标 (metric)", "网络预测 (network)", "热门基线 (popularity)"]
        rows = [[f"hit@{k}（检验关系落在前{k}名的比例）", f"{m.hit_at[k]:.3f}", f"{b.hit_at[k]:.3f}"] for k in ks]
        rows += [[f"客户 hit@{k}（前{k}名至少命中一家）", f"{m.customer_hit_at[k]:.3f}", f"{b.customer_hit_at[k]:.3f}"] for k in ks]
        rows.append(["recall@50（按客户平均）", f"{m.recall_at[50]:.3f}", f"{b.recall_at[50]:.3f}"])
        rows.append(["MRR", f"{m.mrr:.3f}", f"{b.mrr:.3f}"])
        rows.append(["AUC", f"{m.auc:.3f}", f"{b.auc:.3f}"])
        widths = [max(_width(r[i]) for r in [head, *rows]) for i in range(3)]
        p = self.params
        lines = [
            f"数据：{self.source}",
            f"划分：{self.split}；训练关系 {self.train_pairs} 对，检验关系 {self.hidden_pairs} 对"
            f"（另有 {self.unrankable_pairs} 对的企业在训练期未出现，无法排序，未计入）",
            f"参与评估的客户（整车厂）{self.customers} 家，候选供应商 {self.suppliers} 家；"
            f"方法：{p.measure}，近邻 {p.neighbours or '全部'}，锐化 {p.sharpen:g}，同集团加成 {p.group_boost:g}",
            "  ".join(_pad(h, w) for h, w in zip(head, widths)),
        ]
        lines += ["  ".join(_pad(c, w) for c, w in zip(r, widths)) for r in rows]
        for k in ks:
            lift = self.lift(k)
            if lift is not None:
                lines.append(f"hit@{k}：网络预测为热门基线的 {lift:.2f} 倍")
        return "\n".join(lines)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def run_backtest(
    data: SupplyData,
    split: Split,
    ks: Iterable[int] = (10, 20, 50),
    params: linkpred.Params = linkpred.Params(),
) -> BacktestReport:
    """Hide, predict, measure: the network predictor and the popularity baseline on the same hidden pairs."""
    train, hidden = split_pairs(data.edges, split)
    if not train or not hidden:
        raise BacktestInputError(
            f"{data.source}：按“{split.label()}”划分后训练 {len(train)} 对、检验 {len(hidden)} 对；两边都需要关系，请换一个年份或比例。"
        )
    # Forecasting (by year) weighs current relations up; a random share has no time direction to exploit.
    weights = recency_weights(data.edges, train, split.year) if split.kind == "year" else dict.fromkeys(train, 1.0)
    graph = linkpred.bipartite((c, s, weights[(c, s)]) for c, s in sorted(train))
    rankable = {(c, s) for c, s in hidden if c in graph.customer_index and s in graph.supplier_index}
    rows = sorted({graph.customer_index[c] for c, _ in rankable})
    row_pos = {r: i for i, r in enumerate(rows)}
    known = graph.binary[rows].toarray().astype(bool)
    hidden_mask = np.zeros_like(known)
    for c, s in rankable:
        hidden_mask[row_pos[graph.customer_index[c]], graph.supplier_index[s]] = True
    codes = group_codes(graph, data.customer_groups)
    ks = tuple(sorted(set(ks) | {50}))
    model = linkpred.ranking_metrics(linkpred.score_suppliers(graph, rows, params, codes), known, hidden_mask, ks)
    baseline = linkpred.ranking_metrics(linkpred.popularity_scores(graph, rows), known, hidden_mask, ks)
    return BacktestReport(
        source=data.source,
        split=split.label(),
        train_pairs=len(train),
        hidden_pairs=len(rankable),
        unrankable_pairs=len(hidden) - len(rankable),
        customers=model.customers,
        suppliers=len(graph.suppliers),
        params=params,
        model=model,
        baseline=baseline,
    )


def group_codes(graph: linkpred.Bipartite, groups: dict[str, str]) -> np.ndarray | None:
    if not groups:
        return None
    ids: dict[str, int] = {}
    return np.asarray(
        [ids.setdefault(groups[c], len(ids)) if c in groups else -1 for c in graph.customers], dtype=np.int64
    )

