"""Place-zone step: each row's zone, park and street from its address and place, matched once per distinct text
and place; rows in a city no zone is in are not looked at."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainatlas.ingest.address import Place, ZoneSpec, match_zone
from chainatlas.services.ingest.rows import FirmRows


def place_zones(rows: FirmRows, specs: list[ZoneSpec]) -> FirmRows:
    """Fill the rows' zone_id, park_id and street_code columns (left out when there is no zone)."""
    if not specs:
        return rows
    where = rows.places
    found, spot, moved, row_places = where.found, where.spot, where.moved, where.row_places
    # a place in a city that no zone is in cannot match (match_zone skips every zone for it)
    cities = {spec.city_code for spec in specs}
    cities_known = all(cities)
    look = np.array([not (cities_known and x.city_code and x.city_code not in cities) for x in found],
                    dtype=bool)[spot]
    for j in moved:
        look[j] = not (cities_known and row_places[j].city_code and row_places[j].city_code not in cities)
    _zones(rows.cols, where.address, where.streets, where.parks, row_places, np.flatnonzero(look).tolist(), specs)
    return rows


def _zones(cols: dict[str, list[Any]], address: list[Any], streets: list[Any], parks: list[Any],
           row_places: Sequence[Place], look: list[int], specs: list[ZoneSpec]) -> None:
    """Zone, park and street of each row, matched once per distinct address text and place, for the rows in
    `look` (the others are in no zone's city)."""
    m = len(address)
    zone_ids: list[Any] = [None] * m
    park_ids: list[Any] = [None] * m
    street_codes: list[Any] = [None] * m
    cache: dict[tuple, Any] = {}
    for j in look:
        place = row_places[j]
        text = "".join(x for x in (address[j], streets[j], parks[j]) if x)
        key = (text, place)
        hit = cache.get(key, 0)
        if hit == 0:
            hit = cache[key] = match_zone(text, place, specs)
        if hit is not None:
            zone_ids[j] = hit.zone_id
            park_ids[j] = hit.park_id or None
            street_codes[j] = hit.street_code or None
    cols["zone_id"], cols["park_id"], cols["street_code"] = zone_ids, park_ids, street_codes
