"""Forecasting new supply links by year (`chainatlas backtest --by-year`).

For each split year Y the graph holds the relations first seen up to Y; the model (engines/linkfeatures.py: the
peer vote, popularity, momentum, component, region or segment, group, co-supply) ranks every maker's candidates
and is scored on the relations first seen after Y. Its weights are fitted on an earlier split only — the links
that appeared in (Y − horizon, Y], with nothing after Y in sight — and the peer vote alone and popularity are
scored beside it on the same links. Several seeds (of the negatives drawn for the fit) and a bootstrap over makers
give the spread.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from chainatlas.engines import linkfeatures, linkpred
from chainatlas.services.targets.backtest import (
    BacktestInputError, Split, SupplyData, group_codes, recency_weights, split_pairs,
)

def side_info(data: SupplyData, graph: linkpred.Bipartite, as_of: int, momentum_years: int = 3) -> linkfeatures.SideInfo:
    """What the data says besides the graph, as known at the end of `as_of` (nothing later is read)."""
    seen = [e for e in data.edges if e.year is None or e.year <= as_of]
    regions: dict[str, dict[str, int]] = {}
    parts: dict[str, int] = {}
    cust_parts, sup_parts = set(), set()
    first: dict[tuple[str, str], int] = {}
    for e in seen:
        if e.region:
            regions.setdefault(e.customer, {}).setdefault(e.region, 0)
            regions[e.customer][e.region] += 1
        if e.component and e.customer in graph.customer_index and e.supplier in graph.supplier_index:
            j = parts.setdefault(e.component, len(parts))
            cust_parts.add((graph.customer_index[e.customer], j))
            sup_parts.add((graph.supplier_index[e.supplier], j))
        if e.year is not None:
            pair = (e.customer, e.supplier)
            first[pair] = min(first.get(pair, e.year), e.year)
    region_codes: dict[str, int] = {}
    region = np.asarray([region_codes.setdefault(max(regions[c], key=regions[c].__getitem__), len(region_codes))
                         if c in regions else -1 for c in graph.customers], dtype=np.int64)
    group = group_codes(graph, data.customer_groups)
    cp = np.zeros((len(graph.customers), max(len(parts), 1)))
    sp_ = np.zeros((len(graph.suppliers), max(len(parts), 1)))
    for i, j in cust_parts:
        cp[i, j] = 1.0
    for i, j in sup_parts:
        sp_[i, j] = 1.0
    gained = np.zeros(len(graph.suppliers))
    for (_, s), year in first.items():
        if year > as_of - momentum_years and s in graph.supplier_index:
            gained[graph.supplier_index[s]] += 1
    return linkfeatures.SideInfo(region, group if group is not None else np.full(len(graph.customers), -1), cp, sp_,
                                 gained)


@dataclass
class _SplitData:
    graph: linkpred.Bipartite
    rows: list[int]  # customers with at least one new supplier in the window
    known: np.ndarray
    new: np.ndarray
    feats: np.ndarray


def _at_year(data: SupplyData, year: int, until: int | None, params: linkpred.Params) -> _SplitData:
    """The graph of relations first seen up to `year` and the new ones after it (up to `until` when given)."""
    train, hidden = split_pairs(data.edges, Split("year", year=year))
    if until is not None:
        later = split_pairs(data.edges, Split("year", year=until))[0]
        hidden = hidden & later
    weights = recency_weights(data.edges, train, year)
    graph = linkpred.bipartite((c, s, weights[(c, s)]) for c, s in sorted(train))
    pairs = [(graph.customer_index[c], graph.supplier_index[s]) for c, s in hidden
             if c in graph.customer_index and s in graph.supplier_index]
    rows = sorted({r for r, _ in pairs})
    pos = {r: i for i, r in enumerate(rows)}
    known = graph.binary[rows].toarray().astype(bool)
    new = np.zeros_like(known)
    for r, s in pairs:
        new[pos[r], s] = True
    feats = linkfeatures.features(graph, rows, side_info(data, graph, year), params)
    return _SplitData(graph, rows, known, new, feats)


def fit_knobs(data: SupplyData, year: int, horizon: int, seed: int, negatives: int = 20,
              params: linkpred.Params = linkpred.Params()) -> np.ndarray:
    """Weights of the pair features, fitted on the links that appeared in (year, year + horizon] only."""
    split = _at_year(data, year, year + horizon, params)
    rng = np.random.default_rng(seed)
    pos = np.argwhere(split.new)
    cand = np.argwhere(~split.known & ~split.new)
    if not len(pos) or not len(cand):
        raise BacktestInputError(f"{data.source}：{year} 年之后 {horizon} 年内没有新配套关系，无法拟合权重；请换一个年份。")
    neg = cand[rng.choice(len(cand), min(len(cand), negatives * len(pos)), replace=False)]
    x = np.vstack([split.feats[pos[:, 0], pos[:, 1]], split.feats[neg[:, 0], neg[:, 1]]])
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    return linkfeatures.fit(x, y)


@dataclass(frozen=True)
class YearResult:
    year: int  # trained on relations up to this year, scored on the ones first seen after it
    fit_year: int  # knobs fitted on links that appeared in (fit_year, year]: before the scored period
    hidden: int
    customers: int
    model: list[linkpred.RankingMetrics]  # one per seed
    peers: linkpred.RankingMetrics  # the peer vote alone (the previous model)
    popularity: linkpred.RankingMetrics
    recall_lift_interval: tuple[float, float]  # 90 % bootstrap over makers, first seed
    weights: np.ndarray  # first seed's fitted weights (linkfeatures.FEATURES, then the intercept)


def split_years(data: SupplyData, horizon: int = 3, min_new: int = 30) -> list[int]:
    """Every year Y worth a split: at least `min_new` pairs first seen after Y, and after Y − horizon up to Y."""
    first: dict[tuple[str, str], int] = {}
    for e in data.edges:
        if e.year is not None:
            pair = (e.customer, e.supplier)
            first[pair] = min(first.get(pair, e.year), e.year)
    if not first:
        return []
    per_year: dict[int, int] = {}
    for year in first.values():
        per_year[year] = per_year.get(year, 0) + 1
    lo, hi = min(per_year), max(per_year)
    return [y for y in range(lo + horizon, hi)
            if sum(n for yy, n in per_year.items() if yy > y) >= min_new
            and sum(n for yy, n in per_year.items() if y - horizon < yy <= y) >= min_new
            and sum(n for yy, n in per_year.items() if yy <= y - horizon) >= min_new]


def run_by_year(data: SupplyData, years: Sequence[int], seeds: Sequence[int] = (1, 2, 3), horizon: int = 3,
                k: int = 20, params: linkpred.Params = linkpred.Params()) -> list[YearResult]:
    """For each split year Y: knobs fitted on Y − horizon (links up to Y only), then new links after Y scored."""
    out = []
    for year in years:
        split = _at_year(data, year, None, params)
        if not split.rows:
            raise BacktestInputError(f"{data.source}：{year} 年之后没有可评估的新配套关系；请换一个年份。")
        ks = (k,)
        weights = [fit_knobs(data, year - horizon, horizon, seed, params=params) for seed in seeds]
        scores = [linkfeatures.score(split.feats, w) for w in weights]
        model = [linkpred.ranking_metrics(sc, split.known, split.new, ks) for sc in scores]
        pop = linkpred.popularity_scores(split.graph, split.rows)
        peers = linkpred.ranking_metrics(split.feats[..., 0], split.known, split.new, ks)
        base = linkpred.ranking_metrics(pop, split.known, split.new, ks)
        interval = _lift_interval(scores[0], pop, split.known, split.new, k, seed=seeds[0])
        out.append(YearResult(year, year - horizon, int(split.new.sum()), model[0].customers, model, peers, base,
                              interval, weights[0]))
    return out


def _lift_interval(model: np.ndarray, baseline: np.ndarray, known: np.ndarray, new: np.ndarray, k: int,
                   seed: int, draws: int = 1000) -> tuple[float, float]:
    """5th and 95th percentiles of recall@k(model) ÷ recall@k(baseline) over makers drawn with replacement."""
    per_row = np.array([[linkpred.ranking_metrics(s[[i]], known[[i]], new[[i]], (k,)).recall_at[k]
                         for s in (model, baseline)] for i in range(len(known))])
    rng = np.random.default_rng(seed)
    draws_idx = rng.integers(0, len(per_row), size=(draws, len(per_row)))
    sums = per_row[draws_idx].sum(axis=1)
    ratios = sums[:, 0] / np.maximum(sums[:, 1], 1e-12)
    return float(np.percentile(ratios, 5)), float(np.percentile(ratios, 95))


def _columns(rows: list[list[str]]) -> list[str]:
    """Rows of cells padded to aligned columns (CJK characters take two terminal columns)."""
    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    widths = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c + " " * (w - width(c)) for c, w in zip(r, widths)).rstrip() for r in rows]


def by_year_table_zh(source: str, results: Sequence[YearResult], k: int = 20) -> str:
    """One row per split year: recall@k, hit@k and AUC of the model against popularity (and the peer vote)."""
    rows = [["划分年份", "拟合于", "新关系", "整车厂", f"recall@{k} 模型(±种子)", "同行投票", "热门基线", "倍数",
             "90%区间", f"hit@{k} 模型/热门", "AUC 模型/热门"]]
    for r in results:
        recalls = np.array([m.recall_at[k] for m in r.model])
        base = r.popularity.recall_at[k]
        lo, hi = r.recall_lift_interval
        rows.append([
            str(r.year), str(r.fit_year), str(r.hidden), str(r.customers),
            f"{recalls.mean():.3f} ± {recalls.std():.3f}", f"{r.peers.recall_at[k]:.3f}", f"{base:.3f}",
            f"{recalls.mean() / base:.2f}×" if base else "—", f"[{lo:.2f}, {hi:.2f}]",
            f"{np.mean([m.hit_at[k] for m in r.model]):.3f}/{r.popularity.hit_at[k]:.3f}",
            f"{np.mean([m.auc for m in r.model]):.3f}/{r.popularity.auc:.3f}",
        ])
    last = results[-1]
    named = "、".join(f"{n} {w:+.2f}" for n, w in zip(linkfeatures.FEATURES, last.weights[:-1]))
    return "\n".join([
        f"数据：{source}",
        "按年份回测：训练 ≤ Y，检验 Y 之后首次出现的配套关系；权重只在更早的划分（Y−3 之后 3 年内出现的关系）上拟合，"
        "检验期的关系从不参与；倍数 = 模型 recall 均值 ÷ 热门基线，区间为按整车厂自助抽样的 90% 区间。",
        *_columns(rows),
        f"最近划分 {last.year} 的权重（拟合于 {last.fit_year}）：{named}",
    ])
