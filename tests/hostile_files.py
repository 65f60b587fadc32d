"""Small files that ask a reader for far more than they hold (issue 22), built in tmp_path in a second or two.

Each is a real file a user (or an attacker) can upload: a workbook is a zip of XML parts written here by hand,
so its sheet says exactly what the test needs (cells far apart, rows beyond Excel's height) without a library
that would refuse to write it.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

_TYPES = ('<?xml version="1.0" encoding="UTF-8"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          '<Override PartName="/xl/worksheets/sheet1.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_BOOK = ('<?xml version="1.0" encoding="UTF-8"?>'
         '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
         '<sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>')
_BOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?>'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
              'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData>')
_SHEET_TAIL = "</sheetData></worksheet>"


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def workbook(path: Path, rows: Iterable[str], dimension: str = "") -> Path:
    """An .xlsx whose one sheet holds the given <row> elements, streamed into the zip (any number of rows)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _BOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w") as out:
            dim = f'<dimension ref="{dimension}"/>' if dimension else ""
            out.write(_SHEET_HEAD.format(dimension=dim).encode())
            batch: list[str] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 50_000:
                    out.write("".join(batch).encode())
                    batch.clear()
            out.write("".join(batch).encode())
            out.write(_SHEET_TAIL.encode())
    return path


def corner_cells_xlsx(path: Path) -> Path:
    """Two cells, at A1 and XFD1048576 (Excel's last cell): 1.7 KB that asked calamine for 549,755,813,888 bytes."""
    return workbook(path, [f'<row r="1">{text_cell("A1", "企业名称")}</row>',
                           f'<row r="1048576">{text_cell("XFD1048576", "x")}</row>'], "A1:XFD1048576")


def many_rows_xlsx(path: Path, rows: int = 8_000_000) -> Path:
    """A header and `rows` one-cell rows without positions (allowed: each follows the one before), which zip to
    almost nothing: eight million in about a megabyte, where Excel's sheet ends at 1,048,576 rows."""
    head = f'<row r="1">{text_cell("A1", "企业名称")}</row>'
    return workbook(path, [head, *("<row><c><v>1</v></c></row>" for _ in range(rows))])


def wide_csv(path: Path, columns: int = 1_000_000) -> Path:
    """A header row of `columns` columns (2 MB for a million) under a known first header."""
    path.write_bytes(("企业名称" + ",a" * (columns - 1) + "\n武汉某公司\n").encode("utf-8"))
    return path


def long_line_csv(path: Path, chars: int = 30_000_000) -> Path:
    """A 30 MB cell in the name column (the csv module's own error was English)."""
    path.write_bytes(b"\xe4\xbc\x81\xe4\xb8\x9a\xe5\x90\x8d\xe7\xa7\xb0,x\n" + b"A" * chars + b",1\n")
    return path
