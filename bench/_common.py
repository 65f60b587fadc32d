"""Shared set-up for the benchmark scripts (run as `python bench/<name>.py`, so this folder is on sys.path)."""

from __future__ import annotations

from pathlib import Path

from chainatlas.services.catalog import load_zone
from chainatlas.store import db


def fresh_zone_db(path: Path, zone_id: str = "wuhan-edz") -> str:
    """A new, migrated SQLite file holding only the zone file; returns its URL."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    db.migrate(url)
    with db.session_scope(url) as s:
        load_zone(s, zone_id, chain_id="nev-icv")
    db.get_engine(url).dispose()
    return url


RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def record_results(heading: str, block: str) -> None:
    """Add one run's figures at the end of its `## heading` section of bench/RESULTS.md (made if missing),
    keeping earlier runs: the file is a log of measurements, each with its machine and date."""
    existing = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    block = block.strip("\n") + "\n"
    if heading in existing:
        before, _, after = existing.partition(heading)
        section, sep, rest = after.partition("\n## ")
        existing = before + heading + section.rstrip("\n") + "\n\n" + block + (sep + rest if sep else "")
    else:
        existing = existing.rstrip("\n") + "\n\n" + heading + "\n\n" + block
    RESULTS.write_text(existing, encoding="utf-8")

