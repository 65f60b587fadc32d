"""Bulk writes for imports: executemany on SQLite, COPY on PostgreSQL — inside the caller's transaction.

The ORM costs about 100 µs a row; a million-row import needs the driver's bulk path. Rows come column by column
(or as dicts keyed by column name for small writes); a column not given takes its Python-side default, so
callers write only what they know.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import compress, repeat
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from chainatlas.store import data_version
from chainatlas.store.db import begin_ddl

_UNMARKED = object()
_PARTIAL = re.compile(r"\bWHERE\b", re.IGNORECASE)
_CONSTANT_CHECK_ROWS = 1000  # from this many rows on, a column with one value throughout is written as a literal


def _defaults(table: Table) -> dict[str, Any]:
    result = {}
    for col in table.columns:
        if col.default is not None and not col.primary_key:
            result[col.name] = col.default
    return result


def allocate_ids(session: Session, table: Table, n: int) -> list[int]:
    """n fresh primary keys: the sequence on PostgreSQL; on SQLite max(id)+1… (the import holds the write lock)."""
    if n <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        seq = session.execute(text(f"SELECT pg_get_serial_sequence('{table.name}', 'id')")).scalar_one()
        rows = session.execute(text(f"SELECT nextval('{seq}') FROM generate_series(1, :n)"), {"n": n}).scalars()
        return [int(r) for r in rows]
    start = int(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    return list(range(start, start + n))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows given as dicts keyed by column name; a key a row lacks takes the column's default."""
    if not rows:
        return 0
    keys = dict.fromkeys(key for row in rows for key in row)
    lacking = object()
    return insert_columns(session, table, {key: [row.get(key, lacking) for row in rows] for key in keys},
                          default_marker=lacking)


def insert_columns(session: Session, table: Table, columns: dict[str, Sequence[Any]], *,
                   default_marker: Any = _UNMARKED, keep: Sequence[bool] | None = None,
                   json_text: Collection[str] = ()) -> int:
    """Insert rows given column by column (equal-length lists; the key too if the caller allocated it); with
    `keep`, only the rows where it is true (a caller's columns may hold rows it does not write, so it need not
    copy every column without them). Returns the number of rows written. The JSON columns named in `json_text`
    are given as JSON text already (an engine's output) and stored as they are, not serialised again.

    A column not given takes its Python-side default (evaluated once per call), and so does a value that is
    default_marker (None, for a caller writing sparse values without a dict per row). Otherwise None is NULL."""
    if not columns:
        return 0
    n = len(next(iter(columns.values())))
    written = n if keep is None else int(sum(keep))
    if written == 0:
        return 0
    data_version.wrote(session)  # a Core write the session cannot see: it moves the data version as it commits
    conn = session.connection()
    dialect = conn.dialect
    postgres = dialect.name == "postgresql"
    names = [c.name for c in table.columns if c.name in columns or not c.primary_key]
    defaults = _defaults(table)
    lists: list[Any] = []
    marks: list[str] = []  # "?" for a bound column; on SQLite a column the same in every row is a literal
    for name in names:
        col = table.c[name]
        if name in json_text:
            convert = None
        elif postgres:
            convert = _json_text if col.type._type_affinity.__name__ == "JSON" else None
        else:
            convert = col.type._cached_bind_processor(dialect)
        default = defaults.get(name)
        raw = None if default is None else default.arg(None) if default.is_callable else default.arg
        fallback = convert(raw) if raw is not None and convert is not None else raw
        given = columns.get(name)
        marked = 0 if given is None or default_marker is _UNMARKED else given.count(default_marker)
        if marked == n:
            given = None
        if given is None:
            literal = None if postgres else _literal(fallback)
            if literal is not None:
                marks.append(literal)
            else:
                marks.append("?")
                lists.append(repeat(fallback, n))
            continue
        if marked and (raw is not None or default_marker is not None):
            given = [raw if v is default_marker else v for v in given]
        values = given if convert is None else _converted(given, convert)
        # A text the same in every row (the batch's source, a blank website) is written once as a literal.
        # Only None and str qualify: equal values of them are of one type, while True == 1 == 1.0.
        first = values[0] if not postgres and n >= _CONSTANT_CHECK_ROWS and isinstance(values, list) else 0
        literal = _literal(first) if (first is None or type(first) is str) and values.count(first) == n else None
        if literal is not None:
            marks.append(literal)
            continue
        marks.append("?")
        lists.append(values)
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)  # "values" is a keyword
    rows: Iterable[tuple] = zip(*lists) if lists else repeat((), n)  # every column a literal: rows of nothing
    if keep is not None:
        rows = compress(rows, keep)
    if postgres:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
                for values in rows:
                    copy.write_row(values)
        return written
    # Binding costs SQLite about a third of a microsecond a value; constants cost nothing per row.
    sql = f"INSERT INTO {table.name} ({quoted}) VALUES ({', '.join(marks)})"
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()
    return written


def _literal(value: Any) -> str | None:
    """An SQL literal for a constant column value (our own defaults), or None to bind it instead."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and "\x00" not in value:  # sqlite3 refuses SQL with a NUL in it
        return "'" + value.replace("'", "''") + "'"
    return None


def _converted(values: Sequence[Any], convert: Any) -> list[Any]:
    """A bind processor over a column, once per distinct value where the values can be hashed (dates, flags)."""
    try:
        done = {v: convert(v) for v in set(values) if v is not None}
    except TypeError:  # lists and dicts for JSON columns
        return [None if v is None else convert(v) for v in values]
    return list(map(done.get, values))


@contextmanager
def indexes_deferred(session: Session, tables: Sequence[Table], enabled: bool = True) -> Iterator[None]:
    """On SQLite, drop the tables' secondary indexes for a bulk load and rebuild them at the end.

    Inserting a million rows into eight random-order B-trees costs far more than sorting once to rebuild
    them. SQLite DDL is transactional, so this stays inside the caller's transaction: a crash or an error
    rolls the drop back with the rows (the indexes are rebuilt only when the block succeeds). A unique index is
    dropped too: its rebuild fails on a duplicate, which fails the block, so uniqueness still holds at the end
    (a table's UNIQUE constraint is an index without SQL and is never dropped). PostgreSQL loads with COPY and
    keeps its indexes.
    """
    if not enabled or session.get_bind().dialect.name != "sqlite" or not tables:
        yield
        return
    conn = session.connection()
    begin_ddl(conn)  # the drops below must roll back with the load
    names = [t.name for t in tables]
    marks = ", ".join(f":t{i}" for i in range(len(names)))
    found = conn.execute(
        text(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})"),
        {f"t{i}": n for i, n in enumerate(names)},
    ).all()
    # A partial index (zone_id, merged_into_id: only rows with a value) takes few of a load's rows, while its
    # rebuild would scan the whole table.
    found = [(name, sql) for name, sql in found if not _PARTIAL.search(sql)]
    quote = conn.dialect.identifier_preparer.quote
    for name, _ in found:
        conn.execute(text(f"DROP INDEX {quote(name)}"))
    yield
    for _, sql in found:
        conn.execute(text(sql))


@contextmanager
def gc_paused() -> Iterator[None]:
    """A bulk load makes millions of small objects that all live until it ends: the cyclic collector's passes
    over them cost a fifth of the load's time and free nothing, so they wait until the load is done."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def chunks(items: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    """Slices small enough for an IN (…) list on every database (SQLite allows 999 parameters by default)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
