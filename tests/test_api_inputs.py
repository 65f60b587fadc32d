"""Out-of-range input gets a 4xx with a Chinese message, never a server error (issue 22: the causes of the 54
500s schemathesis found, one test each)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from chainatlas.services.catalog.zones import load_zone
from chainatlas.store import db
from chainatlas.web.app import create_app
from web_helpers import add_users, login, web_env

HUGE = 2**63 + 5


@pytest.fixture
def demo_client(demo_db_url, monkeypatch, tmp_path):
    web_env(monkeypatch, tmp_path)
    add_users(demo_db_url)
    with TestClient(create_app(demo_db_url)) as client:
        login(client, "admin")
        yield client


def _refused(response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]


@pytest.mark.parametrize("year", ["-467", "0", "324139223"])
def test_a_year_out_of_range(demo_client, year: str) -> None:
    _refused(demo_client.get(f"/api/kpi?year={year}"), 422, "查询参数“year”无效：应不")
    _refused(demo_client.get(f"/downloads/excel/kpi?year={year}"), 422, "year")


def test_an_unknown_leader(demo_client) -> None:
    _refused(demo_client.get("/api/leaders?leader=不存在的公司"), 404, "链主企业“不存在的公司”找不到")


def test_a_wall_chart_size_the_layout_lacks(demo_client) -> None:
    _refused(demo_client.get("/downloads/wallchart?size=A4"), 422, "纸张尺寸“A4”无效，可选 A0、A1、A2、A3")


@pytest.mark.parametrize("month", ["2024-13", "2024-0", "99999-01", "１"])
def test_a_month_out_of_range(demo_client, month: str) -> None:
    _refused(demo_client.get(f"/downloads/brief?month={month}"), 422, "月份")


def test_a_browser_following_a_bad_download_link_gets_the_error_page(demo_client) -> None:
    r = demo_client.get("/downloads/wallchart?size=A9", headers={"Accept": "text/html"})
    assert r.status_code == 422 and "text/html" in r.headers["content-type"] and "纸张尺寸" in r.text


def test_a_parameter_of_the_wrong_type_is_named_in_chinese(demo_client) -> None:
    _refused(demo_client.get("/api/kpi?year=abc"), 422, "查询参数“year”无效：应为整数")
    r = demo_client.post("/api/users", json={}, headers={"X-CSRF-Token": demo_client.get("/api/me").json()["csrf_token"]})
    _refused(r, 422, "请求内容")


@pytest.mark.db
def test_an_id_above_2_to_the_63(db_url, monkeypatch, tmp_path) -> None:
    web_env(monkeypatch, tmp_path)
    add_users(db_url)
    with db.session_scope(db_url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
    with TestClient(create_app(db_url)) as client:
        token = login(client, "admin")
        _refused(client.get(f"/api/enterprises/{HUGE}"), 422, "超出范围")
        _refused(client.post(f"/api/users/{HUGE}/active", json={"active": False}, headers={"X-CSRF-Token": token}),
                 422, "超出范围")
        assert client.get("/api/me").status_code == 200


def test_the_openapi_schema_says_what_a_422_holds(demo_client) -> None:
    schema = demo_client.get("/api/openapi.json").json()
    assert schema["components"]["schemas"]["HTTPValidationError"]["properties"]["detail"]["type"] == "string"
    assert "application/pdf" in schema["paths"]["/downloads/wallchart"]["get"]["responses"]["200"]["content"]
