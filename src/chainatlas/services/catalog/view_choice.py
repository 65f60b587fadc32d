"""The zone and chain a user works in, remembered on the user: the web's switcher writes it, every page reads it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import load_chain
from chainatlas.services.catalog.chains import list_chains
from chainatlas.services.catalog.zones import resolve_zone
from chainatlas.store.db import audit
from chainatlas.store.models import User, Zone


@dataclass(frozen=True)
class ViewOptions:
    zones: list[tuple[str, str]]  # (id, name)
    chains: list[tuple[str, str]]  # (id, name)


def view_options(session: Session) -> ViewOptions:
    zones = [(z.id, z.name) for z in session.scalars(select(Zone).order_by(Zone.id))]
    return ViewOptions(zones, [(c.chain_id, c.name_zh) for c in list_chains(session)])


def shown_zone(session: Session, chosen: str | None = None) -> str:
    """The zone a page shows: the one asked for or chosen, else the configured default (CHAINATLAS_ZONE, 武汉经开区)
    when the database has it, else its first zone — a bureau's own database need not hold the default, and its
    officers should land on their zone, not on a page saying the default is missing."""
    if chosen:
        return chosen
    default = config.default_zone()
    if session.get(Zone, default) is not None:
        return default
    first = session.scalar(select(Zone.id).order_by(Zone.id).limit(1))
    return first if first is not None else default


def choose_view(session: Session, username: str, zone: str, chain: str) -> tuple[str, str]:
    """Remember the user's zone and chain (ids or names); an unknown one raises with the ones there are."""
    zone_id = resolve_zone(session, zone).id if zone else ""
    chain_id = load_chain(chain).id if chain else ""
    user = session.scalar(select(User).where(User.username == username))
    before = {"zone": user.view_zone, "chain": user.view_chain}
    user.view_zone, user.view_chain = zone_id, chain_id
    audit(session, username, "user.view", "user", user.id, before, {"zone": zone_id, "chain": chain_id})
    return zone_id, chain_id
