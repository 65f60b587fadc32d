"""Some fields' cells of a large CSV or Parquet file, column-wise: what the batch commands (`matrix`, `link`) read
from a registry. Every cell as text; "row" is the row number Excel shows (the header is the first line)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from chainatlas.ingest.mapping import FieldSpec, load_mapping_file, map_headers
from chainatlas.ingest.reader import ReadError

FIRST_DATA_ROW = 2


def mapped_columns(headers: list[str], specs: tuple[FieldSpec, ...], fields: tuple[str, ...],
                   mapping_file: Path | None) -> dict[str, int]:
    """field → index of its column, for the `fields` the header has (as the import maps headers)."""
    mapping = map_headers(headers, specs, load_mapping_file(mapping_file) if mapping_file else None)
    return {f: c.index for f in fields if (c := mapping.column_of(f))}


def read_fields(path: Path, specs: tuple[FieldSpec, ...], fields: tuple[str, ...],
                mapping_file: Path | None = None) -> tuple[pl.DataFrame, list[str]]:
    """(the `fields`' cells of every row, named by field id, with "row"; the file's headers)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        raw = pl.read_parquet(path)
        raw = raw.select(pl.all().cast(pl.String))
    elif path.suffix.lower() in (".csv", ".txt"):
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    else:
        raise ReadError(f"{path.name}：只读 CSV（UTF-8，首行为表头）或 Parquet (reads UTF-8 CSV or Parquet)")
    headers = [c.removeprefix("\ufeff").strip() for c in raw.columns]
    columns = mapped_columns(headers, specs, fields, mapping_file)
    frame = raw.select(*(pl.col(raw.columns[j]).alias(f) for f, j in columns.items()),
                       row=pl.int_range(pl.len(), dtype=pl.Int64) + FIRST_DATA_ROW)
    return frame, headers
