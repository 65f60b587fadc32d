"""Hard limits on what a file may ask the readers to hold, checked before anything is allocated.

A 1.7 KB workbook with cells at A1 and XFD1048576 asks calamine for a 17-billion-cell range, a 2 MB CSV may hold
a million columns, and a 1.3 MB workbook can pack eight million rows: what a reader allocates follows the file's
declared shape, not its size on disk. Every reader checks the shape against these limits first (the same limits
for the CLI and the web) and refuses with a Chinese message naming the file and the limit.

The limits are far above any enterprise list a bureau keeps (a few hundred thousand rows, a few dozen columns)
and below what fits the 1.5 GB a reader may use: calamine keeps about 40 bytes a cell of its range.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    rows: int = 1_048_576  # Excel's own sheet height
    columns: int = 1_000
    sheet_cells: int = 20_000_000  # rows × columns of the range calamine fills (empty cells included), ~40 B each
    cells: int = 50_000_000  # rows × columns of a text file's table (short rows are padded to the header's width)
    cell_chars: int = 32_767  # Excel's own cell limit
    unpacked_bytes: int = 1 << 30  # a workbook's parts once unzipped


LIMITS = Limits()


class TooLarge(ValueError):
    """A file beyond a limit; the message names the file, the limit and what to do."""


def refuse(name: str, what: str, limit: str) -> TooLarge:
    return TooLarge(f"{name}：{what}，超出上限（{limit}），为保护系统未读取。请删除多余的行列或拆分文件后重试。")


def check_width(name: str, width: int, row: int, limits: Limits = LIMITS) -> None:
    if width > limits.columns:
        raise refuse(name, f"第 {row} 行有 {width:,} 列", f"{limits.columns:,} 列")


def check_cells(name: str, rows: int, width: int, limits: Limits = LIMITS) -> None:
    if rows * width > limits.cells:
        raise refuse(name, f"{rows:,} 行 × {width:,} 列共 {rows * width:,} 个单元格", f"{limits.cells:,} 个单元格")


def check_cell_chars(name: str, chars: int, row: int | None, limits: Limits = LIMITS) -> None:
    if chars > limits.cell_chars:
        where = f"第 {row} 行有一个单元格" if row else "有一个单元格"
        raise refuse(name, f"{where}长 {chars:,} 个字符", f"每格 {limits.cell_chars:,} 个字符")


# ---------------------------------------------------------------- workbook shape, from the sheet's XML

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_ROW = re.compile(rb'<(?:\w+:)?row\b([^>]*)>')
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*)>')
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_CHUNK = 1 << 22


def column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def check_unpacked(name: str, zf: zipfile.ZipFile, limits: Limits = LIMITS) -> None:
    """The workbook's parts, as their headers declare them unzipped, within the limit (a reader unzips the
    shared strings whole; the sheet's own size is counted again as it is read, since a header may lie)."""
    unpacked = sum(info.file_size for info in zf.infolist())
    if unpacked > limits.unpacked_bytes:
        raise refuse(name, f"解压后 {unpacked / (1 << 20):,.0f} MB", f"{limits.unpacked_bytes >> 20:,} MB")


def check_sheet_xml(name: str, zf: zipfile.ZipFile, part: str, limits: Limits = LIMITS) -> bool:
    """The sheet's range (its <dimension> and every cell's position), rows and unpacked size within the limits;
    returns whether the sheet has an error cell ("#N/A", which xlsx.py puts back).

    Read in pieces as it unzips. A cell without a position (allowed, rare) follows the one before it, so where
    there are such cells the widest row's count of cells is added to the furthest column seen.
    """
    errors = False
    max_row = max_col = rows = cells = widest = open_row = 0
    unplaced = False
    seen = 0
    with zf.open(part) as fh:
        tail = b""
        first = True
        while chunk := fh.read(_CHUNK):
            seen += len(chunk)
            if seen > limits.unpacked_bytes:
                raise refuse(name, "工作表解压后过大", f"{limits.unpacked_bytes >> 20:,} MB")
            data = tail + chunk
            errors = errors or b't="e"' in data
            cut = data.rfind(b">") + 1  # whole tags only; the rest goes with the next piece
            data, tail = data[:cut], data[cut:]
            if first:
                first = False
                if m := _DIMENSION.search(data):
                    top, left = int(m[2]), column_number(m[1])
                    bottom, right = (int(m[4]), column_number(m[3])) if m[3] else (top, left)
                    _check_range(name, bottom - top + 1, right - left + 1, limits, declared=True)
            for attrs in _ROW.findall(data):
                rows += 1
                if r := _ROW_NUMBER.search(attrs):
                    max_row = max(max_row, int(r[1]))
            max_row = max(max_row, rows)
            refs = _CELL_REF.findall(b"".join(_CELL.findall(data)))
            found = data.count(b"<c ") + data.count(b"<c>") + data.count(b":c ")
            cells += found
            unplaced = unplaced or found > len(refs)
            if unplaced:  # cells per row; a row cut off at the piece's end goes on in the next
                counts = [piece.count(b"<c ") + piece.count(b"<c>") for piece in data.split(b"</row>")]
                counts[0] += open_row
                open_row = counts.pop()
                widest = max(widest, open_row, *counts)
            if refs:
                max_col = max(max_col, max(column_number(c) for c in {c for c, _ in refs}))
                max_row = max(max_row, max(int(r) for _, r in refs))
            if cells > limits.sheet_cells:
                raise refuse(name, f"工作表有超过 {limits.sheet_cells:,} 个单元格", f"{limits.sheet_cells:,} 个单元格")
            _check_range(name, max_row, max_col + widest, limits)
    return errors


def _check_range(name: str, height: int, width: int, limits: Limits, declared: bool = False) -> None:
    what = "工作表声明的范围" if declared else "工作表的范围"
    if height > limits.rows:
        raise refuse(name, f"{what}有 {height:,} 行", f"{limits.rows:,} 行")
    if width > limits.columns:
        raise refuse(name, f"{what}有 {width:,} 列", f"{limits.columns:,} 列")
    if height * width > limits.sheet_cells:
        raise refuse(name, f"{what}为 {height:,} 行 × {width:,} 列", f"{limits.sheet_cells:,} 个单元格")
