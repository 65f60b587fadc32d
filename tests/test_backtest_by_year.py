"""Forecasting new supply links by year (`backtest --by-year`): knobs from an earlier split, features that carry.

Synthetic world (seeded, built below): 24 makers in two regions, 16 suppliers per region. Region A's suppliers
serve many more makers, so popularity ranks them first for everyone; but every maker only ever adds suppliers of
its own region and of components it buys. A model that reads region and component must beat popularity for the
region-B makers, and the knobs fitted on an earlier split must not see anything after the split they score.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.engines import linkfeatures
from chainatlas.services.targets import backtest as bt
from chainatlas.services.targets import forecast

COMPONENTS = ("Brake", "Pump", "Shaft", "Damper")


def _world(path: Path, seed: int = 5) -> Path:
    rng = random.Random(seed)
    suppliers = {r: [f"{r} Supplier {i} Co., Ltd." for i in range(16)] for r in ("Asia", "Europe")}
    makes = {s: COMPONENTS[i % 4] for r in suppliers for i, s in enumerate(suppliers[r])}
    rows = []
    for m in range(24):
        region = "Asia" if m < 12 else "Europe"
        maker = f"Maker{m}"
        pool = suppliers[region]
        # Asia's first suppliers are everyone's favourites at home; Europe's makers are fewer per supplier
        weights = [8 if (region == "Asia" and i < 6) else 1 for i in range(len(pool))]
        have: set[str] = set()
        for year in range(2010, 2021):
            for _ in range(2):
                s = rng.choices(pool, weights)[0]
                if s not in have or rng.random() < 0.3:
                    have.add(s)
                    rows.append((makes[s], region, maker, f"Model{m}", year, s))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["component", "region", "maker", "model", "model_year", "supplier"])
        w.writerows(rows)
    return path


@pytest.fixture
def world(tmp_path: Path) -> bt.SupplyData:
    return bt.read_marklines(_world(tmp_path / "links.csv"))


def test_knobs_come_from_an_earlier_split_and_never_see_the_scored_links(world: bt.SupplyData) -> None:
    [result] = forecast.run_by_year(world, [2017], seeds=(1,))
    assert result.fit_year == 2014 and result.weights.shape == (len(linkfeatures.FEATURES) + 1,)
    # Links first seen after 2017 are the test; rewriting them all changes nothing the knobs were fitted on.
    kept = [e for e in world.edges if e.year is not None and e.year <= 2017]
    later = [bt.SupplyEdge(e.customer, "Nobody Ltd", e.year, e.component, e.region)
             for e in world.edges if e.year is not None and e.year > 2017]
    changed = bt.SupplyData(kept + later, world.source, world.supplier_names, world.customer_groups)
    np.testing.assert_allclose(forecast.fit_knobs(changed, 2014, 3, seed=1), result.weights)


def test_region_and_component_beat_popularity(world: bt.SupplyData) -> None:
    results = forecast.run_by_year(world, [2016, 2017], seeds=(1, 2))
    for r in results:
        assert len(r.model) == 2 and r.hidden > 20
        model = np.mean([m.recall_at[20] for m in r.model])
        assert model > r.popularity.recall_at[20] * 1.2, (r.year, model, r.popularity.recall_at[20])
        assert r.model[0].auc > r.popularity.auc
        lo, hi = r.recall_lift_interval
        assert lo <= model / r.popularity.recall_at[20] <= hi
    weights = dict(zip(linkfeatures.FEATURES, results[-1].weights))
    assert weights["region"] > 0  # the feature the world is built on is the one the fit leans on


def test_split_years_need_links_on_both_sides(world: bt.SupplyData) -> None:
    years = forecast.split_years(world)
    assert years and min(years) >= 2013 and max(years) <= 2019


def test_cli_by_year_prints_every_split_year(tmp_path: Path) -> None:
    path = _world(tmp_path / "links.csv")
    out = CliRunner().invoke(app, ["backtest", "--file", str(path), "--by-year", "--years", "2016-2017"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    for year in ("2016", "2017"):
        row = next(line for line in lines if line.startswith(year))
        assert row.count("/") == 2 and "×" in row  # recall, lift, hit@20 model/popularity, AUC model/popularity
    assert "recall@20" in out.output and "hit@20" in out.output and "AUC" in out.output
    assert "拟合于 2014" in out.output
    bad = CliRunner().invoke(app, ["backtest", "--file", str(path), "--by-year", "--years", "二〇一九"])
    assert bad.exit_code == 1 and "无法识别的年份" in bad.output
