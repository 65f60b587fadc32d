"""Sources and dates on facts: import_batches.as_of (the date a file's facts describe) and
enterprise_products.source (the batch that gave each product line)

Revision ID: 0009_fact_dates
Revises: 0008_zones_chains_views
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_fact_dates"
down_revision = "0008_zones_chains_views"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("import_batches", sa.Column("as_of", sa.Date(), nullable=True))
    op.add_column("enterprise_products", sa.Column("source", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("enterprise_products") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("import_batches") as batch:
        batch.drop_column("as_of")
