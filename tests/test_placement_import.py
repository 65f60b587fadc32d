"""The place step of an import writes exactly what the engine says about each stored firm, minus what analysts
ruled out: for the firms it created (bulk-written) and for firms it updated that already had rule rows and manual
decisions."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import Chain, load_chain
from chainatlas.engines.classify import Classifier, Record
from chainatlas.services.demo import generate_enterprises
from chainatlas.services.ingest.imports import import_enterprises
from chainatlas.services.placement.placements import correct_placement
from chainatlas.store import data_version, db
from chainatlas.store.models import AuditEntry, Enterprise, Placement

pytestmark = pytest.mark.db


def _first_rows(source: Path, out: Path, rows: int) -> None:
    with open(source, encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(lines[:rows + 1])


def _engine_says(session: Session, chain: Chain) -> dict[tuple[int, str], tuple[float, float, list]]:
    """(firm, node) → (score, confidence, evidence) from the one-firm engine on each stored firm, read one by one
    through the ORM (no supply relations in these files)."""
    classifier = Classifier(chain)
    out = {}
    for firm in session.scalars(select(Enterprise).where(Enterprise.merged_into_id.is_(None))):
        lines = sorted(firm.products, key=lambda line: line.id)
        record = Record(id=str(firm.id), name=firm.name or "", scope=firm.business_scope or "",
                        products=[(line.product, line.revenue_share) for line in lines],
                        industry_code=firm.industry_code or "", industry=firm.industry or "")
        for p in classifier.classify(record):
            out.setdefault((firm.id, p.node_id), (p.score, p.confidence, p.evidence))
    return out


def test_import_places_new_and_corrected_firms_as_the_engine_does(db_url: str, tmp_path: Path) -> None:
    chain = load_chain(config.default_chain())
    full, first = tmp_path / "firms.csv", tmp_path / "first.csv"
    generate_enterprises(1500, seed=23, out=full)
    _first_rows(full, first, 700)
    with db.session_scope(db_url) as s:
        import_enterprises(s, first, fuzzy=False)

    # three firms the first import placed get an analyst's decision: off the chain, not on its best node (nor
    # below it), and placed by hand on its best node (a rule row there is then redundant); their rule rows stay
    # until the next placement
    with db.session_scope(db_url) as s:
        best: dict[int, str] = {}
        for eid, node_id in s.execute(select(Placement.enterprise_id, Placement.node_id)
                                      .where(Placement.chain_id == chain.id, Placement.method == "rule")
                                      .order_by(Placement.enterprise_id, Placement.score.desc())):
            best.setdefault(eid, node_id)
        off, reject = [eid for eid, node in best.items() if list(chain.descendants(node))][:2]
        hand = next(eid for eid in best if eid not in (off, reject))
        correct_placement(s, off, chain.id, action="off_chain", by_user="analyst")
        correct_placement(s, reject, chain.id, action="reject", node_id=best[reject], by_user="analyst")
        correct_placement(s, hand, chain.id, action="place", node_id=best[hand], by_user="analyst")
        blocked = {off: set(chain.nodes), hand: {best[hand]},
                   reject: {best[reject], *(n.id for n in chain.descendants(best[reject]))}}
        version = data_version.current(s)
        audits = len(s.scalars(select(AuditEntry.id).where(AuditEntry.action == "classify")).all())

    with db.session_scope(db_url) as s:  # the whole file: the 700 rows again (re-placed), 800 new
        summary = import_enterprises(s, full, fuzzy=False)
    assert summary.rows_merged >= 700

    with db.session_scope(db_url) as s:
        expected = {pair: value for pair, value in _engine_says(s, chain).items()
                    if pair[1] not in blocked.get(pair[0], ())}
        rows = s.scalars(select(Placement).where(Placement.chain_id == chain.id, Placement.method == "rule")).all()
        stored = {(r.enterprise_id, r.node_id): (r.score, r.confidence, r.evidence) for r in rows}
        assert all(r.node_fingerprint == chain.nodes[r.node_id].fingerprint() and not r.rejected for r in rows)
        assert len(s.scalars(select(Placement).where(Placement.method == "manual")).all()) == 3  # untouched
        assert data_version.current(s) > version
        assert len(s.scalars(select(AuditEntry.id).where(AuditEntry.action == "classify")).all()) > audits
    assert len(expected) > 300
    assert stored == expected
    # the import reports every firm with a standing placement: rule rows, and the hand-placed firm
    assert summary.placed[chain.id] == len({eid for eid, _ in stored} | {hand})
