"""Place step: the firms an import touched placed on every import chain from what the database now stores, through
the same engine as `chainatlas classify`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.orm import Session

from chainatlas.services.ingest.rows import FirmRecord, FirmRows, RowRefs, take

if TYPE_CHECKING:  # for the annotation only: placements is imported at call time, as below
    from chainatlas.services.placement.placements import WrittenFirms


def place_touched(session: Session, firm_ids: set[int], by_user: str,
                  written: WrittenFirms | None = None) -> dict[str, int]:
    """Place the firms an import touched, from what is now stored (chain id → how many of them are placed);
    `written` (placements.WrittenFirms): those among them whose stored evidence the import has in hand."""
    from chainatlas.services.placement.placements import place_firms, placed_count

    return {chain_id: placed_count(session, chain_id, firm_ids)
            for chain_id in place_firms(session, firm_ids, by_user, written)}


def written_firms(rows: FirmRows, new: list[int | FirmRecord], ids: list[int], changed: set[int]) -> WrittenFirms:
    """The new firms as the write step stored them (placements.WrittenFirms), except those a later step changed
    (`changed`: merged away, or merged into — their names, lines and blanks moved). `ids` ascend, in `new` order."""
    from chainatlas.services.placement.placements import WrittenFirms

    at = np.flatnonzero(~np.isin(np.asarray(ids, dtype=np.int64), np.fromiter(changed, dtype=np.int64,
                                                                               count=len(changed)))).tolist()
    column = RowRefs(take(new, at, len(new))).column
    cols = rows.cols
    return WrittenFirms.of(
        take(ids, at, len(ids)), column(cols["name"], lambda r: r.values.get("name")),
        column(rows.products, lambda r: r.products),
        *(column(cols.get(c), lambda r, c=c: r.values.get(c)) for c in ("business_scope", "industry_code", "industry")))
