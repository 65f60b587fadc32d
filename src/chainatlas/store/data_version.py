"""The data version: one counter (table data_version, row 1, migration 0010) that moves with every committed write, in the writing
transaction, so that every cache of derived output (ranked targets, diagnoses, API answers) is keyed by it and is
never stale: no time limit, no guessing from row ids, whichever process wrote.

How writes move it, with one mechanism: sessions come from `VersionedSession` (db.session_factory), which notes
that it wrote — objects flushed, or an ORM INSERT/UPDATE/DELETE statement (the bulk UPDATEs of a merge) — and
bumps the counter just before it commits. A Core write on the session's connection (store/bulk.py),
which the session cannot see, calls `wrote(session)`. The bump comes last in the transaction, so the row is locked
only for the commit itself (a long import does not hold up every other writer).

A session's own writes, flushed but not committed, are part of what it reads: `cache_key` then says so with a
token of that transaction, so a cache never hands that session an answer computed before them, and never hands
anyone else one computed from them.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import Connection, event, insert, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from chainatlas.store.models import DataVersion

_ROW = 1
_WROTE = "chainatlas_wrote"  # session.info: the token of the transaction's uncommitted writes
_WRITES = "chainatlas_writes"  # session.info: how many times it wrote since (a flush, a statement)
_TOKENS = itertools.count(1)


class VersionedSession(Session):
    """The project's sessions (db.session_factory): a session that wrote bumps the data version as it commits."""


def wrote(session: Session) -> None:
    """Note a write the session cannot see for itself (Core statements on its connection)."""
    session.info.setdefault(_WROTE, next(_TOKENS))
    session.info[_WRITES] = session.info.get(_WRITES, 0) + 1


def bump(conn: Connection) -> None:
    """Move the version by one, in the transaction of `conn`."""
    if not conn.dialect.has_table(conn, DataVersion.__tablename__):
        return  # a database still below migration 0010 (being upgraded): nothing can have cached it yet
    moved = conn.execute(update(DataVersion).where(DataVersion.id == _ROW).values(version=DataVersion.version + 1))
    if moved.rowcount == 0:  # a database made without the migrations' first row
        conn.execute(insert(DataVersion).values(id=_ROW, version=1))


def current(conn: Connection | Session) -> int:
    """The version as this connection or session sees it (0 before any write)."""
    return conn.execute(select(DataVersion.version).where(DataVersion.id == _ROW)).scalar() or 0


def cache_key(session: Session) -> tuple[int, int, int]:
    """What a cache of derived output is keyed by: the version, and this session's uncommitted writes if any."""
    return current(session), session.info.get(_WROTE, 0), session.info.get(_WRITES, 0)


@event.listens_for(VersionedSession, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    if session.new or session.dirty or session.deleted:
        wrote(session)


@event.listens_for(VersionedSession, "do_orm_execute")
def _statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        wrote(state.session)


@event.listens_for(VersionedSession, "before_commit")
def _commit(session: Session) -> None:
    # Objects added since the last flush are flushed after this hook, inside the same transaction.
    if _WROTE in session.info or session.new or session.dirty or session.deleted:
        bump(session.connection())


@event.listens_for(VersionedSession, "after_commit")
@event.listens_for(VersionedSession, "after_rollback")
def _ended(session: Session) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(_WRITES, None)
