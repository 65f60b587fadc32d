"""The valid rows of an enterprise file as the steps after validation pass them on: column by column
(`FirmRows`), and as one `FirmRecord` where a row folds into another or a known firm."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from chainatlas.ingest.address import Place


# Columns filled from a file, in the order the summary and audit show them.
VALUE_COLUMNS = (
    "uscc", "name_en", "short_name", "address", "province_code", "city_code", "district_code", "street_code",
    "zone_id", "park_id", "registered_capital", "capital_currency", "registered_capital_yuan", "founded_on",
    "industry_code", "industry", "business_scope", "ownership", "foreign_invested", "listing_code", "employees",
    "revenue_yuan", "output_yuan", "status", "is_leader", "parent_group", "website", "risk_flags",
)


@dataclass
class FirmRecord:
    row: int  # index into the parsed table
    values: dict[str, Any]  # Enterprise column values
    name: str
    norm: str
    core: str
    is_branch: bool
    aliases: list[tuple[str, str]]  # (alias, kind)
    products: list[tuple[str, float | None]]  # (product line, revenue share where the file gives one)
    designations: list[tuple[str, str, int | None]]


@dataclass
class RowPlaces:
    """Where each row is, as the normalise step found it: the distinct places, each row's index among them,
    the rows placed from their USCC instead, each row's place, and the texts zone matching reads."""

    found: list[Place]
    spot: Any  # numpy array of indexes into found
    moved: list[int]
    row_places: Any  # numpy object array: each row's Place
    address: list[Any]
    streets: list[Any]
    parks: list[Any]
    rests: list[str] | None = None  # each row's address after its divisions (names_place_columns.address_rests)


@dataclass
class FirmRows:
    """The valid rows of a file, column by column: a dict per row costs seconds on a million rows, so a row
    becomes a FirmRecord only where it folds into another row or a known firm (or goes to splink)."""

    index: list[int]  # parsed-table row of each valid row
    cols: dict[str, list[Any]]  # Enterprise column → value per valid row; None: the file gives none
    norm: list[str]
    core: list[str]
    branch: list[bool]
    aliases: list[list[tuple[str, str]]]
    products: list[list[tuple[str, float | None]]]  # as parsed; a product is cut to 200 characters where stored
    designations: list[list[tuple[str, str, int | None]]]
    places: RowPlaces | None = None  # for the place-zone step

    def __len__(self) -> int:
        return len(self.index)

    def record(self, j: int) -> FirmRecord:
        values = {c: v for c, v in zip(self.cols, [col[j] for col in self.cols.values()]) if v is not None}
        return FirmRecord(self.index[j], values, values["name"], self.norm[j], self.core[j], self.branch[j],
                       list(self.aliases[j]), [(x[:200], share) for x, share in self.products[j]],
                       list(self.designations[j]))


def take(column: list[Any], rows: list[int], n: int) -> list[Any]:
    if len(rows) == n:
        return list(column)
    if len(rows) > 1:
        return list(itemgetter(*rows)(column))
    return [column[i] for i in rows]


def fill(target: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """Fill target's blank fields from incoming (known values are never overwritten); returns what changed."""
    changed = {}
    for col in VALUE_COLUMNS:
        new = incoming.get(col)
        if new in (None, "", False, []):
            continue
        if target.get(col) in (None, "", False, []):
            changed[col] = new
            target[col] = new
    return changed


# What the link step reads of a new firm besides its names (engines/linkage.COLUMNS come from these).
LINK_VALUES = ("district_code", "city_code", "address", "uscc", "founded_on", "listing_code", "name_en", "industry")


@dataclass
class NewFirms:
    """The new firms the link step scores, column by column, each with its id (a million FirmRecords built only to
    be read back column by column cost seconds)."""

    ids: list[int]
    name: list[str]
    norm: list[str]
    core: list[str]
    is_branch: list[bool]
    values: dict[str, list[Any]]  # LINK_VALUES; None: not given
    aliases: list[Any]  # each firm's (alias, kind) pairs
    # each firm's address after its divisions where the normalise step read it (RowPlaces.rests); None: not read
    rests: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of_records(cls, records: list[FirmRecord], ids: list[int]) -> "NewFirms":
        return cls(list(ids), [r.name for r in records], [r.norm for r in records], [r.core for r in records],
                   [r.is_branch for r in records], {c: [r.values.get(c) for r in records] for c in LINK_VALUES},
                   [r.aliases for r in records])

    @classmethod
    def of_rows(cls, rows: FirmRows, new: list["int | FirmRecord"], ids: list[int]) -> "NewFirms":
        """New firms that are rows of `rows` (an index) or records a later row folded into (their values as
        folded)."""
        column = RowRefs(new).column
        rests = rows.places.rests if rows.places is not None else None
        return cls(list(ids), column(rows.cols["name"], lambda r: r.name), column(rows.norm, lambda r: r.norm),
                   column(rows.core, lambda r: r.core), column(rows.branch, lambda r: r.is_branch),
                   {c: column(rows.cols.get(c), lambda r, c=c: r.values.get(c)) for c in LINK_VALUES},
                   column(rows.aliases, lambda r: r.aliases),
                   # a folded record's address may come from a later row: read again (None)
                   column(rests, lambda r: None) if rests is not None else None)

    def __add__(self, other: "NewFirms") -> "NewFirms":
        return NewFirms(self.ids + other.ids, self.name + other.name, self.norm + other.norm, self.core + other.core,
                        self.is_branch + other.is_branch, {c: self.values[c] + other.values[c] for c in LINK_VALUES},
                        self.aliases + other.aliases,
                        None if self.rests is None and other.rests is None else
                        (self.rests or [None] * len(self)) + (other.rests or [None] * len(other)))


class RowRefs:
    """An import's new firms, each a row of its FirmRows (an index) or a record later rows folded into: their
    values column by column, a row's from the column, a folded record's as folded."""

    def __init__(self, refs: list["int | FirmRecord"]) -> None:
        self.plain = [ref if isinstance(ref, int) else 0 for ref in refs]
        self.folded = [(k, ref) for k, ref in enumerate(refs) if not isinstance(ref, int)]

    def column(self, values: list[Any] | None, of_record: Callable[[FirmRecord], Any]) -> list[Any]:
        out = take(values, self.plain, -1) if values is not None else [None] * len(self.plain)
        for k, rec in self.folded:
            out[k] = of_record(rec)
        return out
