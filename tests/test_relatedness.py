"""Relatedness measures on matrices worked by hand, and the properties the formulas guarantee."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from chainatlas.engines import relatedness as rel

# Hand-worked world: 3 regions × 3 nodes.
#        n0 n1 n2 | row total
#   r0 [  2, 2, 0 ]  4
#   r1 [  0, 2, 2 ]  4
#   r2 [  2, 0, 0 ]  2
#   col  4  4  2  | 10      world shares: .4, .4, .2
# RCA r0 = (.5/.4, .5/.4, 0)       = (1.25, 1.25, 0)
# RCA r1 = (0, .5/.4, .5/.2)       = (0, 1.25, 2.5)
# RCA r2 = (1/.4, 0, 0)            = (2.5, 0, 0)
# M = [[1,1,0],[0,1,1],[1,0,0]]; ubiquity k = (2, 2, 1)
# co-presence: (n0,n1) in r0 only → 1; (n1,n2) in r1 only → 1; (n0,n2) never → 0
# phi01 = 1/max(2,2) = .5; phi12 = 1/max(2,1) = .5; phi02 = 0; diagonal 1 (k/k, as `ecomplexity` has it)
# column sums of phi = (1.5, 2, 1.5)
# density r0: M@phi = (1.5, 1.5, .5) → (1, .75, 1/3);  r1: (.5, 1.5, 1.5) → (1/3, .75, 1);  r2: (1, .5, 0) → (2/3, .25, 0)
X = np.array([[2, 2, 0], [0, 2, 2], [2, 0, 0]], dtype=float)


def test_rca_presence_proximity_density_by_hand() -> None:
    r = rel.rca(X)
    np.testing.assert_allclose(r, [[1.25, 1.25, 0], [0, 1.25, 2.5], [2.5, 0, 0]])
    m = rel.presence(r)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 1, 1], [1, 0, 0]])
    phi = rel.proximity(m)
    np.testing.assert_allclose(phi, [[1, 0.5, 0], [0.5, 1, 0.5], [0, 0.5, 1]])
    d = rel.density(m, phi)
    np.testing.assert_allclose(d, [[1, 0.75, 1 / 3], [1 / 3, 0.75, 1], [2 / 3, 0.25, 0]])


def test_complexity_and_outlook_by_hand() -> None:
    # kc = (2,2,1), kp = (2,2,1). Mpp = (M/kp)^T (M/kc) = [[.75,.25,0],[.25,.5,.25],[0,.5,.5]].
    # Eigenvalues 1, (.75 ± √.3125)/2 = .6545, .0955. For .6545: v ∝ (1, -.382, -1.236).
    # kc_vec = (M/kc) v = (.309, -.809, 1) correlates negatively with diversity (2,2,1) → flip sign:
    # eci ∝ (-.309, .809, -1), pci ∝ (-1, .382, 1.236). Standardise both with ECI mean -.1667, std .7454:
    # ECI = (-.191, 1.309, -1.118); PCI = (-1.118, .736, 1.882).
    # The unit eigenvector is kp = (-.6115, .2336, .7559); std kc = .4558, so kp / std kc = (-1.342, .512, 1.658).
    m = rel.presence(rel.rca(X))
    c = rel.complexity(m)
    np.testing.assert_allclose(c.eci, [-0.191, 1.309, -1.118], atol=2e-3)
    np.testing.assert_allclose(c.pci, [-1.118, 0.736, 1.882], atol=2e-3)
    np.testing.assert_allclose(c.kp, [-1.342, 0.512, 1.658], atol=2e-3)
    # COI before standardising: r0 misses n2 (d 1/3): .553; r1 misses n0 (d 1/3): -.447; r2 misses n1 (d .25)
    # and n2 (d 0): .128. Mean .078, std .410 → COI (1.159, -1.281, .123).
    # COG r2,n1 = Σ_i∈{n1,n2} φ_i1 kp_i / Σ_k φ_ik = 1×.512/2 + .5×1.658/1.5 = .809
    # COG r2,n2 = φ12 kp1/2 + φ22 kp2/1.5 = .5×.512/2 + 1.658/1.5 = 1.234;  COG r2,n0 = 0 (already present)
    phi = rel.proximity(m)
    coi, cog = rel.outlook(m, phi, rel.density(m, phi), c.kp)
    np.testing.assert_allclose(coi, [0.553, -0.447, 0.128], atol=2e-3)
    np.testing.assert_allclose(cog[2], [0, 0.809, 1.234], atol=2e-3)
    result = rel.relatedness(X, ["r0", "r1", "r2"], ["n0", "n1", "n2"])
    np.testing.assert_allclose(result.coi, [1.159, -1.281, 0.123], atol=2e-3)


def test_location_quotient_by_hand() -> None:
    # local: 3 of 30 firms on n0 (10%), benchmark 50 of 1000 (5%) → LQ 2; n1: 0 → 0; n2: benchmark empty → undefined
    lq = rel.location_quotient(np.array([3, 0, 0]), 30, np.array([50, 20, 0]), 1000)
    assert lq[0] == pytest.approx(2.0)
    assert lq[1] == 0.0
    assert np.isnan(lq[2])
    assert np.isnan(rel.location_quotient(np.array([1]), 0, np.array([1]), 10)).all()


def _random_world(seed: int, regions: int = 40, nodes: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.poisson(rng.gamma(0.6, 3.0, size=(regions, nodes)))
    x[3, :] = 0  # an empty region
    x[:, 5] = 0  # an empty node
    return x.astype(float)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_known_properties(seed: int) -> None:
    x = _random_world(seed)
    result = rel.relatedness(x, [f"r{i}" for i in range(x.shape[0])], [f"n{j}" for j in range(x.shape[1])])
    for arr in (result.rca, result.phi, result.density, result.eci, result.pci, result.coi, result.cog):
        assert np.isfinite(arr).all()
    phi = result.phi
    np.testing.assert_allclose(phi, phi.T)
    np.testing.assert_array_equal(np.diag(phi), result.m.sum(axis=0) > 0)  # 1 for a node present somewhere
    assert phi.min() >= 0 and phi.max() <= 1
    assert result.density.min() >= 0 and result.density.max() <= 1 + 1e-12
    # Σ_j RCA_rj × (world share_j) = 1 for every non-empty region (the region's shares add up to 1)
    world = x.sum(axis=0) / x.sum()
    sums = (result.rca * world[None, :]).sum(axis=1)
    np.testing.assert_allclose(sums[x.sum(axis=1) > 0], 1.0)
    assert sums[3] == 0 and (result.rca[:, 5] == 0).all()
    # the empty node has no proximity and no density anywhere
    assert (phi[5] == 0).all() and (result.density[:, 5] == 0).all()
    # COG is zero where the node is already present
    assert (result.cog[result.m == 1] == 0).all()


def test_region_present_everywhere_and_identical_regions() -> None:
    # A region with the world's own mix has RCA 1 on every node, hence present everywhere.
    x = np.array([[1, 2, 3], [2, 4, 6], [5, 0, 1]], dtype=float)
    x = np.vstack([x, x.sum(axis=0)])
    r = rel.rca(x)
    np.testing.assert_allclose(r[3], 1.0)
    assert rel.presence(r)[3].all()
    # Nodes that always appear together have proximity 1.
    m = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=float)
    phi = rel.proximity(m)
    assert phi[0, 1] == 1.0 and phi[0, 2] == 0.0
    # A region holding one of two nodes that always appear together is half-way to the other (φ counts itself).
    np.testing.assert_allclose(rel.density(np.array([1.0, 0, 0]), phi), [0.5, 0.5, 0])


def test_score_row_for_a_zone_inside_the_world() -> None:
    result = rel.relatedness(X, ["r0", "r1", "r2"], ["n0", "n1", "n2"])
    # A zone with r1's mix scores exactly as r1 does.
    row = result.score_row(np.array([0, 1, 1.0]), 2)
    np.testing.assert_allclose(row["rca"], result.rca[1])
    np.testing.assert_allclose(row["density"], result.density[1])
    np.testing.assert_allclose(row["cog"], result.cog[1])
    np.testing.assert_allclose(row["coi"], result.coi[1])


def test_count_matrix_counts_distinct_firms() -> None:
    pairs = pl.DataFrame(
        {
            "region": ["a", "a", "a", "b", "b", "zz"],
            "node": ["n0", "n0", "n1", "n1", "nX", "n0"],
            "firm": [1, 1, 2, 3, 3, 9],  # firm 1 twice on n0 counts once; unknown node and region are dropped
        }
    )
    x = rel.count_matrix(pairs, ["a", "b"], ["n0", "n1"])
    np.testing.assert_array_equal(x, [[1, 1], [0, 1]])


def test_degenerate_matrices_do_not_raise() -> None:
    for x in (np.zeros((3, 4)), np.ones((1, 3)), np.eye(3)):
        result = rel.relatedness(x, [str(i) for i in range(x.shape[0])], [str(j) for j in range(x.shape[1])])
        assert np.isfinite(result.density).all() and np.isfinite(result.pci).all()


def test_every_measure_agrees_with_ecomplexity_on_a_real_matrix(shared_data: Path) -> None:
    """Provinces × industries of the A-share firms (Tushare 2024): the Growth Lab package is the reference."""
    pd = pytest.importorskip("pandas")
    ecomplexity = pytest.importorskip("ecomplexity")
    firms = pl.read_csv(shared_data / "listed_companies" / "tushare_a_share_basic_2024.csv", infer_schema=False)
    counts = (firms.drop_nulls(["province", "industry"]).group_by("province", "industry").len()
              .sort("province", "industry"))
    regions, nodes = sorted(set(counts["province"])), sorted(set(counts["industry"]))
    assert len(regions) >= 30 and len(nodes) >= 100  # a real matrix, not a toy
    x = np.zeros((len(regions), len(nodes)))
    for province, industry, n in counts.iter_rows():
        x[regions.index(province), nodes.index(industry)] = n
    ours = rel.relatedness(x, regions, nodes)

    long = pd.DataFrame({"year": 2024, "loc": np.repeat(regions, len(nodes)), "prod": np.tile(nodes, len(regions)),
                         "val": x.ravel()})
    cols = {"time": "year", "loc": "loc", "prod": "prod", "val": "val"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ecomplexity.ecomplexity(long, cols, verbose=False, check_logsupermodularity=False)
        prox = ecomplexity.proximity(long, cols)  # named after the product column: prod_1, prod_2
    ref = ref.set_index(["loc", "prod"]).loc[list(zip(long["loc"], long["prod"]))]

    def grid(column: str) -> np.ndarray:
        return ref[column].to_numpy(dtype=float).reshape(len(regions), len(nodes))

    np.testing.assert_allclose(ours.rca, grid("rca"), rtol=1e-12)
    np.testing.assert_array_equal(ours.m, grid("mcp"))
    np.testing.assert_allclose(ours.eci, grid("eci")[:, 0], atol=1e-9)
    np.testing.assert_allclose(ours.pci, grid("pci")[0], atol=1e-9)
    np.testing.assert_allclose(ours.density, grid("density"), atol=1e-12)
    np.testing.assert_allclose(ours.coi, grid("coi")[:, 0], atol=1e-9)
    np.testing.assert_allclose(ours.cog, grid("cog"), atol=1e-9)
    phi = prox.pivot(index="prod_1", columns="prod_2", values="proximity").loc[nodes, nodes].to_numpy()
    np.testing.assert_allclose(ours.phi, phi, atol=1e-12)
