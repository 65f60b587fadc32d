"""Whole-column work with polars for the bulk path: clean_text as an expression, USCC check digits as array
arithmetic, and parsing each distinct cell once.

Only cells the fast path is sure about are decided here; every other cell goes through the per-value parser in
ingest/records.py, which stays the one source of values and messages (tests/test_ingest_columnar.py checks that
both paths give the same result on messy columns).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from chainatlas.domain.uscc import ALPHABET
from chainatlas.ingest.values import BLANK_WORDS, ValueProblem

if TYPE_CHECKING:
    import numpy as np

# Python's str.strip() whitespace (every ch with ch.isspace()), so the columnar clean-up strips what clean_text strips.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
              "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# clean_text's empty cells, in every spelling whose str.lower() is one of them (is_in is far cheaper than lowering).
BLANK_CELLS = sorted({"".join(p) for w in BLANK_WORDS for p in itertools.product(*({ch, ch.upper()} for ch in w))})
# the longest blank cell in bytes: `clean` changes a text only if it is no longer, or holds whitespace at either end,
# a NUL, U+3000 or U+00A0 (the compiled placement kernel scans every other scope as it is, classify_batch.CleanUp)
BLANK_BYTES = max(len(cell.encode()) for cell in BLANK_CELLS)
_WHITESPACE_CHARS = list(WHITESPACE)


def clean(col: pl.Expr) -> pl.Expr:
    """clean_text over a string column, vectorised."""
    text = col.fill_null("").str.replace_all("\x00", "", literal=True).str.replace_all("[\u3000\xa0]", " ") \
        .str.strip_chars(WHITESPACE)
    # replace names `text` once: when/then/otherwise would compute it twice (eager queries share no subexpression)
    return text.replace(BLANK_CELLS, "")


def clean_column(values: pl.Series) -> pl.Series:
    """`clean` of a text column, made only for the cells it changes (a null, a NUL, an ideographic or no-break
    space, whitespace at either end, a blank word): a registry's cells hardly ever need it, and each step of `clean`
    over a column of 200,000 business scopes copies 90 MB."""
    dirty = (values.is_null() | values.str.contains("[\x00\u3000\xa0]")
             | values.str.head(1).is_in(_WHITESPACE_CHARS) | values.str.tail(1).is_in(_WHITESPACE_CHARS)).fill_null(True)
    short = (values.str.len_bytes() <= BLANK_BYTES).fill_null(False).arg_true()
    dirty = dirty.scatter(short, dirty.gather(short) | values.gather(short).is_in(BLANK_CELLS))
    rows = dirty.arg_true()
    if not rows.len():
        return values
    return values.scatter(rows, values.gather(rows).to_frame().select(clean(pl.first())).to_series())


def is_blank(col: pl.Expr) -> pl.Expr:
    """The csv reader's test for an empty cell: nothing but whitespace (str.strip() == '')."""
    return col.fill_null("").str.strip_chars(WHITESPACE) == ""


class LazyColumn(Sequence):
    """A read column held as a polars Series; the Python list of its cells is built on first use only, since the
    bulk path parses the Series and most callers never touch the raw cells (held rows and previews do)."""

    __slots__ = ("series", "_list", "_gets")

    def __init__(self, series: pl.Series):
        self.series = series
        self._list: list[Any] | None = None
        self._gets = 0

    @property
    def cells(self) -> list[Any]:
        if self._list is None:
            self._list = self.series.to_list()
        return self._list

    def __len__(self) -> int:
        return len(self.series)

    def __getitem__(self, i: Any) -> Any:
        # a few cells (the held rows of a large file) are cheaper fetched one by one than the whole list built
        if self._list is None and isinstance(i, int) and self._gets < len(self.series) // 16:
            self._gets += 1
            return self.series[i]
        return self.cells[i]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.cells)

    def __eq__(self, other: object) -> bool:
        return list(self) == (list(other) if isinstance(other, (list, LazyColumn)) else other)

    __hash__ = None  # type: ignore[assignment]  # mutable-sequence semantics, like list


def series_of(column: Sequence[Any]) -> pl.Series | None:
    """The column as a String Series when every cell is text (CSV), else None (Excel/Parquet cells keep the
    per-value path, which knows their native types)."""
    if isinstance(column, LazyColumn):
        return column.series
    if all(type(v) is str for v in column):
        return pl.Series(column, dtype=pl.String)
    return None


# (row index, raw cell, problem) for each rejected cell, in row order
Rejected = list[tuple[int, Any, ValueProblem]]


def parse_distinct(series: pl.Series, parse: Callable[[Any], Any]) -> tuple[list[Any], Rejected]:
    """parse() once per distinct cell, spread back over the rows. Same values as calling it on every cell."""
    # numpy and pyarrow.compute are imported where the import's columns are parsed, not by every command that
    # reads a file (together ~0.25 s, in every process of `chainatlas classify --workers N`)
    import numpy as np
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(series.to_arrow())
    uniques = encoded.dictionary.to_pylist()
    results = np.empty(len(uniques), dtype=object)
    bad = []
    for k, value in enumerate(uniques):
        try:
            results[k] = parse(value)
        except ValueProblem as exc:
            results[k] = None
            bad.append((k, exc))
    codes = pl.Series(encoded.indices).to_numpy()  # (pyarrow's own to_numpy imports pandas)
    out = results[codes].tolist() if len(uniques) else [None] * len(series)
    if not bad:
        return out, []
    problem = dict(bad)
    rows = np.flatnonzero(np.isin(codes, np.fromiter(problem, dtype=codes.dtype)))
    return out, [(i, uniques[k], problem[k]) for i, k in zip(rows.tolist(), codes[rows].tolist())]


def repetitive(series: pl.Series) -> bool:
    """Whether the column repeats its cells (types, statuses, business scopes), so that parsing each distinct
    cell once beats cleaning every cell (names and addresses)."""
    return series.approx_n_unique() * 4 <= len(series)


_EDGE = "".join(f"\\x{{{ord(ch):x}}}" for ch in WHITESPACE)
# a cell clean_text would change: blanks at either end, or a full-width / no-break space or NUL anywhere
_UNCLEAN = f"^[{_EDGE}]|[{_EDGE}]$|[\\x{{3000}}\\x{{a0}}\\x{{0}}]"


def parse_text(source: Sequence[Any], series: pl.Series, parse: Callable[[Any], Any], limit: int | None) -> list[Any]:
    """A text field (names, addresses). A cell that is already clean, not an empty-cell word and within the
    column's length is its own value; parse decides the others (blanks, spaces to strip, texts to cut)."""
    v = pl.col("v")
    odd = v.str.contains(_UNCLEAN) | v.is_in(BLANK_CELLS) | (v == "")
    if limit:
        odd = odd | (v.str.len_chars() > limit)
    rows = series.rename("v").to_frame().select(odd.fill_null(True)).to_series().arg_true()
    out = list(source)
    if len(rows):
        values, _ = parse_distinct(series.gather(rows), parse)  # text parsers raise no problems
        for i, value in zip(rows.to_list(), values):
            out[i] = value
    return out


_USCC = f"^[{ALPHABET}]{{18}}$"


@functools.cache
def _check_tables() -> tuple[np.ndarray, np.ndarray]:
    """(GB 32100 weights of the first 17 characters, value of each byte of ALPHABET)."""
    import numpy as np

    weights = np.array((1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28), dtype=np.int64)
    value = np.zeros(256, dtype=np.uint8)
    value[np.frombuffer(ALPHABET.encode(), dtype=np.uint8)] = np.arange(len(ALPHABET))
    return weights, value


def parse_uscc(series: pl.Series, parse: Callable[[Any], Any]) -> tuple[list[Any], Rejected]:
    """USCCs: a cell that is exactly 18 upper-case GB 32100 characters with the right check digit is its own
    value (clean_text and normalize leave it as it is); every other cell (blank, lower case, full width, spaces,
    wrong length or check digit) goes through parse, which normalises it or says what is wrong."""
    import numpy as np

    weights, value = _check_tables()
    shaped = series.str.contains(_USCC).fill_null(False)
    candidates = series.filter(shaped)
    ok = np.zeros(len(series), dtype=bool)
    if len(candidates):
        text = candidates.str.join("").item().encode("ascii")
        chars = value[np.frombuffer(text, dtype=np.uint8).reshape(-1, 18)]
        expected = (31 - chars[:, :17] @ weights % 31) % 31
        ok[shaped.arg_true().to_numpy()] = expected == chars[:, 17]
    out = np.full(len(series), None, dtype=object)
    out[ok] = series.filter(pl.Series(ok)).to_list()
    rest = np.flatnonzero(~ok)
    if not len(rest):
        return out.tolist(), []
    values, rejected = parse_distinct(series.gather(rest), parse)
    out[rest] = values
    rows = rest.tolist()
    return out.tolist(), [(rows[j], value, exc) for j, value, exc in rejected]
