"""Engine, sessions and migrations for the database at CHAINATLAS_DATABASE_URL."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from chainatlas import config
from chainatlas.store.data_version import VersionedSession
from chainatlas.store.models import AuditEntry

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_NO_ADAPTATION: dict = {}


def normalize_url(url: str) -> str:
    # Users paste the URL psql understands; SQLAlchemy needs the driver named.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def get_engine(url: str | None = None) -> Engine:
    """The engine for a URL (default: CHAINATLAS_DATABASE_URL as it is now), one per URL per process."""
    return _engine_for(normalize_url(url or config.database_url()))


def create_private_file(path: Path) -> None:
    """Create the file readable by its owner only (0600) if it does not exist: databases and uploads hold
    confidential lists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


@lru_cache(maxsize=32)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            # 0600 before SQLite creates it world-readable (its -wal and -shm files take the same mode)
            create_private_file(Path(database))
        # sqlite3 binds None through its adapter protocol (a tuple, a registry lookup and two attribute lookups,
        # ~0.8 µs a value, more than a text); a registered adapter is found at the lookup, so None costs ~0.2 µs.
        # Still NULL: an adapter returning None binds NULL.
        sqlite3.register_adapter(type(None), _NO_ADAPTATION.get)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": config.sqlite_busy_seconds()})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    """Sessions on the database at `url`; a session that writes moves the data version as it commits
    (store/data_version.py), which every cache of derived output is keyed by."""
    return sessionmaker(bind=get_engine(url), class_=VersionedSession, expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One unit of work: commit at the end, roll back everything on any error or interrupt."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Alembic is imported inside the functions that migrate: it costs ~0.6 s of start-up, and every command
# and web worker imports this module while only `init`/`demo load` and tests migrate.
def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url or config.database_url()).replace("%", "%%"))
    return cfg


def migrate(url: str | None = None) -> str:
    """Create or upgrade the schema to the newest migration; returns the revision now in force."""
    from alembic import command

    cfg = alembic_config(url)
    engine = get_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # A migration that rebuilds a table drops the old one, which other tables' rows still point at: SQLite's
            # way (its "generalized ALTER TABLE procedure") is foreign keys off meanwhile, checked before commit.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()  # ends SQLAlchemy's autobegun transaction; SQLite had none open (no BEGIN for a PRAGMA)
        try:
            with conn.begin():
                begin_ddl(conn)  # so that the schema changes commit or roll back together
                cfg.attributes["connection"] = conn
                # "heads": feature branches of the schema may sit side by side until they are chained.
                command.upgrade(cfg, "heads")
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("迁移后外键检查失败 (foreign key check failed after the migration)")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
    return current_revision(url) or ""


def begin_ddl(conn: Connection) -> None:
    """Open SQLite's transaction now if it is not open yet. Python's sqlite3 opens one only before INSERT, UPDATE
    or DELETE, so a DROP or CREATE issued first would commit on its own and survive a rollback."""
    driver = conn.connection.driver_connection
    if conn.dialect.name == "sqlite" and not driver.in_transaction:
        driver.execute("BEGIN")


def current_revision(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ",".join(sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()))


def audit(
    session: Session,
    username: str,
    action: str,
    entity_type: str,
    entity_id: object = "",
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Record a write in the audit log, inside the caller's transaction so both land or neither does."""
    session.add(
        AuditEntry(
            username=username,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )
