"""开发区管理 in the browser (web/routers/zones.py): an administrator creates, edits and removes zones; firms already
in the database join or leave at once; nobody else may write."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chainatlas.services.ingest.imports import import_enterprises
from chainatlas.store import db
from chainatlas.store.models import Enterprise, Zone
from chainatlas.web.app import create_app
from web_helpers import app_url, csrf_from, login, template  # noqa: F401 (fixtures)


@pytest.fixture
def client(app_url, tmp_path):
    firms = tmp_path / "firms.csv"
    firms.write_text("企业名称,省份,城市\n深圳甲科技有限公司,广东,深圳市\n广州乙科技有限公司,广东,广州市\n",
                     encoding="utf-8")
    with db.session_scope(app_url) as s:
        import_enterprises(s, firms)
    with TestClient(create_app(app_url)) as c:
        yield c


def _form(client: TestClient, path: str, **fields: str):
    token = csrf_from(client.get("/").text)
    return client.post(path, data=dict(fields, csrf_token=token), follow_redirects=True)


def _zones(url: str) -> dict[str, str | None]:
    with db.session_scope(url) as s:
        return dict(s.execute(select(Enterprise.name, Enterprise.zone_id)).all())


def test_admin_creates_edits_and_removes_a_zone(client, app_url):
    login(client, "admin")
    page = _form(client, "/zones", name="深圳市", divisions="440300", zone_id="", parks="前海:前海", address_words="",
                 aliases="鹏城")
    assert page.status_code == 200 and "已保存开发区“深圳市”：库内企业中 1 家在区内" in page.text
    assert _zones(app_url) == {"深圳甲科技有限公司": "zone-4403", "广州乙科技有限公司": None}
    # edit: the zone now covers both cities
    page = _form(client, "/zones", name="粤港澳示范区", divisions="440300,440100", zone_id="zone-4403", parks="",
                 address_words="", aliases="")
    assert "2 家在区内" in page.text
    assert set(_zones(app_url).values()) == {"zone-4403"}
    with db.session_scope(app_url) as s:
        assert s.get(Zone, "zone-4403").name == "粤港澳示范区"
    assert [z["name"] for z in client.get("/api/zones").json()] == ["粤港澳示范区"]
    bad = _form(client, "/zones", name="错区", divisions="123", zone_id="", parks="", address_words="", aliases="")
    assert "不是有效的行政区划代码" in bad.text
    page = _form(client, "/zones/zone-4403/remove")
    assert "已删除开发区“粤港澳示范区”" in page.text
    assert set(_zones(app_url).values()) == {None}


@pytest.mark.parametrize("role", ["analyst", "viewer", "leader"])
def test_only_admins_manage_zones(client, app_url, role):
    login(client, role)
    assert client.get("/zones").status_code == 403
    token = client.get("/api/me").json()["csrf_token"]
    r = client.post("/zones", data={"name": "深圳市", "divisions": "440300", "csrf_token": token})
    assert r.status_code == 403
    assert client.get("/api/zones").status_code == 200  # everyone may read the list
    with db.session_scope(app_url) as s:
        assert s.scalar(select(Zone)) is None
