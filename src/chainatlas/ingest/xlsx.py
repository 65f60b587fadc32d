"""Excel sheets (.xlsx / .xlsm, and legacy .xls from WPS and old Excel) read with calamine, cells as the parsers expect.

calamine (Rust) reads the 100,000-row benchmark sheet in about 4 s of CPU where openpyxl's read-only mode took
40 s. Its cells differ from what openpyxl gave in a few ways, and the parsers, held-row texts and problem
messages were built on openpyxl's types, so `cell()` and `_rows()` turn them back:

- an empty cell is "" in calamine, None in openpyxl;
- every .xlsx number is a float in calamine; openpyxl gave an int when the stored text had no "." or exponent,
  which is how openpyxl, xlsxwriter and (within the 15 digits they keep) Excel and WPS store whole numbers below
  1e16; larger ones are written with an exponent, so openpyxl gave a float and so do we. The int shows where a parser prints the value
  (parse_date's "“100000”不是可识别的日期" message);
- a date-formatted cell holding a whole day is a `date` in calamine, a midnight `datetime` in openpyxl;
- an error cell ("#N/A" from a VLOOKUP that found nothing) is empty in calamine; openpyxl gave its text, so for
  .xlsx the sheet's XML is searched for error cells (in pieces, with the limits check of ingest/limits.py; only a
  hit parses it) and the text is put back. The parsers then take Excel's error values as empty cells
  (values.BLANK_WORDS): never a firm name, and a row left without its name is held back for that;
- calamine's rows start at column A only from the first used column on: the empty columns are put back.

Times of day (`time`), durations (`timedelta`), booleans and text come out as openpyxl gave them, and serial
days before 1900-03-01 follow Excel's 1900 leap-year bug the same way (tests/test_ingest_xlsx.py compares every
cell with openpyxl's). Where openpyxl was wrong we keep calamine's reading: escapes such as "_x000D_" (a line
break Excel stored) are decoded, and formatted but empty cells beyond the data add no rows or columns.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from python_calamine import CalamineWorkbook, SheetTypeEnum

from chainatlas.ingest import limits

_WHOLE_LIMIT = 1e16  # whole floats below this are stored without "." or exponent, which openpyxl read as int


class ExcelOpenError(ValueError):
    """The file is not a readable workbook (broken, encrypted, or another format renamed)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SheetNotFound(LookupError):
    """No sheet of that name, or it is a chart sheet (no cells); sheet_names lists every sheet of the workbook."""

    def __init__(self, sheet: str, sheet_names: list[str], chart: bool = False):
        super().__init__(sheet)
        self.sheet = sheet
        self.sheet_names = sheet_names
        self.chart = chart


@dataclass
class Sheet:
    name: str
    rows: Iterator[list[Any]]  # every row from row 1 and column A (leading empty ones included), cells via cell()
    merges: list[tuple[int, int, int, int]]  # 0-based (first row, first col, last row, last col), inclusive


def cell(value: Any) -> Any:
    """One calamine cell as openpyxl (read-only, data_only) gave it; see the module docstring for why."""
    kind = type(value)
    if kind is str:
        return value if value else None
    if kind is float:
        return int(value) if value.is_integer() and -_WHOLE_LIMIT < value < _WHOLE_LIMIT else value
    if kind is date:
        return datetime(value.year, value.month, value.day)
    return value


def read_sheet(path: Path, sheet: str | None) -> Sheet:
    """The named sheet, else the first worksheet (chart sheets have no cells), read whole into memory.

    An .xlsx sheet's shape is checked against ingest/limits.py before calamine unzips it (TooLarge); a legacy
    .xls is bounded by its format (65,536 × 256 cells).
    """
    xlsx = path.suffix.lower() != ".xls"
    zf = _open_zip(path) if xlsx else None
    try:
        if zf is not None:
            limits.check_unpacked(path.name, zf)
        try:
            wb = CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # calamine raises ZipError / XmlError / PasswordError / CalamineError and others
            raise ExcelOpenError(type(exc).__name__) from None
        try:
            kinds = {m.name: m.typ for m in wb.sheets_metadata}
            if sheet is None:
                sheet = next((name for name, typ in kinds.items() if typ == SheetTypeEnum.WorkSheet), None)
                if sheet is None:
                    raise SheetNotFound("", wb.sheet_names)
            elif kinds.get(sheet) != SheetTypeEnum.WorkSheet:
                raise SheetNotFound(sheet, wb.sheet_names, chart=sheet in kinds)
            index = wb.sheet_names.index(sheet)
            part = _part_of(zf, index) if zf is not None else None
            if zf is not None and part is None:  # calamine found a sheet our check cannot: do not read it unchecked
                raise ExcelOpenError("找不到工作表数据")
            has_errors = part is not None and limits.check_sheet_xml(path.name, zf, part)
            try:
                ws = wb.get_sheet_by_name(sheet)
            except Exception as exc:  # a broken sheet part inside a readable zip
                raise ExcelOpenError(type(exc).__name__) from None
            merges = [(r1, c1, r2, c2) for (r1, c1), (r2, c2) in ws.merged_cell_ranges or ()]
            errors = _error_cells(zf, part) if has_errors else {}
            return Sheet(ws.name, _rows(ws, errors), merges)
        finally:
            wb.close()  # the sheet keeps its own copy of the cells
    finally:
        if zf is not None:
            zf.close()


def _open_zip(path: Path) -> zipfile.ZipFile | None:
    """The workbook as a zip, or None where it is not one (calamine then says what it is)."""
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return None


def _part_of(zf: zipfile.ZipFile, index: int) -> str | None:
    try:
        part = _sheet_part(zf, index)
    except (KeyError, ElementTree.ParseError):
        return None
    return part if part in zf.namelist() else None


def sheet_names(path: Path) -> list[str]:
    """Every sheet's name in workbook order; [] for a file that is not a readable workbook (the caller's read
    reports that with its own message)."""
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception:  # noqa: BLE001 — see read_sheet
        return []
    try:
        return list(wb.sheet_names)
    finally:
        wb.close()


def _rows(ws: Any, errors: dict[int, dict[int, str]]) -> Iterator[list[Any]]:
    # iter_rows (python-calamine 0.9.1) starts at row 1 but at the first used column: put the columns before back
    start = ws.start
    pad = [None] * start[1] if start else []
    for r, row in enumerate(ws.iter_rows()):
        # most cells are non-empty text, which stays as it is without a call
        values = [v if type(v) is str and v else cell(v) for v in row]
        if pad:
            values = pad + values
        if errors and r in errors:
            for c, text in errors[r].items():
                values.extend([None] * (c + 1 - len(values)))
                values[c] = text
        yield values


_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>]*?)(?<!/)>(.*?)</c>', re.S)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_CELL_VALUE = re.compile(rb"<v>([^<]*)</v>")


def _error_cells(zf: zipfile.ZipFile, part: str) -> dict[int, dict[int, str]]:
    """{row: {col: "#N/A"}} (0-based) of the sheet's error cells (the sheet is known to have some)."""
    try:
        data = zf.read(part)
    except (OSError, zipfile.BadZipFile):
        return {}
    found: dict[int, dict[int, str]] = {}
    for attributes, body in _ERROR_CELL.findall(data):
        ref, value = _CELL_REF.search(attributes), _CELL_VALUE.search(body)
        if ref and value:
            found.setdefault(int(ref[2]) - 1, {})[limits.column_number(ref[1]) - 1] = value[1].decode()
    return found


def _sheet_part(zf: zipfile.ZipFile, index: int) -> str | None:
    """The zip member of the index-th sheet in workbook order (workbook.xml's <sheet> list and its rels)."""
    def rels(part: str) -> dict[str, str]:
        folder, name = posixpath.split(part)
        root = ElementTree.fromstring(zf.read(posixpath.join(folder, "_rels", name + ".rels")))
        return {r.get("Id", ""): _resolve(folder, r.get("Target", "")) for r in root}

    book = next((t for t in rels("").values() if t.endswith(".xml") and "workbook" in t.lower()), "xl/workbook.xml")
    sheets = [e for e in ElementTree.fromstring(zf.read(book)).iter() if e.tag.endswith("}sheet")]
    if index >= len(sheets):
        return None
    rid = next((v for k, v in sheets[index].attrib.items() if k.endswith("}id")), "")
    return rels(book).get(rid)


def _resolve(folder: str, target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
