"""Files that ask the readers for far more than they hold are refused before anything is allocated (issue 22):
the same Chinese message, naming the file and the limit, in the reader, the CLI preview and the web."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from chainatlas.ingest import limits
from chainatlas.ingest.mapping import ENTERPRISE_FIELDS
from chainatlas.ingest.reader import ReadError, read_table
from hostile_files import corner_cells_xlsx, long_line_csv, many_rows_xlsx, text_cell, wide_csv, workbook

CLI = Path(sys.executable).parent / "chainatlas"


def test_cells_at_a1_and_the_last_cell_are_refused(tmp_path: Path) -> None:
    path = corner_cells_xlsx(tmp_path / "角落.xlsx")
    assert path.stat().st_size < 2_000
    with pytest.raises(ReadError, match=r"角落\.xlsx：工作表声明的范围有 16,384 列.*上限（1,000 列）"):
        read_table(path, ENTERPRISE_FIELDS)


def test_far_cells_without_a_dimension_are_refused(tmp_path: Path) -> None:
    """A workbook need not declare its range: the cells' own positions count."""
    path = workbook(tmp_path / "远.xlsx", [f'<row r="1">{text_cell("A1", "企业名称")}</row>',
                                          f'<row r="30000">{text_cell("ZZ30000", "x")}</row>'])
    with pytest.raises(ReadError, match=r"远\.xlsx.*30,000 行 × 702 列.*20,000,000 个单元格"):
        read_table(path, ENTERPRISE_FIELDS)


@pytest.fixture(scope="module")
def eight_million_rows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return many_rows_xlsx(tmp_path_factory.mktemp("rows") / "长.xlsx")


def test_rows_past_excels_height_are_refused(eight_million_rows: Path) -> None:
    path = eight_million_rows
    assert path.stat().st_size < 2_000_000
    with pytest.raises(ReadError, match=r"长\.xlsx.*行.*上限（1,048,576 行）"):
        read_table(path, ENTERPRISE_FIELDS)


def test_a_workbook_within_the_limits_still_reads(tmp_path: Path) -> None:
    path = workbook(tmp_path / "正常.xlsx", [f'<row r="1">{text_cell("A1", "企业名称")}{text_cell("B1", "注册地址")}</row>',
                                            f'<row r="2">{text_cell("A2", "武汉某公司")}{text_cell("B2", "武汉")}</row>'],
                    "A1:B2")
    table = read_table(path, ENTERPRISE_FIELDS)
    assert table.headers == ["企业名称", "注册地址"] and table.columns[0] == ["武汉某公司"]


def test_a_million_columns_are_refused(tmp_path: Path) -> None:
    path = wide_csv(tmp_path / "宽.csv")
    with pytest.raises(ReadError, match=r"宽\.csv：第 1 行有 1,000,000 列.*上限（1,000 列）"):
        read_table(path, ENTERPRISE_FIELDS)


def test_short_rows_under_a_wide_header_cannot_pad_past_the_cell_limit(tmp_path: Path) -> None:
    path = tmp_path / "填充.csv"
    rows = 50_001
    path.write_bytes(("企业名称" + ",a" * 999 + "\n" + "武汉某公司\n" * rows).encode("utf-8"))
    with pytest.raises(ReadError, match=r"填充\.csv.*个单元格.*上限（50,000,000 个单元格）"):
        read_table(path, ENTERPRISE_FIELDS)


def test_a_30_mb_cell_gets_a_chinese_message(tmp_path: Path) -> None:
    path = long_line_csv(tmp_path / "长行.csv")
    with pytest.raises(ReadError, match=r"长行\.csv：第 2 行有一个单元格长 .* 个字符.*上限（每格 32,767 个字符）"):
        read_table(path, ENTERPRISE_FIELDS)


def test_a_long_cell_in_a_file_polars_reads_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "长格.csv"
    path.write_bytes(("企业名称,注册地址\n" + "武汉某公司,武汉\n" * 100 + "甲公司," + "长" * 40_000 + "\n").encode())
    with pytest.raises(ReadError, match=r"长格\.csv.*40,000 个字符.*上限"):
        read_table(path, ENTERPRISE_FIELDS)


def _run_cli(args: list[str], tmp_path: Path) -> tuple[int, str, int]:
    """Run the CLI; (exit code, output, the process's own peak resident memory in bytes)."""
    env = {**os.environ, "CHAINATLAS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "CHAINATLAS_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    with open(tmp_path / "out.txt", "w+b") as out:
        proc = subprocess.Popen([str(CLI), *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        timer = threading.Timer(60, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)  # reaps it with its resource use (Popen.wait would not give it)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return proc.returncode, out.read().decode(), usage.ru_maxrss * 1024


@pytest.mark.parametrize("make", ["corner-cells", "million-columns", "8M-rows"])
def test_cli_preview_of_a_hostile_file_exits_1_naming_the_limit(make: str, request: pytest.FixtureRequest,
                                                                 tmp_path: Path) -> None:
    path = {"corner-cells": lambda: corner_cells_xlsx(tmp_path / "角落.xlsx"),
            "million-columns": lambda: wide_csv(tmp_path / "宽.csv"),
            "8M-rows": lambda: request.getfixturevalue("eight_million_rows")}[make]()
    code, out, peak = _run_cli(["import", "enterprises", str(path), "--preview"], tmp_path)
    assert code == 1, out
    assert "错误" in out and path.name in out and "上限" in out and "Traceback" not in out
    assert peak < 1.5 * 2**30
