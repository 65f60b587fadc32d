"""Chains as data: `chainatlas chain add` registers a second chain (光伏与新型储能), every command's --chain takes
its id, re-adding a changed file re-places what changed, and the web never answers 500 for an unknown chain."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.web.app import create_app
from web_helpers import app_url, import_firms_and_zone, login, template  # noqa: F401 (fixtures)

runner = CliRunner()
# Real listed firms with their Tushare city and a few of their ChainKnowledgeGraph main products and shares.
FIRMS = """股票代码,企业名称,城市,省份,主营产品
601012.SH,隆基绿能,西安市,陕西,单晶硅片:0.583817、单晶硅棒:0.07525
300274.SZ,阳光电源,合肥市,安徽,太阳能光伏逆变器:0.89491、光伏电站系统集成:0.538947
002459.SZ,晶澳科技,邢台市,河北,太阳能组件:0.91864
300750.SZ,宁德时代,宁德市,福建,动力电池系统:0.825388、锂电池材料:0.103676、储能系统:0.051097
300118.SZ,东方日升,宁波市,浙江,太阳能电池组件:0.833171、EVA胶膜:0.071672
"""

def pv_chain_file(tmp_path: Path) -> Path:
    """The shipped 光伏与新型储能 chain, copied outside the package as a bureau's own file would be."""
    source = Path(str(resources.files("chainatlas") / "chains" / "pv-storage.yaml"))
    return Path(shutil.copy(source, tmp_path / "光伏储能.yaml"))


@pytest.fixture
def cli_db(app_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return import_firms_and_zone(app_url, tmp_path, monkeypatch, FIRMS, "西安市", "610100")


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.output


def test_second_chain_added_and_used_by_every_command(cli_db: str, tmp_path: Path) -> None:
    path = pv_chain_file(tmp_path)
    out = _ok(["chain", "add", str(path)])
    assert "已登记产业链“光伏与新型储能”（pv-storage" in out and "5 家企业在链上" in out
    assert "pv-storage" in _ok(["chain", "list"]) and "已登记" in _ok(["chain", "list"])
    assert "未做改动" in _ok(["chain", "add", str(path)])  # the same file again

    gaps = json.loads(runner.invoke(app, ["gaps", "--zone", "西安市", "--chain", "pv-storage", "--format", "json"]).stdout)
    assert gaps["chain_id"] == "pv-storage" and gaps["nodes"]["wafers"]["firm_count"] == 1
    assert [f["name"] for f in gaps["firms"]] == ["隆基绿能"]
    targets = _ok(["targets", "--zone", "西安市", "--chain", "pv-storage", "--node", "inverters"])
    assert "阳光电源" in targets  # the inverter maker outside the zone is a target for the zone's gap
    _ok(["wallchart", "--zone", "西安市", "--chain", "pv-storage", "--size", "A3", "--out", str(tmp_path / "pv.pdf")])
    assert (tmp_path / "pv.pdf").read_bytes()[:4] == b"%PDF"
    exported = tmp_path / "pv.csv"
    _ok(["export", "placements", "--chain", "pv-storage", "--out", str(exported)])
    pairs = {tuple(line.split(",")[:2]) for line in exported.read_text(encoding="utf-8-sig").splitlines()[1:]}
    # a firm is on every node it makes something for (issue 20): 宁德时代's 5 % 储能系统 line puts it on storage
    # systems, 东方日升's 7 % EVA胶膜 on PV materials
    assert pairs == {("601012.SH", "wafers"), ("300274.SZ", "inverters"), ("002459.SZ", "pv-modules"),
                     ("300118.SZ", "pv-modules"), ("300118.SZ", "pv-materials"), ("300750.SZ", "storage-systems")}

    # a changed file: 单晶硅片 and 单晶硅棒 are no longer wafer words — only 隆基绿能 is re-placed (its wafer placement
    # goes)
    text = path.read_text(encoding="utf-8").replace("keywords: [单晶硅片, ", "keywords: [").replace("单晶硅棒, ", "")
    path.write_text(text, encoding="utf-8")
    out = _ok(["chain", "add", str(path)])
    assert "1 家企业的归链有变化" in out and "4 家企业在链上" in out


def test_unknown_chain_is_a_chinese_message_naming_the_chains(cli_db: str) -> None:
    result = runner.invoke(app, ["gaps", "--zone", "西安市", "--chain", "no-such-chain"])
    assert result.exit_code == 1 and "找不到产业链文件“no-such-chain”" in result.output and "nev-icv" in result.output


def test_web_switches_chain_per_user_and_never_answers_500(cli_db: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _ok(["chain", "add", str(pv_chain_file(tmp_path))])
    with TestClient(create_app(cli_db)) as analyst, TestClient(create_app(cli_db)) as viewer:
        token = login(analyst, "analyst")
        login(viewer, "viewer")
        options = analyst.get("/api/view").json()
        assert {"id": "pv-storage", "name": "光伏与新型储能"} in options["chains"]
        assert {"id": "zone-6101", "name": "西安市"} in options["zones"]
        switched = analyst.post("/api/view", json={"zone": "西安市", "chain": "pv-storage"},
                                headers={"X-CSRF-Token": token})
        assert switched.json() == {"zone": "zone-6101", "chain": "pv-storage"}
        analyst_map = analyst.get("/api/chain-map").json()
        assert "pv-modules" in json.dumps(analyst_map)  # this user's pages show the chosen chain
        assert "pv-modules" not in json.dumps(viewer.get("/api/chain-map").json())  # the other user's do not
        bad = analyst.post("/api/view", json={"chain": "no-such-chain"}, headers={"X-CSRF-Token": token})
        assert bad.status_code == 404 and "pv-storage" in bad.json()["detail"]

    monkeypatch.setenv("CHAINATLAS_ZONE", "西安市")
    monkeypatch.setenv("CHAINATLAS_CHAIN", "no-such-chain")  # a misconfigured default chain
    with TestClient(create_app(cli_db)) as client:
        login(client, "viewer")
        page = client.get("/gaps")
        assert page.status_code == 404 and "找不到产业链文件“no-such-chain”" in page.text and "pv-storage" in page.text


def test_a_database_without_the_default_zone_opens_on_its_own_zone(cli_db: str) -> None:
    # a bureau's own database (西安市 only), served without CHAINATLAS_ZONE: pages show its zone, not a 404 saying
    # the default 武汉经开区 is missing while the switcher shows 西安市
    with TestClient(create_app(cli_db)) as client:
        login(client, "viewer")
        assert client.get("/api/view").json()["zone"] == "zone-6101"
        page = client.get("/")
        assert page.status_code == 200 and "西安市" in page.text
        assert '<option value="zone-6101" selected>' in client.get("/view/switcher").text
