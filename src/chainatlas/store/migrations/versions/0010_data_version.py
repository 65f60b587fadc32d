"""data_version: one row whose version every committed write moves, for the caches of derived output

Revision ID: 0010_data_version
Revises: 0009_fact_dates
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_data_version"
down_revision = "0009_fact_dates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("data_version")
