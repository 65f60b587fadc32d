"""Keep the database's copy of a chain (chains, chain_nodes) in step with its chain file."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain, load_chain
from chainatlas.store.models import ChainNodeRow, ChainRow


def sync_chain(session: Session, chain: Chain | str) -> ChainRow:
    """Insert or refresh a chain and its nodes; returns the chain row. Placements are left to the classifier."""
    if isinstance(chain, str):
        chain = load_chain(chain)
    row = session.get(ChainRow, chain.id)
    if row is None:
        row = ChainRow(id=chain.id, name_zh=chain.name_zh)
        session.add(row)
    row.name_zh, row.name_en, row.version, row.file_path = chain.name_zh, chain.name_en, chain.version, chain.path
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
