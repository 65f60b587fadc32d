"""合并审核 page: pending pairs grouped by their evidence, each comparison shown side by side, and a group
decided at once (accepted pairs merged, rejected ones kept apart, exceptions left pending) — all audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chainatlas.store import db
from chainatlas.store.models import AuditEntry, Enterprise, MergeCandidate
from chainatlas.web.app import create_app
from web_helpers import add_users, login

READABLE = {"name_core": "全称中可读出简称（独特）", "place": "城市相同", "founded": "成立日期不同",
            "industry": "行业用语相近"}
CORE = {"name_core": "核心名称相同", "place": "地区不同"}


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("CHAINATLAS_SECRET_KEY", "test-secret-key-for-signing-cookies")
    monkeypatch.setenv("CHAINATLAS_HOME", str(tmp_path / "home"))


@pytest.fixture
def url(env, tmp_path):
    u = f"sqlite:///{tmp_path / 'review.db'}"
    db.migrate(u)
    add_users(u)
    return u


@pytest.fixture
def pairs(url) -> dict[str, list[int]]:
    """Three short names against their full names (one evidence), one pair of namesakes in two cities (another)."""
    names = [("云南白药", "5301", "云南白药集团股份有限公司", "Yunnan Baiyao Group Co., Ltd."),
             ("平安银行", "4403", "平安银行股份有限公司", "Ping An Bank Co., Ltd."),
             ("东风汽车", "4206", "东风汽车股份有限公司", "Dongfeng Automobile Co., Ltd."),
             ("武汉华创科技有限公司", "4201", "深圳华创科技有限公司", "")]
    made: dict[str, list[int]] = {"readable": [], "core": []}
    with db.session_scope(url) as s:
        for short, city, full, english in names:
            a = Enterprise(name=short, name_norm=short, city_code=city, industry="中成药")
            b = Enterprise(name=full, name_norm=full, city_code=city if english else "4403", name_en=english or None,
                           industry="制药")
            s.add_all([a, b])
            s.flush()
            c = MergeCandidate(left_id=a.id, right_id=b.id, probability=0.9 if english else 0.6,
                               evidence=READABLE if english else CORE)
            s.add(c)
            s.flush()
            made["readable" if english else "core"].append(c.id)
    return made


def test_the_page_groups_pairs_and_shows_each_comparison(url, pairs):
    with TestClient(create_app(url)) as client:
        login(client, "analyst")
        page = client.get("/review")
        assert page.status_code == 200
        text = page.text
        # the largest group first, with its evidence; each pair shows names, place, industry, English name
        assert text.index("第 1 组：3 对") < text.index("第 2 组：1 对")
        assert "名称：全称中可读出简称（独特）" in text and "地区：城市相同" in text
        for label in ("名称", "地区", "所属行业", "行业代码", "英文名称", "成立日期"):
            assert f"<td>{label}" in text
        assert "所属行业：行业用语相近" in text and "中成药" in text
        assert "Yunnan Baiyao Group Co., Ltd." in text and "云南白药集团股份有限公司" in text
        groups = client.get("/api/review").json()
        assert [len(g["ids"]) for g in groups] == [3, 1] and sorted(groups[0]["ids"]) == sorted(pairs["readable"])


def test_a_group_is_decided_at_once_with_its_exceptions_left(url, pairs):
    with TestClient(create_app(url)) as client:
        token = login(client, "analyst")
        first, second, third = pairs["readable"]
        # the officer unticks the third pair (东风汽车 is not the listed firm) and merges the other two
        r = client.post("/review/batch", data={"csrf_token": token, "decision": "accept", "ids": [first, second]},
                        follow_redirects=False)
        assert r.status_code == 303
        r = client.post("/api/review/batch", json={"ids": pairs["core"] + [first], "decision": "reject"},
                        headers={"X-CSRF-Token": token})
        assert r.status_code == 200
        # a pair decided already is refused with its reason, the others are done
        assert r.json()["done"] == pairs["core"] and "只有待审核" in r.json()["refused"][0]
        assert client.post("/api/review/batch", json={"ids": [third], "decision": "merge"},
                           headers={"X-CSRF-Token": token}).status_code == 422
    with db.session_factory(url)() as s:
        status = {c.id: c.status for c in s.scalars(select(MergeCandidate))}
        assert [status[i] for i in (first, second, third)] == ["accepted", "accepted", "pending"]
        assert status[pairs["core"][0]] == "rejected"
        merged = s.scalars(select(Enterprise.name).where(Enterprise.merged_into_id.is_not(None))).all()
        assert set(merged) == {"平安银行股份有限公司", "云南白药集团股份有限公司"}
        audited = s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "enterprise.merge"))
        assert audited == 2


def test_viewers_cannot_decide(url, pairs):
    with TestClient(create_app(url)) as client:
        token = login(client, "viewer")
        r = client.post("/api/review/batch", json={"ids": pairs["core"], "decision": "reject"},
                        headers={"X-CSRF-Token": token})
        assert r.status_code == 403
