"""`chainatlas classify INPUT --chain nev-icv --out OUTPUT.csv`: place firms from a file on a chain, no database.

INPUT is CSV / XLSX / Parquet read with the import's header mapping (企业名称, 主营产品, 经营范围, 行业代码 …).
OUTPUT has the columns id,node_id,node_name,score,evidence: one row per placement, best first within each id,
no row for a firm placed nowhere. evidence is JSON: which words matched in which field.
"""

from __future__ import annotations

import csv
import json
import re
import time
import unicodedata
from pathlib import Path
from typing import Any

import typer

from chainatlas.domain.chain import ChainFileError, load_chain
from chainatlas.engines.classify import Record, classify_parallel, parse_products
from chainatlas.ingest.mapping import ENTERPRISE_FIELDS, FieldSpec, MappingError, load_mapping_file, map_headers
from chainatlas.ingest.reader import ReadError, read_table
from chainatlas.ingest.values import clean_text

OUTPUT_COLUMNS = ("id", "node_id", "node_name", "score", "evidence")
# The firm's own key in the user's file; synonyms are in ingest's normalised form (lower case, no punctuation).
ID_FIELD = FieldSpec("id", "编号", ("id", "编号", "企业编号", "企业id", "记录编号", "entid", "enterpriseid", "序号"))
FIELDS = (ID_FIELD, *ENTERPRISE_FIELDS)
_GBT_CODE = re.compile(r"[A-T]?(\d{2,4})")


def read_records(path: Path, mapping_file: Path | None = None) -> list[Record]:
    """The file's rows as classifier records; the id is the id column, else the USCC, else the file row."""
    table = read_table(path, FIELDS)
    override = load_mapping_file(mapping_file) if mapping_file else None
    mapping = map_headers(table.headers, FIELDS, override)

    def column(field_id: str) -> list[Any] | None:
        col = mapping.column_of(field_id)
        return table.columns[col.index] if col else None

    texts = {f: column(f) for f in ("name", "products", "business_scope", "industry_code", "industry")}
    if texts["name"] is None and texts["products"] is None and texts["business_scope"] is None:
        raise ReadError(
            f"{path.name}：找不到企业名称、主营产品或经营范围列（表头为：{'、'.join(table.headers)}）。"
            "请确认表头，或用 --mapping 指定列名对照，例如 columns: {{公司全称: name, 主要产品: products}}"
        )
    ids, usccs = column("id"), column("uscc")
    # Product lists, scopes and industries repeat across a large file: parse each distinct cell once.
    product_cache: dict[Any, list[tuple[str, float | None]]] = {}
    text_cache: dict[Any, str] = {}

    def products_of(value: Any) -> list[tuple[str, float | None]]:
        parsed = product_cache.get(value)
        if parsed is None:
            parsed = product_cache[value] = parse_products(clean_text(value))
        return parsed

    def text_of(value: Any) -> str:
        text = text_cache.get(value)
        if text is None:
            text = text_cache[value] = clean_text(value)
        return text

    records: list[Record] = []
    names, products, scopes = texts["name"], texts["products"], texts["business_scope"]
    codes, industries = texts["industry_code"], texts["industry"]
    for i, row_number in enumerate(table.row_numbers):
        rid = clean_text(ids[i]) if ids else ""
        if not rid and usccs:
            rid = clean_text(usccs[i])
        code_text = text_of(codes[i]) if codes else ""
        m = _GBT_CODE.fullmatch(unicodedata.normalize("NFKC", code_text).upper().replace(" ", "")) if code_text else None
        industry = text_of(industries[i]) if industries else ""
        records.append(
            Record(
                id=rid or f"第{row_number}行",
                name=clean_text(names[i]) if names else "",
                products=products_of(products[i]) if products else [],
                scope=text_of(scopes[i]) if scopes else "",
                # A code that is not GB/T 4754 digits ("汽车零部件及配件制造") is matched as industry text.
                industry_code=m.group(1) if m else "",
                industry=industry if m or not code_text else f"{industry} {code_text}".strip(),
            )
        )
    return records


def write_placements(out: Path, chunks: Any) -> tuple[int, int]:
    """Write placement chunks as CSV (UTF-8 with BOM so Excel opens it); returns (rows, firms placed)."""
    rows = firms = 0
    last_id = None
    with open(out, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(OUTPUT_COLUMNS)
        for chunk in chunks:
            for p in chunk:
                writer.writerow(
                    (p.id, p.node_id, p.node_name, f"{p.score:.3f}",
                     json.dumps(p.evidence, ensure_ascii=False, separators=(",", ":")))
                )
                rows += 1
                if p.id != last_id:
                    firms += 1
                    last_id = p.id
    return rows, firms


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
        records = read_records(input, mapping)
    except (ChainFileError, ReadError, MappingError) as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from exc
    rows, firms = write_placements(out, classify_parallel(chain_obj, records, workers))
    seconds = time.perf_counter() - started
    typer.echo(
        f"✓ {len(records)} 家企业，{firms} 家挂链，共 {rows} 条挂链记录 → {out}（{seconds:.1f} 秒，{workers} 进程）",
        err=True,
    )


def register(app: typer.Typer) -> None:
    app.command("classify", help="企业挂链：按产业链把企业放到环节上，附匹配证据 (place firms on a chain, with evidence)")(
        classify_command
    )
