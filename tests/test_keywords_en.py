"""English component words in a chain file (keywords_en) place firms named in English supplier lists."""

from __future__ import annotations

from chainatlas.domain.chain import load_chain, parse_chain
from chainatlas.engines.classify import Classifier, Record


def _nodes(products: str) -> set[str]:
    classifier = Classifier(load_chain("nev-icv"))
    return {p.node_id for p in classifier.classify(Record("x", products=[(products, None)]))}


def test_english_component_words_place_firms() -> None:
    assert _nodes("Disc Brake (Pad)") == {"chassis-parts"}
    assert _nodes("Fuel Injection") == {"ice-powertrain"}
    assert _nodes("battery pack") == {"battery-modules-packs"}  # case-blind
    # the NEV components English product lists name (issue 20): cells, harnesses, chargers, radar, drive units
    assert _nodes("Lithium Battery Separator") == {"separator"}
    assert _nodes("Wiring Harness") == {"connectors-harness"}
    assert _nodes("On-board Charger") == {"onboard-power"}
    assert _nodes("Millimeter Wave Radar") == {"radar"}
    assert _nodes("eAxle") == {"drive-motor"}
    assert _nodes("EV Charger") == {"charging-swapping"}


def test_acronyms_of_other_products_do_not_place() -> None:
    assert _nodes("ABS树脂") == set()  # the plastic, not the brake system


def test_keywords_en_are_read_and_kept_apart() -> None:
    chain = parse_chain("""
id: t
name_zh: 测试
name_en: Test
stages: [{id: upstream, name_zh: 上游}]
nodes:
  - {id: brake, stage: upstream, name_zh: 制动器, keywords: [制动器], keywords_en: [Disc Brake]}
""")
    node = chain.nodes["brake"]
    assert node.keywords_en == ("Disc Brake",) and node.keywords == ("制动器", "Disc Brake")
