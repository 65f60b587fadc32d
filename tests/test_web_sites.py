"""载体 pages and API over the demo zone: the ledger page and map data, the best sites on a project page, holding
a site (analyst yes, viewer no, a second project refused with 409), edits with audit. Real SQLite, real app."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chainatlas.store import db
from chainatlas.store.models import AuditEntry, Project, Site
from chainatlas.web.app import create_app
from web_helpers import add_users, copy_db, login, web_env


@pytest.fixture(scope="module")
def demo_users(demo_db_template, tmp_path_factory):
    """The session's demo database with one user per role."""
    url = copy_db(demo_db_template, tmp_path_factory.mktemp("demo-sites"))
    add_users(url)
    db.get_engine(url).dispose()
    return url.removeprefix("sqlite:///")


@pytest.fixture
def url(demo_users, monkeypatch, tmp_path):
    web_env(monkeypatch, tmp_path)
    u = copy_db(demo_users, tmp_path)
    yield u
    db.get_engine(u).dispose()


@pytest.fixture
def client(url):
    with TestClient(create_app(url)) as c:
        yield c


def page_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S).group(1))


def a_project_needing_land(url: str) -> Project:
    with db.session_scope(url) as s:
        held = {pid for pid in s.scalars(select(Site.project_id).where(Site.project_id.is_not(None)))}
        return next(p for p in s.scalars(select(Project).where(Project.land_mu > 0, Project.stage.in_(("在谈", "签约")))
                                              .order_by(Project.code)) if p.id not in held)


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_the_sites_page_shows_the_ledger_map_and_panels(client, role):
    login(client, role)
    r = client.get("/sites")
    assert r.status_code == 200
    data = page_data(r.text)
    assert len(data["points"]) >= 30 and {p["status"] for p in data["points"]} >= {"可供", "已入驻"}
    assert {o["name"] for o in data["outlines"]} >= {"智能网联和电动汽车产业园", "军山新城"}
    assert all(len(o["polygon"]) >= 3 for o in data["outlines"])
    assert data["panel"] and data["panel"][0]["land_mu"] > 0
    assert "演示" in r.text and 'id="sites-table"' in r.text
    only_land = client.get("/sites?kind=land&status=可供")
    assert only_land.status_code == 200 and "标准厂房" not in only_land.text.split('id="sites-table"')[1]
    assert client.get("/sites?kind=castle").status_code == 422
    api = client.get("/api/sites?kind=land").json()
    assert api["sites"] and {s["kind"] for s in api["sites"]} == {"land"}
    panel = client.get("/api/screen").json()["sites"]  # the 大屏's 载体 panel: the same available area
    assert float(panel["land_mu"].replace(",", "")) == pytest.approx(sum(r["land_mu"] for r in data["panel"]), abs=0.5)


def test_a_project_page_offers_sites_and_an_analyst_holds_one(client, url):
    project = a_project_needing_land(url)
    login(client, "analyst")
    page = client.get(f"/projects/{project.id}")
    assert f'hx-get="/sites/match?project={project.id}"' in page.text
    fragment = client.get(f"/sites/match?project={project.id}")
    assert fragment.status_code == 200
    code = re.search(r'data-site="([^"]+)"', fragment.text).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', fragment.text).group(1)
    r = client.post(f"/sites/{code}/hold", data={"project_code": project.code, "csrf_token": token,
                                                 "next": f"/projects/{project.id}"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{project.id}"
    with db.session_scope(url) as s:
        site = s.scalar(select(Site).where(Site.code == code))
        assert (site.status, site.project_id) == ("洽谈中", project.id)
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "site.status", AuditEntry.entity_id == code)
                        ).username == "analyst"
    again = client.get(f"/sites/match?project={project.id}")
    assert "已为本项目预留" in again.text
    assert "洽谈中" in client.get(f"/sites/{code}").text
    # a second project cannot take the same site through the API: 409 with the reason
    with db.session_scope(url) as s:
        other = s.scalar(select(Project).where(Project.id != project.id, Project.stage == "在谈"))
    api_token = client.get("/api/me").json()["csrf_token"]
    clash = client.post(f"/api/sites/{code}/hold", json={"project_code": other.code}, headers={"X-CSRF-Token": api_token})
    assert clash.status_code == 409 and "请先释放" in clash.json()["detail"]
    assert client.post("/api/sites/NO-SUCH/hold", json={"project_code": other.code},
                       headers={"X-CSRF-Token": api_token}).status_code == 404


def test_viewers_cannot_hold_or_edit(client, url):
    project = a_project_needing_land(url)
    token = login(client, "viewer")
    with db.session_scope(url) as s:
        code = s.scalar(select(Site.code).where(Site.status == "可供").order_by(Site.code))
    r = client.post(f"/api/sites/{code}/hold", json={"project_code": project.code}, headers={"X-CSRF-Token": token})
    assert r.status_code == 403
    assert client.post(f"/sites/{code}", data={"name": "x", "csrf_token": token}).status_code == 403
    with db.session_scope(url) as s:
        assert s.scalar(select(Site.status).where(Site.code == code)) == "可供"


def test_an_edit_is_saved_with_audit_and_a_bad_number_changes_nothing(client, url):
    token = login(client, "admin")
    with db.session_scope(url) as s:
        code = s.scalar(select(Site.code).where(Site.kind == "factory").order_by(Site.code))
    r = client.post(f"/sites/{code}", data={"clear_height_m": "10.5", "rent_yuan_per_m2_month": "19.5",
                                            "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    bad = client.post(f"/sites/{code}", data={"clear_height_m": "很高", "csrf_token": token}, follow_redirects=True)
    assert "未保存" in bad.text
    with db.session_scope(url) as s:
        site = s.scalar(select(Site).where(Site.code == code))
        assert (site.clear_height_m, site.rent_fen_per_m2_month) == (10.5, 1950)
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "site.update", AuditEntry.entity_id == code))
        assert entry.after == {"clear_height_m": 10.5, "rent_fen_per_m2_month": 1950}


def test_node_match_uses_the_zones_typical_need_and_says_so(client):
    login(client, "viewer")
    r = client.get("/sites/match?node=battery-cells")
    assert r.status_code == 200 and "中位数" in r.text
    custom = client.get("/sites/match?node=battery-cells&need_mu=20")
    assert "按输入：用地20亩" in custom.text
    assert client.get("/sites/match?node=no-such-node").status_code == 404
    assert client.get("/api/sites/match?need_mu=50&node=battery-cells").json()["matches"]
    assert client.get("/api/sites/match").status_code == 422
