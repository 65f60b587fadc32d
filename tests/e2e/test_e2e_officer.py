"""End to end in headless Chromium at 1366×768 (the bureau's laptops): what the officer's day on the real data
tripped over in the browser. Same real server (demo loaded) and browser as the main journey."""

from __future__ import annotations

import pytest

from test_e2e_browser import PASSWORDS, SHOTS, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def _page(browser, root: str):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = ctx.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(f"{root}/login")
    page.fill("input[name=username]", "analyst")
    page.fill("input[name=password]", PASSWORDS["analyst"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def _switch(page, root: str, zone_id: str) -> None:
    page.goto(f"{root}/")
    with page.expect_navigation():
        page.select_option("#view-switcher select[name=zone]", zone_id)  # the switcher switches on change


def _ticks(page, element_id: str, axis: str) -> list[float]:
    page.wait_for_function("(id) => window.echarts && echarts.getInstanceByDom(document.getElementById(id))",
                           arg=element_id)
    return page.evaluate("""([id, axis]) => echarts.getInstanceByDom(document.getElementById(id)).getModel()
        .getComponent(axis).axis.scale.getTicks().map(t => t.value)""", [element_id, axis])


def test_a_zone_without_chain_leaders_shows_its_leader_page_without_a_script_error(server, browser):  # noqa: F811
    from chainatlas.services.catalog import save_zone, zone_from_divisions
    from chainatlas.store import db

    with db.session_scope(server["url"]) as s:
        zone_id = save_zone(s, zone_from_divisions("深圳市", ["440300"])).id
    page = _page(browser, server["root"])
    _switch(page, server["root"], zone_id)
    page.goto(f"{server['root']}/leaders")
    page.wait_for_load_state("networkidle")
    assert "深圳市" in page.inner_text(".crumbs")
    page.screenshot(path=str(SHOTS / "leaders-none-1366.png"))
    assert "区内尚无标记为链主的企业" in page.inner_text("main")
    assert page.errors == []  # was: Cannot read properties of null (reading 'view')


def test_project_counts_are_charted_in_whole_projects(server, browser):  # noqa: F811
    """A zone with one signed project: the KPI count charts ticked 0, 0.2 … 1 个 and the 大屏 funnel 0 … 0.8, 1."""
    from chainatlas import config
    from chainatlas.services import pipeline
    from chainatlas.services.catalog import save_zone, zone_from_divisions
    from chainatlas.store import db

    with db.session_scope(server["url"]) as s:
        zone_id = save_zone(s, zone_from_divisions("上海市", ["310000"])).id
        p = pipeline.create_project(s, zone_id=zone_id, name="虚构测试项目（演示）", by_user="analyst", chain_id="nev-icv",
                                    investment_yuan=120_000_000, on=config.today())
        pipeline.change_stage(s, p.code, "签约", on=config.today(), by_user="analyst")
    page = _page(browser, server["root"])
    _switch(page, server["root"], zone_id)
    page.goto(f"{server['root']}/kpi")
    counts = page.evaluate("() => [...document.querySelectorAll('.card h3')].map(h => h.textContent)")
    signed = counts.index("签约项目数（个）")
    ticks = _ticks(page, f"kpi-chart-{signed}", "yAxis")
    page.screenshot(path=str(SHOTS / "kpi-one-project-1366.png"))
    assert ticks and all(t == int(t) for t in ticks), ticks
    assert _ticks(page, f"kpi-chart-{counts.index('签约投资额（亿元）')}", "yAxis")[-1] >= 1.2  # money keeps its scale
    page.goto(f"{server['root']}/screen")
    ticks = _ticks(page, "screen-funnel", "xAxis")
    assert ticks and all(t == int(t) for t in ticks), ticks
    assert page.errors == []


def test_target_names_and_cities_are_readable_at_1366(server, browser):  # noqa: F811
    """The score columns squeezed the ranked firm to two characters a line (江特 / 电机, 宜春 / 市) on 目标企业 and on
    the node page's 推荐目标企业."""
    page = _page(browser, server["root"])
    for path in ("/targets", "/nodes/battery-cells"):
        page.goto(f"{server['root']}{path}")
        row = page.locator("table.data:has(th:text-is('推荐理由')) tbody tr").first
        row.wait_for()
        page.screenshot(path=str(SHOTS / f"targets-1366{path.replace('/', '-')}.png"))
        size = row.evaluate("""(row) => {
            const em = parseFloat(getComputedStyle(row).fontSize);
            const city = row.cells[2];
            return {firm: row.cells[1].getBoundingClientRect().width / em,
                    cityOneLine: getComputedStyle(city).whiteSpace === 'nowrap' && city.scrollWidth <= city.clientWidth};
        }""")
        assert size["firm"] >= 9 and size["cityOneLine"], (path, size)  # 江特电机 on the real data: 3.5 em, two lines


def test_the_search_box_hint_fits_at_1366(server, browser):  # noqa: F811
    """The top bar's search hint was cut off at 1366 px (企业名称 / 曾用名 / 英文: — the box is 180 px there)."""
    page = _page(browser, server["root"])
    page.goto(f"{server['root']}/")
    fit = page.evaluate("""() => {
        const box = document.querySelector('.search input');
        const cs = getComputedStyle(box);
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = `${cs.fontSize} ${cs.fontFamily}`;
        const room = box.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
        return {text: ctx.measureText(box.placeholder).width, room: room, title: box.title};
    }""")
    assert fit["text"] <= fit["room"], fit
    assert "曾用名" in fit["title"] and "信用代码" in fit["title"]  # what it searches is still said


def test_the_screen_map_shows_every_node_name_whole(server, browser):  # noqa: F811
    """The 大屏's chain map cut long node names in its short pills (★车载信息娱乐与音… at every screen size, at 1366 px
    in 6 px type): a label that does not fit on one line at 9 px now puts the firm count on a second line."""
    page = _page(browser, server["root"])
    page.goto(f"{server['root']}/screen")
    page.wait_for_function("() => window.echarts && echarts.getInstanceByDom(document.getElementById('screen-map'))")
    cut = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById('screen-map'));
        const ctx = document.createElement('canvas').getContext('2d');
        const out = [];
        for (const d of chart.getOption().series[0].data) {
            if (!d.label || d.stage || !d.label.width) continue;
            ctx.font = `${d.label.fontWeight || 'normal'} ${d.label.fontSize}px ${d.label.fontFamily}`;
            for (const line of String(d.label.formatter).split('\\n'))
                if (ctx.measureText(line).width > d.label.width + 1) out.push([line, d.label.fontSize, d.label.width]);
        }
        return out;
    }""")
    page.screenshot(path=str(SHOTS / "screen-1366.png"))
    assert cut == [], cut
