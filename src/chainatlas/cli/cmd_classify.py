"""`chainatlas classify INPUT --chain nev-icv --out OUTPUT.csv`: place firms from a file on a chain, no database.

INPUT is CSV / XLSX / Parquet read with the import's header mapping (企业名称, 主营产品, 经营范围, 行业代码 …).
OUTPUT has the columns id,node_id,node_name,score,evidence: one row per placement, best first within each id,
no row for a firm placed nowhere. evidence is JSON: which words matched in which field.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import time
import unicodedata
from pathlib import Path

import polars as pl
import typer

from chainatlas.domain.chain import ChainFileError, load_chain
from chainatlas.engines.classify_batch import classify_frame_parallel
from chainatlas.ingest.mapping import ENTERPRISE_FIELDS, FieldSpec, MappingError, load_mapping_file, map_headers
from chainatlas.ingest.reader import HEADER_SCAN_ROWS, ReadError, _find_header, _headers, detect_encoding, read_table
from chainatlas.ingest.values import clean_text

OUTPUT_COLUMNS = ("id", "node_id", "node_name", "score", "evidence")
# The firm's own key in the user's file; synonyms are in ingest's normalised form (lower case, no punctuation).
ID_FIELD = FieldSpec("id", "编号", ("id", "编号", "企业编号", "企业id", "记录编号", "entid", "enterpriseid", "序号"))
FIELDS = (ID_FIELD, *ENTERPRISE_FIELDS)
_GBT_CODE = re.compile(r"[A-T]?(\d{2,4})")


# Python's str.strip() whitespace (every ch with ch.isspace()), so the columnar clean-up strips what clean_text strips.
_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# clean_text's empty cells, in every spelling whose str.lower() is one of them (is_in is far cheaper than lowering).
_BLANK_CELLS = sorted({"".join(p) for w in ("nan", "none", "null", "-", "--", "—", "/", "无", "暂无", "n/a")
                       for p in itertools.product(*({ch, ch.upper()} for ch in w))})
_HEAD_BYTES = 1 << 16


def _clean(col: pl.Expr) -> pl.Expr:
    """clean_text over a string column, vectorised."""
    text = col.fill_null("").str.replace_all("[\u3000\xa0]", " ").str.strip_chars(_WHITESPACE)
    return pl.when(text.is_in(_BLANK_CELLS)).then(pl.lit("")).otherwise(text)


def _read_csv_fast(path: Path, mapping_file: Path | None) -> tuple[list[str], pl.DataFrame, int] | None:
    """(headers, string columns c0…cN — only the mapped ones filled —, 1-based row of the first data row) of a
    well-formed UTF-8 CSV read by polars; None when the file needs the ingest reader (other encodings, odd
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
        h = _find_header(rows, FIELDS, path)
        headers = _headers(rows[h], rows[h - 1] if h > 0 else None, FIELDS)
        mapping = map_headers(headers, FIELDS, load_mapping_file(mapping_file) if mapping_file else None)
        # Only the mapped columns are parsed (the rest stay empty), so a row with text only in unmapped columns
        # counts as blank: it has nothing to place.
        wanted = sorted({c.index for c in mapping.columns if c.field})
        width = pl.read_csv(path, has_header=True, skip_rows=h, separator=delimiter, infer_schema=False,
                            truncate_ragged_lines=True, n_rows=0).width
        if width != len(headers) or not wanted:
            return None
        raw = pl.read_csv(path, has_header=True, skip_rows=h, separator=delimiter, infer_schema=False,
                          truncate_ragged_lines=True, empty_string_is_null=False, encoding="utf8", columns=wanted)
    except (pl.exceptions.PolarsError, ReadError, MappingError):
        return None
    raw = raw.rename(dict(zip(raw.columns, (f"c{j}" for j in wanted))))
    return headers, raw.with_columns(pl.lit("").alias(f"c{j}") for j in range(width) if j not in wanted), h + 2


def read_frame(path: Path, mapping_file: Path | None = None) -> pl.DataFrame:
    """The file's rows as the batch classifier's input frame (classify_batch.INPUT_COLUMNS).

    The id is the id column, else the USCC, else "第N行" (N = the row in the file, as Excel shows it).
    """
    fast = _read_csv_fast(Path(path), mapping_file)
    if fast:
        headers, raw, first_row = fast
        row_number = pl.int_range(pl.len(), dtype=pl.Int64) + first_row
        raw = raw.with_columns(row=row_number)
        # A row of empty cells is not a firm (as the ingest reader skips it), though it keeps its row number.
        raw = raw.filter(pl.any_horizontal(pl.col(c).fill_null("").str.strip_chars(_WHITESPACE) != ""
                                           for c in raw.columns if c != "row"))
    else:
        table = read_table(path, FIELDS)
        headers = table.headers
        raw = pl.DataFrame({f"c{j}": [clean_text(v) for v in col] for j, col in enumerate(table.columns)}
                           | {"row": table.row_numbers}, schema_overrides={"row": pl.Int64})
    override = load_mapping_file(mapping_file) if mapping_file else None
    mapping = map_headers(headers, FIELDS, override)

    def column(field_id: str) -> pl.Expr:
        col = mapping.column_of(field_id)
        return _clean(pl.col(f"c{col.index}")) if col else pl.lit("")

    if not any(mapping.column_of(f) for f in ("name", "products", "business_scope")):
        raise ReadError(
            f"{path.name}：找不到企业名称、主营产品或经营范围列（表头为：{'、'.join(headers)}）。"
            "请确认表头，或用 --mapping 指定列名对照，例如 columns: {{公司全称: name, 主要产品: products}}"
        )
    frame = raw.select(
        id=column("id"), uscc=column("uscc"), row=pl.col("row"), name=column("name"), products=column("products"),
        scope=column("business_scope"), code_text=column("industry_code"), industry_text=column("industry"),
    )
    # A code that is not GB/T 4754 digits ("汽车零部件及配件制造") is matched as industry text; few distinct pairs.
    pairs = frame.select("code_text", "industry_text").unique()
    codes, industries = [], []
    for code_text, industry in pairs.iter_rows():
        m = _GBT_CODE.fullmatch(unicodedata.normalize("NFKC", code_text).upper().replace(" ", "")) if code_text else None
        codes.append(m.group(1) if m else "")
        industries.append(industry if m or not code_text else f"{industry} {code_text}".strip())
    pairs = pairs.with_columns(industry_code=pl.Series(codes, dtype=pl.String),
                               industry=pl.Series(industries, dtype=pl.String))
    frame = frame.join(pairs, on=["code_text", "industry_text"], how="left", maintain_order="left")
    rid = pl.when(pl.col("id") != "").then("id").when(pl.col("uscc") != "").then("uscc")
    return frame.select(
        id=rid.otherwise(pl.format("第{}行", "row")), name="name", products="products", scope="scope",
        industry_code="industry_code", industry="industry",
    )


def write_placements(out: Path, result: pl.DataFrame) -> tuple[int, int]:
    """Write the placements as CSV (UTF-8 with BOM so Excel opens it, CRLF as csv.writer writes);
    returns (rows, firms placed)."""
    result.with_columns(score=pl.col("score_text")).select(OUTPUT_COLUMNS).write_csv(
        out, include_bom=True, line_terminator="\r\n", quote_style="necessary"
    )
    firms = int(result["id"].ne_missing(result["id"].shift(1)).sum()) if result.height else 0
    return result.height, firms


def classify_command(
    input: Path = typer.Argument(..., help="企业名单文件 CSV/XLSX/Parquet (input file)"),
    chain: str = typer.Option("nev-icv", "--chain", help="产业链 id 或文件路径 (chain id or YAML file)"),
    out: Path = typer.Option(..., "--out", help="输出 CSV：id,node_id,node_name,score,evidence (output CSV)"),
    workers: int = typer.Option(1, "--workers", min=1, help="并行进程数 (worker processes)"),
    mapping: Path | None = typer.Option(None, "--mapping", help="列名对照文件 YAML/JSON (header mapping file)"),
) -> None:
    """企业挂链：按产业链文件把企业放到环节上，附证据；无需数据库 (place firms on chain nodes, with evidence)."""
    started = time.perf_counter()
    try:
        chain_obj = load_chain(chain)
        frame = read_frame(input, mapping)
    except (ChainFileError, ReadError, MappingError) as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from exc
    rows, firms = write_placements(out, classify_frame_parallel(chain_obj, frame, workers))
    seconds = time.perf_counter() - started
    typer.echo(
        f"✓ {frame.height} 家企业，{firms} 家挂链，共 {rows} 条挂链记录 → {out}（{seconds:.1f} 秒，{workers} 进程）",
        err=True,
    )


def register(app: typer.Typer) -> None:
    app.command("classify", help="企业挂链：按产业链把企业放到环节上，附匹配证据 (place firms on a chain, with evidence)")(
        classify_command
    )
