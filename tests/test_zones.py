"""Zones as data: `chainatlas zone add|list|show|remove`, membership recomputed for firms already in the database,
zone files read whole from anywhere, and the GB/T 2260 names shipped with the package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.services.catalog.regions import division_table, region_name
from chainatlas.services.catalog.zones import load_zone, resolve_zone
from chainatlas.services.ingest.imports import import_enterprises
from chainatlas.store import db
from chainatlas.store.models import AuditEntry, Enterprise, Region

runner = CliRunner()

FIRMS = """企业名称,省份,城市,注册地址
深圳甲科技有限公司,广东,深圳市,
深圳乙电子有限公司,广东省,深圳市,
广州丙汽车部件有限公司,广东,广州市,
武汉丁精密有限公司,,,武汉经济技术开发区车城大道1号
南山戊软件有限公司,,,广东省深圳市南山区粤海街道科技园
"""


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", db_url)
    return db_url


def _zone_of(url: str) -> dict[str, str | None]:
    with db.session_scope(url) as s:
        return dict(s.execute(select(Enterprise.name, Enterprise.zone_id)).all())


def test_division_table_names_every_level() -> None:
    table = division_table()
    assert len(table) > 44_000
    assert (region_name("440300"), region_name("4403"), region_name("440305"), region_name("110000")) == (
        "深圳市", "深圳市", "南山区", "北京市")
    assert region_name("1101") == "北京市"  # the municipality, not 市辖区
    assert table["420114070"].name == "沌口街道" and table["420114070"].parent_code == "420114"


@pytest.mark.db
def test_zone_added_after_import_takes_in_firms_already_there(cli_db: str, tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(FIRMS, encoding="gbk")
    with db.session_scope(cli_db) as s:
        import_enterprises(s, path)
    assert set(_zone_of(cli_db).values()) == {None}  # no zone yet

    added = runner.invoke(app, ["zone", "add", "--name", "深圳市", "--division", "440300"])
    assert added.exit_code == 0, added.output
    assert "3 家在区内" in added.output
    zones = _zone_of(cli_db)
    # province and city without an address, or an address naming the city: both join a city-level zone
    assert zones == {"深圳甲科技有限公司": "zone-4403", "深圳乙电子有限公司": "zone-4403",
                     "广州丙汽车部件有限公司": None, "武汉丁精密有限公司": None, "南山戊软件有限公司": "zone-4403"}
    with db.session_scope(cli_db) as s:
        assert s.get(Region, "4403").name == "深圳市"  # every city has its name now
        assert s.scalar(select(func.count()).select_from(Region).where(Region.level == "county")) == 2978

    # a county-level zone inside the city is more specific: its firm moves there
    nanshan = runner.invoke(app, ["zone", "add", "--name", "南山区", "--division", "440305", "--id", "nanshan",
                                  "--park", "科技园:科技园+高新园"])
    assert nanshan.exit_code == 0, nanshan.output
    assert _zone_of(cli_db)["南山戊软件有限公司"] == "nanshan"
    shown = runner.invoke(app, ["zone", "show", "南山区", "--format", "json"])
    data = json.loads(shown.output)
    assert data["members"] == [{"kind": "county", "code": "440305", "name": "南山区"}] and data["firms"] == 1
    assert data["parks"][0]["name"] == "科技园"
    listed = runner.invoke(app, ["zone", "list"])
    assert "深圳市" in listed.output and "南山区" in listed.output

    removed = runner.invoke(app, ["zone", "remove", "nanshan"])
    assert removed.exit_code == 0, removed.output
    assert _zone_of(cli_db)["南山戊软件有限公司"] == "zone-4403"  # back in the city zone
    with db.session_scope(cli_db) as s:
        actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "zone").order_by(AuditEntry.id))]
    assert actions == ["zone.save", "zone.save", "zone.remove"]


@pytest.mark.db
def test_bad_division_code_is_refused_in_chinese_and_writes_nothing(cli_db: str) -> None:
    result = runner.invoke(app, ["zone", "add", "--name", "火星区", "--division", "990101"])
    assert result.exit_code == 1
    assert "不是有效的行政区划代码" in result.output and "990101" in result.output
    with db.session_scope(cli_db) as s:
        assert s.scalar(select(func.count()).select_from(Region)) == 0


@pytest.mark.db
def test_zone_file_outside_the_package_is_read_whole(cli_db: str, tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(FIRMS, encoding="utf-8")
    zone_file = tmp_path / "myzone.yaml"
    zone_file.write_text(
        "id: test-edz\nname: 测试经开区\naliases: [测试开发区]\naddress_keywords: [车城大道]\n"
        "members:\n  - {code: '420114070'}\n"
        "parks:\n  - {id: test-park, name: 测试园, keywords: [车城大道]}\n", encoding="utf-8")
    with db.session_scope(cli_db) as s:
        import_enterprises(s, path)
    result = runner.invoke(app, ["zone", "add", str(zone_file)])
    assert result.exit_code == 0, result.output
    with db.session_scope(cli_db) as s:
        zone = resolve_zone(s, "测试开发区")  # the alias comes from the file given, not the package folder
        assert zone.id == "test-edz" and zone.members[0].name == "沌口街道"
        firm = s.scalars(select(Enterprise).where(Enterprise.name == "武汉丁精密有限公司")).one()
        assert (firm.zone_id, firm.park_id) == ("test-edz", "test-park")  # by the file's address word


@pytest.mark.db
def test_demo_zone_is_one_zone_among_others(db_url: str) -> None:
    with db.session_scope(db_url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
        load_zone(s, "wuhan-edz", chain_id="nev-icv")  # idempotent
        zone = resolve_zone(s, "中国车谷")
        assert zone.id == "wuhan-edz" and "车城大道" in zone.address_keywords
        assert {m.kind for m in zone.members} == {"county", "street"}
