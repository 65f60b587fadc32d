"""Place step: the firms an import touched placed on every import chain from what the database now stores, through
the same engine as `chainatlas classify`."""

from __future__ import annotations

from sqlalchemy.orm import Session


def place_touched(session: Session, firm_ids: set[int], by_user: str) -> dict[str, int]:
    """Place the firms an import touched, from what is now stored (chain id → how many of them are placed)."""
    from chainatlas.services.placement.placements import place_firms, placed_count

    return {chain_id: placed_count(session, chain_id, firm_ids) for chain_id in place_firms(session, firm_ids, by_user)}
