"""`chainatlas search` and `chainatlas show` on the demo database: the same firms and facts the web's 企业搜索 and
enterprise page give (both call services/enterprises), in Chinese tables or JSON."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.store import db
from chainatlas.store.models import Enterprise, EnterpriseAlias

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


@pytest.fixture
def cli_db(demo_db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", demo_db_url)
    return demo_db_url


def _firm(url: str, *where) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    with db.session_scope(url) as s:
        e = s.scalar(select(Enterprise).where(Enterprise.merged_into_id.is_(None), *where).order_by(Enterprise.id))
        return e.id, e.name, e.short_name


def test_search_finds_by_former_name_and_says_which_name_matched(cli_db: str) -> None:
    firm_id, name, _ = _firm(cli_db, Enterprise.zone_id.is_not(None))
    with db.session_scope(cli_db) as s:
        s.add(EnterpriseAlias(enterprise_id=firm_id, alias="江城旧名称机电厂", kind="former", source="manual"))
    out = runner.invoke(app, ["search", "旧名称机电"], env=WIDE)
    assert out.exit_code == 0, out.output
    assert name in out.output and "曾用名：江城旧名称机电厂" in out.output and "演示数据" in out.output

    data = json.loads(runner.invoke(app, ["search", "旧名称机电", "--format", "json"]).output)
    assert [r["id"] for r in data["results"]] == [firm_id]
    assert data["results"][0]["matched"] == "曾用名：江城旧名称机电厂" and data["is_demo"] is True


def test_search_with_no_hit_says_so(cli_db: str) -> None:
    out = runner.invoke(app, ["search", "不存在的企业名称甲乙丙"])
    assert out.exit_code == 0 and "没有找到" in out.output
    assert json.loads(runner.invoke(app, ["search", "不存在的企业名称甲乙丙", "--format", "json"]).output)["results"] == []


def test_show_by_id_and_by_exact_name(cli_db: str) -> None:
    firm_id, name, _ = _firm(cli_db, Enterprise.is_leader.is_(True))
    by_id = runner.invoke(app, ["show", str(firm_id)], env=WIDE)
    assert by_id.exit_code == 0, by_id.output
    assert f"{name}（编号 {firm_id}）" in by_id.output and "统一社会信用代码" in by_id.output
    assert "产业链上的位置" in by_id.output and "供应关系" in by_id.output  # a leader is placed and has suppliers

    data = json.loads(runner.invoke(app, ["show", name, "--format", "json"]).output)
    assert data["enterprise"]["id"] == firm_id
    labels = {f["label"]: f["value"] for f in data["fields"]}
    assert labels["链主企业"] == "是" and labels["数据来源"] == "演示数据（非真实记录）"
    assert data["effective"] and all(p["node"]["name_zh"] for p in data["effective"])


def test_show_refuses_an_unknown_or_ambiguous_firm_in_chinese(cli_db: str) -> None:
    missing = runner.invoke(app, ["show", "99999"])
    assert missing.exit_code == 1 and "找不到编号为 99999 的企业" in missing.output
    ambiguous = runner.invoke(app, ["show", "有限公司"])
    assert ambiguous.exit_code == 1 and "对应多家企业" in ambiguous.output and "请给出企业编号" in ambiguous.output


def test_show_follows_a_merge_to_the_surviving_firm(cli_db: str) -> None:
    keep_id, keep_name, _ = _firm(cli_db, Enterprise.is_leader.is_(True))
    gone_id, _, _ = _firm(cli_db, Enterprise.id != keep_id, Enterprise.is_leader.is_(False))
    with db.session_scope(cli_db) as s:
        s.get(Enterprise, gone_id).merged_into_id = keep_id
    data = json.loads(runner.invoke(app, ["show", str(gone_id), "--format", "json"]).output)
    assert data["enterprise"]["id"] == keep_id and data["enterprise"]["name"] == keep_name
