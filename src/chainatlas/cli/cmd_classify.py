"""`chainatlas classify INPUT --chain nev-icv --out OUTPUT.csv`: place firms from a file on a chain, no database.

INPUT is CSV / XLSX / Parquet read with the import's header mapping (企业名称, 主营产品, 经营范围, 行业代码 …).
OUTPUT has the columns id,node_id,node_name,score,evidence: one row per placement, best first within each id,
no row for a firm placed nowhere. evidence is JSON: which words matched in which field.
With --workers N a UTF-8 CSV is cut into N byte ranges at line starts and each worker process reads, places and
writes its own range; the parts are joined in order, byte for byte the one-process file.
"""

from __future__ import annotations

import os
import sys

# A one-shot pass over a whole file: polars' allocator (jemalloc) keeps the pages it frees for reuse instead of
# returning them to the system and faulting them in again (≈ 90,000 page faults, 0.5 s of a 1M-record run here).
# jemalloc reads this when polars loads, so it applies only where this module imports polars first: the
# `chainatlas classify` process and its workers, not a server or a test session.
if "polars" not in sys.modules:
    os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:-1,muzzy_decay_ms:-1")

import csv
import gc
import io
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import typer

from chainatlas.domain.chain import Chain, ChainFileError, load_chain
from chainatlas.engines.classify_batch import BatchClassifier, classify_frame_parallel
from chainatlas.ingest.columnar import WHITESPACE as _WHITESPACE, clean as _clean
from chainatlas.ingest.mapping import ENTERPRISE_FIELDS, FieldSpec, MappingError, load_mapping_file, map_headers
from chainatlas.ingest.reader import HEADER_SCAN_ROWS, ReadError, detect_encoding, locate_header, read_table
from chainatlas.ingest.values import clean_text

# The firm's own key in the user's file; synonyms are in ingest's normalised form (lower case, no punctuation).
ID_FIELD = FieldSpec("id", "编号", ("id", "编号", "企业编号", "企业id", "记录编号", "entid", "enterpriseid", "序号"))
FIELDS = (ID_FIELD, *ENTERPRISE_FIELDS)
# The fields `_input_frame` reads; the columns of the other fields (address, capital …) are never parsed.
CLASSIFIED_FIELDS = ("id", "uscc", "name", "products", "business_scope", "industry_code", "industry")
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
        wanted = sorted({c.index for f in CLASSIFIED_FIELDS if (c := mapping.column_of(f))})
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
    column's index) as `_input_frame` takes them. The columns are given (as many as the header has), so a range
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


def _read_csv_part(path: Path, layout: _CsvLayout, start: int, end: int) -> tuple[pl.DataFrame, int]:
    """(the data rows in bytes [start, end) of the file, which begin and end at line starts; how many double
    quotes those bytes hold — an odd count means a quoted cell spans the range's end)."""
    with open(path, "rb") as fh:
        fh.seek(start)
        part = fh.read(end - start)
    quotes = part.count(b'"') if b'"' in part else 0
    return _read_wanted(io.BytesIO(part), layout, 0), quotes


def _drop_blank_rows(raw: pl.DataFrame, layout: _CsvLayout) -> pl.DataFrame:
    """A row of empty cells is not a firm (as the ingest reader skips it), though it keeps its row number.
    Only the parsed columns can hold text; each is looked at only in the rows blank in the ones before."""
    blank = raw.with_row_index("_i")
    for j in layout.wanted:
        blank = blank.filter(~pl.col(f"c{j}").str.contains(_NOT_WHITESPACE).fill_null(False))
        if blank.height == 0:
            return raw
    return raw.with_row_index("_i").filter(~pl.col("_i").is_in(blank["_i"].implode())).drop("_i")


def read_frame(path: Path, mapping_file: Path | None = None) -> pl.DataFrame:
    """The file's rows as the batch classifier's input frame (classify_batch.INPUT_COLUMNS).

    The id is the id column, else the USCC, else "第N行" (N = the row in the file, as Excel shows it).
    """
    path = Path(path)
    layout = _csv_layout(path, mapping_file)
    raw = _read_csv_fast(path, layout) if layout else None
    if layout and raw is not None:
        headers = layout.headers
        raw = _drop_blank_rows(raw.with_columns(row=pl.int_range(pl.len(), dtype=pl.Int64) + layout.header_row + 2),
                               layout)
    else:
        table = read_table(path, FIELDS)
        headers = table.headers
        raw = pl.DataFrame({f"c{j}": [clean_text(v) for v in col] for j, col in enumerate(table.columns)}
                           | {"row": table.row_numbers}, schema_overrides={"row": pl.Int64})
    return _input_frame(path, headers, raw, mapping_file)


def _input_frame(path: Path, headers: list[str], raw: pl.DataFrame, mapping_file: Path | None) -> pl.DataFrame:
    """The batch classifier's input frame from raw cells c0…cN and each row's number in the file."""
    override = load_mapping_file(mapping_file) if mapping_file else None
    mapping = map_headers(headers, FIELDS, override)

    def cell(field_id: str) -> pl.Expr:
        col = mapping.column_of(field_id)
        return pl.col(f"c{col.index}") if col else pl.lit("")

    if not any(mapping.column_of(f) for f in ("name", "products", "business_scope")):
        raise ReadError(
            f"{path.name}：找不到企业名称、主营产品或经营范围列（表头为：{'、'.join(headers)}）。"
            "请确认表头，或用 --mapping 指定列名对照，例如 columns: {{公司全称: name, 主要产品: products}}"
        )
    frame = raw.select(
        id=_clean(cell("id")), uscc=_clean(cell("uscc")), row=pl.col("row"), name=_clean(cell("name")),
        products=_clean(cell("products")), scope=_clean(cell("business_scope")), code_cell=cell("industry_code"),
        industry_cell=cell("industry"),
    )
    # A code that is not GB/T 4754 digits ("汽车零部件及配件制造") is matched as industry text. Few distinct
    # (code, industry) cells: each pair is cleaned and read once, then joined back on the raw cells.
    pairs = frame.select("code_cell", "industry_cell").unique()
    codes, industries = [], []
    cleaned = pairs.select(_clean(pl.col("code_cell")), _clean(pl.col("industry_cell")))
    for code_text, industry in cleaned.iter_rows():
        m = _GBT_CODE.fullmatch(unicodedata.normalize("NFKC", code_text).upper().replace(" ", "")) if code_text else None
        codes.append(m.group(1) if m else "")
        industries.append(industry if m or not code_text else f"{industry} {code_text}".strip())
    pairs = pairs.with_columns(industry_code=pl.Series(codes, dtype=pl.String),
                               industry=pl.Series(industries, dtype=pl.String))
    frame = frame.join(pairs, on=["code_cell", "industry_cell"], how="left", maintain_order="left", nulls_equal=True)
    rid = pl.when(pl.col("id") != "").then("id").when(pl.col("uscc") != "").then("uscc")  # else null
    frame = frame.select(id=rid, name="name", products="products", scope="scope", industry_code="industry_code",
                         industry="industry", row="row")
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


def _write_rows(result: pl.DataFrame, target: Path, header: bool) -> None:
    """The placement rows as CSV (CRLF, as csv.writer writes; with a BOM when there is a header, so Excel opens
    it), each field quoted as minimal quoting quotes it; the evidence comes as CSV fields from the engine."""
    rows = pl.DataFrame([_csv_field(result["id"]), _csv_field(result["node_id"]), _csv_field(result["node_name"]),
                         result["score_text"].alias("score"), result["evidence"]])
    rows.write_csv(target, include_header=header, include_bom=header, line_terminator="\r\n", quote_style="never")


def _firms(result: pl.DataFrame) -> int:
    """Firms placed: a firm's placements are consecutive rows with its id."""
    return int(result["id"].ne_missing(result["id"].shift(1)).sum()) if result.height else 0


def write_placements(out: Path, result: pl.DataFrame) -> tuple[int, int]:
    """Write the placements (of a `BatchClassifier` with csv_evidence) as CSV (UTF-8 with BOM so Excel opens it,
    CRLF as csv.writer writes); returns (rows, firms placed)."""
    _write_rows(result, out, header=True)
    return result.height, _firms(result)


# ---------------------------------------------------------------------- several cores

_MIN_PART_BYTES = 4 << 20  # below this a second process costs more than it saves


def _cuts(path: Path, start: int, parts: int) -> list[tuple[int, int]]:
    """[start, end) byte ranges of about equal size covering the file from `start`, cut at line starts."""
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


def _classify_in_parts(path: Path, chain: Chain, out: Path, workers: int, mapping_file: Path | None
                       ) -> tuple[int, int, int] | None:
    """(firms read, firms placed, placement rows) of a UTF-8 CSV cut into `workers` byte ranges: this process
    reads, cleans, places and writes the first range while one worker process each does the others; the parts
    are joined in order, so the output is byte for byte the one-process output. None (nothing written) when the
    file cannot be split safely: the header is not a plain first line, a quoted cell spans a cut, or a range
    could not be read.

    Row numbers ("第N行" ids) need the rows before each range: every worker reports its row count once read and
    waits for its first row number before going on.
    """
    layout = _csv_layout(path, mapping_file)
    if layout is None or layout.data_start is None or path.stat().st_size < _MIN_PART_BYTES:
        return None
    ranges = _cuts(path, layout.data_start, workers)
    if len(ranges) < 2:
        return None
    with tempfile.TemporaryDirectory(prefix="chainatlas-classify-") as tmp:
        running = []
        for k, (start, end) in enumerate(ranges[1:], 1):
            part = Path(tmp) / f"part{k}.csv"
            command = [sys.executable, "-m", __name__, str(chain.path), str(path), str(mapping_file or ""),
                       str(start), str(end), str(part)]
            running.append((subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True),
                            part))
        try:
            raw, quotes = _read_csv_part(path, layout, *ranges[0])
            first_row, ok = layout.header_row + 2 + raw.height, True
        except pl.exceptions.PolarsError:
            raw, quotes, first_row, ok = None, 0, 0, False

        def report(process: subprocess.Popen) -> tuple[int, int] | None:
            words = process.stdout.readline().split()  # type: ignore[union-attr]
            return (int(words[0]), int(words[1])) if len(words) == 2 else None

        # A worker gets its first row once the parts before it are read and whole (an even count of quotes before
        # it); the last worker's own report is not needed for that, so this process places its part meanwhile.
        for k, (process, _) in enumerate(running):
            if k and ok:
                rows_quotes = report(running[k - 1][0])
                ok = rows_quotes is not None
                first_row, quotes = (first_row + rows_quotes[0], quotes + rows_quotes[1]) if rows_quotes else (0, 0)
            ok = ok and quotes % 2 == 0
            try:
                process.stdin.write(f"{first_row if ok else -1}\n")  # type: ignore[union-attr]
                process.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                ok = False
        mine = _place_part(path, layout, raw, layout.header_row + 2, mapping_file, chain, out, header=True
                           ) if ok and raw is not None else None
        ok = ok and report(running[-1][0]) is not None
        stats = [mine, *(json.loads(process.stdout.read() or "null") for process, _ in running)]  # type: ignore[union-attr]
        failed = [process.wait() for process, _ in running]
        if not ok:
            return None
        if any(failed) or None in stats:
            raise RuntimeError(f"挂链子进程失败，退出码 {max(failed)} (classify worker failed)")
        with open(out, "ab") as target:
            for _, part in running:
                with open(part, "rb") as source:
                    shutil.copyfileobj(source, target, 1 << 22)
    placed = [s for s in stats if s["rows"]]
    # A firm whose rows end one part and start the next (the same id on both sides) counts once, as in one part.
    firms = sum(s["firms"] for s in placed) - sum(a["last"] == b["first"] for a, b in zip(placed, placed[1:]))
    return sum(s["height"] for s in stats), firms, sum(s["rows"] for s in stats)


def _place_part(path: Path, layout: _CsvLayout, raw: pl.DataFrame, first_row: int, mapping_file: Path | None,
                chain: Chain, target: Path, header: bool) -> dict:
    """Place the rows of one byte range (read by `_read_csv_part`, numbered from `first_row`) and write them to
    `target`; the part's figures."""
    raw = _drop_blank_rows(raw.with_columns(row=pl.int_range(pl.len(), dtype=pl.Int64) + first_row), layout)
    frame = _input_frame(path, layout.headers, raw, mapping_file)
    result = BatchClassifier(chain, csv_evidence=True).classify_frame(frame)
    _write_rows(result, target, header=header)
    ids = result["id"]
    return {"height": frame.height, "rows": result.height, "firms": _firms(result),
            "first": ids[0] if result.height else None, "last": ids[-1] if result.height else None}


def _part_worker(chain_path: str, path: str, mapping: str, start: str, end: str, target: str) -> None:
    """One worker of `_classify_in_parts`: read the range, report "rows quotes", wait for the first row number
    (-1: give up), place and write the part without header; print the part's figures as JSON."""
    mapping_file = Path(mapping) if mapping else None
    layout = _csv_layout(Path(path), mapping_file)
    if layout is None:
        return
    try:
        raw, quotes = _read_csv_part(Path(path), layout, int(start), int(end))
    except pl.exceptions.PolarsError:  # a range cut inside a quoted cell may not parse: the parent reads alone
        return
    print(raw.height, quotes % 2, flush=True)
    gc.disable()  # as in the command itself
    first_row = int(sys.stdin.readline() or -1)
    if first_row < 0:
        return
    placed = _place_part(Path(path), layout, raw, first_row, mapping_file, load_chain(chain_path), Path(target),
                         header=False)
    print(json.dumps(placed), flush=True)
    os._exit(0)  # the parent waits for this process: skip the interpreter's teardown of its objects (≈ 0.2 s)


def classify_command(
    input: Path = typer.Argument(..., help="企业名单文件 CSV/XLSX/Parquet (input file)"),
    chain: str = typer.Option("nev-icv", "--chain", help="产业链 id 或文件路径 (chain id or YAML file)"),
    out: Path = typer.Option(..., "--out", help="输出 CSV：id,node_id,node_name,score,evidence (output CSV)"),
    workers: int = typer.Option(1, "--workers", min=1, help="并行进程数 (worker processes)"),
    mapping: Path | None = typer.Option(None, "--mapping", help="列名对照文件 YAML/JSON (header mapping file)"),
) -> None:
    """企业挂链：按产业链文件把企业放到环节上，附证据；无需数据库 (place firms on chain nodes, with evidence)."""
    started = time.perf_counter()
    # One pass over a file that builds no reference cycles: the cyclic collector would only walk its objects.
    gc.disable()
    try:
        chain_obj = load_chain(chain)
        done = _classify_in_parts(Path(input), chain_obj, out, workers, mapping) if workers > 1 else None
        if done:
            height, firms, rows = done
        else:
            frame = read_frame(input, mapping)
            height = frame.height
    except (ChainFileError, ReadError, MappingError) as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from exc
    if not done:
        rows, firms = write_placements(out, classify_frame_parallel(chain_obj, frame, workers, csv_evidence=True))
    seconds = time.perf_counter() - started
    typer.echo(
        f"✓ {height} 家企业，{firms} 家挂链，共 {rows} 条挂链记录 → {out}（{seconds:.1f} 秒，{workers} 进程）",
        err=True,
    )


def register(app: typer.Typer) -> None:
    app.command("classify", help="企业挂链：按产业链把企业放到环节上，附匹配证据 (place firms on a chain, with evidence)")(
        classify_command
    )


if __name__ == "__main__":
    _part_worker(*sys.argv[1:7])
