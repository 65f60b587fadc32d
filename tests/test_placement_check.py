"""归链核实: the zone's firms an officer should look at — placements inferred from a generic line, firms placed
nowhere with the chain words their text holds — decided from the page, kept as manual rows. Real listed firms
(their Tushare industry, their ChainKnowledgeGraph main products and shares) imported through the CLI into a real SQLite file, the real app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.domain.chain import load_chain
from chainatlas.services.placement.check import placement_check
from chainatlas.store import db
from chainatlas.store.models import Enterprise
from chainatlas.web.app import create_app
from web_helpers import app_url, import_firms_and_zone, login, template  # noqa: F401 (fixtures)

runner = CliRunner()
FIRMS = """股票代码,企业名称,城市,省份,所属行业,主营产品
600104.SH,上汽集团,上海市,上海,汽车整车,汽车制造业:0.996301、整车业务:0.805796、零部件业务:0.174207
600619.SH,海立股份,上海市,上海,家用电器,压缩机:1.0、制冷设备:1.0、汽车零部件和贸易:0.224095、电机:0.088217
300627.SZ,华测导航,上海市,上海,通信设备,数据采集设备:0.436236、高精度GNSS接收机:0.364622、系统解决方案:0.193567、数据应用:0.063764
002022.SZ,科华生物,上海市,上海,医疗保健,体外临床诊断试剂:0.650547、诊断仪器:0.502068、医疗仪器:0.323027
300750.SZ,宁德时代,宁德市,福建,电气设备,动力电池系统:0.825388、锂电池材料:0.103676、储能系统:0.051097
"""


@pytest.fixture
def shanghai(app_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return import_firms_and_zone(app_url, tmp_path, monkeypatch, FIRMS, "上海市", "310100")


def _check(url: str):
    with db.session_factory(url)() as s:
        return placement_check(s, "zone-3101", load_chain("nev-icv"))


def _id(url: str, short: str) -> int:
    with db.session_factory(url)() as s:
        return next(e.id for e in s.query(Enterprise) if short in e.name)


def test_the_lists_an_officer_checks(shanghai: str) -> None:
    check = _check(shanghai)
    # 宁德时代 is outside the zone; 上汽集团 is placed by the rules, 海立股份 only by its generic 汽车零部件和贸易 line
    assert (check.zone_firms, check.placed, check.decided_off) == (4, 2, 0)
    assert [r.name for r in check.inferred] == ["海立股份"] and check.inferred_total == 1
    inferred = check.inferred[0].inferred
    assert inferred.node_id == "chassis-parts" and any(e.get("kind") == "generic" for e in inferred.evidence)
    # unplaced: the firm whose text holds chain words comes first, with them; the diagnostics maker has none
    assert [r.name for r in check.unplaced] == ["华测导航", "科华生物"] and check.unplaced_with_hints == 1
    hints = check.unplaced[0].hints
    assert hints and load_chain("nev-icv").segment_of(hints[0].node_id).id == "positioning-maps"
    assert {e["word"] for e in hints[0].evidence} >= {"GNSS"}
    assert check.unplaced[1].hints == []
    assert check.unplaced[0].products[:2] == ["数据采集设备 43.6%", "高精度GNSS接收机 36.5%"]


def test_decisions_from_the_page_come_back_to_it_and_stay(shanghai: str) -> None:
    huace, kehua = _id(shanghai, "华测导航"), _id(shanghai, "科华生物")
    with TestClient(create_app(shanghai)) as client:
        login(client, "analyst")
        page = client.get("/placements/check")
        assert page.status_code == 200 and "归链核实" in page.text
        assert "归入高精定位与地图" in page.text and "确认：底盘与传统零部件" in page.text
        # the firm's own page shows the same hints
        assert re.search(r'id="placement-hints".*GNSS', client.get(f"/enterprises/{huace}").text, re.S)
        token = client.get("/api/me").json()["csrf_token"]
        placed = client.post(f"/enterprises/{huace}/placements", follow_redirects=False, data={
            "action": "add", "node_id": "positioning-maps", "note": "归链核实", "return_to": "check", "csrf_token": token})
        assert placed.status_code == 303 and placed.headers["location"] == "/placements/check"
        off = client.post(f"/enterprises/{kehua}/placements", follow_redirects=False, data={
            "action": "off_chain", "return_to": "check", "csrf_token": token})
        assert off.headers["location"] == "/placements/check"
        # a return_to the form does not know goes to the firm's page, never to a URL taken from the form
        other = client.post(f"/enterprises/{kehua}/placements", follow_redirects=False, data={
            "action": "clear", "return_to": "https://example.com/", "csrf_token": token})
        assert other.headers["location"] == f"/enterprises/{kehua}#placements"
        client.post(f"/enterprises/{kehua}/placements", data={"action": "off_chain", "csrf_token": token})
        api = client.get("/api/placements/check").json()
        assert (api["placed"], api["decided_off"], api["unplaced_total"]) == (3, 1, 0)
        assert 'data-firm="%d"' % huace not in client.get("/placements/check").text

    # a re-classification keeps the officer's decisions
    assert runner.invoke(app, ["place", "--chain", "nev-icv"]).exit_code == 0
    check = _check(shanghai)
    assert (check.placed, check.decided_off, check.unplaced_total) == (3, 1, 0)


def test_a_viewer_sees_the_lists_without_the_forms(shanghai: str) -> None:
    with TestClient(create_app(shanghai)) as client:
        login(client, "viewer")
        page = client.get("/placements/check")
        assert page.status_code == 200 and "华测导航" in page.text and "只能查看" in page.text
        assert 'name="action"' not in page.text


def test_the_check_list_as_a_workbook_to_hand_out(shanghai: str, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "核实.xlsx"
    result = runner.invoke(app, ["export", "check", "--zone", "上海市", "--out", str(out)])
    assert result.exit_code == 0 and "归链核实清单已导出" in result.output and "（3 行）" in result.output
    ws = load_workbook(out).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0][0] == "上海市新能源与智能网联汽车产业链归链核实清单"
    assert "泛称推断 1 家、未挂链 2 家（其中文本含产业链词 1 家）" in rows[1][0]
    assert rows[2][:2] == ["类别", "企业名称"] and rows[2][7].startswith("核实结论")
    kinds = {r[1]: (r[0], r[5]) for r in rows[3:]}
    assert kinds == {"海立股份": ("泛称推断待核实", "底盘与传统零部件"), "华测导航": ("未挂链（有线索）", kinds["华测导航"][1]),
                     "科华生物": ("未挂链", None)}
    assert kinds["华测导航"][1].startswith("高精定位与地图")
    with TestClient(create_app(shanghai)) as client:
        login(client, "viewer")
        download = client.get("/downloads/excel/check")
        assert download.status_code == 200 and download.content[:2] == b"PK"


def test_the_demo_zone_has_firms_to_check(demo_db_url: str) -> None:
    # the default deployment shows the page's two lists: generated firms whose text does not settle their place
    with db.session_factory(demo_db_url)() as s:
        check = placement_check(s, "wuhan-edz", load_chain("nev-icv"))
    assert check.inferred_total == 1 and check.inferred[0].inferred.node_id == "chassis-parts"
    assert check.unplaced_total == 4 and check.unplaced_with_hints == 2
    assert all(r.name.startswith("武汉") and "有限公司" in r.name for r in check.inferred + check.unplaced)
    assert [h.node_id for r in check.unplaced[:2] for h in r.hints[:1]] == ["onboard-power", "body-interior-exterior"]
