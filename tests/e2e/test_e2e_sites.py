"""End to end in headless Chromium: an officer opens a project, sees its best sites, holds one, and the 载体 map
shows the site as held (洽谈中). Same real server and browser as the main journey (fixtures from there)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from test_e2e_browser import PASSWORDS, SHOTS, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_officer_holds_a_site_for_a_project_and_the_map_shows_it(server, browser):  # noqa: F811
    from chainatlas.store import db
    from chainatlas.store.models import Project, Site

    with db.session_scope(server["url"]) as s:
        held = set(s.scalars(select(Site.project_id).where(Site.project_id.is_not(None))))
        project = next(p for p in s.scalars(select(Project).where(Project.land_mu > 0, Project.stage.in_(("在谈", "签约")))
                                            .order_by(Project.code)) if p.id not in held)
        project_id, project_code = project.id, project.code
    root = server["root"]
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{root}/login")
    page.fill("input[name=username]", "analyst")
    page.fill("input[name=password]", PASSWORDS["analyst"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.goto(f"{root}/projects/{project_id}")
    first = page.locator("#project-sites tr[data-site]").first
    first.wait_for()
    code = first.get_attribute("data-site")
    assert "面积" in first.inner_text()
    page.screenshot(path=str(SHOTS / "project-sites.png"), full_page=True)
    first.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/projects/{project_id}$"))
    assert f"已为项目 {project_code} 预留" in page.inner_text(".alert-success")
    page.locator(f"#project-sites tr[data-site='{code}']").wait_for()
    assert "已为本项目预留" in page.inner_text(f"#project-sites tr[data-site='{code}']")

    page.goto(f"{root}/sites")
    try:
        page.wait_for_selector("body[data-chart-ready=\"1\"]", state="attached", timeout=30_000)
    except Exception:
        page.screenshot(path=str(SHOTS / "FAILED-sites-map.png"), full_page=True)
        raise AssertionError(f"the sites map did not render; page errors: {errors}") from None
    status = page.evaluate("""(code) => {
        const chart = echarts.getInstanceByDom(document.getElementById('sites-map'));
        const series = chart.getOption().series.find(s => (s.data || []).some(d => d && d.code === code));
        return series ? series.name : null;
    }""", code)
    assert status == "洽谈中"
    assert "洽谈中" in page.inner_text(f"#sites-table tr[data-site='{code}']")
    page.screenshot(path=str(SHOTS / "sites-map.png"), full_page=True)
    assert not errors, errors
    ctx.close()
