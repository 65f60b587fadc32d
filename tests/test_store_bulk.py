"""Bulk writes and the schema they rely on, on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
import sqlalchemy.exc
from alembic import command
from sqlalchemy import MetaData, Table, func, inspect, select, text

from chainatlas.store import bulk
from chainatlas.store import db
from chainatlas.store.models import AuditEntry, Enterprise, EnterpriseProduct


def _firm(eid: int, uscc: str | None, **extra: object) -> dict:
    return {"id": eid, "uscc": uscc, "name": f"企业{eid}", "name_norm": f"企业{eid}", **extra}


def _as_at(session, table: Table) -> Table:
    """The model's table with only the columns the database has now (an older schema lacks later columns), Python
    defaults kept, so the bulk writer can fill rows the way it did at that revision."""
    present = {c["name"] for c in inspect(session.connection()).get_columns(table.name)}
    return Table(table.name, MetaData(), *(c._copy() for c in table.columns if c.name in present))


def test_upgrade_from_0002_keeps_every_firm_and_row_pointing_at_it(db_url: str) -> None:
    """0003 rebuilds the enterprises table on SQLite (its UNIQUE (uscc) becomes a unique index): the firms, the
    rows of other tables pointing at them and a merge between two of them all survive, and USCCs stay unique."""
    cfg = db.alembic_config(db_url)
    with db.get_engine(db_url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    with db.session_scope(db_url) as s:
        bulk.insert_rows(s, _as_at(s, Enterprise.__table__), [_firm(1, "91420100MA4K8A1B2C"),
                                                              _firm(2, None, merged_into_id=1), _firm(3, "91420100MA4K8A1B3D")])
        bulk.insert_rows(s, _as_at(s, EnterpriseProduct.__table__), [{"enterprise_id": 1, "product": "动力电池"},
                                                                     {"enterprise_id": 3, "product": "BMS"}])
    assert db.migrate(db_url) == db.head_revision()

    with db.session_scope(db_url) as s:
        firms = s.execute(select(Enterprise.id, Enterprise.uscc, Enterprise.merged_into_id).order_by(Enterprise.id)).all()
        assert [tuple(f) for f in firms] == [(1, "91420100MA4K8A1B2C", None), (2, None, 1), (3, "91420100MA4K8A1B3D", None)]
        made = s.execute(select(EnterpriseProduct.enterprise_id, EnterpriseProduct.product)
                         .order_by(EnterpriseProduct.enterprise_id)).all()
        assert [tuple(m) for m in made] == [(1, "动力电池"), (3, "BMS")]
    indexes = {ix["name"]: ix for ix in inspect(db.get_engine(db_url)).get_indexes("enterprises")}
    assert indexes["ix_enterprises_uscc"]["unique"]
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        with db.session_scope(db_url) as s:
            s.execute(text("UPDATE enterprises SET uscc = '91420100MA4K8A1B2C' WHERE id = 3"))
    with pytest.raises(sqlalchemy.exc.IntegrityError):  # foreign keys are on again after the migration
        with db.session_scope(db_url) as s:
            s.execute(text("INSERT INTO enterprise_products (enterprise_id, product) VALUES (99, 'x')"))


def test_duplicate_uscc_in_a_deferred_load_fails_and_leaves_the_table_as_it_was(db_url: str) -> None:
    """SQLite drops the unique index for a bulk load; its rebuild refuses the duplicate and the load rolls back
    (PostgreSQL keeps its index and refuses the duplicate row at once)."""
    with db.session_scope(db_url) as s:
        bulk.insert_rows(s, Enterprise.__table__, [_firm(1, "91420100MA4K8A1B2C")])
    with pytest.raises((sqlalchemy.exc.IntegrityError, psycopg.errors.UniqueViolation)):
        with db.session_scope(db_url) as s:
            with bulk.indexes_deferred(s, [Enterprise.__table__]):
                bulk.insert_rows(s, Enterprise.__table__, [_firm(2, "91420100MA4K8A1B3D"), _firm(3, "91420100MA4K8A1B2C")])
    with db.session_scope(db_url) as s:
        assert s.scalars(select(Enterprise.id)).all() == [1]
    assert "ix_enterprises_uscc" in {ix["name"] for ix in inspect(db.get_engine(db_url)).get_indexes("enterprises")}


def test_large_writes_land_constant_and_missing_values_exactly(db_url: str) -> None:
    """From 1,000 rows on, a column with one value throughout is written as a literal: the rows read back as if
    each value had been bound, None as NULL, a text with a quote intact; a write of nothing but constants still
    writes every row."""
    n = 1_500
    with db.session_scope(db_url) as s:
        bulk.insert_columns(s, Enterprise.__table__, {
            "id": list(range(1, n + 1)),
            "name": [f"企业{i}" for i in range(n)],
            "name_norm": [f"企业{i}" for i in range(n)],
            "source": ["import:7 'x'"] * n,  # the same text in every row, with a quote
            "zone_id": [None] * n,  # NULL in every row (nullable, no default)
            "website": [None] * n,  # the default marker in every row: the column's default ("")
            "employees": [None if i % 2 else i for i in range(n)],
            "status": ["存续"] * (n - 1) + ["注销"],  # the same text in all but the last row
        }, default_marker=None)
        bulk.insert_columns(s, EnterpriseProduct.__table__, {"enterprise_id": [7] * n, "product": ["热管理"] * n})
    with db.session_scope(db_url) as s:
        rows = s.execute(select(Enterprise.id, Enterprise.source, Enterprise.zone_id, Enterprise.website,
                                Enterprise.employees, Enterprise.status, Enterprise.capital_currency)
                         .order_by(Enterprise.id)).all()
        assert len(rows) == n
        assert all(r.source == "import:7 'x'" and r.zone_id is None and r.website == "" and r.capital_currency == "CNY"
                   for r in rows)
        assert [r.employees for r in rows[:4]] == [0, None, 2, None]
        assert [r.status for r in rows[-2:]] == ["存续", "注销"]
        assert s.scalar(select(func.count()).select_from(EnterpriseProduct).where(EnterpriseProduct.product == "热管理",
                                                                                  EnterpriseProduct.enterprise_id == 7)) == n


def test_a_single_row_binds_its_values_and_none_is_null(db_url: str) -> None:
    with db.session_scope(db_url) as s:
        bulk.insert_rows(s, AuditEntry.__table__, [{"username": "alice", "action": "import.enterprises",
                                                    "entity_type": "import_batch", "entity_id": "1",
                                                    "before": None, "after": {"inserted": 3}}])
    with db.session_scope(db_url) as s:
        entry = s.scalars(select(AuditEntry)).one()
        assert (entry.username, entry.action, entry.after) == ("alice", "import.enterprises", {"inserted": 3})
        assert entry.before is None or entry.before == {}


def test_sqlite_binds_none_as_null_through_the_registered_adapter(tmp_path) -> None:
    db.get_engine(f"sqlite:///{tmp_path / 'x.db'}")  # registers the adapter
    conn = sqlite3.connect(tmp_path / "y.db")
    conn.execute("CREATE TABLE t (a, b)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(None, 1), (None, None)])
    assert conn.execute("SELECT typeof(a), typeof(b) FROM t").fetchall() == [("null", "integer"), ("null", "null")]
