"""Economic-complexity measures over a region × node matrix (Hidalgo & Hausmann; Growth Lab `ecomplexity`).

Pure numpy: rows are regions (cities), columns are chain nodes, cells are counts (or values).
Definitions are the Growth Lab `ecomplexity` package's (0.5.3, checked measure by measure on a real matrix in
tests/test_relatedness.py), with one deliberate difference: every division by an empty row or column yields 0, never
NaN (the package drops such rows and columns first), so no verdict downstream can see a NaN.

    RCA_rj   = (X_rj / X_r.) / (X_.j / X_..)
    M_rj     = [RCA_rj >= threshold]
    phi_ij   = sum_r M_ri M_rj / max(k_i, k_j)          k_j = sum_r M_rj (ubiquity); phi_jj = 1 where k_j > 0
    d_rj     = sum_i phi_ij M_ri / sum_i phi_ij           (density; 0 where node j has no proximity at all)
    kc, kp   = second eigenvector of the node diffusion matrix (kp) and its region average (kc), signed so kc rises
               with diversity; ECI = (kc - mean kc) / std kc, PCI = (kp - mean kc) / std kc (as `ecomplexity` does)
    COI_r    = sum_j d_rj (1 - M_rj) kp_j, standardised over the regions of the matrix
    COG_rj   = (1 - M_rj) sum_i (1 - M_ri) phi_ij (kp_i / std kc) / sum_k phi_ik
    LQ_j     = (local_j / local_total) / (benchmark_j / benchmark_total)

The diagonal phi_jj = 1 (a node is fully related to itself) only matters for a node a region has: density at an
absent node still counts only the region's other nodes, its denominator includes the node's own 1. Outlook uses
kp / std kc, the PCI before it is centred, as the package does: COI and COG then keep the sign of the eigenvector
rather than of PCI's deviation from the regions' mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 wherever den is 0 (empty rows and columns carry no information, not NaN)."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape, dtype=float)
    np.divide(num, den, out=out, where=den != 0)
    return out


def rca(
    x: np.ndarray,
    row_totals: np.ndarray | None = None,
    col_totals: np.ndarray | None = None,
    grand_total: float | None = None,
) -> np.ndarray:
    """Revealed comparative advantage. Totals may be given when cells overlap (a firm counted on a node
    and on its parent), so that shares are shares of distinct firms rather than of cell sums."""
    x = np.asarray(x, dtype=float)
    rows = x.sum(axis=1) if row_totals is None else np.asarray(row_totals, dtype=float)
    cols = x.sum(axis=0) if col_totals is None else np.asarray(col_totals, dtype=float)
    total = float(x.sum()) if grand_total is None else float(grand_total)
    share_in_region = _safe_div(x, rows[:, None])
    share_in_world = _safe_div(cols, np.array(total))
    return _safe_div(share_in_region, share_in_world[None, :])


def presence(rca_matrix: np.ndarray, threshold: float = 1.0) -> np.ndarray:
    """M = [RCA >= threshold] as 0/1 floats (ready for matrix products)."""
    return (np.asarray(rca_matrix) >= threshold).astype(float)


def proximity(m: np.ndarray) -> np.ndarray:
    """phi_ij = co-presence / max(ubiquity_i, ubiquity_j): 1 on the diagonal, 0 for nodes present nowhere."""
    m = np.asarray(m, dtype=float)
    co = m.T @ m
    k = m.sum(axis=0)
    return _safe_div(co, np.maximum(k[:, None], k[None, :]))


def density(m: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """d_rj = sum_i phi_ij M_ri / sum_i phi_ij; accepts one region as a vector or many as a matrix."""
    m = np.asarray(m, dtype=float)
    return _safe_div(m @ phi, phi.sum(axis=0))


@dataclass(frozen=True)
class Complexity:
    eci: np.ndarray  # per region, standardised
    pci: np.ndarray  # per node, standardised with ECI's mean and deviation
    kp: np.ndarray  # per node: the eigenvector / std kc, i.e. PCI before centring (what COI and COG weigh)


def complexity(m: np.ndarray) -> Complexity:
    """ECI, PCI (and kp) by the eigenvector method; 0 for empty regions/nodes or degenerate M."""
    m = np.asarray(m, dtype=float)
    n_regions, n_nodes = m.shape
    eci = np.zeros(n_regions)
    pci = np.zeros(n_nodes)
    kp = np.zeros(n_nodes)
    diversity = m.sum(axis=1)
    ubiquity = m.sum(axis=0)
    rows, cols = diversity > 0, ubiquity > 0
    if rows.sum() < 2 or cols.sum() < 2:
        return Complexity(eci, pci, kp)
    sub = m[np.ix_(rows, cols)]
    div, ubi = sub.sum(axis=1), sub.sum(axis=0)
    m1 = sub / div[:, None]
    m2 = sub / ubi[None, :]
    mpp = m2.T @ m1  # node-to-node diffusion; rows sum to 1, top eigenvalue 1
    values, vectors = np.linalg.eig(mpp)
    order = np.argsort(values.real)
    kp_vec = vectors[:, order[-2]].real
    kc_vec = m1 @ kp_vec
    if np.std(kc_vec) == 0 or np.std(div) == 0:
        return Complexity(eci, pci, kp)
    sign = np.sign(np.corrcoef(div, kc_vec)[0, 1]) or 1.0
    kc_vec, kp_vec = sign * kc_vec, sign * kp_vec
    mean, std = kc_vec.mean(), kc_vec.std()
    eci[rows] = (kc_vec - mean) / std
    pci[cols] = (kp_vec - mean) / std
    kp[cols] = kp_vec / std
    return Complexity(eci, pci, kp)


def outlook(m: np.ndarray, phi: np.ndarray, dens: np.ndarray, kp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(COI per region before standardising, COG per region × node): how much complexity lies near, and what
    adding node j opens."""
    m = np.atleast_2d(np.asarray(m, dtype=float))
    dens = np.atleast_2d(dens)
    absent = 1.0 - m
    coi = ((dens * absent) * kp[None, :]).sum(axis=1)
    weighted = phi * _safe_div(kp, phi.sum(axis=1))[:, None]
    cog = absent * (absent @ weighted)
    return coi, cog


def standardise(values: np.ndarray, mean: float, std: float) -> np.ndarray:
    """(values - mean) / std; 0 where the regions do not vary (a single region, or all alike)."""
    return _safe_div(np.asarray(values, dtype=float) - mean, np.array(std))


def location_quotient(local: np.ndarray, local_total: float, bench: np.ndarray, bench_total: float) -> np.ndarray:
    """LQ per node; NaN where the benchmark has no firm on the node (undefined, shown as 未知 — never compared)."""
    local = np.asarray(local, dtype=float)
    bench = np.asarray(bench, dtype=float)
    out = np.full(local.shape, np.nan)
    if local_total <= 0 or bench_total <= 0:
        return out
    bench_share = bench / bench_total
    ok = bench_share > 0
    out[ok] = (local[ok] / local_total) / bench_share[ok]
    return out


@dataclass
class Relatedness:
    """All measures for one matrix; row and column labels kept beside the arrays."""

    regions: list[str]
    nodes: list[str]
    x: np.ndarray
    rca: np.ndarray
    m: np.ndarray
    phi: np.ndarray
    density: np.ndarray
    eci: np.ndarray
    pci: np.ndarray
    kp: np.ndarray
    coi: np.ndarray
    cog: np.ndarray
    col_totals: np.ndarray
    grand_total: float
    coi_mean: float  # of the regions' COI before standardising: a place outside the matrix is scored against it
    coi_std: float

    def score_row(self, x_row: np.ndarray, row_total: float, threshold: float = 1.0) -> dict[str, np.ndarray]:
        """Measures for a place that is not a row of the matrix (a zone inside a city), against this world."""
        r = rca(x_row[None, :], np.array([row_total]), self.col_totals, self.grand_total)[0]
        m = presence(r, threshold)
        d = density(m, self.phi)
        coi, cog = outlook(m, self.phi, d, self.kp)
        return {"rca": r, "m": m, "density": d, "coi": standardise(coi, self.coi_mean, self.coi_std), "cog": cog[0]}


def relatedness(
    x: np.ndarray,
    regions: Sequence[str],
    nodes: Sequence[str],
    threshold: float = 1.0,
    row_totals: np.ndarray | None = None,
    col_totals: np.ndarray | None = None,
    grand_total: float | None = None,
) -> Relatedness:
    x = np.asarray(x, dtype=float)
    r = rca(x, row_totals, col_totals, grand_total)
    m = presence(r, threshold)
    phi = proximity(m)
    d = density(m, phi)
    c = complexity(m)
    coi, cog = outlook(m, phi, d, c.kp)
    return Relatedness(
        regions=list(regions), nodes=list(nodes), x=x, rca=r, m=m, phi=phi, density=d, eci=c.eci, pci=c.pci,
        kp=c.kp, coi=standardise(coi, coi.mean(), coi.std()), cog=cog,
        col_totals=x.sum(axis=0) if col_totals is None else np.asarray(col_totals, dtype=float),
        grand_total=float(x.sum()) if grand_total is None else float(grand_total),
        coi_mean=float(coi.mean()), coi_std=float(coi.std()),
    )


def count_matrix(
    pairs: pl.DataFrame, regions: Sequence[str], nodes: Sequence[str], region_col: str = "region",
    node_col: str = "node", firm_col: str = "firm", distinct: bool = True,
) -> np.ndarray:
    """Region × node matrix of distinct firms from a long frame (region, node, firm) by one grouped count.

    distinct=False when the caller knows each (firm, node) row is unique: a plain count is several times cheaper.
    """
    count = pl.col(firm_col).n_unique() if distinct else pl.len()
    counts = pairs.group_by(region_col, node_col).agg(count.alias("n"))
    region_index = {r: i for i, r in enumerate(regions)}
    node_index = {n: j for j, n in enumerate(nodes)}
    x = np.zeros((len(regions), len(nodes)))
    ri = counts[region_col].replace_strict(region_index, default=-1, return_dtype=pl.Int64).to_numpy()
    nj = counts[node_col].replace_strict(node_index, default=-1, return_dtype=pl.Int64).to_numpy()
    keep = (ri >= 0) & (nj >= 0)
    x[ri[keep], nj[keep]] = counts["n"].to_numpy()[keep]
    return x
