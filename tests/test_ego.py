"""The enterprise page's ego network: the top partners by value then recency, at most 24 around the firm."""

from __future__ import annotations

from chainatlas.services.enterprises.ego import EGO_PARTNERS, MAX_GROUPS, OTHER_NODE, ego_network


def _rel(i: int, value: int | None, year: int, node: str, direction: str = "supplier", product: str = "电芯") -> dict:
    return {"direction": direction, "other": {"id": i, "name": f"测试供应商{i:02d}有限公司", "short_name": None},
            "product": product, "node": {"id": node, "name_zh": node}, "year": year, "value_yuan": value}


def test_top_partners_by_value_then_year_grouped_by_node() -> None:
    rels = [_rel(i, (40 - i) * 10_000_000 if i < 20 else None, 2020 + i % 5, f"环节{i % 10}") for i in range(40)]
    rels.append(_rel(3, 500_000_000, 2024, "环节3", "supplier", "模组"))  # a second product lifts partner 3 to the top
    g = ego_network(rels)
    assert g["total"] == 40 and g["shown"] == EGO_PARTNERS == 24
    ids = [p["id"] for p in g["partners"]]
    assert ids[0] == 3 and ids[1:20] == [i for i in range(20) if i != 3]  # by summed value
    # the unvalued rest by year, latest first: years 2024 (i=24, 29, 34, 39) come before 2023 ones
    assert ids[20:24] == [24, 29, 34, 39]
    assert g["partners"][0]["products"] == ["电芯", "模组"]
    assert len([x for x in g["groups"] if x != OTHER_NODE]) <= MAX_GROUPS and g["groups"][-1] == OTHER_NODE
    assert all(len(p["label"]) <= 8 for p in g["partners"])


def test_both_directions_and_small_worlds() -> None:
    g = ego_network([_rel(1, 5, 2023, "电驱"), _rel(1, 5, 2023, "电驱", "customer"), _rel(2, None, 2022, "电驱")])
    assert [p["direction"] for p in g["partners"]] == ["both", "supplier"] and g["groups"] == ["电驱"]
    assert ego_network([])["shown"] == 0
