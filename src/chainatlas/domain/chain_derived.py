"""A chain's derived vocabulary: product words a generator found for its nodes in a product graph, kept in a CSV
file beside the chain file (`nev-icv.yaml` → `nev-icv.derived.csv`, made by `scripts/derive_chain_words.py`).

Each row is one word for one node with the graph path that justifies it; `load_chain` adds the words to the nodes
(strong words to `keywords`, weak ones to `weak_keywords`), so every placement path uses them, and placement
evidence names the path. Only words, never facts about firms.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("node_id", "term", "strength", "relation", "path", "source")
STRENGTHS = ("strong", "weak")


class DerivedFileError(ValueError):
    """A derived-vocabulary file that cannot be used: the row (the header is row 1) and what is wrong there."""

    def __init__(self, row: int, message: str):
        self.row, self.message = row, message
        super().__init__(f"第 {row} 行：{message}")


@dataclass(frozen=True)
class DerivedWord:
    node_id: str
    term: str
    strong: bool
    relation: str  # the graph relation that ties the word to the node (产品小类, 专用上游材料 …)
    path: str  # the graph path, as people read it: 动力电池 —产品小类→ 刀片电池
    source: str
    row: int  # the file's row number (the header is row 1), for error messages


def derived_path(chain_path: Path) -> Path:
    """Where a chain file's derived vocabulary sits: beside it, `<stem>.derived.csv`."""
    return chain_path.with_name(f"{chain_path.stem}.derived.csv")


def read_derived(path: Path) -> list[DerivedWord]:
    """The rows of a derived-vocabulary file, checked; DerivedFileError (Chinese first) at the first bad cell."""
    return derived_words(path.read_bytes())


def derived_words(data: bytes) -> list[DerivedWord]:
    """`read_derived` of a file's bytes."""
    with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DerivedFileError(1, f"缺少列 {', '.join(missing)}；派生词文件的列应为 {', '.join(COLUMNS)}"
                                      " (derived vocabulary file lacks columns)")
        out: list[DerivedWord] = []
        for row_no, row in enumerate(reader, start=2):
            cells = {c: (row.get(c) or "").strip() for c in COLUMNS}
            for column in ("node_id", "term"):
                if not cells[column]:
                    raise DerivedFileError(row_no, f"{column} 列为空，请填写或删去该行 (empty cell)")
            if cells["strength"] not in STRENGTHS:
                raise DerivedFileError(row_no, f"strength 列为“{cells['strength']}”，应为 strong 或 weak"
                                          " (strength must be strong or weak)")
            out.append(DerivedWord(cells["node_id"], cells["term"], cells["strength"] == "strong", cells["relation"],
                                   cells["path"], cells["source"], row_no))
    return out
