"""A firm file (CSV / XLSX / Parquet) as `chainatlas classify` reads and writes it, whole or one byte range at a
time: read into the classifier's frame, placed on a chain, written as placement CSV (`classify_pass` runs the pass).

The file is read with the import's header mapping (企业名称, 主营产品, 经营范围, 行业代码 …). The output has the
columns id,node_id,node_name,score,evidence: one row per placement, best first within each id, no row for a firm
placed nowhere; evidence is JSON (which words matched in which field). A UTF-8 CSV with a plain header line can be
cut into byte ranges at line starts, each read, placed and written into the output by its own process.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl

from chainatlas.domain.cells import FORMULA_LEAD
from chainatlas.domain.chain import Chain
from chainatlas.engines.classify_batch import BatchClassifier, CleanUp, distinct_rows
from chainatlas.ingest.columnar import BLANK_BYTES, WHITESPACE as _WHITESPACE, clean as _clean, clean_column
from chainatlas.ingest.mapping import (
    ENTERPRISE_FIELDS,
    FieldSpec,
    HeaderMapping,
    MappingError,
    load_mapping_file,
    map_headers,
)
from chainatlas.ingest.reader import HEADER_SCAN_ROWS, ReadError, detect_encoding, locate_header, read_table
from chainatlas.ingest.values import clean_text

# The firm's own key in the user's file; synonyms are in ingest's normalised form (lower case, no punctuation).
ID_FIELD = FieldSpec("id", "编号", ("id", "编号", "企业编号", "企业id", "记录编号", "entid", "enterpriseid", "序号"))
FIELDS = (ID_FIELD, *ENTERPRISE_FIELDS)
# The fields `input_frame` reads; the columns of the other fields (address, capital …) are never parsed.
CLASSIFIED_FIELDS = ("id", "uscc", "listing_code", "name", "products", "business_scope", "industry_code", "industry")
_GBT_CODE = re.compile(r"[A-T]?(\d{2,4})")


# A cell is blank when stripping _WHITESPACE leaves nothing, i.e. when no other character is in it.
_NOT_WHITESPACE = "[^" + "".join(f"\\x{{{ord(ch):X}}}" for ch in _WHITESPACE) + "]"
_HEAD_BYTES = 1 << 16


@dataclass(frozen=True)
class _CsvLayout:
    """Where the firms are in a well-formed UTF-8 CSV: what `_csv_layout` found in its first 64 KiB."""

    headers: list[str]
    header_row: int  # 0-based record index of the header row
    delimiter: str
    wanted: list[int]  # the columns of CLASSIFIED_FIELDS: only these are parsed
    data_start: int | None  # byte offset of the first data row when the header is a plain first line, else None


def _csv_layout(path: Path, mapping_file: Path | None) -> _CsvLayout | None:
    """The layout of a CSV polars can read; None when the file needs the ingest reader (other encodings, odd
    quoting), which reads anything."""
    if path.suffix.lower() not in (".csv", ".txt"):
        return None
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    encoding = detect_encoding(head[: head.rfind(b"\n") + 1] or head)
    if encoding not in ("utf-8", "utf-8-sig"):
        return None
    text = head.decode("utf-8", errors="ignore").removeprefix("\ufeff")
    sample = "\n".join(text[:20000].splitlines()[:HEADER_SCAN_ROWS])
    delimiter = max((",", "\t", ";", "|"), key=sample.count)
    rows = list(itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), HEADER_SCAN_ROWS))
    if len(rows) < 2 and len(head) == _HEAD_BYTES:  # a header row longer than the sample: let ingest read it
        return None
    try:
        h, headers = locate_header(rows, FIELDS, path)
        mapping = map_headers(headers, FIELDS, load_mapping_file(mapping_file) if mapping_file else None)
        # Only the classified fields' columns are parsed (the rest stay empty), so a row with text only in other
        # columns (an address, a capital, an unmapped header) counts as blank: it has nothing to place.
        wanted = classified_columns(mapping)
        width = pl.read_csv(path, has_header=True, skip_rows=h, separator=delimiter, infer_schema=False,
                            truncate_ragged_lines=True, n_rows=0).width
    except (pl.exceptions.PolarsError, ReadError, MappingError):
        return None
    if width != len(headers) or not wanted:
        return None
    first_line = head.find(b"\n")
    plain = h == 0 and first_line >= 0 and b'"' not in head[:first_line]
    return _CsvLayout(headers, h, delimiter, wanted, first_line + 1 if plain else None)


def _read_wanted(source: Path | io.BytesIO, layout: _CsvLayout, skip_rows: int) -> pl.DataFrame:
    """The wanted columns of the rows after the first `skip_rows` (the header included), named cJ (J = the
    column's index) as `input_frame` takes them. The columns are given (as many as the header has), so a range
    of the file reads without its header line. polars' streaming reader gives the same rows as `pl.read_csv`
    for about a fifth less CPU."""
    return (pl.scan_csv(source, has_header=False, skip_rows=skip_rows, separator=layout.delimiter,
                        schema={f"c{j}": pl.String for j in range(len(layout.headers))}, truncate_ragged_lines=True,
                        empty_string_is_null=False, encoding="utf8")
            .select(f"c{j}" for j in layout.wanted).collect(engine="streaming"))


def _read_csv_fast(path: Path, layout: _CsvLayout) -> pl.DataFrame | None:
    """The whole file's data rows (see `_read_wanted`); None when polars cannot read it."""
    try:
        return _read_wanted(path, layout, layout.header_row + 1)
    except pl.exceptions.PolarsError:
        return None


def classified_columns(mapping: HeaderMapping) -> list[int]:
    """The indices of the columns `input_frame` reads (CLASSIFIED_FIELDS'), in file order."""
    return sorted({c.index for f in CLASSIFIED_FIELDS if (c := mapping.column_of(f))})


def drop_blank_rows(raw: pl.DataFrame, wanted: list[int]) -> pl.DataFrame:
    """A row of empty cells is not a firm (as the ingest reader skips it), though it keeps its row number.
    Only the parsed columns (`wanted`) can hold text; each is looked at only in the rows blank in the ones before."""
    blank = raw.with_row_index("_i")
    for j in wanted:
        blank = blank.filter(~pl.col(f"c{j}").str.contains(_NOT_WHITESPACE).fill_null(False))
        if blank.height == 0:
            return raw
    return raw.with_row_index("_i").filter(~pl.col("_i").is_in(blank["_i"].implode())).drop("_i")


def read_frame(path: Path, mapping_file: Path | None = None) -> pl.DataFrame:
    """The file's rows as the batch classifier's input frame (classify_batch.INPUT_COLUMNS).

    The id is the id column, else the USCC, else the stock code (the keys an import finds a firm by, and
    `export placements` names it by), else "第N行" (N = the row in the file, as Excel shows it).
    """
    path = Path(path)
    return input_frame(path, *read_rows(path, mapping_file), mapping_file)


def read_rows(path: Path, mapping_file: Path | None) -> tuple[list[str], pl.DataFrame]:
    """The file's header and its firms' raw cells, as `input_frame` takes them."""
    layout = _csv_layout(path, mapping_file)
    raw = _read_csv_fast(path, layout) if layout else None
    if layout and raw is not None:
        headers = layout.headers
        raw = drop_blank_rows(raw.with_columns(row=pl.int_range(pl.len(), dtype=pl.Int64) + layout.header_row + 2),
                              layout.wanted)
    else:
        table = read_table(path, FIELDS)
        headers = table.headers
        raw = pl.DataFrame({f"c{j}": [clean_text(v) for v in col] for j, col in enumerate(table.columns)}
                           | {"row": table.row_numbers}, schema_overrides={"row": pl.Int64})
    return headers, raw


def input_frame(path: Path, headers: list[str], raw: pl.DataFrame, mapping_file: Path | None,
                classifier: BatchClassifier | None = None) -> pl.DataFrame:
    """The batch classifier's input frame from raw cells c0…cN and each row's number in the file (also for the rows
    Spark reads: `classify_spark`). classifier: the one that places the rows, which scans the raw scopes, cleaning
    only those the clean-up may change (the frame holds their hit list ids, scope_hid, instead of their text)."""
    override = load_mapping_file(mapping_file) if mapping_file else None
    mapping = map_headers(headers, FIELDS, override)

    def cell(field_id: str) -> pl.Series:
        col = mapping.column_of(field_id)
        return raw[f"c{col.index}"] if col else pl.repeat("", raw.height, dtype=pl.String, eager=True)

    def text(field_id: str) -> pl.Series:
        # a column the file lacks is all "", which clean_text leaves alone: not looked at (≈ 9 ms per 200k rows)
        col = mapping.column_of(field_id)
        return clean_column(raw[f"c{col.index}"]) if col else cell(field_id)

    if not any(mapping.column_of(f) for f in ("name", "products", "business_scope")):
        raise ReadError(
            f"{path.name}：找不到企业名称、主营产品或经营范围列（表头为：{'、'.join(headers)}）。"
            "请确认表头，或用 --mapping 指定列名对照，例如 columns: {{公司全称: name, 主要产品: products}}"
        )
    scope_col = mapping.column_of("business_scope")
    scope = ("scope_hid", classifier.scope_ids(raw[f"c{scope_col.index}"], CleanUp(clean_column, BLANK_BYTES))) \
        if classifier is not None and scope_col else ("scope", text("business_scope"))

    frame = pl.DataFrame({
        "id": text("id"), "uscc": text("uscc"), "listing": text("listing_code"),
        "row": raw["row"], "name": text("name"), "products": text("products"),
        scope[0]: scope[1], "code_cell": cell("industry_code"),
        "industry_cell": cell("industry"),
    })
    # A code that is not GB/T 4754 digits ("汽车零部件及配件制造") is matched as industry text. Few distinct
    # (code, industry) cells: each pair is cleaned and read once, then spread back over the rows (a gather by each
    # row's pair: 200,000 registry rows, 0.016 s against 0.029 s for a unique and a join on the two text columns).
    pairs, pair = distinct_rows(frame.select("code_cell", "industry_cell"))
    codes, industries = [], []
    cleaned = pairs.select(_clean(pl.col("code_cell")), _clean(pl.col("industry_cell")))
    for code_text, industry in cleaned.iter_rows():
        m = _GBT_CODE.fullmatch(unicodedata.normalize("NFKC", code_text).upper().replace(" ", "")) if code_text else None
        codes.append(m.group(1) if m else "")
        industries.append(industry if m or not code_text else f"{industry} {code_text}".strip())
    frame = frame.with_columns(pl.DataFrame({"industry_code": codes, "industry": industries},
                                            schema={"industry_code": pl.String, "industry": pl.String})[pair])
    rid = (pl.when(pl.col("id") != "").then("id").when(pl.col("uscc") != "").then("uscc")
           .when(pl.col("listing") != "").then("listing"))  # else null
    frame = frame.select(rid.alias("id"), "name", "products", scope[0], "industry_code", "industry", "row")
    # "第N行" is made for the rows without id or USCC only: formatting every row's number costs 0.07 s per million
    missing = frame["id"].is_null().arg_true()
    ids = frame["id"].scatter(missing, "第" + frame["row"].gather(missing).cast(pl.String) + "行")
    return frame.with_columns(ids).drop("row")


def _csv_field(values: pl.Series) -> pl.Series:
    """A text column as polars' minimal quoting writes it: quoted (quotes doubled) where it holds a comma, a quote
    or a line break, or is empty — rarely in ids and node names, so the column is looked at before it is copied."""
    needs = values.str.contains('[",\r\n]') | (values == "")
    if not needs.any():
        return values
    quoted = pl.format('"{}"', pl.col(values.name).str.replace_all('"', '""', literal=True))
    return values.to_frame().select(pl.when(needs).then(quoted).otherwise(pl.col(values.name)))[values.name]


def _inert(ids: pl.Series) -> pl.Series:
    """The input's ids (the user's text) with formula-like ones behind an apostrophe (domain/cells.csv_cell)."""
    lead = ids.str.contains("^[" + re.escape("".join(FORMULA_LEAD)) + "]")
    if not lead.any():
        return ids
    name = ids.name
    return ids.to_frame().select(pl.when(lead).then(pl.lit("'") + pl.col(name)).otherwise(pl.col(name)).alias(name))[name]


def _csv_rows(result: pl.DataFrame) -> pl.DataFrame:
    """The placement rows' fields as the output holds them: each quoted as minimal quoting quotes it (the evidence
    comes as a CSV field from the engine), to be written as they are."""
    return pl.DataFrame([_csv_field(_inert(result["id"])), _csv_field(result["node_id"]), _csv_field(result["node_name"]),
                         result["score_text"].alias("score"), result["evidence"]])


def write_rows(rows: pl.DataFrame, target: Path | BinaryIO, header: bool) -> None:
    """`_csv_rows` as CSV (CRLF, as csv.writer writes; with a BOM when there is a header, so Excel opens it)."""
    rows.write_csv(target, include_header=header, include_bom=header, line_terminator="\r\n", quote_style="never")


def csv_bytes(rows: pl.DataFrame, header: bool) -> int:
    """The length of what `write_rows` writes, known before it writes: every field as it is, a comma between
    fields, CRLF after each row."""
    fields = sum(rows[c].str.len_bytes().sum() or 0 for c in rows.columns)
    head = len(("\ufeff" + ",".join(rows.columns) + "\r\n").encode()) if header else 0
    return head + fields + rows.height * (rows.width - 1 + 2)


def _firms(result: pl.DataFrame) -> int:
    """Firms placed: a firm's placements are consecutive rows with its id."""
    return int(result["id"].ne_missing(result["id"].shift(1)).sum()) if result.height else 0


def write_placements(out: Path, result: pl.DataFrame) -> tuple[int, int]:
    """Write the placements (of a `BatchClassifier` with csv_evidence) as CSV (UTF-8 with BOM so Excel opens it,
    CRLF as csv.writer writes); returns (rows, firms placed)."""
    write_rows(_csv_rows(result), out, header=True)
    return result.height, _firms(result)


# ---------------------------------------------------------------------- several cores


def byte_ranges(path: Path, start: int, parts: int) -> list[tuple[int, int]]:
    """[start, end) byte ranges of about equal size covering the file from `start`, cut at line starts: forked
    workers start reading when this process does, and every process writes its own part."""
    size = path.stat().st_size
    cuts = [start]
    with open(path, "rb") as fh:
        for k in range(1, parts):
            fh.seek(max(start + (size - start) * k // parts - 1, cuts[-1]))
            fh.readline()
            if fh.tell() >= size:
                break
            if fh.tell() > cuts[-1]:
                cuts.append(fh.tell())
    return list(zip(cuts, [*cuts[1:], size]))


@dataclass(frozen=True)
class RangeRead:
    """The data rows of one byte range of a CSV, as read by `read_range`."""

    path: Path
    mapping_file: Path | None
    layout: _CsvLayout
    ranges: int  # how many ranges the file was cut in (fewer than asked for when it is short)
    raw: pl.DataFrame
    quotes: int  # double quotes in the range's bytes: an odd count means a quoted cell spans its end


def read_range(path: Path, mapping_file: Path | None, k: int, parts: int) -> RangeRead | None:
    """Range k of the file cut in `parts` byte ranges; None when the file cannot be cut (its header is not a plain
    first line, or polars cannot read it), when it makes fewer ranges, or when the range does not parse."""
    layout = _csv_layout(path, mapping_file)
    if layout is None or layout.data_start is None:
        return None
    ranges = byte_ranges(path, layout.data_start, parts)
    if k >= len(ranges):
        return None
    start, end = ranges[k]
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    try:  # a range cut inside a quoted cell may not parse
        raw = _read_wanted(io.BytesIO(data), layout, 0)
    except pl.exceptions.PolarsError:
        return None
    return RangeRead(path, mapping_file, layout, len(ranges), raw, data.count(b'"') if b'"' in data else 0)


@dataclass(frozen=True)
class PlacedPart:
    """One byte range placed: its output rows (`_csv_rows`) and its figures."""

    rows: pl.DataFrame
    figures: dict


def place_part(read: RangeRead, first_row: int, chain: Chain) -> PlacedPart:
    """Place the rows of one byte range, numbered from `first_row`."""
    raw = drop_blank_rows(read.raw.with_columns(row=pl.int_range(pl.len(), dtype=pl.Int64) + first_row),
                          read.layout.wanted)
    classifier = BatchClassifier(chain, csv_evidence=True)
    frame = input_frame(read.path, read.layout.headers, raw, read.mapping_file, classifier)
    result = classifier.classify_frame(frame)
    ids = result["id"]
    return PlacedPart(_csv_rows(result), {
        "height": frame.height, "rows": result.height, "firms": _firms(result),
        "first": ids[0] if result.height else None, "last": ids[-1] if result.height else None})


def write_part(part: PlacedPart, path: Path, offset: int) -> None:
    """Write a worker's part (no header) into the output from byte `offset`."""
    with open(path, "r+b") as target:
        target.seek(offset)
        write_rows(part.rows, target, header=False)
