"""Validate and normalise steps: every cell parsed and checked (problems by row), then the valid rows as Enterprise
column values — names keyed, places found from the address, else the province/city/district columns, else the
USCC — each distinct name and address worked out once, the common shapes with polars."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pyarrow.compute as pc

from chainatlas.domain.uscc import division_code
from chainatlas.ingest.address import place_from_division_code
from chainatlas.ingest.columnar import WHITESPACE
from chainatlas.ingest.name_place_columns import name_keys, places, places_and_rests
from chainatlas.ingest.names import exchange_warning
from chainatlas.ingest.records import Parsed
from chainatlas.ingest.values import is_foreign_invested
from chainatlas.services.ingest.rows import FirmRows, RowPlaces, take


DEMO_MARK = "演示"  # a 数据来源 cell containing this marks generated demo data (source = "demo")


_DIRECT = ("uscc", "name_en", "short_name", "address", "founded_on", "industry_code", "industry", "business_scope",
           "ownership", "listing_code", "employees", "revenue_yuan", "output_yuan", "status", "parent_group", "website")


def build_rows(p: Parsed, bad: set[int], rests: bool = False) -> FirmRows:
    """Valid rows → Enterprise column values plus names, products and designations, column by column: each
    distinct name, address and zone text is normalised once, the common shapes with polars. With `rests`, also
    each row's address after its divisions (RowPlaces.rests), which the link step compares, from the same reading
    of the addresses.

    The source is "demo" for generated demo rows and None for the others (the caller names the batch)."""
    n = len(p)
    rows = [i for i in range(n) if i not in bad] if bad else list(range(n))
    m = len(rows)
    empty: list[Any] = [None] * m

    def column(field_id: str) -> list[Any]:
        values = p.values.get(field_id)
        return empty if values is None else take(values, rows, n)

    cols: dict[str, list[Any]] = {}
    names = column("name")
    spaced = pl.Series(names, dtype=pl.String).str.contains(_UNSPACED).arg_true().to_list()
    for j in spaced:
        names[j] = " ".join(names[j].split())
    distinct, at = _distinct(names)
    keys = name_keys(distinct)
    norm = _spread(keys.norm, at)
    cols["name"] = names
    cols["name_norm"] = _spread([x[:200] for x in keys.norm], at)
    for col in _DIRECT:
        if col in p.values:
            cols[col] = column(col)
    if any(keys.latin):  # an English name is also the English name, unless the file gives one
        name_en = cols.setdefault("name_en", list(empty))
        for j in np.flatnonzero(np.array(keys.latin, dtype=bool)[at]).tolist():
            if name_en[j] is None:
                name_en[j] = names[j]
    if "registered_capital" in p.values:
        money = column("registered_capital")
        cols["registered_capital"] = [x.amount if x is not None else None for x in money]
        cols["capital_currency"] = [x.currency if x is not None else None for x in money]
        cols["registered_capital_yuan"] = [x.amount_yuan if x is not None else None for x in money]
    ownership = cols.get("ownership", empty)
    foreign_of = {o: is_foreign_invested(o) for o in set(ownership) if o}
    if "foreign_invested" in p.values:
        cols["foreign_invested"] = [True if (f if f is not None else foreign_of.get(o)) else None
                                    for f, o in zip(column("foreign_invested"), ownership)]
    elif foreign_of:
        cols["foreign_invested"] = list(map({o: True if f else None for o, f in foreign_of.items()}.get, ownership))
    if "is_leader" in p.values:
        cols["is_leader"] = [True if x else None for x in column("is_leader")]

    # the address, else the province/city/district columns, else the USCC's registering authority
    address = cols.get("address", empty)
    if any(f in p.values for f in ("province", "city", "district")):
        parts = zip(column("province"), column("city"), column("district"))
        texts = [a or "".join(x for x in ps if x) for a, ps in zip(address, parts)]
    else:
        texts = [a or "" for a in address]
    distinct, spot = _distinct(texts)
    found, distinct_rests = places_and_rests(distinct) if rests else (places(distinct), None)
    row_places = np.empty(len(found), dtype=object)
    row_places[:] = found
    row_places = row_places[spot]
    province = _spread([x.province_code or None for x in found], spot)
    city = _spread([x.city_code if x.province_code else None for x in found], spot)
    district = _spread([x.district_code if x.province_code else None for x in found], spot)
    usccs = cols.get("uscc", empty)
    moved = []
    if usccs is not empty:
        for j in np.flatnonzero(np.array([not x.province_code for x in found], dtype=bool)[spot]).tolist():
            if usccs[j]:
                place = row_places[j] = place_from_division_code(division_code(usccs[j]))
                province[j] = place.province_code or None
                city[j] = place.city_code if place.province_code else None
                district[j] = place.district_code if place.province_code else None
                moved.append(j)
    cols["province_code"], cols["city_code"], cols["district_code"] = province, city, district
    notes = column("source_note")
    cols["source"] = ["demo" if x and DEMO_MARK in x else None for x in notes]

    # short, English and former names become aliases
    short_names, english, former = cols.get("short_name", empty), cols.get("name_en", empty), column("former_names")
    aliases: list[Any] = [()] * m
    if short_names is not empty or english is not empty or former is not empty:
        aliases = [_aliases(*row) for row in zip(names, short_names, english, former)]
    flags = risk_flags(names, short_names, column("risk_flags"))
    if any(flags):
        cols["risk_flags"] = flags
    products = [x or () for x in column("products")]
    designations = [x or () for x in column("designations")]
    # what the link step compares of an address (road, number, building): of the address column only
    row_rests = _spread(distinct_rests, spot) if rests else None
    if rests and not all(address):  # a row placed from its province/city/district columns: no address to compare
        row_rests = [r if a else "" for r, a in zip(row_rests, address)]
    where = RowPlaces(found, spot, moved, row_places, address, column("street"), column("park"), row_rests)
    return FirmRows(rows, cols, norm, _spread(keys.core, at), _spread(keys.is_branch, at), aliases, products,
                    designations, where)


# a name " ".join(name.split()) changes: a blank other than a single space between two other characters
_UNSPACED = "[" + "".join(f"\\x{{{ord(ch):x}}}" for ch in WHITESPACE if ch != " ") + "]|  |^ | $"


def _distinct(values: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct values in first-seen order, and where each value is among them. Names and addresses are
    mostly distinct: there, finding the few repeats costs more than working out a repeat again, so each value
    counts as distinct."""
    series = pl.Series(values, dtype=pl.String)
    if series.approx_n_unique() * 5 >= len(series) * 4:
        return values, np.arange(len(values))
    encoded = pc.dictionary_encode(series.to_arrow())
    return pl.Series(encoded.dictionary).to_list(), pl.Series(encoded.indices).to_numpy()


def _spread(values: list[Any], at: np.ndarray) -> list[Any]:
    """values[k] for each k in at (as many distinct values as rows: each row's own)."""
    if len(values) == len(at):
        return values if isinstance(values, list) else list(values)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array[at].tolist()


def risk_flags(names: list[str], short_names: list[Any], given: list[Any]) -> list[list[str] | None]:
    """Each row's risk flags: those of the file's risk column, and an exchange warning (*ST, ST) leading its name or
    short name (证券简称 “*ST恒立”); None for a row with none (a new firm then takes the empty default)."""
    out: list[list[str] | None] = []
    for name, short, listed in zip(names, short_names, given):
        flags = list(listed or ())
        warning = exchange_warning(short, name)
        if warning and warning not in flags:
            flags.append(warning)
        out.append(flags or None)
    return out


def _aliases(name: str, short: str | None, english: str | None, former: list[str] | None) -> list[tuple[str, str]]:
    found = []
    if short and short != name:
        found.append((short, "short"))
    if english and english != name:
        found.append((english[:300], "english"))
    if former:
        found += [(a[:300], "former") for a in former if a != name]
    return found
