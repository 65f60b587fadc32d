"""The pairs set aside before scoring (engines/linkage_bounds.py) are exactly pairs splink scores below the
threshold: the same matches come out with the bound as without it, and the pairs it sets aside are many."""

from __future__ import annotations

import logging
import random

import pyarrow as pa
import pytest

from chainatlas.engines.linkage import FUNCTIONS, MERGE_THRESHOLD, REVIEW_THRESHOLD, SETTINGS, find_matches, settings
from chainatlas.engines.linkage_bounds import ruled_out_alone_sql

_SIMILAR = {"创": "刨", "泰": "秦", "达": "汰", "通": "涌", "盛": "晟", "新": "欣", "德": "得", "安": "案"}


def _records(n: int, seed: int = 3) -> list[dict]:
    """n known firms of one city (most with a USCC) and as many new rows: re-spellings of known firms without
    their USCC (a typo, the same or another address), namesakes with USCCs of their own, and firms of their own —
    the mix blocking by name parts and district meets in a registry."""
    rng = random.Random(seed)
    chars = "华新中天东方金恒信达宏泰兴隆海通博远联创安盛佳科益鑫德润昌美康嘉永明辉光"
    trades = ("科技", "电子", "新材料", "智能科技", "机械", "动力科技")
    districts = ("420102", "420103", "420111", "420113")
    roads = ("通航大道", "光谷大道", "高新二路", "关山大道")

    def firm(i: int) -> dict:
        return {"id": i, "is_new": False, "name_core": "".join(rng.sample(chars, 2)) + rng.choice(trades),
                "is_branch": False, "district_code": rng.choice(districts), "city_code": "4201",
                "address": f"{rng.choice(roads)}{rng.randint(1, 40)}号", "uscc": f"9142010{i:011d}",
                "founded": f"20{rng.randint(0, 23):02d}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", "listing": None}

    known = [firm(i) for i in range(1, n + 1)]
    for rec in known[::7]:
        rec["uscc"] = None  # some stored firms were entered without one
    new = []
    for j, base in enumerate(rng.sample(known, n), start=n + 1):
        rec, kind = {**base, "id": j, "is_new": True}, rng.random()
        if kind < 0.4:  # re-spelled, no USCC
            spots = [k for k, ch in enumerate(rec["name_core"]) if ch in _SIMILAR]
            if spots:
                k = rng.choice(spots)
                rec["name_core"] = rec["name_core"][:k] + _SIMILAR[rec["name_core"][k]] + rec["name_core"][k + 1:]
            rec["uscc"] = None
            if rng.random() < 0.3:
                rec["address"] = None
        elif kind < 0.7:  # a namesake: another firm with its own USCC, sometimes at the same address
            rec["uscc"] = f"9142011{j:011d}"
            if rng.random() < 0.5:
                rec["founded"] = None
        else:
            rec = {**firm(j), "is_new": True}
            if rng.random() < 0.5:
                rec["uscc"] = None
        new.append(rec)
    return known + new


@pytest.mark.parametrize("threshold", [REVIEW_THRESHOLD, MERGE_THRESHOLD])
def test_setting_pairs_aside_changes_no_match(threshold: float, caplog: pytest.LogCaptureFixture) -> None:
    table = pa.Table.from_pylist(_records(300))
    everything = find_matches(table, 0.0)  # threshold 0: nothing set aside, every blocked pair scored
    with caplog.at_level(logging.INFO, logger="chainatlas.engines.linkage"):
        bounded = find_matches(table, threshold)
    expected = [m for m in everything if m.probability >= threshold]
    assert bounded == expected
    assert len(expected) >= 30  # merges and reviews to keep, not an empty comparison
    # … and the bound did set pairs aside: many blocked pairs were two firms with two different USCCs
    [(blocked, scored)] = [r.args for r in caplog.records if r.getMessage().startswith("blocked pairs")]
    assert scored <= blocked <= len(everything)
    assert scored <= len(everything) * 0.7
    assert any(m.evidence.get("uscc") == "信用代码不同" for m in everything)


def test_a_comparison_rules_a_pair_out_alone_only_where_its_weight_outweighs_all_others() -> None:
    # two different USCCs (−66 bits) outweigh every other comparison at its best
    assert "l.uscc" in ruled_out_alone_sql(SETTINGS, REVIEW_THRESHOLD, FUNCTIONS, ["uscc", "listing"])
    assert ruled_out_alone_sql(SETTINGS, 0.0, FUNCTIONS, ["uscc"]) is None  # no threshold: nothing set aside
    # weighed as about −10 bits they no longer do: nothing is ruled out in the blocking rules, and the bound
    # over the cheap comparisons alone still changes no match
    weaker = {"uscc": {"信用代码不同": {"m": 1e-3}}}
    assert ruled_out_alone_sql(settings(weaker, SETTINGS), REVIEW_THRESHOLD, FUNCTIONS, ["uscc", "listing"]) is None
    table = pa.Table.from_pylist(_records(150, seed=8))
    everything = find_matches(table, 0.0, values=weaker)
    expected = [m for m in everything if m.probability >= REVIEW_THRESHOLD]
    assert find_matches(table, REVIEW_THRESHOLD, values=weaker) == expected
    assert any(m.evidence.get("uscc") == "信用代码不同" for m in expected)  # now such pairs can reach review


def test_rules_split_on_a_key_keep_exactly_the_pairs_the_key_leaves_possible() -> None:
    """Two different USCCs rule a pair out, so blocking keeps pairs with a blank USCC on a side or one USCC on
    both: the split rules (each side filtered before its join) give exactly those pairs of the original rules."""
    import duckdb

    from chainatlas.engines.linkage import _prepare
    from chainatlas.engines.linkage_bounds import exclusive_keys, split_rules

    assert exclusive_keys(SETTINGS, REVIEW_THRESHOLD) == ["uscc"]
    assert exclusive_keys(SETTINGS, 0.0) == []  # nothing is ruled out without a threshold
    assert exclusive_keys(settings({"uscc": {"信用代码不同": {"m": 1e-3}}}, SETTINGS), REVIEW_THRESHOLD) == []
    records = _records(300, seed=5)
    # a USCC given twice (a firm listed again), and the same USCC on a namesake elsewhere
    twin = {**records[1], "id": 10_001, "is_new": True}
    records += [twin, {**records[2], "id": 10_002, "is_new": True, "uscc": twin["uscc"]}]
    prepared = _prepare(pa.Table.from_pylist(records), None)
    rules = [r["blocking_rule"] for r in SETTINGS["blocking_rules_to_generate_predictions"]]
    con = duckdb.connect()
    con.register("t", prepared)

    def pairs(rule_list: list[str]) -> set[tuple[int, int]]:
        return {row for rule in rule_list for row in con.execute(
            f"SELECT l.id, r.id FROM t l JOIN t r ON l.id < r.id AND ({rule})").fetchall()}

    wanted = pairs([f"({rule}) AND (l.uscc IS NULL OR r.uscc IS NULL OR l.uscc = r.uscc)" for rule in rules])
    assert pairs(split_rules(rules, "uscc")) == wanted
    assert len(wanted) >= 100 and len(pairs(rules)) > len(wanted)  # the key does rule pairs out
    assert (records[1]["id"], 10_001) in wanted and records[1]["uscc"] is not None
    # no USCC given twice: no pair can have it equal, and the join on it is left out
    assert pairs(split_rules(rules, "uscc", repeated=False)) == {
        pair for pair in wanted if pair not in pairs([f"({rule}) AND l.uscc = r.uscc" for rule in rules])}
    assert len(split_rules(rules, "uscc", repeated=False)) == 2 * len(rules)
