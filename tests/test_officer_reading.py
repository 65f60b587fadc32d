"""What an officer reads: exact names first in search, evidence chips per field, times on the bureau's clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.services.enterprises import evidence_groups, search
from chainatlas.store.models import Enterprise

pytestmark = pytest.mark.db


def test_search_puts_exact_name_short_name_and_uscc_first(zone_session: Session) -> None:
    s = zone_session
    s.add_all([Enterprise(name="东风汽车座椅公司", source="test"), Enterprise(name="东风汽车电子有限公司", source="test"),
               Enterprise(name="东风汽车集团有限公司", short_name="东风汽车", source="test"),
               Enterprise(name="武汉某某科技有限公司", uscc="91420100MA4KXXXX0X", source="test")])
    s.flush()
    names = [r["name"] for r in search(s, "东风汽车")["results"]]
    assert names[0] == "东风汽车集团有限公司"  # its 简称 is exactly what was typed, though its name is longer
    assert names[1:] == ["东风汽车座椅公司", "东风汽车电子有限公司"]
    assert search(s, "东风汽车座椅公司")["results"][0]["name"] == "东风汽车座椅公司"


def test_evidence_is_grouped_by_field_with_its_words() -> None:
    ev = [{"field": "products", "word": "纯电动乘用车整车"}, {"field": "products", "word": "乘用车整车"},
          {"field": "scope", "word": "电动汽车"}, {"field": "industry_code", "word": "3612"},
          {"field": "products", "word": "乘用车整车"}]
    assert evidence_groups(ev) == [("产品", ["纯电动乘用车整车", "乘用车整车"]), ("经营范围", ["电动汽车"]),
                                   ("国民经济行业代码（GB/T 4754）", ["3612"])]
    # a supply relation names the component and the customer; a stock industry is shown as such
    ev = [{"field": "supplied", "word": "Disc Brake", "product": "Disc Brake", "customer": "比亚迪股份有限公司"},
          {"field": "industry", "word": "汽车配件", "kind": "prior"}]
    assert evidence_groups(ev) == [("供货", ["Disc Brake（客户：比亚迪股份有限公司）"]), ("所属行业", ["汽车配件"])]


def test_times_are_shown_on_the_bureaus_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = datetime(2026, 12, 6, 20, 30)  # naive UTC, as SQLite hands it back
    assert config.local_time(stored) == datetime(2026, 12, 7, 4, 30, tzinfo=config.timezone())
    assert config.local_time(stored.replace(tzinfo=UTC)).hour == 4
    monkeypatch.setenv("CHAINATLAS_TIMEZONE", "Europe/Berlin")
    assert config.local_time(stored).hour == 21
    monkeypatch.setenv("CHAINATLAS_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="CHAINATLAS_TIMEZONE"):
        config.today()


def _reader(demo_db_url: str):  # type: ignore[no-untyped-def]
    """A signed-in viewer on a private copy of the demo database."""
    from fastapi.testclient import TestClient

    from chainatlas.services.accounts import auth
    from chainatlas.store import db
    from chainatlas.web.app import create_app

    with db.session_scope(demo_db_url) as s:
        auth.create_user(s, "reader", "reader-pass-123", "viewer")
    client = TestClient(create_app(demo_db_url))
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": "reader", "password": "reader-pass-123", "csrf_token": token})
    return client


def test_metrics_are_explained_where_they_are_shown(demo_db_url: str) -> None:
    client = _reader(demo_db_url)
    gaps = client.get("/gaps").text
    assert 'title="机会得分（0–1）' in gaps and "潜力：关联强未形成</dt><dd>本区 RCA &lt; 1" in gaps
    node = client.get("/nodes/battery-cells").text
    assert 'title="区位商 LQ = ' in node and "口径说明" in node


def test_a_node_shows_the_projects_coming_to_it(demo_db_url: str) -> None:
    client = _reader(demo_db_url)
    cmap = client.get("/api/chain-map").json()
    items = [n for st in cmap["stages"] for seg in st["segments"] for n in [seg, *seg["children"]]]
    signed = {n["id"]: n["signed_projects"] for n in items}
    assert signed["lidar"] >= 1  # the demo's 激光雷达 project has signed
    page = client.get("/nodes/lidar").text
    assert "本区在库项目" in page and "激光雷达华中生产基地（演示）" in page
