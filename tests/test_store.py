"""The database layer on a real SQLite file and a real PostgreSQL server: migrations, round trips, rollback."""

from __future__ import annotations

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from chainatlas.services.catalog import ZoneNotFound, load_zone, resolve_zone, sync_chain
from chainatlas.store import db
from chainatlas.store.models import AuditEntry, Base, ChainNodeRow, Enterprise, EnterpriseProduct, YearlyTarget


def test_migrations_build_exactly_the_models(db_url: str) -> None:
    with db.get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert db.current_revision(db_url) == db.head_revision()


def test_migrate_twice_is_a_no_op(db_url: str) -> None:
    assert db.migrate(db_url) == db.head_revision()


def test_enterprise_round_trip_with_json_and_money(db_url: str) -> None:
    with db.session_scope(db_url) as s:
        ent = Enterprise(
            name="武汉某某汽车零部件有限公司",
            uscc="91420100MA4K0XXXXX"[:17] + "0",
            registered_capital=5_000_000,
            capital_currency="USD",
            registered_capital_yuan=35_500_000,
            founded_on=date(2019, 1, 2),
            risk_flags=["经营异常"],
            source="test",
        )
        ent.products = [EnterpriseProduct(product="线控制动系统", revenue_share=0.6)]
        s.add(ent)
    with db.session_scope(db_url) as s:
        got = s.scalar(select(Enterprise))
        assert got.registered_capital_yuan == 35_500_000 and got.capital_currency == "USD"
        assert got.risk_flags == ["经营异常"] and got.founded_on == date(2019, 1, 2)
        assert got.products[0].product == "线控制动系统"


def test_error_inside_a_unit_of_work_leaves_nothing(db_url: str) -> None:
    with pytest.raises(RuntimeError):
        with db.session_scope(db_url) as s:
            s.add(Enterprise(name="半途而废有限公司"))
            s.flush()
            db.audit(s, "tester", "create", "enterprise", "x")
            raise RuntimeError("boom")
    with db.session_scope(db_url) as s:
        assert s.scalar(select(func.count(Enterprise.id))) == 0
        assert s.scalar(select(func.count(AuditEntry.id))) == 0


def test_chain_and_zone_load_idempotently(db_url: str) -> None:
    for _ in range(2):
        with db.session_scope(db_url) as s:
            sync_chain(s, "nev-icv")
            load_zone(s, "wuhan-edz", chain_id="nev-icv")
    with db.session_scope(db_url) as s:
        nodes = s.scalar(select(func.count()).select_from(ChainNodeRow))
        assert nodes >= 39
        zone = resolve_zone(s, "武汉经开区")
        assert zone.id == "wuhan-edz" and resolve_zone(s, "中国车谷").id == "wuhan-edz"
        assert {m.region_code for m in zone.members} >= {"420113", "420114070", "420114071", "420114072"}
        assert {p.name for p in zone.parks} >= {"智能网联和电动汽车产业园", "军山新城", "武汉智能汽车软件园", "现代服务业产业园"}
        targets = {t.measure: t.target_value for t in s.scalars(select(YearlyTarget).where(YearlyTarget.year == 2024))}
        assert targets == {"signed_projects": 15, "signed_investment_yuan": 20_000_000_000}
        with pytest.raises(ZoneNotFound, match="找不到开发区"):
            resolve_zone(s, "火星开发区")
