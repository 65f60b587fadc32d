"""Read CSV / TSV / XLSX / Parquet into columns, finding the encoding and the header row as users' files have them.

Users' files open with a title row ("2024年经开区重点企业名单"), have two-level headers with merged cells,
blank rows and GBK encoding. The reader scores the first rows against the known header names and takes the
best-scoring row as the header; merged header cells are filled across their range.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import polars as pl

from chainatlas.ingest import columnar, limits
from chainatlas.ingest.mapping import FieldSpec, guess_field, header_score, unit_text
from chainatlas.ingest.values import clean_text

HEADER_SCAN_ROWS = 30
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
SUPPORTED = (".csv", ".tsv", ".txt", *EXCEL_SUFFIXES, ".parquet")


class ReadError(ValueError):
    """A file we cannot read; the message says which file and what to do, in Chinese."""


_PLACEHOLDER = re.compile(r"第\d+列")


class HeaderNotFound(ReadError):
    """No row among the first ones reads as a header."""


@dataclass
class Table:
    path: Path
    kind: str  # csv / tsv / xlsx / xls / parquet
    encoding: str  # utf-8 / utf-8-sig / gb18030 / … ('' for xlsx and parquet)
    sheet: str
    header_row: int  # 1-based row of the header in the file (as Excel shows it)
    headers: list[str]
    # column-major cell values (str for CSV, native types for Excel); a CSV read by polars holds
    # columnar.LazyColumn sequences, which build their Python list on first use
    columns: list[Sequence[Any]]
    row_numbers: list[int] = field(default_factory=list)  # 1-based file row of each data row
    blank_rows: int = 0

    def __len__(self) -> int:
        return len(self.row_numbers)

    def row(self, i: int) -> list[Any]:
        return [col[i] for col in self.columns]


def detect_encoding(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312), else charset-normalizer's guess."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:200_000]).best()
    if best is None:
        raise ReadError("无法识别文件编码")
    return best.encoding


def read_table(path: Path, fields: tuple[FieldSpec, ...], sheet: str | None = None) -> Table:
    path = Path(path)
    if not path.exists():
        raise ReadError(f"找不到文件 {path}，请检查路径")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ReadError(f"不支持的文件类型“{suffix}”（{path.name}）。请另存为 CSV、XLSX 或 Parquet")
    try:
        if suffix in EXCEL_SUFFIXES:
            return _read_xlsx(path, fields, sheet)
        if suffix == ".parquet":
            return _read_parquet(path)
        return _read_csv(path, fields, "\t" if suffix == ".tsv" else None)
    except limits.TooLarge as exc:
        raise ReadError(str(exc)) from None


# A cell no header is: a stock code (600519, 300750.SZ), a USCC, a decimal or a percentage, a date. A data row
# holding a header word ("主营产品" in a relation column) is never the header: a real header has none of these.
_DATA_CELL = re.compile(r"\d{6}(\.[A-Za-z]{2})?|[0-9A-HJ-NPQRTUWXY]{18}|[+-]?\d[\d,]*\.\d+%?|[+-]?\d+(\.\d+)?%"
                        r"|\d{4}[-/.年]\d{1,2}([-/.月]\d{1,2}日?)?")


def _find_header(rows: list[list[Any]], fields: tuple[FieldSpec, ...], path: Path) -> int:
    scores = []
    for row in rows:
        cells = [clean_text(c) for c in row]
        data = any(_DATA_CELL.fullmatch(c) for c in cells if c)
        scores.append(0 if data else header_score(cells, fields))
    if not scores or max(scores) == 0:
        raise HeaderNotFound(
            f"{path.name}：前{HEADER_SCAN_ROWS}行中找不到表头（如“企业名称”“统一社会信用代码”）。"
            "请确认表头行存在，或用 --mapping 指定列名对照"
        )
    return scores.index(max(scores))


def locate_header(rows: list[list[Any]], fields: tuple[FieldSpec, ...], path: Path) -> tuple[int, list[str]]:
    """(index of the header row among the first rows, its column names) — title rows above it are skipped."""
    h = _find_header(rows, fields, path)
    return h, _headers(rows[h], rows[h - 1] if h > 0 else None, fields)


def _headers(header: list[Any], parent: list[Any] | None, fields: tuple[FieldSpec, ...]) -> list[str]:
    """The header texts; under a merged group header ("财务数据" over "金额") use "group-child" when only that maps."""
    result = []
    seen: dict[str, int] = {}
    for j, cell in enumerate(header):
        text = clean_text(cell)
        above = clean_text(parent[j]) if parent and j < len(parent) else ""
        if not text:
            text = above or f"第{j + 1}列"
        elif above and above != text and guess_field(text, fields) is None and guess_field(above + text, fields):
            text = above + text
        elif above and unit_text(above) and not unit_text(text):  # "财务数据(万元)" over "注册资本"
            text = text + unit_text(above)
        if text in seen:  # two columns named alike: keep both, distinguishable
            seen[text] += 1
            text = f"{text}_{seen[text]}"
        else:
            seen[text] = 1
        result.append(text)
    return result


def _is_blank(row: list[Any]) -> bool:
    return all(clean_text(c) == "" for c in row)


def _is_blank_text(row: list[str]) -> bool:
    """A CSV row of nothing but whitespace (the csv path's own test, kept as it was)."""
    return not row or not any(c.strip() for c in row)


def _sniff(text: str, fields: tuple[FieldSpec, ...]) -> str:
    """The delimiter that splits the head into the most recognisable header (企业名称, 统一社会信用代码 …); the most
    frequent one only between equals. Counting alone chose ";" for a file whose product column lists "电池;电机;电控"."""
    lines = text[:20000].splitlines()[:HEADER_SCAN_ROWS]
    sample = "\n".join(lines)

    def fit(delimiter: str) -> tuple[int, int]:
        rows = csv.reader(lines, delimiter=delimiter)
        best = max((header_score([clean_text(c) for c in row[:limits.LIMITS.columns]], fields) for row in rows),
                   default=0)
        return best, sample.count(delimiter)

    return max((",", "\t", ";", "|"), key=fit)


def _read_csv(path: Path, fields: tuple[FieldSpec, ...], delimiter: str | None) -> Table:
    raw = path.read_bytes()
    if not raw or raw.isspace():  # (not raw.strip(), without copying a large file)
        raise ReadError(f"{path.name} 是空文件")
    fast = _read_csv_polars(path, raw, fields, delimiter)
    return fast if fast is not None else _read_csv_module(path, raw, fields, delimiter)


def _read_csv_module(path: Path, raw: bytes, fields: tuple[FieldSpec, ...], delimiter: str | None) -> Table:
    """Any CSV the csv module reads, cell by cell (the reference for _read_csv_polars)."""
    encoding = detect_encoding(raw)
    text = raw.decode(encoding, errors="replace")
    if delimiter is None:
        delimiter = _sniff(text, fields)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = _bounded(path.name, reader)
    head: list[list[str]] = []
    try:
        for row in rows:
            head.append(row)
            if len(head) >= HEADER_SCAN_ROWS:
                break
        h, headers = locate_header(head, fields, path)
        columns, row_numbers, blank = _data_columns(head, rows, h, len(headers), _is_blank_text, "", path.name)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            limits.check_cell_chars(path.name, csv.field_size_limit() + 1, reader.line_num)
        raise ReadError(f"{path.name} 第 {reader.line_num} 行无法按 CSV 读取（{exc}）。"
                        "请在 Excel/WPS 中另存为 CSV 后重试") from None
    return Table(path, "tsv" if delimiter == "\t" else "csv", encoding, "", h + 1, headers, columns, row_numbers, blank)


def _bounded(name: str, reader: Any) -> Iterator[list[str]]:
    """The csv module's rows, each refused past the column and cell-size limits before it is kept."""
    for row in reader:
        limits.check_width(name, len(row), reader.line_num)
        if row and max(map(len, row)) > limits.LIMITS.cell_chars:
            limits.check_cell_chars(name, max(map(len, row)), reader.line_num)
        yield row


_HEAD_BYTES = 1 << 20


def _read_csv_polars(path: Path, raw: bytes, fields: tuple[FieldSpec, ...], delimiter: str | None) -> Table | None:
    """What the csv path reads from a well-formed file, read by polars (a million rows in seconds, not a minute).

    The title and header rows are found as the csv path finds them; polars reads the rows after the header.
    None (the csv path reads it) where polars and the csv module might split the file differently: quoted
    cells with line breaks or stray quotes, bare CR line ends, NUL bytes, rows wider than the header, empty
    lines, or text that is neither UTF-8 nor GB18030 throughout.
    """
    import numpy as np  # only for files read here, not for every command that imports the reader

    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    whole = len(raw) - start <= _HEAD_BYTES
    cut = len(raw) if whole else raw.rfind(b"\n", start, start + _HEAD_BYTES) + 1
    text = None
    try:
        head_text = raw[start:cut].decode("utf-8")
        encoding = "utf-8-sig" if start else "utf-8"  # polars checks that the rest is UTF-8 too
    except UnicodeDecodeError:
        if start or detect_encoding(raw) != "gb18030":
            return None
        encoding = "gb18030"
        text = raw.decode(encoding)
        whole = len(text) <= _HEAD_BYTES
        head_text = text[:_HEAD_BYTES]
    if not whole and len(head_text) < 20000:
        return None
    if delimiter is None:
        delimiter = _sniff(head_text, fields)
    buffer = io.StringIO(head_text, newline="")
    consumed = 0

    def lines() -> Any:
        nonlocal consumed
        while line := buffer.readline():
            consumed += len(line)
            yield line

    head: list[list[str]] = []
    ends: list[int] = []  # where each record of the head ends in head_text
    for row in _bounded(path.name, csv.reader(lines(), delimiter=delimiter)):
        head.append(row)
        ends.append(consumed)
        if len(head) > HEADER_SCAN_ROWS:
            break
    if not whole and len(head) <= HEADER_SCAN_ROWS:  # the head may go on past head_text
        return None
    h, headers = locate_header(head[:HEADER_SCAN_ROWS], fields, path)
    header_end = head_text[:ends[h]]
    if header_end.count("\r") != header_end.count("\r\n"):  # polars counts lines by LF only
        return None
    if text is None:  # polars reads the file itself from the first data line
        data, offset = raw, start + len(header_end.encode("utf-8"))
        skip = header_end.count("\n")
    else:
        data, offset, skip = text[ends[h]:].encode("utf-8"), 0, 0
        del text
    lines = np.frombuffer(data, dtype=np.uint8, offset=offset)
    if data.find(b"\x00", offset) >= 0:
        return None
    if data.find(b"\r", offset) >= 0:  # CR only as CR LF: the csv module ends a record at a bare CR
        cr = np.flatnonzero(lines == ord("\r"))
        if cr[-1] + 1 == len(lines) or not (lines[cr + 1] == ord("\n")).all():
            return None
    quoted = data.find(b'"', offset) >= 0
    if quoted and not _plain_quotes(data, offset, delimiter.encode()):
        return None
    # a short row is padded to the header's width: bound the table before polars builds it
    limits.check_cells(path.name, int(np.count_nonzero(lines == ord("\n"))) + 1, len(headers))
    names = [f"c{j}" for j in range(len(headers))]
    schema = dict.fromkeys(names, pl.String)
    if not len(lines):  # nothing after the header (which may end the file without a line break)
        frame = pl.DataFrame(schema=schema)
    else:
        try:
            frame = pl.read_csv(data, has_header=False, skip_lines=skip, separator=delimiter, quote_char='"',
                                encoding="utf8", schema=schema, empty_string_is_null=False,
                                truncate_ragged_lines=False, missing_columns="insert")
        except pl.exceptions.PolarsError:  # not UTF-8 further down, a row wider than the header …
            return None
        if any(frame[c].null_count() for c in names):  # cells a short row lacks: '' as the csv path pads
            frame = frame.fill_null("")
    if quoted or data.find(b"\n\n", offset) >= 0 or data.find(b"\n\r\n", offset) >= 0:
        # one line, one record — unless polars skipped an empty line or a record spans lines
        records = int(np.count_nonzero(lines == ord("\n"))) + (len(lines) > 0 and lines[-1] != ord("\n"))
        if frame.height != records:
            return None
    del data, lines
    longest = frame.select(pl.all().str.len_chars().max()).row(0) if frame.height else ()
    if any(n and n > limits.LIMITS.cell_chars for n in longest):
        limits.check_cell_chars(path.name, max(n for n in longest if n), None)
    # a blank row (only whitespace in every cell) has a blank first cell: test the others on those rows only
    maybe = frame.select(columnar.is_blank(pl.col(names[0]))).to_series().arg_true()
    blank = maybe.filter(frame[maybe].select(pl.all_horizontal(columnar.is_blank(pl.col(c)) for c in names))
                         .to_series())
    if len(blank):
        keep = pl.Series(np.ones(frame.height, dtype=bool)).scatter(blank, False)
        frame = frame.filter(keep)
        row_numbers = (keep.arg_true() + (h + 2)).to_list()
    else:
        row_numbers = list(range(h + 2, h + 2 + frame.height))
    return Table(path, "tsv" if delimiter == "\t" else "csv", encoding, "", h + 1, headers,
                 [columnar.LazyColumn(frame[c]) for c in names], row_numbers, len(blank))


def _plain_quotes(data: bytes, offset: int, delimiter: bytes) -> bool:
    """Every line with a quote holds only whole RFC 4180 cells, which polars and the csv module read alike."""
    d = re.escape(delimiter)
    cell = rb'(?:[^"\r\n' + d + rb']*|"(?:[^"\r\n]|"")*")'
    line = re.compile(cell + rb"(?:" + d + cell + rb")*\r?")
    pos = data.find(b'"', offset)
    while pos >= 0:
        begin = max(data.rfind(b"\n", 0, pos) + 1, offset)
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        if not line.fullmatch(data, begin, end):
            return False
        pos = data.find(b'"', end)
    return True


def _read_xlsx(path: Path, fields: tuple[FieldSpec, ...], sheet: str | None) -> Table:
    """The sheet named, else the first worksheet — unless that is a cover or a 填表说明 sheet: no header, no data
    rows, or a “header” that is one sentence (“本表为2026年重点企业名单，见第二个工作表” reads as 企业名称). Importing
    such a sheet imported nothing while the file, by its hash, counted as imported; the next worksheet with a
    header and rows is taken instead. A plain list on the first sheet costs no second read."""
    from chainatlas.ingest.xlsx import sheet_names

    if sheet is not None:
        return _read_xlsx_sheet(path, fields, sheet)
    try:
        first: Table | None = _read_xlsx_sheet(path, fields, None)
    except HeaderNotFound as exc:
        first, problem = None, exc
    if first is not None and len(first) and not _prose_header(first.headers):
        return first
    for name in sheet_names(path):
        if first is not None and name == first.sheet:
            continue
        try:
            other = _read_xlsx_sheet(path, fields, name)
        except ReadError:  # no header there either, or a chart sheet
            continue
        if len(other) and not _prose_header(other.headers):
            return other
    if first is None:
        raise problem
    return first


def _prose_header(headers: list[str]) -> bool:
    """A header row that is one sentence in one cell, not column names (the others are 第N列 placeholders)."""
    named = [h for h in headers if not _PLACEHOLDER.fullmatch(h)]
    return len(named) == 1 and (len(named[0]) > 15 or any(p in named[0] for p in "，。；：,;"))


def _read_xlsx_sheet(path: Path, fields: tuple[FieldSpec, ...], sheet: str | None) -> Table:
    from chainatlas.ingest.xlsx import ExcelOpenError, SheetNotFound, read_sheet

    try:
        ws = read_sheet(path, sheet)
    except ExcelOpenError as exc:
        raise ReadError(f"{path.name} 无法作为 Excel 文件打开（{exc.reason}）。请在 Excel/WPS 中另存为 .xlsx 后重试") from None
    except SheetNotFound as exc:
        what = f"的“{exc.sheet}”是图表页，没有表格数据" if exc.chart else f"中没有工作表“{exc.sheet}”"
        raise ReadError(f"{path.name} {what}。已有：{'、'.join(exc.sheet_names)}") from None
    rows = ws.rows
    head: list[list[Any]] = []
    for row in rows:
        head.append(row)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    for r1, c1, r2, c2 in ws.merges:
        if r1 >= len(head):
            continue
        value = head[r1][c1] if c1 < len(head[r1]) else None
        for r in range(r1, min(r2, len(head) - 1) + 1):
            head[r].extend([None] * (c2 + 1 - len(head[r])))
            for c in range(c1, c2 + 1):
                head[r][c] = value
    h, headers = locate_header(head, fields, path)
    columns, row_numbers, blank = _data_columns(head, rows, h, len(headers), _is_blank, None, path.name)
    # calamine's sheet ends at the last cell holding a value, so empty rows Excel keeps formatted below the
    # data are not counted as blank rows (openpyxl's read-only mode counted them, up to the sheet's dimension)
    kind = "xls" if path.suffix.lower() == ".xls" else "xlsx"
    return Table(path, kind, "", ws.name, h + 1, headers, columns, row_numbers, blank)


def _data_columns(head: list[list[Any]], rest: Iterable[list[Any]], h: int, width: int,
                  is_blank: Callable[[list[Any]], bool], fill: Any,
                  name: str) -> tuple[list[list[Any]], list[int], int]:
    """The rows under header row h — the rest of the scanned head, then the rest of the file — as `width` columns
    (a short row filled with `fill`), each kept row's number as the spreadsheet shows it, and how many blank rows
    were skipped. Refused (limits.TooLarge) once the rows kept pass the cell limit."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    row_numbers: list[int] = []
    blank = 0
    most = limits.LIMITS.cells // max(width, 1)
    for number, row in enumerate(chain(head[h + 1:], rest), start=h + 2):
        if is_blank(row):
            blank += 1
            continue
        if len(row_numbers) >= most:
            limits.check_cells(name, len(row_numbers) + 1, width)
        row_numbers.append(number)
        for j in range(width):
            columns[j].append(row[j] if j < len(row) else fill)
    return columns, row_numbers, blank


def _read_parquet(path: Path) -> Table:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        limits.check_width(path.name, meta.num_columns, 1)
        limits.check_cells(path.name, meta.num_rows, meta.num_columns)
        data = pq.read_table(path)
    except limits.TooLarge:
        raise
    except Exception as exc:  # pyarrow's errors name internals, not the user's problem
        raise ReadError(f"{path.name} 无法作为 Parquet 文件读取（{type(exc).__name__}）") from None
    headers = [str(n) for n in data.column_names]
    columns = [data.column(i).to_pylist() for i in range(data.num_columns)]
    n = data.num_rows
    return Table(path, "parquet", "", "", 1, headers, columns, list(range(2, n + 2)), 0)
