"""Bulk writes for imports: executemany on SQLite, COPY on PostgreSQL — inside the caller's transaction.

The ORM costs about 100 µs a row; a million-row import needs the driver's bulk path. Rows are dicts keyed by
column name; missing columns take the column's Python-side default, so callers write only what they know.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

CHUNK = 20_000


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
    if not rows:
        return 0
    conn = session.connection()
    dialect = conn.dialect
    # every column but an autoincrement key the caller left to the database
    names = [c.name for c in table.columns if not (c.primary_key and c.name not in rows[0])]
    columns = [table.c[n] for n in names]
    quoted = ", ".join(dialect.identifier_preparer.quote(n) for n in names)  # "values" is a keyword
    # Python-side defaults, evaluated and converted once per call (one created_at for the whole batch)
    defaults = _defaults(table)
    if dialect.name == "postgresql":
        converters = [(j, n, _json_text) for j, (n, c) in enumerate(zip(names, columns))
                      if c.type._type_affinity.__name__ == "JSON"]
    else:
        converters = [(j, n, p) for j, (n, p) in enumerate(zip(names, (c.type._cached_bind_processor(dialect)
                                                                       for c in columns))) if p]
    fallback = {}
    for name, default in defaults.items():
        fallback[name] = default.arg(None) if default.is_callable else default.arg
    for j, name, convert in converters:
        if fallback.get(name) is not None:
            fallback[name] = convert(fallback[name])
    pairs = [(n, fallback.get(n)) for n in names]

    def tuples(part: Sequence[dict[str, Any]]) -> list[list[Any]]:
        out = []
        for row in part:
            values = [row.get(n, d) for n, d in pairs]
            for j, name, convert in converters:
                if name in row and values[j] is not None:
                    values[j] = convert(values[j])
            out.append(values)
        return out

    if dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
                for start in range(0, len(rows), CHUNK):
                    for values in tuples(rows[start:start + CHUNK]):
                        copy.write_row(values)
        return len(rows)
    sql = f"INSERT INTO {table.name} ({quoted}) VALUES ({', '.join('?' for _ in names)})"
    cursor = conn.connection.driver_connection.cursor()
    try:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, tuples(rows[start:start + CHUNK]))
    finally:
        cursor.close()
    return len(rows)


@contextmanager
def indexes_deferred(session: Session, tables: Sequence[Table], enabled: bool = True) -> Iterator[None]:
    """On SQLite, drop the tables' secondary indexes for a bulk load and rebuild them at the end.

    Inserting a million rows into eight random-order B-trees costs far more than sorting once to rebuild
    them. SQLite DDL is transactional, so this stays inside the caller's transaction: a crash or an error
    rolls the drop back with the rows (the indexes are rebuilt only when the block succeeds). Unique
    constraints are automatic indexes without SQL and are never dropped, so their checks still apply.
    PostgreSQL loads with COPY and keeps its indexes.
    """
    if not enabled or session.get_bind().dialect.name != "sqlite" or not tables:
        yield
        return
    conn = session.connection()
    names = [t.name for t in tables]
    marks = ", ".join(f":t{i}" for i in range(len(names)))
    found = conn.execute(
        text(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})"),
        {f"t{i}": n for i, n in enumerate(names)},
    ).all()
    quote = conn.dialect.identifier_preparer.quote
    for name, _ in found:
        conn.execute(text(f"DROP INDEX {quote(name)}"))
    yield
    for _, sql in found:
        conn.execute(text(sql))


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def chunks(items: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    """Slices small enough for an IN (…) list on every database (SQLite allows 999 parameters by default)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
