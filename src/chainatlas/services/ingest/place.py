"""Place step: the firms an import touched placed on every import chain from what the database now stores, through
the same engine as `chainatlas classify`."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from chainatlas.services.ingest.rows import FirmRecord, FirmRows, take


def place_touched(session: Session, firm_ids: set[int], by_user: str, written: Any = None) -> dict[str, int]:
    """Place the firms an import touched, from what is now stored (chain id → how many of them are placed);
    `written` (placements.WrittenFirms): those among them whose stored evidence the import has in hand."""
    from chainatlas.services.placement.placements import place_firms, placed_count

    return {chain_id: placed_count(session, chain_id, firm_ids)
            for chain_id in place_firms(session, firm_ids, by_user, written)}


def written_firms(rows: FirmRows, new: list[int | FirmRecord], ids: list[int], changed: set[int]) -> Any:
    """The new firms as the write step stored them (placements.WrittenFirms), except those a later step changed
    (`changed`: merged away, or merged into — their names, lines and blanks moved). `ids` ascend, in `new` order."""
    from chainatlas.services.placement.placements import WrittenFirms

    at = np.flatnonzero(~np.isin(np.asarray(ids, dtype=np.int64), np.fromiter(changed, dtype=np.int64,
                                                                               count=len(changed)))).tolist()
    refs, kept = take(new, at, len(new)), take(ids, at, len(ids))
    plain = [0 if isinstance(ref, FirmRecord) else ref for ref in refs]
    folded = [(k, ref) for k, ref in enumerate(refs) if isinstance(ref, FirmRecord)]

    def column(values: list[Any] | None, of_record: Any) -> list[Any]:
        out = take(values, plain, -1) if values is not None else [None] * len(plain)
        for k, rec in folded:
            out[k] = of_record(rec)
        return out

    cols = rows.cols
    return WrittenFirms.of(
        kept, column(cols["name"], lambda r: r.values.get("name")), column(rows.products, lambda r: r.products),
        *(column(cols.get(c), lambda r, c=c: r.values.get(c)) for c in ("business_scope", "industry_code", "industry")))
