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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainatlas.ingest.mapping import FieldSpec, guess_field, header_score, unit_text
from chainatlas.ingest.values import clean_text

HEADER_SCAN_ROWS = 30
SUPPORTED = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet")


class ReadError(ValueError):
    """A file we cannot read; the message says which file and what to do, in Chinese."""


@dataclass
class Table:
    path: Path
    kind: str  # csv / tsv / xlsx / parquet
    encoding: str  # utf-8 / utf-8-sig / gb18030 / … ('' for xlsx and parquet)
    sheet: str
    header_row: int  # 1-based row of the header in the file (as Excel shows it)
    headers: list[str]
    columns: list[list[Any]]  # column-major cell values (str for CSV, native types for Excel)
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
        raise ReadError(f"不支持的文件类型“{suffix}”（{path.name}）。请另存为 CSV、XLSX 或 Parquet；.xls 请在 Excel/WPS 中另存为 .xlsx")
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, fields, sheet)
    if suffix == ".parquet":
        return _read_parquet(path)
    return _read_csv(path, fields, "\t" if suffix == ".tsv" else None)


def _find_header(rows: list[list[Any]], fields: tuple[FieldSpec, ...], path: Path) -> int:
    scores = [header_score([clean_text(c) for c in row], fields) for row in rows]
    if not scores or max(scores) == 0:
        raise ReadError(
            f"{path.name}：前{HEADER_SCAN_ROWS}行中找不到表头（如“企业名称”“统一社会信用代码”）。"
            "请确认表头行存在，或用 --mapping 指定列名对照"
        )
    return scores.index(max(scores))


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


def _read_csv(path: Path, fields: tuple[FieldSpec, ...], delimiter: str | None) -> Table:
    raw = path.read_bytes()
    if not raw.strip():
        raise ReadError(f"{path.name} 是空文件")
    encoding = detect_encoding(raw)
    text = raw.decode(encoding, errors="replace")
    del raw
    if delimiter is None:
        sample = "\n".join(text[:20000].splitlines()[:HEADER_SCAN_ROWS])
        delimiter = max((",", "\t", ";", "|"), key=sample.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    head: list[list[str]] = []
    for row in reader:
        head.append(row)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    h = _find_header(head, fields, path)
    headers = _headers(head[h], head[h - 1] if h > 0 else None, fields)
    width = len(headers)
    columns: list[list[Any]] = [[] for _ in range(width)]
    row_numbers: list[int] = []
    blank = 0
    number = h + 1

    def take(row: list[str], number: int) -> None:
        nonlocal blank
        if not row or not any(c.strip() for c in row):
            blank += 1
            return
        row_numbers.append(number)
        for j in range(width):
            columns[j].append(row[j] if j < len(row) else "")

    for row in head[h + 1:]:
        number += 1
        take(row, number)
    for row in reader:
        number += 1
        take(row, number)
    return Table(path, "tsv" if delimiter == "\t" else "csv", encoding, "", h + 1, headers, columns, row_numbers, blank)


_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.decode():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _read_xlsx(path: Path, fields: tuple[FieldSpec, ...], sheet: str | None) -> Table:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken or encrypted file
        raise ReadError(f"{path.name} 无法作为 Excel 文件打开（{type(exc).__name__}）。请在 Excel/WPS 中另存为 .xlsx 后重试") from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise ReadError(f"{path.name} 中没有工作表“{sheet}”。已有：{'、'.join(wb.sheetnames)}")
        ws = wb[sheet] if sheet else wb.worksheets[0]
        # read-only worksheets do not expose merged ranges; read them from the sheet's XML.
        merges = [
            (int(r1) - 1, _col_index(c1), int(r2) - 1, _col_index(c2))
            for c1, r1, c2, r2 in _MERGE.findall(wb._archive.read(ws._worksheet_path))
        ]
        rows = ws.iter_rows(values_only=True)
        head: list[list[Any]] = []
        for row in rows:
            head.append(list(row))
            if len(head) >= HEADER_SCAN_ROWS:
                break
        for r1, c1, r2, c2 in merges:
            if r1 >= len(head):
                continue
            value = head[r1][c1] if c1 < len(head[r1]) else None
            for r in range(r1, min(r2, len(head) - 1) + 1):
                head[r].extend([None] * (c2 + 1 - len(head[r])))
                for c in range(c1, c2 + 1):
                    head[r][c] = value
        h = _find_header(head, fields, path)
        headers = _headers(head[h], head[h - 1] if h > 0 else None, fields)
        width = len(headers)
        columns: list[list[Any]] = [[] for _ in range(width)]
        row_numbers: list[int] = []
        blank = 0
        number = h + 1
        for row in _chain(head[h + 1:], rows):
            number += 1
            if _is_blank(row):
                blank += 1
                continue
            row_numbers.append(number)
            for j in range(width):
                columns[j].append(row[j] if j < len(row) else None)
        # trailing blank rows Excel keeps formatted are not "blank rows" a user cares about
        return Table(path, "xlsx", "", ws.title, h + 1, headers, columns, row_numbers, blank)
    finally:
        wb.close()


def _chain(first: list, rest: Any) -> Any:
    yield from first
    yield from rest


def _read_parquet(path: Path) -> Table:
    import pyarrow.parquet as pq

    try:
        data = pq.read_table(path)
    except Exception as exc:  # pyarrow's errors name internals, not the user's problem
        raise ReadError(f"{path.name} 无法作为 Parquet 文件读取（{type(exc).__name__}）") from None
    headers = [str(n) for n in data.column_names]
    columns = [data.column(i).to_pylist() for i in range(data.num_columns)]
    n = data.num_rows
    return Table(path, "parquet", "", "", 1, headers, columns, list(range(2, n + 2)), 0)
