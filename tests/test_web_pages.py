"""Pages and JSON API over the demo zone: every page renders, the API says what the page shows, writes go
through the services with their rules and land in the audit log. Real SQLite files, real services."""

from __future__ import annotations

import json
import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chainatlas import config
from chainatlas.store import db
from chainatlas.store.models import AuditEntry, Enterprise, EnterpriseAlias, MergeCandidate, Placement
from chainatlas.web.app import create_app
from web_helpers import add_users, copy_db, login



@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    from chainatlas.services.demo import load_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = f"sqlite:///{path}"
    db.migrate(url)
    with db.session_scope(url) as s:
        load_demo(s)
    add_users(url)
    db.get_engine(url).dispose()
    return path


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("CHAINATLAS_SECRET_KEY", "test-secret-key-for-signing-cookies")
    monkeypatch.setenv("CHAINATLAS_HOME", str(tmp_path / "home"))


@pytest.fixture
def url(demo_template, env, tmp_path):
    u = copy_db(demo_template, tmp_path)
    yield u
    db.get_engine(u).dispose()


@pytest.fixture
def client(url):
    with TestClient(create_app(url)) as c:
        yield c


def page_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S).group(1))


PAGES = ["/", "/gaps", "/targets", "/leaders", "/pipeline", "/kpi", "/kpi?year=2024", "/imports", "/screen", "/placements/check",
         "/search?q=东风", "/nodes/smart-cockpit", "/nodes/lidar"]


@pytest.mark.parametrize("role", ["admin", "viewer", "leader"])
def test_every_page_renders_for_every_role(client, role):
    login(client, role)
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
    ent = client.get("/api/search?q=东风").json()["results"][0]
    assert client.get(f"/enterprises/{ent['id']}").status_code == 200
    project = client.get("/api/projects").json()["projects"][0]
    assert client.get(f"/projects/{project['id']}").status_code == 200


def test_leader_lands_on_the_big_screen(client):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": "leader", "password": "leader-pass-123", "csrf_token": token,
                                    "next": "/"}, follow_redirects=False)
    assert r.headers["location"] == "/screen"


def test_chain_map_page_and_api_agree(client):
    login(client, "viewer")
    shown = page_data(client.get("/").text)
    api = client.get("/api/chain-map").json()
    assert shown["stages"] == api["stages"] and shown["verdict_counts"] == api["verdict_counts"]
    nodes = [n for st in api["stages"] for seg in st["segments"] for n in [seg] + seg["children"]]
    assert len(nodes) == api["node_count"] == 50
    assert sum(api["verdict_counts"].values()) == 50
    assert all(n["verdict"] in ("强", "较强", "弱", "样本不足", "缺", "未知") for n in nodes)
    node = client.get("/api/nodes/smart-cockpit").json()
    segment = next(n for n in nodes if n["id"] == "smart-cockpit")
    assert len(node["firms"]) == node["strength"]["firm_count"] == segment["firm_count"]
    assert all(f["placement"] is not None for f in node["firms"])  # every firm shows the evidence that put it here


def test_demo_data_is_labelled(client):
    login(client, "viewer")
    assert "演示数据：本页包含演示数据" in client.get("/").text
    results = client.get("/api/search?q=武汉").json()["results"]
    assert any(r["is_demo"] for r in results)
    assert "badge-demo" in client.get("/search?q=武汉").text


def test_search_by_former_and_english_name_and_uscc(client, url):
    with db.session_scope(url) as s:
        english = s.scalar(select(Enterprise).where(Enterprise.name_en != "").order_by(Enterprise.id).limit(1))
        coded = s.scalar(select(Enterprise).where(Enterprise.uscc.is_not(None)).order_by(Enterprise.id).limit(1))
        coded.aliases.append(EnterpriseAlias(alias="武汉旧名称汽车配件厂", kind="former", source="manual"))
        cases = [("旧名称汽车配件", coded.id, "曾用名：武汉旧名称汽车配件厂"),
                 (coded.uscc.lower(), coded.id, f"信用代码：{coded.uscc}"),
                 (english.name_en.upper(), english.id, "")]
    login(client, "viewer")
    for q, eid, matched in cases:
        results = client.get("/api/search", params={"q": q}).json()["results"]
        hit = next((r for r in results if r["id"] == eid), None)
        assert hit is not None, q
        assert matched in hit["matched"], (q, hit["matched"])


def test_placement_correction_goes_through_the_service_and_is_audited(client, url):
    token = login(client, "analyst")
    firm = client.get("/api/nodes/lidar").json()["firms"] or client.get("/api/nodes/smart-cockpit").json()["firms"]
    eid = firm[0]["id"]
    post = lambda body: client.post(f"/api/enterprises/{eid}/placements", json=body, headers={"X-CSRF-Token": token})

    r = post({"action": "add", "node_id": "radar", "note": "官网产品页"})
    assert r.status_code == 200 and "人工确认" in r.json()["message"]
    eff = {p["node_id"]: p for p in client.get(f"/api/enterprises/{eid}").json()["effective"]}
    assert eff["radar"]["method"] == "manual" and eff["radar"]["share"] is None  # an analyst's row has no strength
    # a rule placement's strength is the revenue share of the product lines behind it, where the firm gave one
    for p in eff.values():
        lines = {e["product"]: e["share"] for e in p["evidence"] if e.get("field") == "products" and "share" in e
                 and e["share"] > 0.001}
        assert p["share"] == (round(min(1.0, sum(lines.values())), 4) if lines else None)
    assert "营收占比" in client.get(f"/enterprises/{eid}").text

    assert post({"action": "remove", "node_id": "radar"}).status_code == 200
    assert "radar" not in {p["node_id"] for p in client.get(f"/api/enterprises/{eid}").json()["effective"]}

    assert post({"action": "off_chain", "note": "主营为房地产"}).status_code == 200
    data = client.get(f"/api/enterprises/{eid}").json()
    assert data["off_chain"] and data["effective"] == []

    assert post({"action": "clear"}).status_code == 200
    assert client.get(f"/api/enterprises/{eid}").json()["effective"]

    bad = post({"action": "add", "node_id": "no-such-node"})
    assert bad.status_code == 422 and "请选择产业链" in bad.json()["detail"]
    with db.session_factory(url)() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "enterprise",
                                                                 AuditEntry.entity_id == str(eid))))
        assert actions == ["placement.place", "placement.reject", "placement.off_chain", "placement.clear"]
        assert all(a == "analyst" for a in s.scalars(select(AuditEntry.username).where(
            AuditEntry.action.like("placement.%"))))


def test_page_form_correction_redirects_with_a_message(client):
    token = login(client, "analyst")
    eid = client.get("/api/nodes/smart-cockpit").json()["firms"][0]["id"]
    r = client.post(f"/enterprises/{eid}/placements", data={"action": "add", "node_id": "hud", "csrf_token": token})
    assert r.status_code == 200 and "已将" in r.text and "抬头显示" in r.text


def test_target_to_pipeline_then_stage_rules_then_kpi(client, url):
    token = login(client, "analyst")
    h = {"X-CSRF-Token": token}
    year = config.today().year
    signed = lambda: next(r for r in client.get(f"/api/kpi?year={year}").json()["rows"]
                          if r["measure"] == "signed_projects")["actual"]
    before = signed()
    targets = client.get("/api/targets?node=lidar").json()
    assert targets["component_names"]["fit"] == "环节契合度"
    row = next(t for t in targets["targets"] if not t["vetoed"] and not t["in_pipeline"])
    assert set(row["components"]) >= {"fit", "scale"}

    r = client.post("/api/targets/to-project", json={"enterprise_id": row["enterprise_id"], "node_id": "lidar"},
                    headers=h)
    assert r.status_code == 200, r.text
    project = r.json()
    assert project["stage"] == "线索" and project["investor_id"] == row["enterprise_id"]
    again = client.post("/api/targets/to-project", json={"enterprise_id": row["enterprise_id"], "node_id": "lidar"},
                        headers=h)
    assert again.status_code == 422 and "项目台账" in again.json()["detail"]
    # A firm being courted leaves the target list (the targets service's rule).
    assert row["enterprise_id"] not in {t["enterprise_id"] for t in client.get("/api/targets?node=lidar").json()["targets"]}

    stage = lambda to, **kw: client.post(f"/api/projects/{project['id']}/stage", json=dict(kw, to_stage=to), headers=h)
    refused = stage("开工")
    assert refused.status_code == 422 and "项目尚未签约" in refused.json()["detail"]
    assert stage("搁置").json()["detail"].startswith("搁置项目须填写原因")
    assert stage("签约", on="2020-01-01").status_code == 422  # before the last change
    assert stage("签约", on="not-a-date").json()["detail"].startswith("日期“not-a-date”无法识别")
    ok = stage("签约", on=config.today().isoformat())
    assert ok.status_code == 200 and ok.json()["stage"] == "签约"
    assert signed() == before + 1
    history = client.get(f"/api/projects/{project['id']}").json()["history"]
    assert [h_["text"] for h_ in history if h_["kind"] == "阶段"][-1].startswith("线索 → 签约")


def test_htmx_add_to_pipeline_returns_the_button_fragment(client):
    token = login(client, "analyst")
    row = next(t for t in client.get("/api/targets?node=cathode").json()["targets"]
               if not t["vetoed"] and not t["in_pipeline"])
    r = client.post("/targets/to-project", data={"enterprise_id": row["enterprise_id"], "node_id": "cathode",
                                                 "csrf_token": token}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.startswith('<a class="btn btn-done" href="/projects/')


def test_kpi_year_with_targets(client):
    login(client, "viewer")
    data = client.get("/api/kpi").json()  # the current year by default: the demo ledger is dated up to today
    assert data["year"] == config.today().year
    row = next(r for r in data["rows"] if r["measure"] == "signed_projects")
    assert row["target"] == 15 and len(row["monthly"]) == 12 and row["cumulative"][-1] == row["actual"] > 0
    assert data["is_demo"]


def test_excel_download(client):
    login(client, "viewer")
    r = client.get("/downloads/excel/firms")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    assert client.get("/downloads/excel/nothing").status_code == 404


def test_import_through_the_api_reports_problems_and_refuses_a_repeat(client, url, tmp_path):
    token = login(client, "analyst")
    csv = ("企业名称,统一社会信用代码,注册地址,经营范围\n"
           "武汉测试激光雷达有限公司,,武汉经济技术开发区车城大道1号,激光雷达研发制造\n"
           "坏代码公司,9142ZZZ,武汉经开区,软件\n").encode("utf-8")

    def run() -> dict:
        r = client.post("/api/imports", files={"file": ("名单.csv", csv, "text/csv")}, data={"kind": "enterprises"},
                        headers={"X-CSRF-Token": token})
        assert r.status_code == 200, r.text
        job = r.json()
        for _ in range(600):
            if job["status"] != "running":
                return job
            time.sleep(0.1)
            job = client.get(f"/api/imports/jobs/{job['id']}").json()
        raise AssertionError("import did not finish")

    job = run()
    assert job["status"] == "done", job["error"]
    assert job["summary"]["rows_inserted"] == 1 and job["summary"]["rows_held"] == 1
    problem = job["problems"][0]
    assert (problem["row"], problem["column"], problem["value"]) == (3, "统一社会信用代码", "9142ZZZ")
    assert job["classified"]["placed"] >= 1  # the import placed the firm it brought
    assert run()["summary"]["already_imported"]
    with db.session_factory(url)() as s:
        firm = s.scalar(select(Enterprise).where(Enterprise.name == "武汉测试激光雷达有限公司"))
        assert firm.zone_id == "wuhan-edz"
        assert s.scalar(select(Placement.node_id).where(Placement.enterprise_id == firm.id)) == "lidar"


def test_upload_preview_shows_the_mapping(client):
    token = login(client, "analyst")
    csv = "公司全称,信用代码,注册资本(万元)\n武汉甲公司,,100\n".encode("utf-8")
    r = client.post("/imports/upload", data={"kind": "enterprises", "csrf_token": token},
                    files={"file": ("a.csv", csv, "text/csv")})
    assert r.status_code == 200 and 'id="mapping-table"' in r.text
    assert re.search(r'name="map_0".*?<option value="name" selected>', r.text, re.S)
    bad = client.post("/imports/upload", data={"kind": "enterprises", "csrf_token": token},
                      files={"file": ("a.exe", b"MZ", "application/octet-stream")})
    assert bad.status_code == 422 and "类型不支持" in bad.text


def test_review_decision_is_audited(client, url):
    with db.session_scope(url) as s:
        a, b = s.scalars(select(Enterprise.id).order_by(Enterprise.id).limit(2)).all()
        c = MergeCandidate(left_id=a, right_id=b, probability=0.7, evidence={"名称": "相近"})
        s.add(c)
        s.flush()
        cid = c.id
    token = login(client, "analyst")
    assert any(item["id"] == cid for item in client.get("/api/imports").json()["review"])
    r = client.post(f"/api/review/{cid}/reject", headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    again = client.post(f"/api/review/{cid}/reject", headers={"X-CSRF-Token": token})
    assert again.status_code == 422
    with db.session_factory(url)() as s:
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "enterprise.merge_rejected")) == 1


def test_a_placement_inferred_from_a_generic_line_says_so_on_the_pages(client, url):
    """The chain file's fallback for generic lines (泛称推断): the method column and the evidence say the node is
    inferred from a generic word, on the firm's page and on the node's page."""
    login(client, "analyst")
    eid = (client.get("/api/nodes/lidar").json()["firms"] or client.get("/api/nodes/smart-cockpit").json()["firms"])[0]["id"]
    with db.session_factory(url)() as s:
        s.add(Placement(enterprise_id=eid, chain_id="nev-icv", node_id="chassis-parts", method="rule", score=0.385,
                        confidence=0.32, evidence=[{"field": "products", "word": "汽车零部件", "kind": "generic",
                                                    "node": "chassis-parts", "product": "汽车零部件", "share": 0.3,
                                                    "note": "泛称推断，环节待核实"}]))
        s.commit()
    for page in (f"/enterprises/{eid}", "/nodes/chassis-parts"):
        html = client.get(page).text
        assert re.search(r"<td>\s*泛称推断\s*</td>", html), page
        # the evidence chip: its field 泛称推断, its words the line, its share and what is left to check
        assert re.search(r'<span class="chip-field">泛称推断</span><mark>汽车零部件 30.0%，环节待核实</mark>', html), page
