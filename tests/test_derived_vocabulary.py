"""The derived vocabulary: weak product words the product graph reaches, in a data file beside the chain file
(scripts/derive_product_vocabulary.py writes it; `load_chain` merges it)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from chainatlas.domain.chain import ChainFileError, derived_vocabulary_path, load_chain
from chainatlas.engines.classify import Classifier, Record

ROOT = Path(__file__).resolve().parents[1]


def test_derived_words_join_their_nodes_as_weak_words() -> None:
    chain, plain = load_chain("nev-icv"), load_chain("nev-icv", derived=False)
    with open(derived_vocabulary_path(chain), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["node"] in chain.nodes and r["path"] for r in rows)  # every term says why
    for r in rows:
        assert r["term"] in chain.nodes[r["node"]].weak_keywords
        assert r["term"] not in plain.nodes[r["node"]].weak_keywords  # the chain file never names it
    assert chain.nodes["chassis-parts"].fingerprint() != plain.nodes["chassis-parts"].fingerprint()
    # a weak word: with an auto-parts prior it places a wheel-hub maker, alone it places nobody
    firm = Record("1", "", [("轮毂组件", 0.6)], industry_code="3670")
    assert [p.node_id for p in Classifier(chain).classify(firm)] == ["chassis-parts"]
    assert Classifier(plain).classify(firm) == []
    assert Classifier(chain).classify(Record("2", "", [("轮毂组件", 0.6)])) == []


def test_a_derived_file_naming_an_unknown_node_is_refused(tmp_path: Path) -> None:
    source = Path(load_chain("nev-icv").path)
    copy = tmp_path / "mine.yaml"
    copy.write_bytes(source.read_bytes())
    (tmp_path / "mine.derived.csv").write_text("term,node,path\n某词,no-such-node,x\n", encoding="utf-8")
    with pytest.raises(ChainFileError, match="no-such-node"):
        load_chain(copy)
    assert "某词" not in str(load_chain(copy, derived=False).nodes)


def test_the_script_rebuilds_the_committed_file(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "derived.csv"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "derive_product_vocabulary.py"), "--shared",
                    str(shared_data), "--out", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == derived_vocabulary_path(load_chain("nev-icv")).read_bytes()
