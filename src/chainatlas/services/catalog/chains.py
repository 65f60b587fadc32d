"""Chains as data users manage: the database's copy of each chain (chains, chain_nodes) and the list of registered
chains. Registering a file, which also places every firm on it, is `placement.add_chain`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain, builtin_chain_ids, load_chain
from chainatlas.store.models import ChainNodeRow, ChainRow, utcnow


def sync_chain(session: Session, chain: Chain | str) -> ChainRow:
    """Insert or refresh a chain and its nodes; returns the chain row. Placements are left to the classifier."""
    if isinstance(chain, str):
        chain = load_chain(chain)
    row = session.get(ChainRow, chain.id)
    if row is None:
        row = ChainRow(id=chain.id, name_zh=chain.name_zh)
        session.add(row)
    row.name_zh, row.name_en, row.version, row.file_path = chain.name_zh, chain.name_en, chain.version, chain.path
    row.loaded_at = utcnow()
    session.flush()
    session.execute(delete(ChainNodeRow).where(ChainNodeRow.chain_id == chain.id))
    session.add_all(
        ChainNodeRow(
            chain_id=chain.id,
            id=node.id,
            parent_id=node.parent,
            stage=node.stage,
            name_zh=node.name_zh,
            name_en=node.name_en,
            core=node.core,
            weight=node.weight,
            position=i,
            fingerprint=node.fingerprint(),
        )
        for i, node in enumerate(chain.nodes.values())
    )
    session.flush()
    return row


def loaded_chain_ids(session: Session) -> list[str]:
    return list(session.scalars(select(ChainRow.id).order_by(ChainRow.id)))


def node_ref(chain: Chain, node_id: str | None) -> dict | None:
    """A node as pages, the API and the CLI name it: id and both names (None for a node not on this chain)."""
    if not node_id or node_id not in chain.nodes:
        return None
    n = chain.nodes[node_id]
    return {"id": n.id, "name_zh": n.name_zh, "name_en": n.name_en}


def node_label(chain: Chain, node_id: str) -> str:
    """Stage · segment · node, the label of a node in a choice list."""
    n = chain.nodes[node_id]
    seg = chain.segment_of(node_id)
    return f"{chain.stage_name(n.stage)} · {seg.name_zh}" + (f" · {n.name_zh}" if seg.id != n.id else "")


@dataclass(frozen=True)
class ChainEntry:
    chain_id: str
    name_zh: str
    version: str
    nodes: int
    registered: bool  # loaded into the database (every import places firms on it)
    loaded_at: str


def list_chains(session: Session) -> list[ChainEntry]:
    """The chains in the database, then the built-in ones not loaded yet."""
    entries = []
    for row in session.scalars(select(ChainRow).order_by(ChainRow.id)):
        nodes = len(session.scalars(select(ChainNodeRow.id).where(ChainNodeRow.chain_id == row.id)).all())
        entries.append(ChainEntry(row.id, row.name_zh, row.version, nodes, True,
                                  row.loaded_at.strftime("%Y-%m-%d") if row.loaded_at else ""))
    for chain_id in builtin_chain_ids():
        if all(e.chain_id != chain_id for e in entries):
            chain = load_chain(chain_id)
            entries.append(ChainEntry(chain.id, chain.name_zh, chain.version, len(chain.nodes), False, ""))
    return entries
