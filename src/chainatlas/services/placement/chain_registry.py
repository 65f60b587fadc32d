"""Registering a chain file (`chainatlas chain add FILE`): the chain is copied into the catalog and every firm in the
database is placed on it — for a changed file only the firms whose placements change are rewritten. It lives with
placement because it places; the catalog only keeps the chain's rows (`catalog.sync_chain`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from chainatlas.domain.chain import ChainFileError, merge_derived, parse_chain, registered_chain_path
from chainatlas.domain.chain_derived import DerivedFileError, derived_path, read_derived
from chainatlas.services.catalog.chains import sync_chain
from chainatlas.services.placement.placements import classify_enterprises, effective_placements
from chainatlas.store.db import audit
from chainatlas.store.models import ChainRow


@dataclass(frozen=True)
class ChainAdded:
    chain_id: str
    name_zh: str
    version: str
    nodes: int
    changed: bool  # False: the same file was registered before, nothing was done
    firms_replaced: int  # firms whose placements on the chain changed
    placed: int  # firms on the chain after it


def add_chain(session: Session, path: Path | str, by_user: str = "system") -> ChainAdded:
    """Register a chain file: check it, keep a copy under its id, copy its nodes, and place every firm in the
    database on it — for a changed file, only firms whose placements change are rewritten (node fingerprints).
    A derived vocabulary beside the file (`<stem>.derived.csv`) is registered with it, as load_chain reads it."""
    source = Path(path)
    if not source.is_file():
        raise ChainFileError(str(source), [(0, "找不到产业链文件，请检查路径")])
    text = source.read_text(encoding="utf-8")
    source_derived = derived_path(source)
    derived = source_derived.read_text(encoding="utf-8") if source_derived.is_file() else None
    digest = hashlib.sha256((text if derived is None else f"{text}\0{derived}").encode("utf-8")).hexdigest()
    target = registered_chain_path(parse_chain(text, str(source)).id)
    chain = parse_chain(text, str(target))
    if derived is not None:
        try:
            merge_derived(chain, read_derived(source_derived), str(source_derived))  # errors name the user's file
        except DerivedFileError as exc:
            raise ChainFileError(str(source_derived), [(exc.row, exc.message)]) from exc
        chain.derived_path = str(derived_path(target))
    row = session.get(ChainRow, chain.id)
    if row is not None and row.sha256 == digest:
        return ChainAdded(chain.id, chain.name_zh, chain.version, len(chain.nodes), False, 0,
                          len(effective_placements(session, chain)))
    before = {"version": row.version, "sha256": row.sha256} if row is not None else None
    row = sync_chain(session, chain)
    row.sha256 = digest
    summary = classify_enterprises(session, chain, by_user=by_user)
    audit(session, by_user, "chain.add", "chain", chain.id, before,
          {"version": chain.version, "sha256": digest, "nodes": len(chain.nodes), "firms_replaced": summary.changed})
    session.flush()
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_whole(derived_path(target), derived)  # first: a chain file never appears beside a stale vocabulary
    _write_whole(target, text)  # last: the registered file appears whole, once the database has it
    return ChainAdded(chain.id, chain.name_zh, chain.version, len(chain.nodes), True, summary.changed,
                      len(effective_placements(session, chain)))


def _write_whole(target: Path, text: str | None) -> None:
    """Write a registered file so that it appears whole (None: remove it)."""
    if text is None:
        target.unlink(missing_ok=True)
        return
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
