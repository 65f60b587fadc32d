"""Read and map steps: a file's bytes (and whether they were imported before), its header row and the mapping of
its columns to our fields; the preview shows the same without touching the database."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.ingest.mapping import (
    ENTERPRISE_FIELDS,
    PRODUCT_FIELDS,
    RELATION_FIELDS,
    FieldSpec,
    HeaderMapping,
    load_mapping_file,
    map_headers,
    mapped_header_fields,
)
from chainatlas.ingest.reader import ReadError, Table, read_table
from chainatlas.ingest.records import Problem
from chainatlas.ingest.units import ColumnUnit, UnitError, apply_unit_choices, money_units
from chainatlas.ingest.values import clean_text
from chainatlas.store.models import ImportBatch


Progress = Callable[[str, int, int], None]


class ImportProblem(ValueError):
    """A user mistake that stops the whole import (no name column, unreadable mapping file, unknown zone)."""


@dataclass
class ImportSummary:
    kind: str
    file_name: str
    sha256: str
    batch_id: int | None = None
    already_imported: bool = False
    rows_total: int = 0
    rows_inserted: int = 0  # new enterprises (or relations)
    rows_merged: int = 0  # rows that were a firm already known (same USCC / stock code / name) or repeated in the file
    rows_linked: int = 0  # rows merged into a known firm by the probabilistic match (reversible in review)
    rows_review: int = 0  # doubtful pairs waiting in the review queue
    rows_held: int = 0  # invalid rows held back with their problems
    enterprises_updated: int = 0  # known firms whose blank fields this file filled
    enterprises_created: int = 0  # for relations: counterparties created because they were unknown
    blank_rows: int = 0
    encoding: str = ""
    header_row: int = 0
    sheet: str = ""
    mapping: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    zone_counts: dict[str, int] = field(default_factory=dict)  # zone id → new firms in it
    zone_names: dict[str, str] = field(default_factory=dict)  # zone id → its name, for the zones counted
    placed: dict[str, int] = field(default_factory=dict)  # chain id → firms this import touched now placed on it
    seconds: float = 0.0


@dataclass
class Preview:
    table: Table
    mapping: HeaderMapping
    sample: list[list[str]]
    units: list[ColumnUnit] = field(default_factory=list)  # money columns: unit, median, whether to choose one


FIELDS_OF = {"enterprises": ENTERPRISE_FIELDS, "relations": RELATION_FIELDS, "products": PRODUCT_FIELDS}


def file_sha256(path: Path) -> str:
    if not path.is_file():
        raise ReadError(f"找不到文件 {path}，请检查路径")
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def summary_or_prior(session: Session, kind: str, path: Path) -> ImportSummary:
    """The summary of this import, marked already_imported (with the earlier batch) when this very file — same
    bytes — was imported before: importing a file twice changes nothing the second time."""
    digest = file_sha256(path)
    summary = ImportSummary(kind, path.name, digest)
    prior = session.scalar(select(ImportBatch).where(ImportBatch.kind == kind, ImportBatch.sha256 == digest))
    if prior is not None:
        summary.batch_id, summary.already_imported = prior.id, True
    return summary


def _override(mapping: Path | dict | None) -> dict | None:
    if mapping is None or isinstance(mapping, dict):
        return mapping
    return load_mapping_file(Path(mapping))


def read_file(path: Path, fields: tuple[FieldSpec, ...], sheet: str | None, mapping: Path | dict | None = None) -> Table:
    """The file's cells, header row found among its first rows (read step); the row holding the headers a mapping
    file names is the header, whatever the other rows say."""
    override = _override(mapping)
    if override:
        try:
            return read_table(path, mapped_header_fields(override), sheet)
        except ReadError:  # the mapping names no header in the first rows: find the header by our fields
            pass
    return read_table(path, fields, sheet)


def map_columns(path: Path, table: Table, fields: tuple[FieldSpec, ...], mapping: Path | dict | None,
                required: tuple[str, ...], units: list[str] = ()) -> HeaderMapping:
    """Each column's field and unit (map step); the fields an import cannot go without must be found, and a money
    column without a unit whose numbers are too small for yuan needs the user's unit choice (`units`)."""
    hmap = map_headers(table.headers, fields, _override(mapping))
    try:
        apply_unit_choices(hmap, list(units))
    except UnitError as exc:
        raise ImportProblem(f"{path.name}：{exc}") from None
    suspect = [u.warning() for u in money_units(table, hmap) if u.suspect]
    if suspect:
        raise ImportProblem(f"{path.name}：" + "；".join(suspect))
    labels = {f.id: f.label_zh for f in fields}
    missing = [labels[f] for f in required if hmap.column_of(f) is None]
    if missing:
        raise ImportProblem(
            f"{path.name}：找不到“{'、'.join(missing)}”列。第{table.header_row}行的表头为：{'、'.join(table.headers)}。"
            "请修改表头，或用 --mapping 映射文件指定（如 columns: {公司全称: name}）"
        )
    return hmap


def note_file(summary: ImportSummary, table: Table, hmap: HeaderMapping) -> None:
    """What the summary says about the file as read and mapped."""
    summary.encoding, summary.header_row, summary.sheet = table.encoding, table.header_row, table.sheet
    summary.rows_total, summary.blank_rows = len(table), table.blank_rows
    summary.mapping = {c.header: c.field for c in hmap.columns}


def read_mapped(path: Path, fields: tuple[FieldSpec, ...], mapping: Path | dict | None, sheet: str | None,
                required: tuple[str, ...], units: list[str] = ()) -> tuple[Table, HeaderMapping]:
    """The read and map steps at once."""
    table = read_file(path, fields, sheet, mapping)
    return table, map_columns(path, table, fields, mapping, required, units)


def preview(path: Path, *, kind: str = "enterprises", mapping: Path | dict | None = None, sheet: str | None = None,
            rows: int = 5, units: list[str] = ()) -> Preview:
    """The header mapping, each money column's unit (with a warning where one must be chosen) and the first rows,
    without touching the database."""
    fields = FIELDS_OF[kind]
    table = read_file(Path(path), fields, sheet, mapping)
    hmap = map_headers(table.headers, fields, _override(mapping))
    try:
        apply_unit_choices(hmap, list(units))
    except UnitError as exc:
        raise ImportProblem(f"{Path(path).name}：{exc}") from None
    sample = [[clean_text(v) for v in table.row(i)] for i in range(min(rows, len(table)))]
    return Preview(table, hmap, sample, money_units(table, hmap))
