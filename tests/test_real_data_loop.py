"""The loop a new user runs on real data, from an empty database and the command line only: the Tushare 2024
list, a long product file from ChainKnowledgeGraph, a zone defined by its division code — then gaps lists the
zone's placed firms and `export placements` equals `classify` on the same firms, pair for pair."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from chainatlas.cli.main import app

runner = CliRunner()
# Characters that split a products cell into lines: a product name holding one is written without it in both files.
_SEPARATORS = re.compile(r"[;；、，,\n|:：]")


def product_lines(shared_data: Path) -> dict[str, dict[str, str]]:
    """Stock code → product → share as the long file gives them (a product repeated for a firm keeps its first
    place and its last share, as the import does)."""
    lines: dict[str, dict[str, str]] = {}
    with open(shared_data / "industry_chain" / "ckg_company_product.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            product = _SEPARATORS.sub(" ", r["product"]).strip()
            # positional, never 9.2e-05: a products cell reads digits only
            lines.setdefault(r["company_code"], {})[product] = np.format_float_positional(float(r["weight"]), trim="-")
    return lines


def write_long_file(lines: dict[str, dict[str, str]], out: Path, encoding: str = "utf-8") -> None:
    with open(out, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["股票代码", "产品", "收入占比"])
        for code, products in lines.items():
            writer.writerows([code, product, share] for product, share in products.items())


def write_wide_file(shared_data: Path, lines: dict[str, dict[str, str]], out: Path) -> None:
    """The same firms as one row each for `classify`: stock code, name, industry, products with their shares."""
    with open(shared_data / "listed_companies" / "tushare_a_share_basic_2024.csv", encoding="utf-8") as fh, \
            open(out, "w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["股票代码", "企业名称", "所属行业", "主营产品"])
        for r in csv.DictReader(fh):
            products = lines.get(r["ts_code"], {})
            writer.writerow([r["ts_code"], r["name"], r["industry"],
                             "、".join(f"{p}:{s}" for p, s in products.items())])


def _pairs(path: Path) -> set[tuple[str, str]]:
    with open(path, encoding="utf-8-sig") as fh:
        return {(r["id"], r["node_id"]) for r in csv.DictReader(fh)}


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.output


@pytest.mark.db
def test_real_listed_companies_zone_gaps_and_export_equal_classify(db_url: str, shared_data: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", db_url)
    tushare = shared_data / "listed_companies" / "tushare_a_share_basic_2024.csv"
    lines = product_lines(shared_data)
    long_file, wide_file = tmp_path / "主营产品.csv", tmp_path / "wide.csv"
    write_long_file(lines, long_file)
    write_wide_file(shared_data, lines, wide_file)

    _ok(["import", "enterprises", str(tushare), "--unit", "万元"])
    out = _ok(["import", "products", str(long_file)])
    assert "新增产品线" in out
    out = _ok(["zone", "add", "--name", "深圳市", "--division", "440300"])
    assert re.search(r"库内企业中 [\d,]+ 家在区内", out)

    gaps = runner.invoke(app, ["gaps", "--zone", "深圳市", "--format", "json"])
    assert gaps.exit_code == 0, gaps.output
    data = json.loads(gaps.stdout)
    firms = data["firms"]
    assert len(firms) >= 15 and all(f["nodes"] for f in firms)
    assert {"比亚迪"} <= {f["name"] for f in firms}  # 002594.SZ, 深圳 — a maker of the chain

    _ok(["export", "placements", "--out", str(tmp_path / "db.csv")])
    _ok(["classify", str(wide_file), "--out", str(tmp_path / "classify.csv"), "--workers", "1"])
    from_db, from_classify = _pairs(tmp_path / "db.csv"), _pairs(tmp_path / "classify.csv")
    assert len(from_classify) > 300
    assert from_db == from_classify
