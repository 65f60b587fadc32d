"""Supply-network link prediction on a bipartite customer (OEM) × supplier graph.

"Firms that supply OEMs similar to this leader are likely to supply it next": a customer-based
collaborative filter. Two customers are similar when they buy from the same suppliers, with rare
shared suppliers counting more than the ubiquitous ones (IDF-weighted cosine by default; plain cosine,
Jaccard and resource allocation are there to compare). A supplier's score for a customer is the vote of
the customer's peers, each weighted by similarity² (and a bonus for peers of the same group), each vote
worth the peer's edge weight (recency, when the caller gives one).
The popularity baseline ranks suppliers by how many customers they serve.

Pure numpy/scipy: callers (services/targets/backtest.py, services/targets/leader_links.py, leaders.py) turn rows into index arrays.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

MEASURES = ("cosine", "idf-cosine", "jaccard", "resource-allocation")


@dataclass(frozen=True)
class Bipartite:
    """customers × suppliers; matrix[c, s] > 0 when s supplies c (the value is the edge's weight, e.g. recency)."""

    customers: tuple[Hashable, ...]
    suppliers: tuple[Hashable, ...]
    matrix: sp.csr_matrix
    customer_index: dict[Hashable, int] = field(repr=False, default_factory=dict)
    supplier_index: dict[Hashable, int] = field(repr=False, default_factory=dict)

    @cached_property
    def binary(self) -> sp.csr_matrix:
        b = self.matrix.copy()
        b.data = np.ones_like(b.data, dtype=np.float64)
        return b

    @cached_property
    def _by_supplier(self) -> sp.csc_matrix:
        return self.binary.tocsc()

    def customers_of(self, supplier_col: int) -> np.ndarray:
        """Row indices of the customers a supplier (column index) serves."""
        csc = self._by_supplier
        return csc.indices[csc.indptr[supplier_col]:csc.indptr[supplier_col + 1]]


def bipartite(
    edges: Iterable[tuple[Hashable, Hashable, float]],
    customers: Sequence[Hashable] | None = None,
    suppliers: Sequence[Hashable] | None = None,
) -> Bipartite:
    """Build the graph from (customer, supplier, weight) triples; repeated pairs add their weights.

    Passing `customers`/`suppliers` fixes the index order (so a train and a test graph share it);
    edges naming anything outside a fixed list are ignored.
    """
    edges = list(edges)
    cust = list(customers) if customers is not None else list(dict.fromkeys(e[0] for e in edges))
    sups = list(suppliers) if suppliers is not None else list(dict.fromkeys(e[1] for e in edges))
    ci = {c: i for i, c in enumerate(cust)}
    si = {s: i for i, s in enumerate(sups)}
    rows, cols, vals = [], [], []
    for c, s, w in edges:
        if c in ci and s in si:
            rows.append(ci[c])
            cols.append(si[s])
            vals.append(float(w))
    m = sp.csr_matrix(
        (np.asarray(vals, dtype=np.float64), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(len(cust), len(sups)),
    )
    m.sum_duplicates()
    return Bipartite(tuple(cust), tuple(sups), m, ci, si)


def popularity(graph: Bipartite) -> np.ndarray:
    """Number of customers each supplier serves (the baseline every method must beat)."""
    return np.asarray(graph.binary.sum(axis=0)).ravel()


def customer_similarity(graph: Bipartite, rows: Sequence[int] | np.ndarray, measure: str = "resource-allocation") -> np.ndarray:
    """Similarity of the customers in `rows` to every customer (dense len(rows) × n_customers, self = 0)."""
    if measure not in MEASURES:
        raise ValueError(f"未知的相似度 “{measure}”；可选：{', '.join(MEASURES)}")
    rows = np.asarray(rows, dtype=np.int64)
    b = graph.binary
    deg_s = np.asarray(b.sum(axis=0)).ravel()
    deg_c = np.asarray(b.sum(axis=1)).ravel()
    if measure == "resource-allocation":
        # Each shared supplier passes 1/degree of resource: a niche supplier in common says more.
        w = b.multiply(1.0 / np.maximum(deg_s, 1.0)).tocsr()
        sim = (b[rows] @ w.T).toarray()
    elif measure == "idf-cosine":
        idf = np.log((b.shape[0] + 1.0) / (deg_s + 1.0))
        x = b.multiply(idf).tocsr()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        sim = (x[rows] @ x.T).toarray() / np.maximum(np.outer(norms[rows], norms), 1e-12)
    else:
        inter = (b[rows] @ b.T).toarray()
        if measure == "cosine":
            sim = inter / np.maximum(np.sqrt(np.outer(deg_c[rows], deg_c)), 1e-12)
        else:  # jaccard
            sim = inter / np.maximum(deg_c[rows][:, None] + deg_c[None, :] - inter, 1e-12)
    sim[np.arange(len(rows)), rows] = 0.0
    return sim


@dataclass(frozen=True)
class Params:
    """Settings of the predictor; defaults are the ones the MarkLines backtest chose (see bench/RESULTS.md)."""

    measure: str = "idf-cosine"
    neighbours: int = 0  # peers that vote (0 = all); on 247 OEMs all peers beat a cut-off
    sharpen: float = 2.0  # similarity ** sharpen: >1 trusts the closest peers more
    group_boost: float = 0.3  # extra similarity (× the best peer's) for customers of the same group
    popularity_blend: float = 0.0  # weight of normalised popularity added to the peer vote
    weighted_votes: bool = True  # peers vote with their edge weights (e.g. recency), similarity stays binary


def score_suppliers(
    graph: Bipartite,
    rows: Sequence[int] | np.ndarray,
    params: Params = Params(),
    groups: np.ndarray | None = None,
    mute: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """Scores (len(rows) × n_suppliers) of every supplier for each customer in `rows`, higher = likelier.

    `mute`: customers whose votes do not count (e.g. a zone's own leaders, whose suppliers are counted
    elsewhere). Suppliers the customer already has keep their score; callers mask them out when ranking.
    """
    rows = np.asarray(rows, dtype=np.int64)
    sim = customer_similarity(graph, rows, params.measure)
    if mute is not None and len(mute):
        sim[:, np.asarray(mute, dtype=np.int64)] = 0.0
    if groups is not None and params.group_boost:
        # groups: integer code per customer, -1 where unknown
        g = np.asarray(groups, dtype=np.int64)
        same = (g[rows][:, None] == g[None, :]) & (g[None, :] >= 0)
        same[np.arange(len(rows)), rows] = False
        sim = sim + params.group_boost * same * (sim.max(axis=1, keepdims=True) + 1e-9)
    if params.sharpen != 1.0:
        sim = np.power(sim, params.sharpen)
    k = params.neighbours
    if 0 < k < sim.shape[1]:
        # keep the k most similar peers per row
        cut = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        kept = np.zeros_like(sim)
        np.put_along_axis(kept, cut, np.take_along_axis(sim, cut, axis=1), axis=1)
        sim = kept
    votes = graph.matrix if params.weighted_votes else graph.binary
    scores = (sp.csr_matrix(sim) @ votes).toarray()
    if params.popularity_blend:
        pop = popularity(graph)
        top = scores.max(axis=1, keepdims=True)
        scores = scores + params.popularity_blend * np.maximum(top, 1e-9) * pop / max(pop.max(), 1.0)
    return scores


def popularity_scores(graph: Bipartite, rows: Sequence[int] | np.ndarray) -> np.ndarray:
    pop = popularity(graph).astype(np.float64)
    return np.broadcast_to(pop, (len(rows), pop.size)).copy()


# ---------------------------------------------------------------- metrics


@dataclass(frozen=True)
class RankingMetrics:
    """How well hidden relations are recovered, over the customers that have at least one hidden supplier."""

    customers: int
    hidden_edges: int
    hit_at: dict[int, float]  # share of hidden relations ranked within their customer's top k
    customer_hit_at: dict[int, float]  # share of customers with ≥1 hidden supplier in their top k
    recall_at: dict[int, float]  # share of a customer's hidden suppliers in its top k, averaged over customers
    mrr: float  # mean over customers of 1 / rank of the first hidden supplier
    auc: float  # P(hidden supplier outranks a random non-supplier), per customer, averaged; ties count ½


def ranking_metrics(
    scores: np.ndarray,
    known: np.ndarray,
    hidden: np.ndarray,
    ks: Sequence[int] = (10, 20, 50),
) -> RankingMetrics:
    """Rank each row's candidates (columns not in `known`) by score and compare with `hidden` (both boolean).

    Ranks are pessimistic on ties (a hidden supplier tied with others ranks after all of them), so a
    constant scorer gets no credit; AUC counts ties as half, so a constant scorer gets 0.5.
    """
    scores = np.asarray(scores, dtype=np.float64)
    known = np.asarray(known, dtype=bool)
    hidden = np.asarray(hidden, dtype=bool) & ~known
    found = {k: 0 for k in ks}
    cust_hits: dict[int, list[float]] = {k: [] for k in ks}
    recalls: dict[int, list[float]] = {k: [] for k in ks}
    rr, aucs = [], []
    for i in range(scores.shape[0]):
        n_pos = int(hidden[i].sum())
        if n_pos == 0:
            continue
        cand = ~known[i]
        s = scores[i, cand]
        pos = hidden[i, cand]
        pos_s, neg_s = s[pos], s[~pos]
        # pessimistic 1-based rank: how many candidates score at least as high (itself included)
        ranks = s.size - np.searchsorted(np.sort(s), pos_s, side="left")
        rr.append(1.0 / int(ranks.min()))
        for k in ks:
            within = int((ranks <= k).sum())
            found[k] += within
            cust_hits[k].append(float(within > 0))
            recalls[k].append(within / n_pos)
        if neg_s.size:
            neg_sorted = np.sort(neg_s)
            below = np.searchsorted(neg_sorted, pos_s, side="left")
            ties = np.searchsorted(neg_sorted, pos_s, side="right") - below
            aucs.append(float((below + 0.5 * ties).sum()) / (n_pos * neg_s.size))
    n, total = len(rr), int(hidden.sum())
    return RankingMetrics(
        customers=n,
        hidden_edges=total,
        hit_at={k: (found[k] / total if total else 0.0) for k in ks},
        customer_hit_at={k: (float(np.mean(cust_hits[k])) if n else 0.0) for k in ks},
        recall_at={k: (float(np.mean(recalls[k])) if n else 0.0) for k in ks},
        mrr=float(np.mean(rr)) if n else 0.0,
        auc=float(np.mean(aucs)) if aucs else 0.5,
    )
