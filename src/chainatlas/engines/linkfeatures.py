"""Who will a maker buy from next: pair features beyond the peer vote, and a logistic model over them.

engines/linkpred.py's peer vote says "firms that supply makers like this one"; forecasting new links by year
(services/targets/backtest.py, `backtest --by-year`) also gains from what the data says about each pair:

  peers       the peer vote of linkpred.score_suppliers, scaled to the maker's best candidate
  popularity  log of the makers a supplier serves (the baseline, as one input among others)
  momentum    log of the makers a supplier gained in the last `momentum_years` (rising suppliers keep rising)
  component   share of the supplier's components (or chain nodes) that the maker buys at all
  region      share of the supplier's makers in the maker's own region or segment
  group       1 when the supplier already serves another maker of the maker's group
  co_supply   suppliers bought together with the maker's current suppliers elsewhere (item-based, cosine)

The weights are fitted by `fit` (L2-regularised logistic regression, Newton steps) on an earlier split than the
one they are used on; `score` applies them. Pure numpy/scipy, like linkpred.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from chainatlas.engines import linkpred

FEATURES = ("peers", "popularity", "momentum", "component", "region", "group", "co_supply")


@dataclass(frozen=True)
class SideInfo:
    """What is known besides the graph, aligned with its customers and suppliers (codes −1 = unknown)."""

    customer_region: np.ndarray  # int code per customer
    customer_group: np.ndarray  # int code per customer
    customer_parts: np.ndarray  # customers × parts (components or chain nodes), 1 where the maker buys the part
    supplier_parts: np.ndarray  # suppliers × parts, 1 where the supplier provides the part
    gained: np.ndarray  # per supplier: makers first served within the recent years


def _log_scaled(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return np.log1p(values) / np.log1p(top) if top > 0 else np.zeros_like(values, dtype=np.float64)


def features(graph: linkpred.Bipartite, rows: Sequence[int] | np.ndarray, side: SideInfo,
             params: linkpred.Params = linkpred.Params()) -> np.ndarray:
    """len(rows) × suppliers × len(FEATURES), each feature in [0, 1]."""
    rows = np.asarray(rows, dtype=np.int64)
    b = graph.binary
    n_rows, n_sup = len(rows), len(graph.suppliers)
    groups = side.customer_group if (side.customer_group >= 0).any() else None
    peers = linkpred.score_suppliers(graph, rows, params, groups)
    peers = peers / np.maximum(peers.max(axis=1, keepdims=True), 1e-12)
    degree = np.asarray(b.sum(axis=0)).ravel()
    popularity = np.broadcast_to(_log_scaled(degree), (n_rows, n_sup))
    momentum = np.broadcast_to(_log_scaled(side.gained.astype(np.float64)), (n_rows, n_sup))
    offered = side.supplier_parts.sum(axis=1)
    component = (side.customer_parts[rows] @ side.supplier_parts.T) / np.maximum(offered, 1.0)[None, :]
    region = _shared_category(b, side.customer_region, rows, degree, share=True)
    group = (_shared_category(b, side.customer_group, rows, degree, share=False, exclude_self=True) > 0).astype(float)
    co_supply = _co_supply(graph, rows)
    return np.stack([peers, popularity, momentum, component, region, group, co_supply], axis=-1)


def _shared_category(b, codes: np.ndarray, rows: np.ndarray, degree: np.ndarray, share: bool,
                     exclude_self: bool = False) -> np.ndarray:
    """Per (row, supplier): the supplier's makers in the row's category (share of its makers, or a count)."""
    known = codes >= 0
    n_cat = int(codes[known].max()) + 1 if known.any() else 0
    out = np.zeros((len(rows), b.shape[1]))
    if not n_cat:
        return out
    onehot = np.zeros((len(codes), n_cat))
    onehot[np.flatnonzero(known), codes[known]] = 1.0
    per_cat = np.asarray((b.T @ onehot)).T  # categories × suppliers: makers served in each
    for i, r in enumerate(rows):
        if codes[r] >= 0:
            out[i] = per_cat[codes[r]]
            if exclude_self:
                out[i] -= b[r].toarray().ravel()  # "another maker of the group", not the maker itself
    return out / np.maximum(degree, 1.0)[None, :] if share else out


def _co_supply(graph: linkpred.Bipartite, rows: np.ndarray) -> np.ndarray:
    """Item-based vote: Σ over the maker's suppliers of their cosine with each candidate across makers."""
    b = graph.binary.tocsc()
    norms = np.sqrt(np.asarray(b.multiply(b).sum(axis=0)).ravel())
    mine = graph.matrix[rows]  # the maker's suppliers, weighted (recency)
    together = (mine @ b.T) @ b  # rows × suppliers: co-occurrences through shared makers
    together = np.asarray(together.todense()) if hasattr(together, "todense") else np.asarray(together)
    own = np.asarray(mine.todense())
    scaled = together / np.maximum(norms, 1e-12)[None, :] / np.maximum(own.sum(axis=1, keepdims=True), 1e-12)
    return scaled / np.maximum(scaled.max(axis=1, keepdims=True), 1e-12)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 30) -> np.ndarray:
    """Logistic-regression weights (last one the intercept) by Newton's method with an L2 penalty."""
    x = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(x.shape[1])
    penalty = l2 * np.eye(len(w))
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, x.T @ (p - y) + penalty @ w)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def score(feats: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Linear score per (row, supplier): the log-odds of a new link (ranking only needs the order)."""
    return feats @ weights[:-1] + weights[-1]
