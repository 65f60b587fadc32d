"""CLI habits: whole tables in files and pipes, Chinese node names, the demo notice, help not cut."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from chainatlas.cli.main import app


@pytest.fixture
def run(demo_db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", demo_db_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))  # CliRunner's stdout is not a terminal, like `> file`


def test_gap_table_written_to_a_file_is_whole(run, demo_db_url: str) -> None:  # type: ignore[no-untyped-def]
    from chainatlas.services.analysis.diagnosis import diagnose
    from chainatlas.store import db

    out = run("gaps", "--zone", "武汉经开区", "--reasons")
    assert out.exit_code == 0, out.output
    assert "…" not in out.output and "..." not in out.output
    with db.session_scope(demo_db_url) as s:
        d = diagnose(s, "wuhan-edz")
    longest = max((r for g in d.gaps for r in g.reasons), key=len)
    assert longest in out.output  # the longest reason on one line, not wrapped or cut
    assert "演示数据" in out.output


def test_node_by_chinese_name_and_demo_notice_on_targets_and_suppliers(run) -> None:  # type: ignore[no-untyped-def]
    by_name, by_id = run("targets", "--node", "动力电芯", "--limit", "3"), run("targets", "--node", "battery-cells",
                                                                           "--limit", "3")
    assert by_name.exit_code == 0 and by_name.output == by_id.output and "演示数据" in by_name.output
    bad = run("targets", "--node", "火星电池")
    assert bad.exit_code == 1 and "没有环节“火星电池”" in bad.output
    kpi = run("kpi", "--node", "动力电池")
    assert kpi.exit_code == 0 and "·动力电池" in kpi.output
    sup = run("suppliers", "--leader", "东风汽车")
    assert sup.exit_code == 0 and "演示数据" in sup.output, sup.output


def test_help_lists_every_description_whole(run) -> None:  # type: ignore[no-untyped-def]
    for args in ([], ["projects"], ["import"]):
        out = run(*args, "--help")
        listing = out.output.split("Commands:")[1]  # (the usage line's "ARGS..." is click's own)
        assert out.exit_code == 0 and "..." not in listing and "…" not in listing, out.output


def test_format_csv_tsv_json_for_data_and_the_notice_on_stderr(run) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io
    import json

    from chainatlas import config

    out = run("kpi", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert out.exit_code == 0 and rows[0][:3] == ["指标", "年度目标", "已完成"] and len(rows) == 9
    assert next(r for r in rows if r[0] == "签约项目数")[1] == "15个" and "演示数据" not in out.stdout
    data = json.loads(run("kpi", "--format", "json").stdout)
    assert str(config.today().year) in data["title"] and data["rows"][0]["指标"] == "签约项目数"
    assert any("尚差" in a for a in data["alerts"])
    tsv = run("projects", "list", "--format", "tsv").stdout.splitlines()
    assert tsv[0].split("\t")[:2] == ["项目编号", "项目名称"] and len(tsv) > 20


def test_targets_and_suppliers_as_data(run) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io
    import json

    out = run("targets", "--node", "热管理系统", "--node", "lidar", "--limit", "3", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert out.exit_code == 0 and rows[0] == ["环节", "#", "企业", "城市", "得分", "理由", "编号"]
    assert {r[0] for r in rows[1:]} == {"热管理系统", "激光雷达"} and all(r[6].isdigit() for r in rows[1:])
    sup = json.loads(run("suppliers", "--leader", "东风汽车", "--format", "json").stdout)
    assert sup["title"].endswith("的供应商") and isinstance(sup["rows"], list)
