"""The Spark engine (local[2]) against the single-machine path on the same 50,000 generated records: identical
placements, region × node matrices and match pairs. One Spark session serves every test (`spark`, the only Spark
session of a test run: its JVM is gone before the modules after this one run), and each command runs once per
engine (module fixtures)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from chainatlas.cli.main import app

HEADER = ["id", "node_id", "node_name", "score", "evidence"]


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    """Spark in local mode (local[2], as CI runs it): the JVM starts once, and the commands under test find the
    session running (`spark_session` returns the active session)."""
    from chainatlas.engines.spark_session import spark_session

    session = spark_session("local[2]", app_name="chainatlas-tests")
    yield session
    session.stop()


def _run(*args: str) -> str:
    done = CliRunner().invoke(app, list(args))
    assert done.exit_code == 0, done.output
    return done.output


def _csv_rows(paths: list[Path]) -> list[list[str]]:
    """The data rows of CSV files read one after another (each file's header row checked and skipped)."""
    rows = []
    for path in paths:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            assert next(reader, None) == HEADER, path
            rows.extend(reader)
    return rows


@pytest.fixture(scope="module")
def placed(generated_firms: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("single") / "placed.csv"
    _run("classify", str(generated_firms), "--chain", "nev-icv", "--out", str(out), "--workers", "1")
    return out


@pytest.fixture(scope="module")
def placed_on_spark(spark, generated_firms: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("spark") / "placed.csv"
    said = _run("classify", str(generated_firms), "--chain", "nev-icv", "--out", str(out), "--engine", "spark")
    return out, said


def test_classify_on_spark_equals_one_machine(placed: Path, placed_on_spark: tuple[Path, str]) -> None:
    folder, said = placed_on_spark
    parts = sorted(folder.glob("part-*.csv"))
    assert len(parts) >= 2  # the file was really read in several partitions
    expected, got = _csv_rows([placed]), _csv_rows(parts)
    assert len(expected) > 10_000
    assert got == expected  # the same rows in the same order: ids, nodes, scores and evidence
    # firms without id or USCC are named by their row in the file, in every partition
    assert [r[0] for r in got if r[0].startswith("第")] == [r[0] for r in expected if r[0].startswith("第")]
    assert any(r[0].startswith("第") for r in _csv_rows(parts[1:]))
    assert "50000 家企业" in said


def test_matrix_on_spark_equals_one_machine(generated_firms: Path, placed: Path, placed_on_spark: tuple[Path, str],
                                           tmp_path: Path) -> None:
    single, spread = tmp_path / "single.parquet", tmp_path / "spark.parquet"
    _run("matrix", str(generated_firms), "--placements", str(placed), "--out", str(single))
    # Spark reads Spark's placements (a folder of parts): the whole national path on Spark
    _run("matrix", str(generated_firms), "--placements", str(placed_on_spark[0]), "--out", str(spread),
         "--engine", "spark")
    expected = pl.read_parquet(single)
    got = pl.concat([pl.read_parquet(p) for p in sorted(spread.glob("*.parquet"))])
    order = ["kind", "region", "node"]
    assert got.sort(order, nulls_last=True).equals(expected.sort(order, nulls_last=True))
    counts = dict(expected.group_by("kind").len().iter_rows())
    assert counts["chain"] > 300 and counts["node"] > 5_000  # cities × nodes of a country, not a toy
    # each firm is counted once per region: the "all" rows add up to the distinct firms of the registry
    ids = pl.read_csv(generated_firms, columns=["统一社会信用代码"], infer_schema=False)
    assert expected.filter(pl.col("kind") == "all")["firms"].sum() <= ids.height


def test_gaps_use_the_baseline_matrix(generated_firms: Path, placed: Path, demo_db_url: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = tmp_path / "national.parquet"
    _run("matrix", str(generated_firms), "--placements", str(placed), "--out", str(baseline))
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", demo_db_url)
    own = json.loads(_run("gaps", "--zone", "wuhan-edz", "--format", "json"))
    national = json.loads(_run("gaps", "--zone", "wuhan-edz", "--format", "json", "--baseline", str(baseline)))
    matrix = pl.read_parquet(baseline)
    cities = matrix.filter((pl.col("kind") == "chain") & (pl.col("region") != "")).height
    assert national["region_count"] == cities != own["region_count"]
    assert "全国基准矩阵 national.parquet" in national["benchmark"]
    node = "battery-cells-packs"  # a segment: its sub-nodes roll up into it
    firms_on_node = matrix.filter((pl.col("kind") == "node") & (pl.col("node") == node))["firms"].sum()
    assert national["nodes"][node]["benchmark_count"] == firms_on_node
    # the zone's own firms still come from the database
    assert national["nodes"][node]["firm_count"] == own["nodes"][node]["firm_count"]


def test_link_on_spark_equals_one_machine(spark, generated_firms: Path, tmp_path: Path) -> None:
    # the 50,000 records as a registry (the first 40,000) and a zone's list (the last 10,000, new): pairs within
    # the list and across are scored, as an import scores new rows against the database
    firms = pl.read_csv(generated_firms, infer_schema=False)
    registry, zone_list = tmp_path / "registry.csv", tmp_path / "zone.csv"
    firms.head(40_000).write_csv(registry)
    firms.tail(10_000).write_csv(zone_list)
    single, spread = tmp_path / "pairs.csv", tmp_path / "pairs-spark.csv"
    _run("link", str(registry), str(zone_list), "--out", str(single))
    _run("link", str(registry), str(zone_list), "--out", str(spread), "--engine", "spark")
    expected = pl.read_csv(single, infer_schema=False)
    got = pl.read_csv(spread, infer_schema=False)
    assert expected.height > 100  # the generated repeats and typos (5% of rows) are found
    assert got.equals(expected)  # the same pairs, probabilities (to 6 places) and evidence, in the same order
    assert set(expected["right_file"]) == {"zone.csv"}  # every pair has a record of the zone's list
    assert (expected.filter(pl.col("left_file") == "zone.csv")["left_row"].cast(pl.Int64)
            < expected.filter(pl.col("left_file") == "zone.csv")["right_row"].cast(pl.Int64)).all()
    typos = expected.filter(pl.col("evidence").str.contains("核心名称仅差一字"))
    assert typos.height > 0  # the comparison that calls a Python function found typos on both engines alike


def test_spark_input_errors_are_said_in_chinese(spark, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-registry.csv"
    done = CliRunner().invoke(app, ["classify", str(missing), "--out", str(tmp_path / "out"), "--engine", "spark"])
    assert done.exit_code == 1
    assert "Spark 无法读取" in done.output and "no-such-registry.csv" in done.output
    assert "Traceback" not in done.output
    headerless = tmp_path / "codes.csv"
    headerless.write_text("编号,注册资本\n1,100万元\n", encoding="utf-8")
    done = CliRunner().invoke(app, ["classify", str(headerless), "--out", str(tmp_path / "out"), "--engine", "spark"])
    assert done.exit_code == 1 and "找不到企业名称" in done.output  # checked on the driver, before any task


def test_spark_executors_read_the_derived_vocabulary_beside_the_chain(spark, tmp_path: Path) -> None:
    """The derived file travels with the chain file, so a word of it places a firm on Spark as on one machine."""
    import shutil

    from chainatlas.domain.chain import builtin_chain_path

    chain = Path(shutil.copyfile(builtin_chain_path("nev-icv"), tmp_path / "my-chain.yaml"))
    (tmp_path / "my-chain.derived.csv").write_text(
        "node_id,term,strength,relation,path,source\n"
        "chassis-parts,半轴,strong,专用上游材料,驱动桥 —上游材料→ 半轴,test\n", encoding="utf-8")
    firms = tmp_path / "firms.csv"
    firms.write_text("企业名称,主营产品\n某某机械有限公司,汽车半轴:0.6;农机配件:0.4\n", encoding="utf-8")
    one, on_spark = tmp_path / "one.csv", tmp_path / "spark"
    _run("classify", str(firms), "--chain", str(chain), "--out", str(one), "--workers", "1")
    _run("classify", str(firms), "--chain", str(chain), "--out", str(on_spark), "--engine", "spark")
    rows = _csv_rows(sorted(on_spark.glob("part-*.csv")))
    assert rows == _csv_rows([one]) and len(rows) == 1
    assert rows[0][1] == "chassis-parts" and json.loads(rows[0][4])[0]["source"] == "derived"


def test_spark_executors_apply_the_learned_model_beside_the_chain(spark, tmp_path: Path) -> None:
    """The chain's model file travels with it: a model that turns down every unclear placement turns it down on
    Spark as on one machine, and leaves the clear one to the rules on both. (A file name of its own: Spark keeps
    the first file shipped under a name for the whole session.)"""
    import shutil

    from chainatlas.domain.chain import builtin_chain_path
    from chainatlas.engines.classify import FIELDS
    from chainatlas.engines.placement_model import PlacementModel, dense_names

    chain = Path(shutil.copyfile(builtin_chain_path("nev-icv"), tmp_path / "modelled-chain.yaml"))
    refuses = PlacementModel(dense_names(FIELDS), 16, -10.0, 0.1, [], 0.5, "nev-icv", "")
    (tmp_path / "modelled-chain.model.json").write_text(refuses.to_json(), encoding="utf-8")
    firms = tmp_path / "firms.csv"
    firms.write_text("企业名称,主营产品\n某电子股份有限公司,消费电池:0.9;动力电池:0.03\n"
                     "某动力电池股份有限公司,动力电池:0.95\n", encoding="utf-8")
    one, on_spark = tmp_path / "one.csv", tmp_path / "spark"
    _run("classify", str(firms), "--chain", str(chain), "--out", str(one), "--workers", "1")
    _run("classify", str(firms), "--chain", str(chain), "--out", str(on_spark), "--engine", "spark")
    rows = _csv_rows(sorted(on_spark.glob("part-*.csv")))
    assert rows == _csv_rows([one]) and [r[1] for r in rows] == ["battery-cells-packs"]


def test_targets_name_the_baseline_cities(generated_firms: Path, placed: Path, demo_db_url: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from chainatlas.domain.chain import load_chain
    from chainatlas.services.analysis.matrix import load_baseline, node_cities

    baseline = tmp_path / "national.parquet"
    _run("matrix", str(generated_firms), "--placements", str(placed), "--out", str(baseline))
    national = load_baseline(baseline, load_chain("nev-icv"))
    cities = node_cities(national, "battery-cells-packs")
    assert cities and all(c.rca >= 1 for c in cities)
    assert [c.firms for c in cities] == sorted((c.firms for c in cities), reverse=True)
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", demo_db_url)
    monkeypatch.setenv("CHAINATLAS_BASELINE", str(baseline))
    said = _run("targets", "--node", "battery-cells-packs", "--limit", "3")
    total = int(national.node_all[national.nodes.index("battery-cells-packs")])
    assert f"全国基准（national.parquet）：该环节 {total} 家企业" in said
    assert f"{cities[0].firms} 家（RCA {cities[0].rca:.1f}）" in said


def test_one_spark_session_links_twice(spark, generated_firms: Path, tmp_path: Path) -> None:
    # a long-lived driver (a notebook, a spark-submit script) resolves file after file in one session
    firms = pl.read_csv(generated_firms, infer_schema=False, n_rows=400)
    small = tmp_path / "small.csv"
    firms.vstack(firms.head(20)).write_csv(small)  # 20 firms listed twice
    outputs = []
    for k in range(2):
        out = tmp_path / f"pairs-{k}.csv"
        _run("link", str(small), "--out", str(out), "--engine", "spark")
        outputs.append(pl.read_csv(out, infer_schema=False))
    assert outputs[0].equals(outputs[1]) and outputs[0].height >= 20
