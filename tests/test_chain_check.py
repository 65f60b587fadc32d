"""`chainatlas chain check` names each problem with its line; the shipped chain passes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.domain.chain import ChainFileError, parse_chain

runner = CliRunner()

GOOD = """\
id: mini
name_zh: 迷你链
name_en: Mini chain
stages:
  - {id: upstream, name_zh: 上游}
  - {id: downstream, name_zh: 下游}
nodes:
  - id: cells
    stage: upstream
    name_zh: 电芯
    keywords: [电芯]
    supplies: [cars]
  - id: cell-lfp
    parent: cells
    stage: upstream
    name_zh: 磷酸铁锂电芯
  - id: cars
    stage: downstream
    name_zh: 整车
    gbt4754: ["3612"]
"""


def test_good_file_parses_with_tree_helpers() -> None:
    chain = parse_chain(GOOD, "mini.yaml")
    assert [n.id for n in chain.segments()] == ["cells", "cars"]
    assert [n.id for n in chain.children("cells")] == ["cell-lfp"]
    assert chain.segment_of("cell-lfp").id == "cells"
    assert chain.neighbours("cars") == {"cells"}
    assert chain.neighbours("cells") == {"cell-lfp", "cars"}


@pytest.mark.parametrize(
    ("broken", "line", "words"),
    [
        (GOOD.replace("  - id: cars", "  - id: cells"), 17, "重复"),
        (GOOD.replace("parent: cells", "parent: batteries"), 14, "batteries"),
        (GOOD.replace("supplies: [cars]", "supplies: [trucks]"), 12, "trucks"),
        (GOOD.replace("stage: downstream", "stage: midstream"), 18, "midstream"),
        (GOOD.replace('gbt4754: ["3612"]', 'gbt4754: ["36A2"]'), 20, "36A2"),
        (GOOD.replace("    name_zh: 磷酸铁锂电芯", "    name_zh: 磷酸铁锂电芯\n    colour: red"), 17, "colour"),
    ],
)
def test_broken_file_names_problem_and_line(broken: str, line: int, words: str) -> None:
    with pytest.raises(ChainFileError) as info:
        parse_chain(broken, "mini.yaml")
    assert any(ln == line and words in msg for ln, msg in info.value.problems), info.value.problems


def test_parent_cycle_is_reported_once() -> None:
    text = GOOD.replace("  - id: cells\n    stage", "  - id: cells\n    parent: cell-lfp\n    stage")
    with pytest.raises(ChainFileError) as info:
        parse_chain(text, "mini.yaml")
    cycles = [msg for _, msg in info.value.problems if "成环" in msg]
    assert len(cycles) == 1 and "cells" in cycles[0] and "cell-lfp" in cycles[0]


def test_yaml_syntax_error_has_line() -> None:
    with pytest.raises(ChainFileError) as info:
        parse_chain(GOOD.replace("keywords: [电芯]", "keywords: [电芯"), "mini.yaml")
    assert info.value.problems[0][0] > 0 and "YAML" in info.value.problems[0][1]


def test_cli_check_rejects_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("parent: cells", "parent: batteries"), encoding="utf-8")
    result = runner.invoke(app, ["chain", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:14:" in result.output and "batteries" in result.output


def test_cli_check_and_show_shipped_chain() -> None:
    result = runner.invoke(app, ["chain", "check", "nev-icv"])
    assert result.exit_code == 0, result.output
    assert "产品图谱派生词" in result.output and "nev-icv.derived.csv" in result.output  # the words in force, and whence
    assert re.search(r"泛称推断：\d+ 个泛称词，默认归入“底盘与传统零部件”", result.output)  # where generic lines go
    assert "泛称推断" not in runner.invoke(app, ["chain", "check", "pv-storage"]).output  # a chain without a fallback
    shown = runner.invoke(app, ["chain", "show", "nev-icv", "--format", "json"])
    rows = json.loads(shown.output)
    ids = {r["id"] for r in rows}
    assert {"cathode", "passenger-nev", "smart-cockpit"} <= ids
    assert all(r["stage"] in {"upstream", "midstream", "downstream"} for r in rows)
    assert all(r["parent_id"] is None or r["parent_id"] in ids for r in rows)
    tree = runner.invoke(app, ["chain", "show", "nev-icv"]).output
    assert "上游" in tree and "正极材料" in tree
