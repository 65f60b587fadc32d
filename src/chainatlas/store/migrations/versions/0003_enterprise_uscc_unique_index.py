"""enterprises: the USCC's uniqueness as a named unique index; zone and merge indexes only where set

A table's UNIQUE constraint is an index SQLite cannot drop, so a large import kept inserting into it in random
USCC order (≈ 5 µs a row, ≈ 4 s of a million-row load). As a named unique index it is dropped for the load and
rebuilt by one sort at the end, like the other indexes, and still rejects a duplicate: the rebuild fails and the
import rolls back. Firms outside the zone and firms never merged leave zone_id and merged_into_id empty, and
every query on them asks for a value (`zone_id = ?`, `merged_into_id = ?`), so their indexes hold only the rows
that have one.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# SQLite reflects UNIQUE (uscc) without a name; batch mode names it by this convention so it can be dropped.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
_PARTIAL = (("ix_enterprises_zone_id", "zone_id"), ("ix_enterprises_merged_into_id", "merged_into_id"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a table constraint by rebuilding the table (db.migrate turns foreign keys off for this)
        with op.batch_alter_table("enterprises", naming_convention=_NAMING, recreate="always") as batch:
            batch.drop_constraint("uq_enterprises_uscc", type_="unique")
    else:
        op.drop_constraint("enterprises_uscc_key", "enterprises", type_="unique")
    op.create_index("ix_enterprises_uscc", "enterprises", ["uscc"], unique=True)
    for name, column in _PARTIAL:
        op.drop_index(name, table_name="enterprises")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "enterprises", [column], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, column in _PARTIAL:
        op.drop_index(name, table_name="enterprises")
        op.create_index(name, "enterprises", [column])
    op.drop_index("ix_enterprises_uscc", table_name="enterprises")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("enterprises", recreate="always") as batch:
            batch.create_unique_constraint("uq_enterprises_uscc", ["uscc"])
    else:
        op.create_unique_constraint("enterprises_uscc_key", "enterprises", ["uscc"])
