"""Shared set-up for the benchmark scripts (run as `python bench/<name>.py`, so this folder is on sys.path)."""

from __future__ import annotations

from pathlib import Path

from chainatlas.services.zones import load_zone
from chainatlas.store import db


def fresh_zone_db(path: Path, zone_id: str = "wuhan-edz") -> str:
    """A new, migrated SQLite file holding only the zone file; returns its URL."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    db.migrate(url)
    with db.session_scope(url) as s:
        load_zone(s, zone_id)
    db.get_engine(url).dispose()
    return url
