"""The fallback for generic product lines (issue 20; `Classifier.fallback`, the chain file's `generic_fallback`): a
firm the rules place nowhere whose only readable vehicle evidence is a generic line at a real revenue share is placed
on a parts node, marked as inferred, below any placement of the rules; the batch engine places it the same."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

from chainatlas.domain.chain import ChainFileError, load_chain, parse_chain
from chainatlas.engines.classify import GENERIC_NOTE, THRESHOLD, Classifier, Placement, Record, parse_products
from chainatlas.engines.classify_batch import BatchClassifier, placements_of
from chainatlas.services.enterprises import evidence_label, method_label

CHAIN_FILE = Path(__file__).parents[1] / "src" / "chainatlas" / "chains" / "nev-icv.yaml"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(load_chain("nev-icv"))


def placed(clf: Classifier, *products: tuple[str, float | None], name: str = "", scope: str = "",
           code: str = "", industry: str = "") -> list[Placement]:
    return clf.classify(Record("x", name, list(products), scope, code, industry))


def test_a_generic_parts_line_beside_another_business_is_placed_on_the_default_node_as_inferred(clf) -> None:
    [p] = placed(clf, ("家用空调", 0.7), ("汽车零部件", 0.3))
    assert p.node_id == "chassis-parts" and p.node_name == "底盘与传统零部件"
    generic = p.evidence[0]
    assert generic == {"field": "products", "word": "汽车零部件", "kind": "generic", "node": "chassis-parts",
                       "product": "汽车零部件", "share": 0.3, "note": GENERIC_NOTE}
    assert p.share == 0.3
    # below any placement of the rules (which needs THRESHOLD), and it says so in words
    assert 0 < p.score < THRESHOLD / 2 + 1e-9 and p.confidence == round(1 - math.exp(-p.score), 3)
    assert evidence_label(generic) == "泛称推断：汽车零部件 30.0%，环节待核实"
    assert method_label("rule", p.evidence) == "泛称推断"  # the method column of pages and `show`
    assert method_label("rule", placed(clf, ("制动盘", 0.5))[0].evidence) == "规则匹配"


def test_placeholder_shares_and_excluded_contexts_place_nothing(clf) -> None:
    assert placed(clf, ("家用空调", 0.7), ("汽车零部件", 0.001)) == []
    assert placed(clf, ("家用空调", 0.7), ("汽车零部件", 0.0)) == []
    assert placed(clf, ("家用空调", 0.7), ("汽车零部件", -0.05)) == []
    assert placed(clf, ("汽车零部件", None)) == []  # shares unknown: a listed product, but no revenue share to rest on
    assert placed(clf, ("家用空调", 0.6), ("摩托车零部件", 0.4)) == []
    # an exclusion word of the parts nodes in the line's phrase (摩托车, 农机, 工程机械, 轨道交通 …) rules it out
    for line in ("摩托车汽车零部件", "农机汽配", "工程机械汽车零部件", "轨道交通汽车配件"):
        assert placed(clf, ("家用空调", 0.6), (line, 0.4)) == [], line
    # the exclusion speaks only for its own phrase: 汽配 beside 农机配件 is generic
    assert placed(clf, ("家用空调", 0.6), ("农机配件及汽配", 0.4))[0].evidence[0]["word"] == "汽配"


def test_a_bare_market_line_counts_only_as_a_whole_phrase(clf) -> None:
    [p] = placed(clf, ("铝合金压铸", 0.8), ("汽车类", 0.156))
    assert (p.node_id, p.evidence[0]["word"], p.evidence[0]["kind"]) == ("chassis-parts", "汽车类", "generic")
    assert placed(clf, ("橡塑制品", 0.8), ("汽车用", 0.103))[0].evidence[0]["word"] == "汽车用"
    assert placed(clf, ("橡塑制品", 0.8), ("智能汽车类", 0.103)) == []


def test_a_specific_placement_stands_and_gets_no_fallback(clf) -> None:
    result = placed(clf, ("制动盘", 0.5), ("汽车零部件", 0.3))
    assert [p.node_id for p in result] == ["chassis-parts"]
    assert result[0].score >= THRESHOLD
    assert all(e["kind"] != "generic" for p in result for e in p.evidence)
    # another segment's placement likewise: the generic line adds no inferred placement beside it
    result = placed(clf, ("动力电池", 0.5), ("汽车零部件", 0.3))
    assert [p.node_id for p in result] == ["battery-cells-packs"]
    assert all(e["kind"] != "generic" for p in result for e in p.evidence)


def test_the_firms_other_evidence_chooses_the_parts_node(clf) -> None:
    # a weak engine word (not enough for the rules) leans the inferred placement to the engine segment
    [p] = placed(clf, ("家用空调", 0.6), ("发动机", 0.1), ("汽车零部件", 0.3))
    assert p.node_id == "ice-powertrain"
    assert [e["kind"] for e in p.evidence] == ["generic", "weak"]
    # a GB/T prior of one parts segment only (3660 bodies: body) does the same for a bare market line (with a generic
    # parts word, a weak word of the segment, the prior lets the rules place the firm themselves)
    [p] = placed(clf, ("家用空调", 0.7), ("汽车类", 0.3), code="3660")
    assert p.node_id == "body-interior-exterior" and [e["kind"] for e in p.evidence] == ["generic", "prior"]
    [p] = placed(clf, ("家用空调", 0.7), ("汽配", 0.3), code="3660")
    assert p.node_id == "body-interior-exterior" and p.score >= THRESHOLD and p.evidence[0]["kind"] == "weak"
    # nothing else: the declared default, 底盘与传统零部件
    assert placed(clf, ("家用空调", 0.7), ("汽配", 0.3))[0].node_id == "chassis-parts"


def test_a_chain_without_a_fallback_has_none_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    text = CHAIN_FILE.read_text(encoding="utf-8")
    start = text.index("\ngeneric_fallback:")
    end = text.index("\nnodes:", start)
    bare = parse_chain(text[:start] + text[end:], "bare.yaml")
    assert bare.fallback is None
    assert Classifier(bare).classify(Record("x", "", [("家用空调", 0.7), ("汽车零部件", 0.3)])) == []
    own = text[:start] + "\ngeneric_fallback:\n  node: body-interior-exterior\n  words: [汽车零部件]" + text[end:]
    assert Classifier(parse_chain(own, "own.yaml")).classify(
        Record("x", "", [("家用空调", 0.7), ("汽车零部件", 0.3)]))[0].node_id == "body-interior-exterior"
    with pytest.raises(ChainFileError, match="generic_fallback 的节点 “no-such-node” 不存在"):
        parse_chain(text[:start] + "\ngeneric_fallback:\n  node: no-such-node\n  words: [汽配]" + text[end:], "x.yaml")
    with pytest.raises(ChainFileError, match="应为环节"):
        parse_chain(text[:start] + "\ngeneric_fallback:\n  node: hud\n  words: [汽配]" + text[end:], "x.yaml")
    with pytest.raises(ChainFileError, match="需要 words 或 lines"):
        parse_chain(text[:start] + "\ngeneric_fallback:\n  node: chassis-parts" + text[end:], "x.yaml")


def test_the_batch_engine_places_generic_lines_as_the_engine_does(clf) -> None:
    """Cell text read by the batch engine (`classify_frame`, either kernel: scripts/test.sh runs this file on both)
    and records given whole: the same placements and evidence, the fallback ones included, in row order."""
    rows = [
        ("g1", "某某电器股份有限公司", "家用空调:70%；汽车零部件:30%", "", "", ""),
        ("g2", "", "家用空调:70%；汽车零部件:0.1%", "", "", ""),
        ("g3", "", "家用空调:60%；摩托车零部件:40%", "", "", ""),
        ("g4", "", "制动盘:50%；汽车零部件:30%", "", "", ""),
        ("g5", "", "家用空调:60%；发动机:10%；汽车零部件:30%", "", "", ""),
        ("g6", "", "铝合金压铸:80%；汽车类:15.6%", "汽车零部件及配件制造", "", "汽车配件"),
        ("g7", "", "家用空调:70%；汽车类:30%", "", "3660", ""),
        ("g7", "", "家用空调:70%；汽配:30%", "", "3660", ""),  # placed by the rules (a weak word and its prior)
        ("g8", "某某食品有限公司", "饼干:70%；糖果:30%", "食品生产", "1419", ""),
        ("g9", "", "汽车零部件", "", "", ""),
        ("g1", "某某电器股份有限公司", "家用空调:70%；汽车零部件:30%", "", "", ""),  # a repeated firm
    ]
    frame = pl.DataFrame(rows, schema=["id", "name", "products", "scope", "industry_code", "industry"], orient="row")
    records = [Record(i, n, parse_products(p), s, c, ind) for i, n, p, s, c, ind in rows]
    expected = [p for r in records for p in clf.classify(r)]
    assert sum(p.evidence[0]["kind"] == "generic" for p in expected) == 5  # g1 twice, g5, g6, the first g7
    chain = clf.chain
    for got in (placements_of(BatchClassifier(chain).classify_frame(frame)),
                BatchClassifier(chain).classify_records(records)):
        assert [(p.id, p.node_id, p.score, p.confidence, p.evidence) for p in got] == [
            (p.id, p.node_id, p.score, p.confidence, p.evidence) for p in expected]
    # the CSV form of the evidence is the JSON's, quoted
    csv_form = BatchClassifier(chain, csv_evidence=True).classify_frame(frame)
    plain = BatchClassifier(chain).classify_frame(frame)
    assert csv_form["evidence"].to_list() == ['"' + e.replace('"', '""') + '"' for e in plain["evidence"].to_list()]
