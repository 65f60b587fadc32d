"""An import as a queue of named steps, the way splink runs a linkage as a queue of named SQL steps: each step is
a function that takes the import's table and returns it, and the queue is the import's whole flow.

`EnterpriseLoad` is the table an enterprise import passes along: the file as read and mapped, the parsed and
normalised rows, what each row resolved to, the ids written and the firms touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from chainatlas.ingest.address import ZoneSpec
from chainatlas.ingest.mapping import HeaderMapping
from chainatlas.ingest.reader import Table
from chainatlas.ingest.records import Parsed, Problem
from chainatlas.services.ingest.rows import FirmRecord, FirmRows, NewFirms
from chainatlas.services.ingest.source import ImportSummary, Progress
from chainatlas.store.models import ImportBatch

T = TypeVar("T")


@dataclass(frozen=True)
class Step(Generic[T]):
    name: str  # what the step does, in the terms of the flow (read, map, validate …)
    run: Callable[[T], T]


def run_steps(steps: Sequence[Step[Any]], table: Any) -> Any:
    """Run the steps in order; a table whose `finished` is set (a file imported before) skips the rest."""
    for step in steps:
        table = step.run(table)
        if table.finished:
            break
    return table


@dataclass
class EnterpriseLoad:
    """An enterprise file on its way into the database (see enterprises.py for the steps)."""

    session: Session
    path: Path
    summary: ImportSummary
    report: Progress
    by_user: str = "system"
    zone_id: str | None = None
    mapping: Path | dict | None = None
    sheet: str | None = None
    fuzzy: bool = True
    units: list[str] = field(default_factory=list)  # the user's unit choices for money columns (--unit 万元)
    as_of: date | None = None  # the date the file's facts describe (default: the import's day)
    started: float = field(default_factory=time.perf_counter)
    finished: bool = False
    specs: list[ZoneSpec] = field(default_factory=list)
    table: Table | None = None
    hmap: HeaderMapping | None = None
    parsed: Parsed | None = None
    problems: dict[int, list[Problem]] = field(default_factory=dict)
    rows: FirmRows | None = None
    batch: ImportBatch | None = None
    new: list[int | FirmRecord] = field(default_factory=list)  # new firms: a row of `rows`, or a folded record
    into_existing: dict[int, list[FirmRecord]] = field(default_factory=dict)  # known firm id → its rows
    ids: list[int] = field(default_factory=list)  # the new firms' ids, in `new` order
    linked_ids: set[int] = field(default_factory=set)  # new firms merged away by the link step
    survivors: set[int] = field(default_factory=set)  # the firms they were merged into

    @property
    def source(self) -> str:
        return f"import:{self.batch.id}" if self.batch is not None else ""

    def new_records(self) -> list[FirmRecord]:
        """The new firms as records (what the link step scores)."""
        return [ref if isinstance(ref, FirmRecord) else self.rows.record(ref) for ref in self.new]

    def new_firms(self) -> NewFirms:
        """The new firms column by column, with their ids (what the link step scores)."""
        return NewFirms.of_rows(self.rows, self.new, self.ids)

    def touched(self) -> set[int]:
        """The firms this file created or changed (what the place step re-places)."""
        return (set(self.ids) - self.linked_ids) | self.survivors | set(self.into_existing)
