"""目标企业 weights in the browser (web/routers/target_weights.py): an analyst saves their own ranking weights,
the table re-ranks, 恢复默认 undoes it; bad boxes are named and nothing is saved; viewers and leaders only look.

The world is the small one of tests/test_targets.py: under the default weights the listed 三花 (A) ranks first;
weighing only 区位 puts the same-province 宜昌 firm (B) first.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chainatlas.services import targets
from chainatlas.store import db
from chainatlas.store.models import AuditEntry, TargetWeights
from chainatlas.web.app import create_app
from test_targets import NODE, _build
from web_helpers import copy_db, csrf_from, login, template, web_env  # noqa: F401 (fixtures)

ONLY_DISTANCE = {k: "0" for k in targets.COMPONENTS} | {"distance": "1"}


@pytest.fixture
def world(template, monkeypatch, tmp_path):
    web_env(monkeypatch, tmp_path)
    targets.clear_cache()
    w = _build(copy_db(template, tmp_path))
    yield w
    db.get_engine(w.url).dispose()
    targets.clear_cache()


@pytest.fixture
def client(world):
    with TestClient(create_app(world.url)) as c:
        yield c


def _order(html: str) -> list[int]:
    """Enterprise ids in the order the ranking table shows them."""
    table = re.search(r'<table class="data" id="target-table">(.*?)</table>', html, re.S).group(1)
    return [int(i) for i in re.findall(r'<a href="/enterprises/(\d+)">', table)]


def _page(client: TestClient) -> str:
    r = client.get(f"/targets?node={NODE}")
    assert r.status_code == 200, r.text[:300]
    return r.text


def _post(client: TestClient, path: str, fields: dict[str, str], htmx: bool = True):
    token = csrf_from(_page(client))
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(path, data=dict(fields, node=NODE, csrf_token=token), headers=headers, follow_redirects=True)


def _saved(url: str, username: str) -> dict | None:
    with db.session_factory(url)() as s:
        row = s.get(TargetWeights, username)
        return dict(row.weights) if row is not None else None


def _audit_actions(url: str) -> list[tuple[str, str]]:
    with db.session_factory(url)() as s:
        return [(a, u) for a, u in s.execute(select(AuditEntry.action, AuditEntry.username).where(
            AuditEntry.action.like("target_weights.%")).order_by(AuditEntry.id))]


def test_form_shows_every_component_with_its_default(client):
    login(client, "analyst")
    html = _page(client)
    assert "当前权重：默认" in html
    defaults = targets.default_weights()
    for key, label in targets.COMPONENT_LABELS.items():
        box = re.search(rf'<label>{label}\s*<input type="number" name="{key}"[^>]*value="([^"]+)"', html)
        assert box, label
        assert float(box.group(1)) == defaults[key]
        assert f"默认 {defaults[key]:g}" in html


def test_save_reranks_the_page_and_reset_restores_it(client, world):
    login(client, "analyst")
    default_order = _order(_page(client))
    assert default_order.index(world.ids["A"]) < default_order.index(world.ids["B"])

    r = _post(client, "/targets/weights", ONLY_DISTANCE)
    assert r.status_code == 200, r.text[:500]
    assert 'id="weights-card"' in r.text and "<html" not in r.text  # the htmx fragment, not the whole page
    assert "已保存为我的权重" in r.text and "当前权重：我的权重" in r.text
    swapped = _order(r.text)
    assert swapped[0] == world.ids["B"] and swapped.index(world.ids["B"]) < swapped.index(world.ids["A"])
    assert _order(_page(client)) == swapped  # it stays: the user's weights are stored, not kept in the page
    assert re.search(r'name="distance"[^>]*value="1"', _page(client))
    assert _saved(world.url, "analyst")["distance"] == 1.0 and _saved(world.url, "analyst")["fit"] == 0.0
    # only this user's ranking changed
    with TestClient(client.app) as admin:
        login(admin, "admin")
        assert _order(_page(admin)) == default_order and "当前权重：默认" in _page(admin)

    r = _post(client, "/targets/weights/reset", {})
    assert r.status_code == 200 and "已恢复默认权重" in r.text and "当前权重：默认" in r.text
    assert _order(r.text) == default_order == _order(_page(client))
    assert _saved(world.url, "analyst") is None
    assert _audit_actions(world.url) == [("target_weights.save", "analyst"), ("target_weights.reset", "analyst")]


def test_plain_form_post_redirects_with_a_message(client, world):
    login(client, "analyst")
    r = _post(client, "/targets/weights", ONLY_DISTANCE, htmx=False)
    assert r.status_code == 200 and str(r.url).endswith(f"/targets?node={NODE}")
    assert "已保存为我的权重" in r.text and _order(r.text)[0] == world.ids["B"]


@pytest.mark.parametrize("bad, message", [
    ({"distance": "-1"}, "权重“distance（区位）”应为不小于 0 的数，收到“-1”"),
    ({"scale": "很大"}, "权重“scale（规模）”应为数字，收到“很大”"),
    ({"foreign": ""}, "权重“外资”未填写"),
    ({"fit": "nan"}, "权重“fit（环节契合度）”应为不小于 0 的数"),
])
def test_a_bad_box_is_named_and_nothing_is_saved(client, world, bad, message):
    login(client, "analyst")
    before = _order(_page(client))
    r = _post(client, "/targets/weights", ONLY_DISTANCE | bad)
    assert r.status_code == 422
    assert "权重未保存" in r.text and message in r.text
    assert "当前权重：默认" in r.text and _order(r.text) == before
    key, value = next(iter(bad.items()))
    assert re.search(rf'name="{key}"[^>]*value="{re.escape(value)}"[^>]*aria-invalid=true', r.text)  # what was typed stays
    assert _saved(world.url, "analyst") is None and _audit_actions(world.url) == []


def test_all_zero_is_refused(client, world):
    login(client, "analyst")
    r = _post(client, "/targets/weights", {k: "0" for k in targets.COMPONENTS})
    assert r.status_code == 422 and "权重不能全部为 0" in r.text
    assert _saved(world.url, "analyst") is None


@pytest.mark.parametrize("role", ["viewer", "leader"])
def test_viewers_see_the_weights_but_cannot_save(client, world, role):
    login(client, role)
    html = _page(client)
    assert "当前权重：默认" in html and "只读账号" in html and "保存为我的权重" not in html
    assert re.search(r'name="distance"[^>]*disabled', html)
    for path in ("/targets/weights", "/targets/weights/reset"):
        r = _post(client, path, ONLY_DISTANCE)
        assert r.status_code == 403 and "只能查看" in r.text
    assert _saved(world.url, role) is None and _audit_actions(world.url) == []


def test_save_needs_the_csrf_token(client, world):
    login(client, "analyst")
    r = client.post("/targets/weights", data=dict(ONLY_DISTANCE, node=NODE))
    assert r.status_code == 403 and _saved(world.url, "analyst") is None


def test_json_api_saves_and_resets_with_the_same_rules(client, world):
    token = login(client, "analyst")
    headers = {"X-CSRF-Token": token}
    bad = client.post("/api/targets/weights", json={"weights": {"size": 1}}, headers=headers)
    assert bad.status_code == 422 and "未知的权重项：size" in bad.json()["detail"]
    ok = client.post("/api/targets/weights", json={"weights": {k: float(v) for k, v in ONLY_DISTANCE.items()}},
                     headers=headers)
    assert ok.status_code == 200 and ok.json()["mine"] is True
    api = client.get(f"/api/targets?node={NODE}").json()
    assert api["weights"]["label"] == "我的权重" and api["targets"][0]["enterprise_id"] == world.ids["B"]
    assert client.post("/api/targets/weights/reset", headers=headers).json()["mine"] is False
    assert client.get(f"/api/targets?node={NODE}").json()["targets"][0]["enterprise_id"] == world.ids["A"]


def test_excel_download_ranks_with_the_users_weights(client, world):
    """导出目标企业 from the page gives the order the page shows: the user's weights, not the defaults."""
    from io import BytesIO

    from openpyxl import load_workbook

    def first_rows(body: bytes) -> list[str]:
        wb = load_workbook(BytesIO(body), read_only=True)
        for ws in wb.worksheets[1:]:  # the first sheet states the weights
            names = [row[1] for row in ws.iter_rows(min_row=4, values_only=True) if row and row[1]]
            if names:
                return names
        raise AssertionError("no target sheet")

    login(client, "analyst")
    before = client.get("/downloads/excel/targets")
    assert before.status_code == 200, before.text[:300]
    _post(client, "/targets/weights", ONLY_DISTANCE)
    after = client.get("/downloads/excel/targets")
    assert after.status_code == 200
    assert first_rows(before.content) != first_rows(after.content)
