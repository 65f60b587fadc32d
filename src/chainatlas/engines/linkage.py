"""Entity resolution: which incoming records are firms we already know.

Deterministic keys first (USCC, stock code, normalised name — see services/ingest/imports.py); what remains is scored
here with splink (Fellegi–Sunter) on DuckDB. The m/u probabilities are estimated once from data by splink's own
estimators (`fit`: u by random sampling of record pairs, m from pairs that a deterministic key joins) and shipped in
data/linkage_fit.yaml with how they were obtained (bench/fit_linkage.py writes it); a level the data cannot
estimate keeps its reasoned value in PRIOR, and the file says which. Fixed values, not a fit per import, so the
model behaves the same on a 10-row file as on a million rows — with one exception: the u of the industry-words
levels is computed at each import from the two lists' words (`industry_u`), since whether two different firms'
words agree by chance depends on whether the lists share a classification. The same settings run on Spark (splink's SparkAPI,
`linkage_spark`) for national-scale data: every comparison is SQL both dialects read alike, plus two Python
functions each backend registers (`FUNCTIONS`).

Input is one Arrow table of records, each marked `is_new` (from the file) or not (already in the database);
only pairs with at least one new record are scored.

Short names (简称: 云南白药, 平安银行) meet full names (云南白药集团股份有限公司) through three levels of the name
comparison: the short name can be read in the full name — its characters in order, trading marks (ST, share class)
dropped, the legal form set aside — and how much that says depends on how distinctive the characters are. A
character's information is -log2 of the share of the stored full names that contain it (a document-frequency model
of firm names, `CharModel`): 银, 行, 汽, 车, 科, 技 are in many names and carry a few bits, 云南白药 carries some 30.
The probability that a random firm's full name holds all of a short name's characters is about 2^-bits, which is
the u of the readable levels (bits ≥ 24, 16–24, below 16); their m values say how often a listed firm's short name
is read from its full name at each distinctiveness (most are, and most are distinctive). Every condition is plain
SQL (LIKE patterns and numbers computed beforehand), evaluated alike by DuckDB and Spark.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass
from functools import partial
from importlib import resources
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from duckdb.sqltypes import BIGINT, DOUBLE, VARCHAR
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from chainatlas.engines.linkage_bounds import exclusive_keys, reachable_sql, ruled_out_alone_sql, split_rules

log = logging.getLogger(__name__)

MERGE_THRESHOLD = 0.95  # at or above: the same firm, merged automatically (and reversibly)
REVIEW_THRESHOLD = 0.5  # between the two: a doubtful pair for an analyst's review queue

COLUMNS = ("id", "is_new", "name_core", "is_branch", "district_code", "city_code", "address", "uscc", "founded",
           "listing", "short_name", "name_full", "name_en", "industry")
# short_name: the short form (names.short_form) of a record named by its short name, or of its short-name alias;
# name_full: the legal stem (names.legal_stem) of a record named by its full name, NULL for a short-named one;
# name_en: the core of its English name (names.name_key: lower case, no legal form such as Co., Ltd.);
# industry: the list's own industry words (所属行业: a vendor's, the CSRC's or GB/T category names).



@dataclass(frozen=True)
class Match:
    left_id: int
    right_id: int
    probability: float
    evidence: dict[str, str]


def _level(sql: str, label: str, m: float, u: float) -> dict:
    return {"sql_condition": sql, "label_for_charts": label, "m_probability": m, "u_probability": u}


def _readable(low: float | None, high: float | None) -> str:
    """SQL: one side's short name can be read in the other's full name, with low ≤ its bits < high."""
    def side(a: str, b: str) -> str:
        bits = " AND ".join(x for x in (low is not None and f"short_bits_{a} >= {low}",
                                       high is not None and f"short_bits_{a} < {high}") if x)
        return f"(name_full_{b} LIKE short_seq_{a} AND {bits})"

    return f"{side('l', 'r')} OR {side('r', 'l')}"


def _null(col: str, label: str = "缺失") -> dict:
    return {"sql_condition": f"{col}_l IS NULL OR {col}_r IS NULL", "label_for_charts": label, "is_null_level": True}


def _words_agree(col: str, label: str, same: tuple[float, float], near: tuple[float, float]) -> list[dict]:
    """Levels for two texts that are the same, or one's characters in order in the other's (`<col>_seq`)."""
    return [_level(f"{col}_l = {col}_r", f"{label}相同", *same),
            _level(f"{col}_l LIKE {col}_seq_r OR {col}_r LIKE {col}_seq_l", f"{label}相近", *near)]


_SIDES = (("l", "r"), ("r", "l"))

# Each comparison: (output column, Chinese label per level). Probabilities: m = P(level | same firm),
# u = P(level | two different firms). These are the reasoned values: the fit starts from them, and a level it
# cannot estimate keeps its value here (see data/linkage_fit.yaml for which).
PRIOR: dict = {
    "link_type": "dedupe_only",
    "unique_id_column_name": "id",
    "probability_two_random_records_match": 1e-4,
    "retain_matching_columns": False,
    "retain_intermediate_calculation_columns": True,  # mw_* columns become the evidence
    "blocking_rules_to_generate_predictions": [
        # every rule also asks that one side is new: pairs of known firms were resolved before
        {"blocking_rule": "l.name_core = r.name_core AND (l.is_new OR r.is_new)"},
        {"blocking_rule": "l.core_head = r.core_head AND l.city_code = r.city_code AND (l.is_new OR r.is_new)"},
        {"blocking_rule": "l.core_tail = r.core_tail AND l.district_code = r.district_code AND (l.is_new OR r.is_new)"},
        # a typo anywhere in the name, at the same street address (the usual shape of a re-typed list)
        {"blocking_rule": "l.address = r.address AND l.district_code = r.district_code AND (l.is_new OR r.is_new)"},
        # a short name (a, on its own) against the full names it could be read in (b): their first two characters
        # with the place set aside (云南白药/白药 against 云南白药集团's 白药), or with it kept, in the same city
        *({"blocking_rule": f"{a}.short_head = {b}.core_head AND (l.is_new OR r.is_new)"} for a, b in _SIDES),
        *({"blocking_rule": f"{a}.short_head IS NOT NULL AND {a}.core_head = {b}.core_head AND (l.is_new OR r.is_new)"}
          for a, b in _SIDES),
        *({"blocking_rule": f"{a}.short_head = {b}.full_head AND l.city_code = r.city_code AND (l.is_new OR r.is_new)"}
          for a, b in _SIDES),
        {"blocking_rule": "l.short_name = r.short_name AND (l.is_new OR r.is_new)"},
    ],
    "comparisons": [
        {
            "output_column_name": "name_core",
            "comparison_levels": [
                _null("name_core"),
                # a short name in a full name comes first: a short name equal to a full name's core is this too;
                # u is 2^-bits at the level's lower bound (see CharModel)
                _level(_readable(24, None), "全称中可读出简称（极独特）", 0.45, 2 ** -24),
                _level(_readable(20, 24), "全称中可读出简称（独特）", 0.25, 2 ** -20),
                _level("name_core_l = name_core_r", "核心名称相同", 0.70, 0.00005),
                # two records giving the same short name (a 简称 column against a stored short name)
                _level("short_name_l = short_name_r", "简称相同", 0.50, 0.000001),
                _level(_readable(16, 20), "全称中可读出简称", 0.12, 2 ** -16),
                # one character apart: a typo (华创/华刨) — or a neighbour with a similar 字号, hence the other fields
                _level("length(name_core_l) >= 4 AND zh_edit_distance(name_core_l, name_core_r) <= 1",
                       "核心名称仅差一字", 0.20, 0.0005),
                _level("zh_jaro_winkler(name_core_l, name_core_r) >= 0.9", "核心名称相似", 0.06, 0.005),
                # 康美 in 康美药业…: two common characters say little
                _level(_readable(None, 16), "全称中可读出简称（常见字）", 0.05, 0.002),
                _level("ELSE", "名称不同", 0.04, 0.99445),
            ],
        },
        {
            "output_column_name": "is_branch",
            "comparison_levels": [
                _null("is_branch"),
                _level("is_branch_l = is_branch_r", "同为总部或同为分支", 0.99, 0.9),
                _level("ELSE", "一方为分公司", 0.01, 0.1),
            ],
        },
        {
            "output_column_name": "place",
            "comparison_levels": [
                {"sql_condition": "(district_code_l IS NULL OR district_code_r IS NULL) AND "
                                  "(city_code_l IS NULL OR city_code_r IS NULL)",
                 "label_for_charts": "地区缺失", "is_null_level": True},
                _level("district_code_l = district_code_r", "区县相同", 0.85, 0.01),
                # one side gives only its city (a short-name list, a registry without the county): the city is all
                # there is to agree on, and a firm's two records nearly always do (m within such pairs)
                _level("(district_code_l IS NULL OR district_code_r IS NULL) AND city_code_l = city_code_r",
                       "城市相同（区县未知）", 0.90, 0.05),
                _level("city_code_l = city_code_r", "城市相同", 0.12, 0.05),
                _level("ELSE", "地区不同", 0.03, 0.94),
            ],
        },
        {
            # the address after its province/city/county part: road, number, building
            "output_column_name": "address",
            "comparison_levels": [
                _null("address"),
                _level("address_l = address_r", "地址相同", 0.60, 0.0005),
                _level("zh_jaro_winkler(address_l, address_r) >= 0.9", "地址相近", 0.20, 0.01),
                _level("ELSE", "地址不同", 0.20, 0.9895),
            ],
        },
        {
            "output_column_name": "uscc",
            "comparison_levels": [
                _null("uscc"),
                _level("uscc_l = uscc_r", "信用代码相同", 0.99, 0.00001),
                # two valid, different codes are two legal persons: this level outweighs any name and address
                # (with the fitted weights, all other comparisons agreeing come to about 65 bits; this is -66)
                _level("ELSE", "信用代码不同", 1e-20, 0.99999),
            ],
        },
        {
            "output_column_name": "founded",
            "comparison_levels": [
                _null("founded"),
                _level("founded_l = founded_r", "成立日期相同", 0.60, 0.001),
                # lists disagree on 成立日期 for a firm often (founding, registration, re-registration as a 股份公司)
                _level("ELSE", "成立日期不同", 0.40, 0.999),
            ],
        },
        {
            # English names are translated freely (Group, Holdings, word order), so a difference says little
            "output_column_name": "name_en",
            "comparison_levels": [
                _null("name_en"),
                _level("name_en_l = name_en_r", "英文名称相同", 0.50, 0.0001),
                _level("zh_jaro_winkler(name_en_l, name_en_r) >= 0.92", "英文名称相近", 0.20, 0.005),
                _level("ELSE", "英文名称不同", 0.30, 0.9949),
            ],
        },
        {
            # Lists classify industries each their own way (申万 汽车配件, a vendor's 汽车零部件与设备, GB/T 汽车制造业),
            # so words that do not agree are not a disagreement — they weigh what the data says (m ≈ u: little);
            # agreement is evidence — the same words, or one's characters in order in the other's (航空 / 航空航天)
            "output_column_name": "industry",
            "comparison_levels": [_null("industry"), *_words_agree("industry", "行业用语", (0.10, 0.02), (0.10, 0.04)),
                                  _level("ELSE", "行业用语不一致（分类可能不同）", 0.80, 0.94)],
        },
        {
            "output_column_name": "listing",
            "comparison_levels": [
                _null("listing"),
                _level("listing_l = listing_r", "股票代码相同", 0.97, 0.0001),
                # two stock codes are two listed companies (三维股份 is two firms with one short name)
                _level("ELSE", "股票代码不同", 0.000001, 0.9999),
            ],
        },
    ],
}

FIT_FILE = "data/linkage_fit.yaml"


def fitted_values() -> dict[str, dict[str, dict[str, float]]]:
    """The shipped estimates: comparison → level label → {"m": …, "u": …} (either may be absent: kept from PRIOR)."""
    import yaml

    text = resources.files("chainatlas").joinpath(FIT_FILE).read_text(encoding="utf-8")
    return {name: {label: {k: float(v) for k, v in level.items() if k in ("m", "u")}
                   for label, level in levels.items()}
            for name, levels in (yaml.safe_load(text).get("comparisons") or {}).items()}


def settings(values: dict[str, dict[str, dict[str, float]]] | None = None, base: dict | None = None) -> dict:
    """`base` (PRIOR by default) with the m/u of `values` (comparison → level label → m, u) put in where given."""
    out = copy.deepcopy(PRIOR if base is None else base)
    for comparison in out["comparisons"]:
        levels = (values or {}).get(comparison["output_column_name"], {})
        for level in comparison["comparison_levels"]:
            fit = levels.get(level["label_for_charts"], {})
            if "m" in fit:
                level["m_probability"] = fit["m"]
            if "u" in fit:
                level["u_probability"] = fit["u"]
    return out


SETTINGS: dict = settings(fitted_values())


def _in_order(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


def industry_u(new: list[str | None], words: dict[str, int]) -> dict[str, dict[str, dict[str, float]]]:
    """The u of the industry levels for pairs of the new records (their words, `new`) with the records they can
    meet (word → how many use it). Whether two different firms' words agree depends on whether their lists share
    a classification — rare across two vendors' lists, common within one — so it is computed, exactly, from the
    two lists at hand rather than shipped (a value in `settings` form)."""
    mine = {w: n for w, n in pl.Series(new, dtype=pl.String).drop_nulls().value_counts().iter_rows() if w}
    total_new, total = sum(mine.values()), sum(words.values())
    if not total_new or not total:
        return {}
    same = sum(n * words.get(w, 0) for w, n in mine.items()) / (total_new * total)
    near = sum(n * m for w, n in mine.items() for v, m in words.items()
               if w != v and len(w) >= 2 and len(v) >= 2 and (_in_order(w, v) or _in_order(v, w))) / (total_new * total)
    # a floor: a level no pair of these lists reaches still needs a probability
    same, near = max(same, 1e-6), max(near, 1e-6)
    return {"industry": {"行业用语相同": {"u": same}, "行业用语相近": {"u": near},
                         "行业用语不一致（分类可能不同）": {"u": max(1 - same - near, 1e-6)}}}


def _labels(settings: dict) -> dict[str, dict[float, str]]:
    """splink reports a match weight per comparison (mw_<name>); each level has its own weight log2(m/u), which
    names the level the pair fell into — that is the evidence shown to the analyst."""
    return {
        c["output_column_name"]: {
            round(math.log2(lv["m_probability"] / lv["u_probability"]), 3): lv["label_for_charts"]
            for lv in c["comparison_levels"] if not lv.get("is_null_level")
        }
        for c in settings["comparisons"]
    }


def _pairwise(metric: Any) -> Any:
    """An Arrow UDF over two string columns. DuckDB's own edit distances count UTF-8 bytes, so 盛/晟 would be
    three edits apart; rapidfuzz counts characters."""

    def udf(left: pa.Array, right: pa.Array) -> pa.Array:
        return pa.array([None if a is None or b is None else metric(a, b)
                         for a, b in zip(left.to_pylist(), right.to_pylist())])

    return udf


# The comparisons' own functions, by SQL name: (Arrow function of two string columns, SQL result type). No SQL
# function counts CJK characters alike in both backends (DuckDB's edit distances count UTF-8 bytes; Spark has no
# Jaro-Winkler), so each backend registers these same Python functions, evaluated an Arrow batch at a time:
# DuckDB in process, Spark in its Python workers (`linkage_spark`) — the same scores by construction.
def _edit_distance(a: str, b: str) -> int:
    return DamerauLevenshtein.distance(a, b)


def _jaro_winkler(a: str, b: str) -> float:
    return JaroWinkler.similarity(a, b)


# (rapidfuzz's compiled functions are wrapped in these two so that Spark can send them to its workers by name)
FUNCTIONS: dict[str, tuple[Any, str]] = {
    "zh_edit_distance": (_pairwise(_edit_distance), "bigint"),
    "zh_jaro_winkler": (_pairwise(_jaro_winkler), "double"),
}


def _register_functions(con: duckdb.DuckDBPyConnection) -> None:
    types = {"bigint": BIGINT, "double": DOUBLE}
    for name, (function, result) in FUNCTIONS.items():
        con.create_function(name, function, [VARCHAR, VARCHAR], types[result], type="arrow")


class CharModel:
    """Bits of information per character of firm names: -log2 of the share of full names containing it."""

    def __init__(self, names: list[str]) -> None:
        counts = (pl.Series(names, dtype=pl.String).drop_nulls().str.split("").list.unique().explode()
                  .value_counts())
        total = len(names) + 2
        self.bits = {ch: math.log2(total / (n + 1)) for ch, n in counts.iter_rows() if ch}
        self.unseen = math.log2(total)

    def information(self, text: str) -> float:
        return sum(self.bits.get(ch, self.unseen) for ch in text)


def _like_sequence(text: str) -> str:
    """A LIKE pattern matching any text holding these characters in order (LIKE's own wildcards left out)."""
    return "%" + "%".join(ch for ch in text if ch not in "%_\\") + "%"


def _prepare(records: pa.Table, model: CharModel | None) -> pa.Table:
    """Blocking keys (the first two and last three characters of the core name; the heads of short and full
    names) and the short-name pattern and information — column by column, each pattern worked out once per
    distinct text (a million records are a million-row file's)."""
    for col in ("short_name", "name_full", "name_en", "industry"):
        if col not in records.column_names:
            records = records.append_column(col, pa.nulls(records.num_rows, pa.string()))
    frame = pl.from_arrow(records.select(["name_core", "name_full", "short_name", "industry"]))
    core, full, short = pl.col("name_core"), pl.col("name_full"), pl.col("short_name")
    # only a record named by its short name is read in others' full names
    frame = frame.with_columns(short=pl.when(full.is_null() & (short.str.len_chars() >= 2)).then(short))
    if model is None and frame["short"].null_count() < frame.height:
        model = CharModel(frame.filter(full != "")["name_full"].to_list())
    shorts = [x for x in frame["short"].unique().to_list() if x]
    industries = [x for x in frame["industry"].unique().to_list() if x and len(x) >= 2]

    def each(values: list[str], function: Any, dtype: Any) -> tuple[pl.Series, pl.Series]:
        return pl.Series(values, dtype=pl.String), pl.Series([function(x) for x in values], dtype=dtype)

    short_seqs, short_bits = each(shorts, _like_sequence, pl.String), each(shorts, model.information if model else
                                                                            (lambda x: None), pl.Float64)
    industry_seqs = each(industries, _like_sequence, pl.String)
    columns = frame.select(
        core_head=pl.when(core != "").then(core.str.slice(0, 2)),
        core_tail=pl.when(core.str.len_chars() >= 4).then(core.str.slice(-3)),
        full_head=pl.when(full != "").then(full.str.slice(0, 2)),
        short_head=pl.col("short").str.slice(0, 2),
        short_seq=pl.col("short").replace_strict(*short_seqs, default=None, return_dtype=pl.String),
        industry_seq=pl.col("industry").replace_strict(*industry_seqs, default=None, return_dtype=pl.String),
        short_bits=pl.col("short").replace_strict(*short_bits, default=None, return_dtype=pl.Float64),
    ).to_arrow()
    for name in columns.column_names:
        records = records.append_column(name, columns.column(name).cast(pa.float64() if name == "short_bits"
                                                                        else pa.string()))
    return records


def find_matches(records: pa.Table, threshold: float = REVIEW_THRESHOLD, model: CharModel | None = None,
                 engine: str = "duckdb", master: str | None = None,
                 values: dict[str, dict[str, dict[str, float]]] | None = None) -> list[Match]:
    """Scored pairs (at least one side new) with probability ≥ threshold, best first (then by ids). `model`: the
    character information of the stored firm names (by default, of the full names among `records`). `values`:
    m/u that hold for this scoring only, over SETTINGS (`industry_u`). engine "spark": splink's Spark backend with
    the same settings (`linkage_spark`; master as for every Spark job)."""
    if records.num_rows < 2 or not any(records.column("is_new").to_pylist()):
        return []
    prepared = _prepare(records, model)
    in_force = settings(values, SETTINGS) if values else SETTINGS
    if engine == "spark":
        from chainatlas.engines.linkage_spark import predict_on_spark

        rows = predict_on_spark(prepared, threshold, partial(predict, settings=in_force), FUNCTIONS, master)
    else:
        from splink import DuckDBAPI

        con = duckdb.connect()
        try:
            con.execute("SET threads TO 2")
            _register_functions(con)
            rows = predict(DuckDBAPI(con), prepared, threshold, in_force)
        finally:
            con.close()
    matches = []
    level_labels = _labels(in_force)
    for row in rows:
        evidence = {}
        for col, labels in level_labels.items():
            weight = row.get(f"mw_{col}")
            if weight:  # 0 for a null level: nothing to say
                evidence[col] = labels.get(round(weight, 3), f"{weight:+.1f}")
        left, right = sorted((int(row["id_l"]), int(row["id_r"])))
        matches.append(Match(left, right, float(row["match_probability"]), evidence))
    matches.sort(key=lambda m: (-m.probability, m.left_id, m.right_id))
    return matches


def predict(db_api: Any, prepared: pa.Table, threshold: float, settings: dict | None = None) -> list[dict]:
    """splink's scored pairs of `prepared` records on a database API (DuckDB's or Spark's): the one place the
    settings (SETTINGS unless given) meet a backend. splink's steps — blocking, then scoring — with the pairs that
    cannot reach the threshold set aside in between (linkage_bounds): those a single comparison rules out within
    the blocking rules, the rest of them before the comparisons that call Python functions are evaluated."""
    from splink import Linker

    in_force = copy.deepcopy(settings or SETTINGS)
    ruled_out = ruled_out_alone_sql(in_force, threshold, FUNCTIONS, prepared.column_names)
    if ruled_out is not None:
        for rule in in_force["blocking_rules_to_generate_predictions"]:
            rule["blocking_rule"] = f"({rule['blocking_rule']}) AND NOT ({ruled_out})"
    keys = [c for c in exclusive_keys(in_force, threshold) if c in prepared.column_names]
    if keys:  # the same pairs, with the records that have a USCC filtered on one side before each join
        given = prepared.column(keys[0])
        repeated = pl.from_arrow(given).drop_nulls().n_unique() < len(given) - given.null_count
        in_force["blocking_rules_to_generate_predictions"] = [{"blocking_rule": rule} for rule in split_rules(
            [r["blocking_rule"] for r in in_force["blocking_rules_to_generate_predictions"]], keys[0], repeated)]
    sdf = db_api.register(prepared)  # a name of splink's own: a Spark session may run many predictions
    linker = Linker(sdf, in_force, log_level=logging.WARNING, validate_settings=False)
    logging.getLogger("splink").setLevel(logging.WARNING)
    reachable = reachable_sql(in_force, threshold, FUNCTIONS)
    if reachable is not None:
        blocked = linker.inference.compute_blocked_pairs_for_predict()
        sides = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in prepared.column_names)
        scored = db_api.query_sql(
            f"SELECT match_key, join_key_l, join_key_r FROM (SELECT b.*, {sides} FROM {blocked.physical_name} b "
            f"JOIN {sdf.physical_name} l ON l.id = b.join_key_l JOIN {sdf.physical_name} r ON r.id = b.join_key_r) "
            f"WHERE {reachable}")
        if log.isEnabledFor(logging.INFO):
            log.info("blocked pairs %d, scored %d", *(db_api.query_sql(f"SELECT count(*) AS n FROM {t.physical_name}")
                                                     .as_record_list()[0]["n"] for t in (blocked, scored)))
        blocked.drop_table_from_database_and_remove_from_cache()
        linker.table_management.register_blocked_pairs_for_predict(scored)
    result = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    return result.as_pyarrow_table().to_pylist()


MIN_PAIRS = 5  # a level seen in fewer estimation pairs keeps its PRIOR value: a count of 1–4 is noise, not a rate


@dataclass(frozen=True)
class LevelFit:
    comparison: str
    label: str
    m: float | None  # None: kept from PRIOR
    u: float | None
    m_pairs: int  # labelled pairs (the same firm) that fell in the level
    u_pairs: int  # sampled random pairs that fell in it


def fit(records: pa.Table, model: CharModel | None, same_firm: str, *, max_pairs: float = 1e7,
        seed: int = 25) -> list[LevelFit]:
    """splink's own estimates, starting from PRIOR: u by random sampling of pairs of a new and a known record (the
    pairs an import scores; up to `max_pairs`), m from the labelled pairs — records sharing a value of the column
    `same_firm` are one firm (a deterministic key joined them). Random pairs of two lists of the same firms hold
    those firms' own pairs, which splink's sampling counts as different firms; their expected share of the sample
    is taken out of each level's u. A level with fewer than MIN_PAIRS pairs behind an estimate keeps its PRIOR
    value."""
    from splink import DuckDBAPI, Linker

    prepared = _prepare(records, model)
    new, known = prepared.filter(pc.field("is_new")), prepared.filter(~pc.field("is_new"))
    settings = {**PRIOR, "link_type": "link_only"}
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 2")
        _register_functions(con)
        db_api = DuckDBAPI(con)
        linker = Linker([db_api.register(new), db_api.register(known)], settings, log_level=logging.WARNING,
                        validate_settings=False)
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed, min_count_per_level=None)
        linker.training.estimate_m_from_label_column(same_firm)
        # the labelled pairs, each level weighing its own whole number of bits (-1, -2 …): a pair's weight per
        # comparison names the level it fell in
        counting = copy.deepcopy(settings)
        for comparison in counting["comparisons"]:
            for i, level in enumerate(lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")):
                level.update(m_probability=2.0 ** -(i + 2), u_probability=0.5)
        counting["blocking_rules_to_generate_predictions"] = [{"blocking_rule": f"l.{same_firm} = r.{same_firm}"}]
        labelled = Linker([db_api.register(new), db_api.register(known)], counting, log_level=logging.WARNING,
                          validate_settings=False)
        vectors = labelled.inference.predict(warning_mode="never").as_pyarrow_table()
    finally:
        con.close()
    pairs = new.num_rows * known.num_rows
    sampled = min(max_pairs, pairs)
    level_of = _labels(counting)
    fits = []
    for comparison in linker._settings_obj.comparisons:
        name = comparison.output_column_name
        seen = [level_of[name].get(round(w, 3)) for w in vectors.column(f"mw_{name}").to_pylist() if w]
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            m_pairs = seen.count(level.label_for_charts)
            trained_u = [r["probability"] for r in level._trained_u_probabilities
                         if isinstance(r["probability"], (int, float))]
            u_pairs = round(trained_u[-1] * sampled - m_pairs * sampled / pairs) if trained_u else 0
            fits.append(LevelFit(name, level.label_for_charts, level.m_probability if m_pairs >= MIN_PAIRS else None,
                                 u_pairs / (sampled - vectors.num_rows * sampled / pairs) if u_pairs >= MIN_PAIRS
                                 else None, m_pairs, u_pairs))
    return fits
