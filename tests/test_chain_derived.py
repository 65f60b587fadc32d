"""A chain's derived vocabulary (`<chain>.derived.csv` beside the chain file): merged into the nodes at load, used by
every placement path with evidence that says where the word came from; a chain without the file is unchanged."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainatlas import config
from chainatlas.cli.main import app
from chainatlas.domain.chain import ChainFileError, builtin_chain_path, load_chain, parse_chain
from chainatlas.engines.classify import Classifier, Record
from chainatlas.engines.classify_batch import BatchClassifier
from chainatlas.services.enterprises import evidence_label
from chainatlas.services.placement import effective_placements
from chainatlas.store import db
from web_helpers import app_url, template  # noqa: F401 (fixtures)

HEADER = "node_id,term,strength,relation,path,source\n"
SEMI_AXLE = "chassis-parts,半轴,strong,专用上游材料,驱动桥 —上游材料→ 半轴,ckg_product_product.csv\n"
FIRM = Record(id="1", name="某某机械有限公司", products=[("汽车半轴", 0.6), ("农机配件", 0.4)])


@pytest.fixture
def chain_copy(tmp_path: Path) -> Path:
    """The built-in chain copied to a user's folder, without a derived file beside it."""
    path = tmp_path / "my-chain.yaml"
    shutil.copyfile(builtin_chain_path("nev-icv"), path)
    return path


def _write_derived(chain_path: Path, rows: str) -> Path:
    derived = chain_path.with_name("my-chain.derived.csv")
    derived.write_text(HEADER + rows, encoding="utf-8")
    return derived


def test_a_chain_without_a_derived_file_loads_as_its_yaml_says(chain_copy: Path) -> None:
    chain = load_chain(chain_copy)
    plain = parse_chain(chain_copy.read_text(encoding="utf-8"), str(chain_copy))
    assert chain.derived_path == ""
    assert {n: node.fingerprint() for n, node in chain.nodes.items()} == \
        {n: node.fingerprint() for n, node in plain.nodes.items()}
    assert not any(node.derived for node in chain.nodes.values())
    assert Classifier(chain).classify(FIRM) == []  # 半轴 is no word of the chain file


def test_derived_words_join_their_nodes_and_place_firms_with_evidence_naming_the_path(chain_copy: Path) -> None:
    plain = load_chain(chain_copy)
    _write_derived(chain_copy, SEMI_AXLE + "ice-powertrain,喷射系统,weak,专用上游材料,电喷柴油发动机 —上游材料→ 喷射系统,x\n")
    chain = load_chain(chain_copy)
    parts, engine = chain.nodes["chassis-parts"], chain.nodes["ice-powertrain"]
    assert parts.keywords[-1] == "半轴" and "半轴" not in parts.weak_keywords
    assert engine.weak_keywords[-1] == "喷射系统" and "喷射系统" not in engine.keywords
    assert parts.derived == (("半轴", "驱动桥 —上游材料→ 半轴"),)
    # the nodes' fingerprints move with the file, so stored placements on them are re-decided
    assert parts.fingerprint() != plain.nodes["chassis-parts"].fingerprint()
    assert chain.nodes["cathode"].fingerprint() == plain.nodes["cathode"].fingerprint()

    [placed] = Classifier(chain).classify(FIRM)
    assert placed.node_id == "chassis-parts"
    assert placed.evidence == [{"field": "products", "word": "半轴", "kind": "strong", "node": "chassis-parts",
                                "source": "derived", "via": "驱动桥 —上游材料→ 半轴", "product": "汽车半轴",
                                "share": 0.6}]
    assert evidence_label(placed.evidence[0]) == "产品：半轴（产品图谱派生）"
    # imports and batches run the batch engine (compiled or pure-Python kernel): the same placement and evidence
    [batch] = BatchClassifier(chain).classify_records([FIRM])
    assert (batch.node_id, batch.score, batch.evidence) == (placed.node_id, placed.score, placed.evidence)


def test_the_classify_command_finds_the_derived_file_beside_the_chain_it_is_given(chain_copy: Path,
                                                                                tmp_path: Path) -> None:
    _write_derived(chain_copy, SEMI_AXLE)
    firms, out = tmp_path / "firms.csv", tmp_path / "out.csv"
    firms.write_text("企业名称,主营产品\n某某机械有限公司,汽车半轴:0.6;农机配件:0.4\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["classify", str(firms), "--chain", str(chain_copy), "--out", str(out),
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8-sig", newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["node_id"] == "chassis-parts"
    assert json.loads(row["evidence"])[0]["via"] == "驱动桥 —上游材料→ 半轴"


def test_a_weak_derived_word_needs_other_evidence(chain_copy: Path) -> None:
    _write_derived(chain_copy, "ice-powertrain,喷射系统,weak,专用上游材料,电喷柴油发动机 —上游材料→ 喷射系统,x\n")
    classifier = Classifier(load_chain(chain_copy))
    assert classifier.classify(Record(id="1", products=[("喷射系统", 0.9)])) == []
    [placed] = classifier.classify(Record(id="2", products=[("柴油发动机", 0.5), ("喷射系统", 0.5)]))
    assert placed.node_id == "ice-powertrain"
    assert {e["word"]: e.get("source") for e in placed.evidence} == {"柴油发动机": None, "喷射系统": "derived"}


def test_removing_the_derived_file_takes_its_words_away(chain_copy: Path) -> None:
    derived = _write_derived(chain_copy, SEMI_AXLE)
    assert Classifier(load_chain(chain_copy)).classify(FIRM)
    derived.unlink()
    assert Classifier(load_chain(chain_copy)).classify(FIRM) == []


def test_a_word_the_node_already_has_is_not_added_twice(chain_copy: Path) -> None:
    plain = load_chain(chain_copy).nodes["cathode"]
    _write_derived(chain_copy, "cathode,三元材料,strong,产品小类,正极材料 —产品小类→ 三元材料,x\n")
    node = load_chain(chain_copy).nodes["cathode"]
    assert node.keywords == plain.keywords and node.derived == ()


@pytest.mark.parametrize(("rows", "row", "says"), [
    ("no-such-node,半轴,strong,r,p,s\n", 2, "no-such-node"),
    ("chassis-parts,半轴,maybe,r,p,s\n", 2, "strong 或 weak"),
    (SEMI_AXLE + "chassis-parts,,strong,r,p,s\n", 3, "term 列为空"),
])
def test_a_bad_derived_file_is_refused_naming_its_row(chain_copy: Path, rows: str, row: int, says: str) -> None:
    derived = _write_derived(chain_copy, rows)
    with pytest.raises(ChainFileError) as caught:
        load_chain(chain_copy)
    assert caught.value.path == str(derived)
    assert [line for line, _ in caught.value.problems] == [row]
    assert says in str(caught.value)


def test_registering_a_chain_registers_its_derived_file_and_places_firms_through_it(
        chain_copy: Path, tmp_path: Path, app_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", app_url)
    chain_copy.write_text(chain_copy.read_text(encoding="utf-8").replace("id: nev-icv", "id: my-chain", 1),
                          encoding="utf-8")
    firms = tmp_path / "firms.csv"
    firms.write_text("企业名称,主营产品\n某某机械有限公司,汽车半轴:0.6;农机配件:0.4\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["import", "enterprises", str(firms)]).exit_code == 0

    def placed() -> list[tuple[str, list]]:
        with db.session_scope(app_url) as session:
            return [(p.node_id, p.evidence) for rows in effective_placements(session, "my-chain").values()
                    for p in rows]

    _write_derived(chain_copy, SEMI_AXLE)
    result = runner.invoke(app, ["chain", "add", str(chain_copy)])
    assert result.exit_code == 0, result.output
    registered = config.chains_dir() / "my-chain.derived.csv"
    assert registered.read_text(encoding="utf-8") == HEADER + SEMI_AXLE
    [(node, evidence)] = placed()
    assert node == "chassis-parts" and evidence[0]["source"] == "derived"
    # the same chain file without its derived file is a change: the words and the placement go
    chain_copy.with_name("my-chain.derived.csv").unlink()
    result = runner.invoke(app, ["chain", "add", str(chain_copy)])
    assert result.exit_code == 0 and "未做改动" not in result.output, result.output
    assert not registered.exists() and placed() == []
