"""Turn a read table and its header mapping into parsed columns plus the problems of each row.

Column-wise: text columns (CSV) go through ingest/columnar.py — polars expressions for clean text and
well-formed USCCs, the per-value parser once per distinct cell for the rest (a million-row file has far fewer
distinct dates and amounts than rows); other cells (Excel, Parquet) through the per-value parsers with a cache.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chainatlas.domain import uscc as uscc_rules
from chainatlas.domain.money import MoneyError, parse_money
from chainatlas.domain.products import parse_products
from chainatlas.ingest import columnar
from chainatlas.ingest.mapping import ColumnMap, HeaderMapping
from chainatlas.ingest.reader import Table
from chainatlas.ingest.values import (
    ValueProblem,
    clean_text,
    parse_amount_yuan,
    parse_bool,
    parse_count,
    parse_date,
    parse_designations,
    parse_share,
    split_list,
)

# Column lengths of the schema; longer values are cut (keys such as the name are held back instead).
MAX_LENGTHS = {"name": 200, "name_en": 300, "short_name": 100, "address": 500, "ownership": 40, "status": 40,
               "parent_group": 200, "website": 200, "industry_code": 8, "industry": 200, "listing_code": 20, "street": 100,
               "product": 200, "supplier_name": 200, "customer_name": 200}
_MISSING = object()
# A totals row under a bureau's list (合计 | 37家, 小计：12): its label stands in the first column or the name column,
# sometimes spaced out (合 计) or with a colon and a count after it. Such a row is no firm and no relation.
_TOTALS = r"^\s*(合|总|小|共)\s*计\s*([:：].*)?$"
_TOTALS_RE = re.compile(_TOTALS, re.S)


@dataclass
class Problem:
    file: str
    row: int
    column: str
    value: str
    problem: str
    action: str

    def as_dict(self) -> dict:
        return {"file": self.file, "row": self.row, "column": self.column, "value": self.value,
                "problem": self.problem, "action": self.action}


@dataclass
class Parsed:
    """Parsed values by field (same length as the table), and problems by row index."""

    table: Table
    mapping: HeaderMapping
    values: dict[str, list[Any]]
    problems: dict[int, list[Problem]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.table)

    def get(self, field_id: str, i: int) -> Any:
        col = self.values.get(field_id)
        return None if col is None else col[i]

    def raw_row(self, i: int) -> dict[str, str]:
        return raw_row(self.table, i)


def raw_row(table: Table, i: int) -> dict[str, str]:
    """A data row as the user typed it, by header (what a held row keeps)."""
    return {h: clean_text(col[i]) for h, col in zip(table.headers, table.columns)}


def _uscc(value: Any) -> str | None:
    text = clean_text(value)
    if not text:
        return None
    try:
        return uscc_rules.validate(text)
    except uscc_rules.USCCError as exc:
        raise ValueProblem(str(exc), "请核对统一社会信用代码（18位，可在国家企业信用信息公示系统查询）；不确定可留空") from None


def _text_parser(field_id: str) -> Callable[[Any], str | None]:
    limit = MAX_LENGTHS.get(field_id)

    def parse(value: Any) -> str | None:
        text = clean_text(value)
        if not text:
            return None
        text = unicodedata.normalize("NFKC", text) if field_id in ("website", "listing_code") else text
        return text[:limit] if limit else text

    return parse


def _listing(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)).zfill(6)  # Excel drops the leading zeros of 000538
    text = unicodedata.normalize("NFKC", clean_text(value)).upper().replace(" ", "")
    if not text:
        return None
    if re.fullmatch(r"\d{1,5}", text):
        text = text.zfill(6)
    return text[:20]


def _industry_code(value: Any) -> str | None:
    text = unicodedata.normalize("NFKC", clean_text(value)).upper().replace(" ", "")
    if not text:
        return None
    m = re.fullmatch(r"[A-T]?(\d{2,4})", text)
    if not m:
        raise ValueProblem(f"“{text}”不是国民经济行业代码", "请填写 GB/T 4754-2017 代码，如 3670 或 C3670；行业名称请放在“所属行业”列")
    return m.group(1)


def _money_parser(col: ColumnMap) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if clean_text(value) == "":
            return None
        try:
            return parse_money(value, col.multiplier, col.currency or "CNY")
        except MoneyError as exc:
            raise ValueProblem(str(exc), "请填写金额，如 1000万人民币、500万美元、1.2亿元，或在表头注明单位（万元）") from None

    return parse


def _wrap(fn: Callable[..., Any], *args: Any) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if clean_text(value) == "":
            return None
        return fn(value, *args)

    return parse


def parser_for(col: ColumnMap, kind: str) -> Callable[[Any], Any]:
    field_id = col.field or ""
    if field_id == "listing_code":
        return _listing
    if field_id == "industry_code":
        return _industry_code
    if kind == "uscc":
        return _uscc
    if kind == "date":
        return _wrap(parse_date)
    if kind == "money":
        return _money_parser(col)
    if kind == "count":
        return _wrap(parse_count, col.multiplier)
    if kind == "amount":
        return _wrap(parse_amount_yuan, col.multiplier)
    if kind == "list":
        return lambda v: split_list(v) or None
    if kind == "share":
        return _wrap(parse_share)
    if kind == "products":  # product lines with their revenue shares, read as `classify` reads them
        return lambda v: parse_products(clean_text(v)) or None
    if kind == "designations":
        return lambda v: parse_designations(v) or None
    if kind == "bool":
        return _wrap(parse_bool)
    return _text_parser(field_id)


def _parse_cells(source: Sequence[Any], parse: Callable[[Any], Any]) -> tuple[list[Any], columnar.Rejected]:
    """The per-value path (Excel and Parquet cells of any type), with a cache per distinct value."""
    cache: dict[Any, Any] = {}
    out: list[Any] = []
    append = out.append
    rejected: columnar.Rejected = []
    for i, value in enumerate(source):
        try:
            result = cache.get(value, _MISSING)
        except TypeError:  # unhashable cell
            result = _MISSING
        if result is _MISSING:
            try:
                result = parse(value)
            except ValueProblem as exc:
                result = exc
            try:
                cache[value] = result
            except TypeError:
                pass
        if isinstance(result, ValueProblem):
            rejected.append((i, value, result))
            result = None
        append(result)
    return out, rejected


def parse_column(source: Sequence[Any], col: ColumnMap, kind: str) -> tuple[list[Any], columnar.Rejected]:
    """One column's values and rejected cells. Text columns (CSV) are parsed whole with polars; the per-value
    parsers decide every cell the columnar path does not, so both give the same values and messages."""
    parse = parser_for(col, kind)
    series = columnar.series_of(source)
    if series is None:
        return _parse_cells(source, parse)
    field_id = col.field or ""
    if field_id in ("listing_code", "industry_code", "website"):  # own parsers / NFKC: few distinct values
        return columnar.parse_distinct(series, parse)
    if kind == "uscc":
        return columnar.parse_uscc(series, parse)
    if kind == "text" and not columnar.repetitive(series):  # names, addresses: clean them as a column
        return columnar.parse_text(source, series, parse, MAX_LENGTHS.get(field_id)), []
    return columnar.parse_distinct(series, parse)


def parse_table(table: Table, mapping: HeaderMapping, file_name: str,
                required: tuple[str, ...] = ("name",)) -> Parsed:
    kinds = {f.id: f.kind for f in mapping.fields}
    labels = {f.id: f.label_zh for f in mapping.fields}
    parsed = Parsed(table, mapping, {})
    problems = parsed.problems
    for col in mapping.mapped:
        assert col.field is not None
        out, rejected = parse_column(table.columns[col.index], col, kinds[col.field])
        for i, value, exc in rejected:
            problems.setdefault(i, []).append(
                Problem(file_name, table.row_numbers[i], col.header, clean_text(value), exc.message, exc.action)
            )
        parsed.values[col.field] = out
    for field_id in required:
        col = mapping.column_of(field_id)
        values = parsed.values.get(field_id) or [None] * len(table)
        for i, value in enumerate(values):
            if not value:
                problems.setdefault(i, []).append(
                    Problem(file_name, table.row_numbers[i], col.header if col else labels.get(field_id, field_id), "",
                            f"{labels.get(field_id, field_id)}为空", f"请补全{labels.get(field_id, field_id)}，或删除该行")
                )
    for i, header, cell in _totals_rows(table, mapping):  # its one problem: its other cells are no data either
        problems[i] = [Problem(file_name, table.row_numbers[i], header, cell, "合计、小计等汇总行，不是数据行",
                               "汇总行不导入；如该行确是数据，请改正该单元格后重新导入")]
    name_col = mapping.column_of("name")
    if "name" in parsed.values and name_col is not None:
        limit = MAX_LENGTHS["name"]
        values = parsed.values["name"]
        raw = table.columns[name_col.index]
        for i, cell in _longer_than(raw, limit):
            # cleaning never lengthens a text cell, so only longer raw texts (or non-text cells) need it
            if values[i] and len(clean_text(cell)) > limit:
                problems.setdefault(i, []).append(
                    Problem(file_name, table.row_numbers[i], name_col.header, values[i][:40] + "…",
                            "企业名称超过200字", "请核对是否把多列内容粘贴到了名称列")
                )
    return parsed


def _totals_rows(table: Table, mapping: HeaderMapping) -> list[tuple[int, str, str]]:
    """(row, header, cell) of the rows whose first column or name column holds a totals label (合计, 小计 …)."""
    name_col = mapping.column_of("name")
    indexes = sorted({0} | ({name_col.index} if name_col is not None else set())) if table.headers else []
    found: dict[int, tuple[int, str, str]] = {}
    for k in indexes:
        raw = table.columns[k]
        # the literal 计 first: a scan for one character costs little, the pattern runs on the few cells with it
        if isinstance(raw, columnar.LazyColumn):
            maybe = raw.series.str.contains("计", literal=True).fill_null(False).arg_true()
            rows = maybe.filter(raw.series.gather(maybe).str.contains("(?s)" + _TOTALS)).to_list()
        else:
            rows = [i for i, v in enumerate(raw) if isinstance(v, str) and "计" in v and _TOTALS_RE.match(v)]
        for i in rows:
            found.setdefault(i, (i, table.headers[k], clean_text(raw[i])))
    return [found[i] for i in sorted(found)]


def _longer_than(raw: Sequence[Any], limit: int) -> list[tuple[int, Any]]:
    """(row, cell) of the cells that are not text or are texts longer than limit."""
    if isinstance(raw, columnar.LazyColumn):
        rows = (raw.series.str.len_chars() > limit).arg_true()
        return list(zip(rows.to_list(), raw.series.gather(rows).to_list()))
    return [(i, v) for i, v in enumerate(raw) if not isinstance(v, str) or len(v) > limit]
