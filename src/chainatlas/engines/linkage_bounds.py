"""Which blocked pairs can still reach the match threshold: an upper bound on a pair's match weight from the
comparisons that are cheap to evaluate, so the pairs that cannot reach it are set aside before splink evaluates
the comparisons that call Python functions (edit distance, Jaro-Winkler) on every blocked pair.

A pair's match weight is the prior's plus one weight per comparison, log2(m/u) of the level it falls in. A
comparison whose levels call none of the Python functions is evaluated here as splink evaluates it (the same
conditions in the same order); one that calls them is taken at its best level. The bound is therefore never below
the weight splink computes, and a pair whose bound is below the threshold's weight is below it in splink too:
setting it aside changes no result. Blocking by name parts and place keeps many pairs of two different firms
with two different USCCs (−66 bits): in a large file they are nearly all of the blocked pairs.

Everything here is plain SQL over the pair's columns, as splink's own comparisons are, so DuckDB and Spark read it
alike. Term-frequency adjustments are not modelled: settings with them are not pruned.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

# a hair below the threshold's weight: a pair at the edge is scored by splink, not decided by rounding here
_EDGE = 1e-9


def _is_else(level: dict) -> bool:
    return level["sql_condition"].strip().upper() == "ELSE"


def _weight(level: dict) -> float:
    return 0.0 if level.get("is_null_level") else math.log2(level["m_probability"] / level["u_probability"])


def _calls(comparison: dict, functions: Iterable[str]) -> bool:
    return any(name in level["sql_condition"] for level in comparison["comparison_levels"] for name in functions)


def _prunable(settings: dict, threshold: float) -> bool:
    return 0 < threshold < 1 and not any(level.get("tf_adjustment_column") for comparison in settings["comparisons"]
                                         for level in comparison["comparison_levels"])


def _floor(settings: dict, threshold: float) -> float:
    """The threshold's weight less the prior's: what the comparisons' weights must add up to."""
    p = settings["probability_two_random_records_match"]
    return math.log2(threshold / (1 - threshold)) - math.log2(p / (1 - p)) - _EDGE


def reachable_sql(settings: dict, threshold: float, functions: Iterable[str]) -> str | None:
    """SQL over a pair's columns (`<col>_l`, `<col>_r`), true when its match weight can reach `threshold` (a match
    probability) whatever the `functions` return; None when nothing can be ruled out."""
    if not _prunable(settings, threshold):
        return None
    best, cases = 0.0, []
    for comparison in settings["comparisons"]:
        levels = comparison["comparison_levels"]
        if _calls(comparison, functions):
            best += max(map(_weight, levels))
            continue
        whens = " ".join(f"WHEN {lv['sql_condition']} THEN {_weight(lv)!r}" for lv in levels
                         if not _is_else(lv))
        rest = [_weight(lv) for lv in levels if _is_else(lv)] or [max(map(_weight, levels))]
        cases.append(f"(CASE {whens} ELSE {rest[0]!r} END)")
    return f"{' + '.join([repr(best), *cases])} >= {_floor(settings, threshold)!r}"


def ruled_out_alone_sql(settings: dict, threshold: float, functions: Iterable[str],
                        columns: Iterable[str]) -> str | None:
    """A condition for a blocking rule (columns as `l.<col>`, `r.<col>`): true when one cheap comparison's level
    alone keeps the pair below `threshold` — with every other comparison at its best (two different USCCs). Cheap
    enough to add to every blocking rule, so such pairs are never materialised; None when no level does."""
    if not _prunable(settings, threshold):
        return None
    floor = _floor(settings, threshold)
    best = {c["output_column_name"]: max(map(_weight, c["comparison_levels"])) for c in settings["comparisons"]}
    total = sum(best.values())
    sinks = []
    for comparison in settings["comparisons"]:
        if _calls(comparison, functions):
            continue
        others = total - best[comparison["output_column_name"]]
        before = []  # the earlier levels' conditions: a pair is in a level only if it is in none of them
        for level in comparison["comparison_levels"]:
            here = "true" if _is_else(level) else f"coalesce(({level['sql_condition']}), false)"
            if others + _weight(level) < floor:
                sinks.append(" AND ".join([*(f"NOT {b}" for b in before), here]))
            before.append(here)
    if not sinks:
        return None
    sql = " OR ".join(f"({s})" for s in sinks)
    for column in columns:
        sql = re.sub(rf"\b{re.escape(column)}_([lr])\b", rf"\1.{column}", sql)
    return sql


def exclusive_keys(settings: dict, threshold: float) -> list[str]:
    """Columns compared as null / equal / different whose "different" level alone keeps a pair below `threshold`
    (two USCCs that differ are two legal persons): every pair that can reach it has one side blank or both equal.
    Splitting each blocking rule on that (`split_rules`) lets the database filter each side before the join."""
    if not _prunable(settings, threshold):
        return []
    floor = _floor(settings, threshold)
    best = {c["output_column_name"]: max(map(_weight, c["comparison_levels"])) for c in settings["comparisons"]}
    total = sum(best.values())
    found = []
    for comparison in settings["comparisons"]:
        levels = comparison["comparison_levels"]
        if len(levels) != 3 or not levels[0].get("is_null_level") or not _is_else(levels[2]):
            continue
        null = re.fullmatch(r"(\w+)_l IS NULL OR \1_r IS NULL", levels[0]["sql_condition"].strip())
        if null is None or levels[1]["sql_condition"].strip() != f"{null.group(1)}_l = {null.group(1)}_r":
            continue
        if total - best[comparison["output_column_name"]] + _weight(levels[2]) < floor:
            found.append(null.group(1))
    return found


def split_rules(rules: list[str], column: str, repeated: bool = True) -> list[str]:
    """Blocking rules (SQL over `l.` and `r.`) keeping only the pairs whose `column` is blank on one side or equal
    on both — the same pairs as the rules with that condition added, in rules the database can run with each
    side filtered before the join: each rule for a blank left side, each for a blank right side, and one join on
    the column itself for the rest (a million records with a USCC each are not joined on every name key only to
    find their codes differ). `repeated` False: no value of the column is given twice, so no pair has it equal
    and that last join is left out."""
    if not rules:
        return []
    equal = f"l.{column} = r.{column} AND (" + " OR ".join(f"({rule})" for rule in rules) + ")"
    return [*(f"({rule}) AND {side}.{column} IS NULL" for rule in rules for side in ("l", "r")),
            *([equal] if repeated else [])]
