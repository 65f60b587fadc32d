"""Shared fixtures: real database files (SQLite, and PostgreSQL when the test script started one), shared data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from chainatlas.store import db

SHARED_DATA = Path(os.environ.get("CHAINATLAS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session", autouse=True)
def build_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The chain build cache of the test session (CHAINATLAS_BUILD_CACHE): a folder of its own rather than the user's,
    shared by every test and the commands they start, so chains are built afresh and read from the cache alike."""
    folder = tmp_path_factory.mktemp("build-cache")
    before = os.environ.get("CHAINATLAS_BUILD_CACHE")
    os.environ["CHAINATLAS_BUILD_CACHE"] = str(folder)
    yield folder
    if before is None:
        del os.environ["CHAINATLAS_BUILD_CACHE"]
    else:
        os.environ["CHAINATLAS_BUILD_CACHE"] = before


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data beside the project (../shared/data); tests that need it skip where it is absent."""
    if not (SHARED_DATA / "SOURCES.md").exists():
        pytest.skip(f"shared data not present at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def generated_firms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50,000 generated registry rows (`chainatlas demo generate`), written once per test session."""
    from chainatlas.services.demo import generate_enterprises

    path = tmp_path_factory.mktemp("gen") / "firms.csv"
    generate_enterprises(50_000, seed=11, out=path)
    return path


@pytest.fixture(scope="session")
def large_firms(generated_firms: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """A CSV of the generated rows `times` times over (18 MB each: 4 → 73 MB, 6 → 110 MB, 8 → 146 MB), to be cut
    into byte ranges; written once per test session for each `times`."""
    made: dict[int, Path] = {}

    def firms(times: int) -> Path:
        if times not in made:
            data = generated_firms.read_bytes()
            made[times] = tmp_path_factory.mktemp("large") / "firms.csv"
            made[times].write_bytes(data + data[data.index(b"\n") + 1:] * (times - 1))
        return made[times]

    return firms


@dataclass(frozen=True)
class ProcessEntry:
    pid: int
    state: str  # "R", "S", "Z" (a zombie: ended, not yet waited for) …
    ppid: int
    pgrp: int


@pytest.fixture
def processes() -> Callable[[], list[ProcessEntry]]:
    """The machine's processes now, from /proc (no psutil): to check that a command leaves none of its own."""

    def table() -> list[ProcessEntry]:
        entries = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                pid, rest = stat.read_text().split(" (", 1)
            except OSError:  # the process ended meanwhile
                continue
            state, ppid, pgrp = rest.rsplit(") ", 1)[1].split()[:3]
            entries.append(ProcessEntry(int(pid), state, int(ppid), int(pgrp)))
        return entries

    return table


def _pg_admin_url() -> str | None:
    return os.environ.get("CHAINATLAS_TEST_PG_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database: a SQLite file, then a throwaway PostgreSQL database.

    scripts/test.sh starts PostgreSQL on loopback and sets CHAINATLAS_TEST_PG_URL; CI sets
    CHAINATLAS_REQUIRE_PG=1 so a missing server fails instead of skipping.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'chainatlas.db'}"
        db.migrate(url)
        yield url
        db.get_engine(url).dispose()
        return
    admin = _pg_admin_url()
    if not admin:
        if os.environ.get("CHAINATLAS_REQUIRE_PG") == "1":
            pytest.fail("CHAINATLAS_REQUIRE_PG=1 but CHAINATLAS_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL server (run scripts/test.sh, which starts one)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(db.normalize_url(admin), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = db.normalize_url(admin).rsplit("/", 1)[0] + f"/{name}"
    db.migrate(url)
    yield url
    db.get_engine(url).dispose()
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite file only, for tests whose behaviour does not depend on the database engine."""
    url = f"sqlite:///{tmp_path / 'chainatlas.db'}"
    db.migrate(url)
    yield url
    db.get_engine(url).dispose()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    factory = db.session_factory(db_url)
    with factory() as s:
        yield s


@pytest.fixture
def zone_session(session: Session) -> Session:
    """A session on a fresh database holding the built-in 武汉经开区 zone (parks, article targets)."""
    from chainatlas.services.catalog import load_zone

    load_zone(session, "wuhan-edz", chain_id="nev-icv")
    session.flush()
    return session


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the shipped chain and the demo zone loaded, built once per test session."""
    from chainatlas.services.demo import load_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = f"sqlite:///{path}"
    db.migrate(url)
    with db.session_scope(url) as s:
        load_demo(s)
    db.get_engine(url).dispose()
    return path


@pytest.fixture
def demo_db_url(demo_db_template: Path, tmp_path: Path) -> Iterator[str]:
    """A private copy of the demo database that a test may change freely."""
    import shutil

    path = tmp_path / "demo.db"
    shutil.copyfile(demo_db_template, path)
    url = f"sqlite:///{path}"
    yield url
    db.get_engine(url).dispose()
