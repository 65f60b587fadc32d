"""The shipped NEV/ICV chain file loads, has every required segment on its stage, and is usable for placement."""

from __future__ import annotations

import pytest

from chainatlas.domain.chain import STAGE_IDS, load_chain

REQUIRED = {
    "upstream": [
        "lithium-resources", "cathode", "anode", "electrolyte", "separator", "battery-foils-parts",
        "lightweight-materials", "auto-chips", "power-semiconductors", "lidar", "radar", "cameras",
        "connectors-harness", "passive-components", "manufacturing-equipment",
    ],
    "midstream": [
        "battery-cells-packs", "bms", "drive-motor", "motor-controller", "onboard-power", "fuel-cell-hydrogen",
        "thermal-management", "chassis-by-wire", "smart-cockpit", "adas-ad", "positioning-maps", "telematics-v2x",
        "auto-software", "body-interior-exterior", "chassis-parts", "ice-powertrain",
    ],
    "downstream": [
        "passenger-nev", "commercial-nev", "charging-swapping", "battery-recycling", "testing-certification",
        "aftermarket", "mobility-services", "vehicle-road-cloud", "rd-design",
    ],
}
CORE = ["battery-cells-packs", "bms", "drive-motor", "motor-controller", "smart-cockpit", "adas-ad", "auto-chips",
        "power-semiconductors", "lidar", "radar", "cameras"]


@pytest.fixture(scope="module")
def chain():
    return load_chain("nev-icv")


def test_header(chain) -> None:
    assert chain.id == "nev-icv"
    assert chain.name_zh == "新能源与智能网联汽车"
    assert [(s.id, s.name_zh) for s in chain.stages] == [("upstream", "上游"), ("midstream", "中游"), ("downstream", "下游")]


@pytest.mark.parametrize("stage", STAGE_IDS)
def test_required_segments_exist_on_their_stage(chain, stage: str) -> None:
    for node_id in REQUIRED[stage]:
        assert node_id in chain.nodes, node_id
        node = chain.nodes[node_id]
        assert node.parent is None, f"{node_id} must be a segment"
        assert node.stage == stage, f"{node_id} is on {node.stage}, not {stage}"


def test_every_segment_has_names_and_product_words(chain) -> None:
    for node in chain.segments():
        assert node.name_zh and node.name_en, node.id
        # product words, not only the segment's own name
        assert len(node.keywords) >= 3, node.id
        assert any(k != node.name_zh for k in node.keywords), node.id


def test_core_segments_flagged(chain) -> None:
    for node_id in CORE:
        assert chain.nodes[node_id].core, node_id
    assert not chain.nodes["aftermarket"].core


def test_sub_nodes_sit_under_their_segment(chain) -> None:
    children = {c.id for c in chain.children("battery-cells-packs")}
    assert {"battery-cells", "battery-modules-packs"} <= children
    assert {"hud", "cockpit-domain-controller", "in-vehicle-display"} <= {c.id for c in chain.children("smart-cockpit")}
    for node in chain.nodes.values():
        if node.parent:
            assert node.stage == chain.nodes[node.parent].stage, node.id


def test_gbt_codes_and_supply_edges(chain) -> None:
    assert "3612" in chain.nodes["passenger-nev"].gbt4754
    assert "3841" in chain.nodes["battery-cells-packs"].gbt4754
    assert "3670" in chain.nodes["chassis-parts"].gbt4754
    # supply edges point downstream or sideways, never back upstream
    order = {s: i for i, s in enumerate(STAGE_IDS)}
    for node in chain.nodes.values():
        for target in node.supplies:
            assert order[chain.nodes[target].stage] >= order[node.stage], (node.id, target)
    assert "battery-cells-packs" in chain.neighbours("cathode")


def test_near_miss_contexts_are_excluded(chain) -> None:
    assert "手机" in chain.nodes["cameras"].exclude
    assert "消费类锂电池" in chain.nodes["battery-cells-packs"].exclude
    assert "光伏逆变器" in chain.nodes["motor-controller"].exclude
    assert "家电电机" in chain.nodes["drive-motor"].exclude
    assert "航空" in chain.nodes["chassis-parts"].exclude


def test_no_keyword_contains_a_phrase_separator(chain) -> None:
    from chainatlas.engines.classify import PHRASE_SEPARATORS

    for node in chain.nodes.values():
        for word in (*node.keywords, *node.weak_keywords, *node.exclude):
            assert not any(sep in word for sep in PHRASE_SEPARATORS), (node.id, word)
