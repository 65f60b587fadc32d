"""The import's link step takes what earlier steps worked out instead of working it out again — each address's rest
as the normalise step read it, the new firms' industry words from their values — and gets what it got before."""

from __future__ import annotations

import csv
import dataclasses
import random
from pathlib import Path

import pyarrow as pa
import pytest

from chainatlas.services.catalog.zones import load_zone
from chainatlas.services.demo.generate import generate_enterprises
from chainatlas.services.ingest import enterprises as enterprise_steps
from chainatlas.services.ingest.imports import import_enterprises
from chainatlas.services.ingest.link import industry_words, linkage_table
from chainatlas.store import db

pytestmark = pytest.mark.db


_SIMILAR = {"创": "刨", "泰": "秦", "达": "汰", "通": "涌", "远": "沅", "盛": "晟", "天": "夭", "博": "搏", "新": "欣",
            "源": "原", "德": "得", "安": "案", "诚": "成", "智": "志", "联": "连", "航": "杭", "星": "兴", "明": "铭"}


def _respelled(src: Path, dst: Path, fresh: Path) -> Path:
    """Known firms again without their USCC, some re-spelled or at another address, with new firms among them."""
    rng = random.Random(5)
    with open(src, encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    with open(fresh, encoding="utf-8-sig", newline="") as fh:
        rows_new = list(csv.reader(fh))[1:]
    out = []
    for row in rng.sample(rows, 150):
        row = list(row)
        row[1] = ""
        spots = [i for i, ch in enumerate(row[0]) if ch in _SIMILAR]
        if spots:  # a typo: no exact key finds it, splink may
            i = rng.choice(spots)
            row[0] = row[0][:i] + _SIMILAR[row[0][i]] + row[0][i + 1:]
        if rng.random() < 0.2:
            row[2] = ""  # no address: the place from the province/city columns, no rest to compare
        out.append(row)
    out += rows_new
    with open(dst, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(out)
    return dst


def test_the_link_step_reads_what_the_earlier_steps_found_as_it_would_read_it_itself(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session_scope(db_url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
    first = generate_enterprises(600, seed=31, out=tmp_path / "a.csv").path
    fresh = generate_enterprises(100, seed=32, out=tmp_path / "b.csv").path
    second = _respelled(first, tmp_path / "c.csv", fresh)
    seen = []
    original = enterprise_steps.link_new

    def checked(session, firms, batch_id, by_user):  # noqa: ANN001, ANN202
        assert firms.rests is not None and len(firms.rests) == len(firms)
        assert any(firms.rests) and "" in firms.rests
        # the words counted from the new firms' values and the stored firms' in SQL, as SQL counts them all
        words = industry_words(session, firms)
        assert words == industry_words(session) and words
        # the rests as the normalise step read them, or read again here: the same records to score
        given, model = linkage_table(session, firms)
        again, model_again = linkage_table(session, dataclasses.replace(firms, rests=None))
        assert given.equals(again)
        assert (model.bits if model else None) == (model_again.bits if model_again else None)
        assert pa.compute.count(given.column("address")).as_py() > 0
        seen.append(len(firms))
        return original(session, firms, batch_id, by_user)

    monkeypatch.setattr(enterprise_steps, "link_new", checked)
    with db.session_scope(db_url) as s:
        import_enterprises(s, first)  # a first import: no stored firm to block with
    with db.session_scope(db_url) as s:
        summary = import_enterprises(s, second)  # against the stored firms
    assert len(seen) == 2 and summary.rows_linked > 0
