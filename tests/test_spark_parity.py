"""The Spark engine (local[2]) against the single-machine path on the same 50,000 generated records: identical
placements, region × node matrices and match pairs. One Spark session serves every test (conftest `spark`)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainatlas.cli.main import app


def _csv_rows(paths: list[Path]) -> list[list[str]]:
    """The data rows of CSV files read one after another (each file's header row skipped)."""
    rows = []
    for path in paths:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            assert header == ["id", "node_id", "node_name", "score", "evidence"], path
            rows.extend(reader)
    return rows


def test_classify_on_spark_equals_one_machine(spark, generated_firms: Path, tmp_path: Path) -> None:
    single, spread = tmp_path / "single.csv", tmp_path / "spark.csv"
    runner = CliRunner()
    done = runner.invoke(app, ["classify", str(generated_firms), "--chain", "nev-icv", "--out", str(single),
                               "--workers", "1"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["classify", str(generated_firms), "--chain", "nev-icv", "--out", str(spread),
                               "--engine", "spark"])
    assert done.exit_code == 0, done.output
    parts = sorted(spread.glob("part-*.csv"))
    assert len(parts) >= 2  # the file was really read in several partitions
    expected, got = _csv_rows([single]), _csv_rows(parts)
    assert len(expected) > 10_000
    assert got == expected  # the same rows in the same order: ids, nodes, scores and evidence
    # firms without id or USCC are named by their row in the file, across partition boundaries too
    assert any(row[0].startswith("第") for row in got)
    assert "家企业" in done.output and "50000" in done.output
