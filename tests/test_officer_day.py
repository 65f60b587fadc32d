"""What an officer's day on the real listed-company data tripped over (session 13): each test fails on the code
before its fix. Files are made as a bureau has them: an .xlsx with merged title rows and a totals row under the
list, a GBK CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainatlas.services.ingest.enterprises import import_enterprises
from chainatlas.store.models import Enterprise, HeldRow, Placement
from web_helpers import template  # noqa: F401 (fixture)

pytestmark = pytest.mark.db


def _bureau_xlsx(path: Path, footer: list[object]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["2026年汽车零部件重点企业名单"])
    ws.merge_cells("A1:E1")
    ws.append(["填报单位：区投资促进局　　单位：万元"])
    ws.merge_cells("A2:E2")
    ws.append(["序号", "企业名称", "注册地址", "主营产品", "注册资本（万元）"])
    ws.append([1, "武汉星测激光雷达科技有限公司", "武汉经济技术开发区车城大道88号", "车载激光雷达", 5000])
    ws.append([2, "武汉沌口热管理系统有限公司", "武汉经济技术开发区东风大道1号", "汽车热管理系统", 3000])
    ws.append([])
    ws.append(footer)
    ws.merge_cells(start_row=ws.max_row, start_column=2, end_row=ws.max_row, end_column=5)
    wb.save(path)
    return path


@pytest.mark.parametrize("footer", [["合计", "2家"], ["合　计：2家"], [None, "小计：2家"]])
def test_a_totals_row_under_the_list_is_held_not_a_firm(zone_session: Session, tmp_path: Path,
                                                        footer: list[object]) -> None:
    s = zone_session
    summary = import_enterprises(s, _bureau_xlsx(tmp_path / "名单.xlsx", footer))
    assert (summary.rows_inserted, summary.rows_held) == (2, 1)  # was 3 firms: one named "2家" or "合计：2家"
    assert sorted(s.scalars(select(Enterprise.name))) == ["武汉星测激光雷达科技有限公司", "武汉沌口热管理系统有限公司"]
    problem = summary.problems[0]
    assert problem.row == 7 and "汇总行" in problem.problem  # the spreadsheet's row, the column that says 合计
    assert problem.column == ("企业名称" if footer[0] is None else "序号")
    assert s.scalars(select(HeldRow)).one().problems[0]["row"] == 7


def test_a_totals_row_in_a_gbk_csv_is_held(zone_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "名录.csv"
    path.write_bytes("企业名称,注册地址\n武汉星测激光雷达科技有限公司,武汉经济技术开发区车城大道88号\n"
                     "武汉星测激光雷达科技有限公司,武汉经济技术开发区车城大道88号\n合 计,2\n".encode("gbk"))
    summary = import_enterprises(zone_session, path)
    assert (summary.rows_inserted, summary.rows_held) == (1, 1)
    assert [(p.row, p.column, p.value) for p in summary.problems] == [(4, "企业名称", "合 计")]


def test_a_firm_whose_name_starts_like_a_total_is_imported(zone_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "名录.csv"
    path.write_text("企业名称,注册地址\n合计通（武汉）科技有限公司,武汉经济技术开发区车城大道1号\n", encoding="utf-8")
    assert import_enterprises(zone_session, path).rows_inserted == 1


def test_a_web_import_puts_each_firm_in_its_own_zone_whichever_zone_is_shown(template, monkeypatch, tmp_path):
    """Imported in the browser while 武汉经开区 was shown, a 深圳 list left its firms in no zone (the web passed the
    shown zone as the only one to judge) until a zone was next saved; the report now says where the new firms are."""
    from fastapi.testclient import TestClient

    from chainatlas.services.catalog import load_zone, save_zone, zone_from_divisions
    from chainatlas.store import db
    from chainatlas.web.app import create_app
    from web_helpers import copy_db, finished_job, login, web_env

    web_env(monkeypatch, tmp_path)
    url = copy_db(template, tmp_path)
    with db.session_scope(url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
        shenzhen = save_zone(s, zone_from_divisions("深圳市", ["440300"])).id
    csv = ("企业名称,注册地址,主营产品\n"
           "深圳星测激光雷达科技有限公司,广东省深圳市南山区粤海街道科技园1号,车载激光雷达\n"
           "武汉沌口热管理系统有限公司,武汉经济技术开发区东风大道1号,汽车热管理系统\n").encode("gbk")
    with TestClient(create_app(url)) as client:
        token = login(client, "analyst")
        client.post("/view", data={"zone": "wuhan-edz", "chain": "nev-icv", "csrf_token": token})
        r = client.post("/imports/upload", data={"kind": "enterprises", "csrf_token": token},
                        files={"file": ("深圳名录.csv", csv, "text/csv")}, follow_redirects=False)
        upload = r.headers["location"].split("/")[2]
        run = client.post(f"/imports/{upload}/run", data={"kind": "enterprises", "csrf_token": token},
                          follow_redirects=False)
        job_id = run.headers["location"].rsplit("/", 1)[1]
        job = finished_job(client, job_id)
        assert job["status"] == "done", job["error"]
        page = client.get(f"/imports/jobs/{job_id}").text
    with db.session_scope(url) as s:
        zones = dict(s.execute(select(Enterprise.name, Enterprise.zone_id)).all())
    assert zones == {"深圳星测激光雷达科技有限公司": shenzhen, "武汉沌口热管理系统有限公司": "wuhan-edz"}
    assert "新增企业按地址所在开发区：" in page and "深圳市 1 家" in page and "武汉经开区 1 家" in page
    db.get_engine(url).dispose()


def test_the_ledger_reads_money_in_yi_and_names_not_raw_yuan_and_ids(template, monkeypatch, tmp_path):
    """A project edited on its page showed 投资金额：空 → 350000000 in its history (yuan an officer reads as 亿), node
    ids, 是/否 as True; the pipeline said 计划投资 0元 while no project had an amount."""
    from fastapi.testclient import TestClient

    from chainatlas.services import pipeline
    from chainatlas.services.catalog import load_zone
    from chainatlas.store import db
    from chainatlas.web.app import create_app
    from web_helpers import copy_db, login, web_env

    web_env(monkeypatch, tmp_path)
    url = copy_db(template, tmp_path)
    with db.session_scope(url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
        p = pipeline.create_project(s, zone_id="wuhan-edz", name="虚构电驱动项目（测试）", by_user="zhang",
                                    chain_id="nev-icv", node_ids=["drive-motor"])
        code = p.code
    with TestClient(create_app(url)) as client:
        login(client, "analyst")
        board = client.get("/pipeline").text
        assert "计划投资 —（1 个项目未填）" in board and "0元" not in board
        with db.session_scope(url) as s:
            pipeline.update_project(s, code, by_user="zhang", investment_yuan=350_000_000, fdi_usd=12_000_000,
                                    foreign_invested=True, node_ids=["drive-motor", "motor-controller"], land_mu=80.5)
            pid = pipeline.get_project(s, code).id
        page = client.get(f"/projects/{pid}").text
        assert "投资金额：空 → 3.50亿元" in page and "外资金额：空 → 1,200.00万美元" in page
        assert "是否外资：否 → 是" in page and "用地：空 → 80.5亩" in page
        assert "产业链环节：驱动电机 → 驱动电机、电机控制器" in page
        assert "350000000" not in page and "drive-motor" not in page.split("项目历程")[1]
        assert "计划投资 3.50亿元。" in client.get("/pipeline").text
    db.get_engine(url).dispose()


def test_the_firm_list_export_words_evidence_and_source_as_the_enterprise_page(zone_session: Session,
                                                                                 tmp_path: Path) -> None:
    """The 链上企业名录 workbook's 归类依据 read “products、钴盐、strong、lithium-resources、钴盐、0.0279” (the stored
    record's values: English field names, strengths, node ids) and 数据来源 “import:1”."""
    from openpyxl import load_workbook

    from chainatlas.services.reports import export

    s = zone_session
    path = tmp_path / "名录.csv"
    path.write_text("企业名称,注册地址,主营产品\n武汉星测激光雷达科技有限公司,武汉经济技术开发区车城大道88号,车载激光雷达:0.9\n",
                    encoding="utf-8")
    batch = import_enterprises(s, path).batch_id
    out = tmp_path / "firms.xlsx"
    assert export(s, "firms", "wuhan-edz", out, chain_id="nev-icv") >= 1
    ws = load_workbook(out).active
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and "归类依据" in r)
    cols = rows[header]
    firm = next(r for r in rows[header + 1:] if r[cols.index("企业名称")] == "武汉星测激光雷达科技有限公司")
    evidence = firm[cols.index("归类依据")]
    assert "产品：车载激光雷达" in evidence, evidence
    assert not any(w in evidence for w in ("products", "strong", "lidar")), evidence
    assert firm[cols.index("数据来源")] == f"导入批次 #{batch}" and firm[cols.index("归类方式")] == "规则匹配"


def test_merged_record_and_batch_pages_name_things_in_chinese(template, monkeypatch, tmp_path):
    """A merged record said “该记录已合并到 企业 #1091” (an id); a batch page said “enterprises · 38 行 …”."""
    from fastapi.testclient import TestClient

    from chainatlas.services.catalog import load_zone
    from chainatlas.store import db
    from chainatlas.web.app import create_app
    from web_helpers import copy_db, login, web_env

    web_env(monkeypatch, tmp_path)
    url = copy_db(template, tmp_path)
    path = tmp_path / "名录.csv"
    path.write_bytes("企业名称,注册地址\n武汉星测激光雷达科技有限公司,武汉经济技术开发区车城大道88号\n".encode("gbk"))
    with db.session_scope(url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
        batch = import_enterprises(s, path).batch_id
        live = s.scalars(select(Enterprise)).one()
        old = Enterprise(name="武汉星测激光雷达科技有限公司（分公司）", source="test", merged_into_id=live.id)
        older = Enterprise(name="星测激光雷达", source="test")
        s.add_all([old, older])
        s.flush()
        older.merged_into_id = old.id  # merged into a record that was itself merged later
        ids = (live.id, old.id, older.id)
    with TestClient(create_app(url)) as client:
        login(client, "analyst")
        for merged in ids[1:]:
            page = client.get(f"/enterprises/{merged}").text
            assert f'该记录已合并到 <a href="/enterprises/{ids[0]}">武汉星测激光雷达科技有限公司</a>' in page
        assert 'id="merged-into"' not in client.get(f"/enterprises/{ids[0]}").text
        # a correction on a merged record landed on no firm that any page or count shows: refused, with where to go
        assert 'id="add-placement"' not in client.get(f"/enterprises/{ids[1]}").text
        token = client.get("/api/me").json()["csrf_token"]
        r = client.post(f"/enterprises/{ids[1]}/placements", data={"action": "add", "node_id": "lidar", "note": "",
                                                                  "csrf_token": token})
        assert "已合并到“武汉星测激光雷达科技有限公司”" in r.text  # the flash on the page it returns to
        with db.session_scope(url) as s:
            assert s.scalar(select(func.count(Placement.id)).where(Placement.enterprise_id == ids[1])) == 0
        page = client.get(f"/imports/batches/{batch}").text
        assert "企业名单 · 1 行" in page and "enterprises ·" not in page
    db.get_engine(url).dispose()


def test_search_finds_a_name_typed_with_other_brackets_or_widths(zone_session: Session, tmp_path: Path) -> None:
    """An officer typing 上海振华重工（集团）股份有限公司 (full-width brackets, as in most Chinese documents) found nothing:
    the list had imported it as 上海振华重工(集团)股份有限公司."""
    from chainatlas.services.enterprises import search

    path = tmp_path / "名录.csv"
    path.write_bytes("企业名称,注册地址\n上海振华重工(集团)股份有限公司,上海市东方路3261号\n"
                     "武汉星测激光雷达科技有限责任公司,武汉经济技术开发区车城大道88号\n".encode("gbk"))
    import_enterprises(zone_session, path)
    for typed, found in [("上海振华重工（集团）股份有限公司", "上海振华重工(集团)股份有限公司"),
                         ("振华重工（集团）", "上海振华重工(集团)股份有限公司"),
                         ("武汉星测激光雷达科技有限公司", "武汉星测激光雷达科技有限责任公司"),
                         ("ＳＨＡＮＧＨＡＩ", None)]:
        names = [r["name"] for r in search(zone_session, typed)["results"]]
        assert names[:1] == ([found] if found else []), (typed, names)


def test_places_read_as_names_once_on_the_review_and_enterprise_pages(template, monkeypatch, tmp_path):
    """The merge-review page compared 地区 as raw codes (4403 | 440305); a 上海 firm's page said 所在地 上海市 上海市."""
    from fastapi.testclient import TestClient

    from chainatlas.services.catalog import load_zone
    from chainatlas.store import db
    from chainatlas.store.models import MergeCandidate
    from chainatlas.web.app import create_app
    from web_helpers import copy_db, login, web_env

    web_env(monkeypatch, tmp_path)
    url = copy_db(template, tmp_path)
    with db.session_scope(url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
        a = Enterprise(name="兴森科技", source="test", province_code="44", city_code="4403")
        b = Enterprise(name="深圳市兴森快捷电路科技股份有限公司", source="test", province_code="44", city_code="4403",
                       district_code="440305")
        c = Enterprise(name="华域汽车", source="test", province_code="31", city_code="3101")
        s.add_all([a, b, c])
        s.flush()
        s.add(MergeCandidate(left_id=a.id, right_id=b.id, probability=0.8, evidence={"place": "城市相同（区县未知）"},
                             status="pending"))
        shanghai = c.id
    with TestClient(create_app(url)) as client:
        login(client, "analyst")
        review = client.get("/review").text
        assert "广东省 深圳市 南山区" in review and "440305" not in review
        imports = client.get("/imports").text  # its short review list named the comparisons by their keys
        assert "地区：城市相同（区县未知）" in imports and "place：" not in imports
        assert "所在地</dt><dd>上海市</dd>" in client.get(f"/enterprises/{shanghai}").text.replace("\n", "")
    db.get_engine(url).dispose()


def test_the_monthly_brief_charts_one_project_in_whole_projects(zone_session: Session) -> None:
    """With one signed project and no targets the brief's 图2 (签约项目数) drew a gridline labelled 0.5 (个)."""
    import re

    from chainatlas import config
    from chainatlas.services import pipeline
    from chainatlas.services.reports.brief import brief_html

    from chainatlas.services.catalog import save_zone, zone_from_divisions

    s = zone_session
    zone = save_zone(s, zone_from_divisions("上海市", ["310000"])).id  # a zone without yearly targets
    p = pipeline.create_project(s, zone_id=zone, name="虚构测试项目（演示）", by_user="zhang", chain_id="nev-icv",
                                on=config.today())
    pipeline.change_stage(s, p.code, "签约", on=config.today(), by_user="zhang")
    html = brief_html(s, zone, config.today().strftime("%Y-%m"), "nev-icv")
    caption = html.index("图2")
    assert html[caption: caption + 10].startswith("图2 签约项目数")
    figure = html[html.rindex("<figure>", 0, caption): caption]
    labels = re.findall(r"text-anchor='end'[^>]*>([^<]+)</text>", figure)
    assert labels and all(float(v.replace(",", "")).is_integer() for v in labels), labels


def test_target_weights_are_named_for_any_chain() -> None:
    """On 光伏与新型储能 the 目标企业 weights offered “为同类整车厂配套” (vehicle makers) as a criterion."""
    from chainatlas.services.targets import COMPONENT_LABELS

    assert COMPONENT_LABELS["leader_peers"] == "为链主同行配套"
    assert not any("整车" in label for label in COMPONENT_LABELS.values())


def test_a_zone_file_reloaded_with_a_new_target_updates_it(zone_session: Session, tmp_path: Path) -> None:
    """Raising a year's target in the zone file and loading it again left the old target in force (15, not 20):
    save_zone only inserted targets it did not have."""
    from chainatlas.services.catalog import load_zone
    from chainatlas.services.pipeline import kpi_report

    zone_file = tmp_path / "zone.yaml"
    for n in (15, 20):
        zone_file.write_text("id: test-edz\nname: 测试经开区\nmembers:\n  - {code: '420114070'}\ntargets:\n"
                             f"  - {{year: 2026, measure: signed_projects, target: {n}, source: 年度计划}}\n",
                             encoding="utf-8")
        load_zone(zone_session, zone_file, chain_id="nev-icv")
        report = kpi_report(zone_session, "test-edz", 2026, chain_id="nev-icv")
        assert next(r.target for r in report.rows if r.measure == "signed_projects") == n


def test_the_kpi_page_says_how_to_set_targets_when_there_are_none(template, monkeypatch, tmp_path):
    """A zone made from its division code (上海市 from the listed-company file) showed 未设目标 on every row with no
    word on where targets come from; the page now says it."""
    from fastapi.testclient import TestClient

    from chainatlas.services.catalog import save_zone, zone_from_divisions
    from chainatlas.store import db
    from chainatlas.web.app import create_app
    from web_helpers import copy_db, login, web_env

    web_env(monkeypatch, tmp_path)
    url = copy_db(template, tmp_path)
    with db.session_scope(url) as s:
        save_zone(s, zone_from_divisions("上海市", ["310000"]))
    with TestClient(create_app(url)) as client:
        login(client, "analyst")
        page = client.get("/kpi").text
        assert 'id="no-targets"' in page and "由系统管理员设置" in page and "signed_projects, target" not in page
        login(client, "admin")  # the file and the command are for whoever can run it
        assert "chainatlas zone add" in client.get("/kpi").text


def test_a_workbook_opening_on_a_notes_sheet_imports_the_list_on_the_next(zone_session: Session,
                                                                          tmp_path: Path) -> None:
    """A workbook whose first sheet is 说明 (“本表为2026年重点企业名单，见第二个工作表”) imported nothing — the sentence was
    read as the header — and counted as imported, so the same file could not be imported again, not even with
    --sheet."""
    from chainatlas.services.ingest import preview

    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表为2026年重点企业名单，见第二个工作表"])
    wb.active.append(["填表人：区投资促进局"])
    ws = wb.create_sheet("名单")
    ws.append(["企业名称", "注册地址", "主营产品"])
    ws.append(["武汉星测激光雷达科技有限公司", "武汉经济技术开发区车城大道88号", "车载激光雷达"])
    path = tmp_path / "名单.xlsx"
    wb.save(path)
    assert preview(path).table.sheet == "名单"
    summary = import_enterprises(zone_session, path)
    assert (summary.rows_total, summary.rows_inserted) == (1, 1)
    assert zone_session.scalars(select(Enterprise.name)).all() == ["武汉星测激光雷达科技有限公司"]


def test_switching_chain_on_a_node_page_lands_on_a_page_of_the_new_chain(template, monkeypatch, tmp_path):
    """Switched from 新能源与智能网联汽车 to 光伏与新型储能 on /nodes/drive-motor (or 目标企业 of that node), the officer got
    404 产业链“光伏与新型储能”中没有节点“drive-motor”."""
    from fastapi.testclient import TestClient

    from chainatlas.services.catalog import load_zone
    from chainatlas.store import db
    from chainatlas.web.app import create_app
    from web_helpers import copy_db, login, web_env

    web_env(monkeypatch, tmp_path)
    url = copy_db(template, tmp_path)
    with db.session_scope(url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
    with TestClient(create_app(url)) as client:
        token = login(client, "analyst")
        for page, lands in (("/nodes/drive-motor", "/"), ("/targets?node=drive-motor", "/targets"),
                            ("/kpi?year=2026", "/kpi?year=2026")):
            client.post("/view", data={"zone": "wuhan-edz", "chain": "nev-icv", "csrf_token": token})
            r = client.post("/view", data={"zone": "wuhan-edz", "chain": "pv-storage", "csrf_token": token},
                            headers={"referer": f"http://testserver{page}"}, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == lands, (page, r.headers["location"])
            assert client.get(lands).status_code == 200
    db.get_engine(url).dispose()


def test_a_batch_merge_does_not_make_several_companies_one(zone_session: Session) -> None:
    """After the 上海 list, 上海电气 (a listed firm's short name) was paired with 上海电气集团、上海置信电气、上海广电电气、
    上海摩恩电气 (“符合4家企业，需人工确认”), all in one review group, all pre-checked: 勾选的全部合并 merged four different
    companies into one. A batch now merges such a pair only when it is its record's only pair in the batch."""
    from chainatlas.services.ingest import decide_many
    from chainatlas.store.models import MergeCandidate

    s = zone_session
    short = Enterprise(name="上海电气", source="test")
    fulls = [Enterprise(name=n, source="test") for n in ("上海电气集团股份有限公司", "上海置信电气股份有限公司",
                                                            "上海摩恩电气股份有限公司")]
    s.add_all([short, *fulls])
    s.flush()
    pairs = [MergeCandidate(left_id=short.id, right_id=f.id, probability=0.96, status="pending",
                            evidence={"several": "符合3家企业，需人工确认"}) for f in fulls]
    s.add_all(pairs)
    s.flush()
    result = decide_many(s, [p.id for p in pairs], "accept", "zhang")
    assert result.done == [] and len(result.refused) == 3 and "只能与其中确为同一家的一家合并" in result.refused[0]
    assert all(f.merged_into_id is None for f in fulls)
    result = decide_many(s, [pairs[0].id], "accept", "zhang")  # the one pair the officer checked alone
    assert result.done == [pairs[0].id] and fulls[0].merged_into_id == short.id


def test_pages_say_who_did_it_by_display_name(template, monkeypatch, tmp_path):
    """The ledger's 项目历程 and the import pages named people by login (zhang) while the top bar said 张科长."""
    from fastapi.testclient import TestClient

    from chainatlas.services import pipeline
    from chainatlas.services.accounts import create_user
    from chainatlas.services.catalog import load_zone
    from chainatlas.store import db
    from chainatlas.web.app import create_app
    from web_helpers import copy_db, login, web_env

    web_env(monkeypatch, tmp_path)
    url = copy_db(template, tmp_path)
    path = tmp_path / "名录.csv"
    path.write_text("企业名称,注册地址\n武汉星测激光雷达科技有限公司,武汉经济技术开发区车城大道88号\n", encoding="utf-8")
    with db.session_scope(url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
        create_user(s, "zhang", "zhang-pass-12345", "analyst", display_name="张科长")
        p = pipeline.create_project(s, zone_id="wuhan-edz", name="虚构测试项目（演示）", by_user="zhang",
                                    chain_id="nev-icv")
        pid = p.id
        batch = import_enterprises(s, path, by_user="zhang").batch_id
    with TestClient(create_app(url)) as client:
        login(client, "analyst")
        history = client.get(f"/projects/{pid}").text.split("项目历程")[1]
        assert "张科长" in history and "zhang" not in history
        assert "导入人 张科长" in client.get(f"/imports/batches/{batch}").text
        assert "<td>张科长</td>" in client.get("/imports").text
    db.get_engine(url).dispose()
