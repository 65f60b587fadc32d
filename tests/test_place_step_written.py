"""The import's place step takes the new firms as the write step stored them (placements.WrittenFirms) instead of
reading a million rows back: what it takes is exactly what the database gives back for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainatlas.services.catalog.zones import load_zone
from chainatlas.services.demo.generate import generate_enterprises
from chainatlas.services.ingest import enterprises as enterprise_steps
from chainatlas.services.ingest.imports import import_enterprises
from chainatlas.services.placement.placements import stored_firms
from chainatlas.store import db
from ingest_files import gbk_csv
from test_link_step_shortcuts import _respelled

pytestmark = pytest.mark.db


def _resolved(frame, lists):  # noqa: ANN001, ANN202
    """Each firm's cells with its product and supplied lists looked up (the keys themselves may differ)."""
    return [(row["id"], row["name"], [tuple(x) for x in lists[row["products"]]], row["scope"], row["industry_code"],
             row["industry"], [tuple(x) for x in lists[row["supplied"]]]) for row in frame.iter_rows(named=True)]


def test_the_new_firms_as_written_are_the_firms_as_stored(db_url: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session_scope(db_url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
    first = generate_enterprises(800, seed=41, out=tmp_path / "a.csv").path  # repeats fold into one firm
    fresh = generate_enterprises(100, seed=42, out=tmp_path / "b.csv").path
    files = [gbk_csv(tmp_path / "重点企业.csv"), first, _respelled(first, tmp_path / "c.csv", fresh)]
    checked = []
    original = enterprise_steps.place_touched

    def compare(session, firm_ids, by_user, written):  # noqa: ANN001, ANN202
        ids = sorted(firm_ids)
        given = set(written.frame["_id"].to_list())
        assert given <= set(ids)
        assert _resolved(*written.read(session, ids)) == _resolved(*stored_firms(session, ids))
        checked.append((len(given), len(ids)))
        return original(session, firm_ids, by_user, written)

    monkeypatch.setattr(enterprise_steps, "place_touched", compare)
    for path in files:
        with db.session_scope(db_url) as s:
            import_enterprises(s, path)
    assert len(checked) == 3
    # firms merged into (survivors) and known firms that rows filled are read from the database, the rest given
    assert all(0 < given for given, _ in checked) and any(given < touched for given, touched in checked)
