"""Name keys and address places for a whole column at once: the same results as `names.name_key` and
`Divisions.resolve`, value by value, at the speed a million-row import needs.

The common shapes are computed with polars string expressions (a regex over every division name read at the
start of a text, one over the legal suffixes at its end); anything else — Latin names, branches, blanks,
addresses whose opening does not name a county — goes through the per-value functions, so those stay the one
definition. tests/test_ingest_name_place_columns.py checks both paths give the same answers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl
import pyarrow.compute as pc

from chainatlas.ingest.address import NOT_AFTER_SHORT, Divisions, Place, pick_division, place_of, divisions
from chainatlas.ingest.names import (
    BRACKETED,
    GENERIC_PLACES,
    LEGAL_FORM,
    TRADING_CLASS,
    TRADING_HEAD,
    LEGAL_SUFFIXES,
    is_place_name,
    legal_stem,
    looks_like_full_name,
    name_key,
)

# A name with any of these (a branch, or blanks) takes the per-value path, as does one without a Chinese
# character (a Latin name). Python's str.isspace, which `split` and re's \s use, also counts \x1c-\x1f; Rust's
# \s does not.
_NAME_FALLBACK = r"[\s\x1c-\x1f]|分公司|分厂|办事处|营业部"
_HAN = r"[\u4e00-\u9fff]"


def nfkc_all(texts: list[str]) -> list[str]:
    """NFKC of every text. A text of ASCII and CJK unified ideographs (U+4E00–U+9FFF) only is already in NFKC
    (no decomposition, and nothing composes with them); one that adds only full-width ASCII (U+FF01–U+FF5E,
    each one character's compatibility form) is in NFKC once those are mapped; the rest take unicodedata."""
    return nfkc_series(texts).to_list()


def nfkc_series(texts: list[str]) -> pl.Series:
    """nfkc_all as a String Series, for callers that go on with polars."""
    t = pl.col("t")
    frame = pl.Series(texts, dtype=pl.String).to_frame("t").select(
        t.str.contains(r"[^\x00-\x7f\x{4e00}-\x{9fff}\x{ff01}-\x{ff5e}]").alias("other"),
        t.str.replace_many(_FULL_WIDTH, _HALF_WIDTH))
    out = frame["t"]
    other = frame["other"].arg_true()
    if len(other):
        out = out.scatter(other, [unicodedata.normalize("NFKC", texts[i]) for i in other.to_list()])
    return out


_FULL_WIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)]
_HALF_WIDTH = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)]


@lru_cache(maxsize=2)
def _place_pattern(generic: bool = False) -> str:
    """The longest division name (full or short) a text starts with — with `generic`, else a generic place
    (中国, 华中 …): alternatives longest first, because the regex engine prefers the earliest alternative that
    matches at a position (and a division name over a generic one, as names._strip_place_prefix does)."""
    names = sorted(divisions().place_names, key=lambda s: (-len(s), s))
    if generic:
        names += sorted(GENERIC_PLACES)
    return "^(?:" + "|".join(re.escape(n) for n in names) + ")"


@dataclass
class NameKeys:
    """name_key of each name, column by column."""

    norm: list[str]
    core: list[str]
    is_branch: list[bool]
    latin: list[bool]


def name_keys(names: list[str]) -> NameKeys:
    """`name_key(n)` for every n in names (each name once: callers pass distinct names)."""
    basic = nfkc_series(names)
    fast = basic.to_frame("text").select(
        ~pl.col("text").str.contains(_NAME_FALLBACK) & pl.col("text").str.contains(_HAN)).to_series()
    picked = int(fast.sum())
    # names.basic's brackets, then lower() and 有限责任公司 → 有限公司, on one joined string (nothing crosses "\n")
    joined = basic.filter(fast).str.join("\n").item() if picked else ""
    for a, b in (("【", "("), ("】", ")"), ("[", "("), ("]", ")")):
        joined = joined.replace(a, b)
    norms = joined.lower().replace("有限责任公司", "有限公司").split("\n") if picked else []
    cores = [BRACKETED.sub(_place_in_brackets, n) if "(" in n else n for n in norms]
    cores = _strip_places(legal_stems(cores))
    n = len(names)
    if picked == n:
        return NameKeys(norms, cores, [False] * n, [False] * n)
    rows = fast.arg_true().to_numpy()
    columns = []
    for values in (norms, cores):
        column = np.full(n, "", dtype=object)
        column[rows] = np.fromiter(values, dtype=object, count=len(values))
        columns.append(column.tolist())
    out = NameKeys(columns[0], columns[1], [False] * n, [False] * n)
    for i in (~fast).arg_true().to_list():
        key = name_key(names[i])
        out.norm[i], out.core[i], out.is_branch[i], out.latin[i] = key.norm, key.core, key.is_branch, key.latin
    return out


@lru_cache(maxsize=4096)
def _is_place_cached(inner: str) -> bool:
    return is_place_name(inner)


def _place_in_brackets(m: re.Match) -> str:
    """names.name_key's bracket step: （武汉） is dropped from the core, （集团） is kept."""
    return "" if _is_place_cached(m.group(1)) else m.group(0)


_SUFFIX = re.compile("(" + "|".join(re.escape(x) for x in LEGAL_SUFFIXES) + ")$")


def legal_stems(cores: list[str]) -> list[str]:
    """names.legal_stem for every value, column-wise: names.name_key's loop: the first legal suffix (in list order) the core ends with and is more than one
    character longer than, removed. Suffixes a text can end with together are listed longest first, so that is
    the longest such suffix: the regex's leftmost match, unless the core is too short for it (then per value)."""
    frame = pl.DataFrame({"core": cores}, schema={"core": pl.String})
    c = pl.col("core")
    cut = c.str.extract(_SUFFIX.pattern, 1).str.len_chars()
    frame = frame.select(c, (c.str.len_chars() > cut + 1).alias("ok"), cut.is_not_null().alias("hit"),
                         c.str.slice(0, c.str.len_chars() - cut).alias("cut"))
    out = frame.select(pl.when(pl.col("ok")).then(pl.col("cut")).otherwise(c)).to_series().to_list()
    for i in frame.select((pl.col("hit") & ~pl.col("ok")).arg_true()).to_series().to_list():
        out[i] = legal_stem(cores[i])
    return out


def _strip_places(cores: list[str]) -> list[str]:
    """names._strip_place_prefix: drop leading division (or generic place) names while two characters remain;
    each round works on the cores the last one shortened."""
    out = np.fromiter(cores, dtype=object, count=len(cores))
    pattern = _place_pattern(generic=True)
    c = pl.col("core")
    frame = pl.DataFrame({"i": range(len(cores)), "core": cores}, schema={"i": pl.Int64, "core": pl.String})
    while len(frame):
        frame = (frame.with_columns(c.str.extract(pattern, 0).str.len_chars().alias("cut"))
                 .filter(pl.col("cut").is_not_null() & (c.str.len_chars() - pl.col("cut") >= 2))
                 .select("i", c.str.slice(pl.col("cut"))))
        out[frame["i"].to_numpy()] = np.fromiter(frame["core"].to_list(), dtype=object, count=len(frame))
    return out.tolist()


def places(addresses: list[str]) -> list[Place]:
    """`divisions().resolve(a)` for every a in addresses (each address once: callers pass distinct ones)."""
    return _read_places(addresses, False)[0]


def address_rests(addresses: list[str]) -> list[str]:
    """`divisions().split(a)[1]` for every a in addresses: what follows the divisions it names (road, number,
    building), as record linkage compares it."""
    return _read_places(addresses, True)[1]


def places_and_rests(addresses: list[str]) -> tuple[list[Place], list[str]]:
    """`places` and `address_rests` of the addresses from one reading of them (an import places its rows and
    its link step compares the rests: a million addresses read once, not twice)."""
    return _read_places(addresses, True)


def _read_places(addresses: list[str], with_rest: bool) -> tuple[list[Place], list[str]]:
    table = divisions()
    texts = nfkc_series(addresses).str.replace_all(" ", "", literal=True)
    # The fast path of Divisions.split reads up to three division names off the front (each success fills a
    # slot of province / city / county, so a fourth never succeeds): the longest name at the start, the
    # longest after it, and so on, with whether the character after the last is one a short name may not
    # precede (区县镇乡路街大). What the fast path makes of such a sequence is decided once per distinct one.
    pattern = _place_pattern()
    frame = texts.to_frame("rest")
    rest = pl.col("rest")
    for k in range(3):
        frame = frame.with_columns(rest.str.extract(pattern, 0).alias(f"n{k}"))
        frame = frame.with_columns(rest.str.slice(pl.col(f"n{k}").str.len_chars().fill_null(0)).alias("rest"))
    keys = frame.select(pl.concat_str(
        pl.col("n0").fill_null(""), pl.col("n1").fill_null(""), pl.col("n2").fill_null(""),
        rest.str.slice(0, 1).is_in(list(NOT_AFTER_SHORT)).cast(pl.String), separator="|").alias("key"))["key"]
    encoded = pc.dictionary_encode(keys.to_arrow())
    at = pl.Series(encoded.indices).to_numpy()
    found: list[Place | None] = []
    used: list[int] = []  # names the fast path read, of each distinct sequence
    for key in pl.Series(encoded.dictionary).to_list():
        *names, after = key.split("|")
        place, n = _fast_path(table, [n for n in names if n], after == "true")
        found.append(place)
        used.append(n)
    spread = np.empty(len(found), dtype=object)
    spread[:] = found
    out: list[Place] = spread[at].tolist()
    rests: list[str] = []
    if with_rest:
        # the address after the names read: n0, n1, n2 are consecutive, so skip the lengths of those used
        row_used = np.asarray(used, dtype=np.int64)[at] if used else np.zeros(len(at), dtype=np.int64)
        skip = sum(frame[f"n{k}"].str.len_chars().fill_null(0).to_numpy().astype(np.int64) * (row_used > k)
                   for k in range(3))
        rests = texts.str.slice(pl.Series(skip, dtype=pl.Int64)).to_list()
    blank = (texts == "").to_numpy()
    for i in np.flatnonzero(blank).tolist():
        out[i] = Place()
    # no county in the opening: the slow path scans the whole address
    missed = np.array([place is None for place in found], dtype=bool)[at] & ~blank if len(found) else blank
    for i in np.flatnonzero(missed).tolist():
        out[i], rest_i = table.split(addresses[i])
        if with_rest:
            rests[i] = rest_i
    return out, rests


def _fast_path(table: Divisions, names: list[str], after_blocks: bool) -> tuple[Place | None, int]:
    """Divisions.split's fast path over the names read off the front: the place (None when it finds no county)
    and how many of the names it used."""
    found = ("", "", "")
    used = 0
    for i, name in enumerate(names):
        divs, short = table._names[name]
        blocks = names[i + 1][0] in NOT_AFTER_SHORT if i + 1 < len(names) else after_blocks
        if short and blocks:
            break
        step = pick_division(divs, found)
        if step is None:
            break
        found, used = step, i + 1
    return (place_of(found) if found[2] else None), used


def short_forms(norm: pl.Expr) -> pl.Expr:
    """names.short_form of name norms, as a polars expression."""
    return norm.str.replace(TRADING_HEAD.pattern, "${1}").str.replace(TRADING_CLASS.pattern, "${1}")


def full_name_norms(norm: pl.Expr) -> pl.Expr:
    """names.looks_like_full_name of name norms, as a polars expression."""
    return norm.str.contains(LEGAL_FORM.pattern)


def full_names(names: list[str], norms: list[str]) -> list[bool]:
    """names.looks_like_full_name of every name (norms: each one's name_key norm). A name of Chinese characters
    without blanks or branch words (after NFKC) ends as its norm does, so the norm is read column-wise; the
    others (Latin names, blanks, branches) go through the per-value function."""
    text = nfkc_series(names).to_frame("text")
    fast = text.select(pl.col("text").str.contains(_HAN) & ~pl.col("text").str.contains(_NAME_FALLBACK))["text"]
    out = pl.Series(norms, dtype=pl.String).to_frame("norm").select(full_name_norms(pl.col("norm")))["norm"].to_list()
    for i in fast.not_().arg_true().to_list():
        out[i] = looks_like_full_name(names[i])
    return out
