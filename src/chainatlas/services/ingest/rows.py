"""The valid rows of an enterprise file as the steps after validation pass them on: column by column
(`FirmRows`), and as one `FirmRecord` where a row folds into another or a known firm."""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from chainatlas.ingest.address import Place


# Columns filled from a file, in the order the summary and audit show them.
VALUE_COLUMNS = (
    "uscc", "name_en", "short_name", "address", "province_code", "city_code", "district_code", "street_code",
    "zone_id", "park_id", "registered_capital", "capital_currency", "registered_capital_yuan", "founded_on",
    "industry_code", "industry", "business_scope", "ownership", "foreign_invested", "listing_code", "employees",
    "revenue_yuan", "output_yuan", "status", "is_leader", "parent_group", "website",
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
        if new in (None, "", False):
            continue
        if target.get(col) in (None, "", False):
            changed[col] = new
            target[col] = new
    return changed
