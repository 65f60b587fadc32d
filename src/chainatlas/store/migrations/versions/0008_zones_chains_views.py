"""Zones and chains as data: zones.aliases and zones.address_keywords (a zone file is read whole into the database,
wherever the file is), chains.sha256 (the registered file: re-adding it unchanged changes nothing), and the zone
and chain each user works in (users.view_zone, users.view_chain)

Revision ID: 0008_zones_chains_views
Revises: 0007_enterprise_industry
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_zones_chains_views"
down_revision = "0007_enterprise_industry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("zones", sa.Column("aliases", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("zones", sa.Column("address_keywords", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("chains", sa.Column("sha256", sa.String(64), nullable=False, server_default=""))
    op.add_column("users", sa.Column("view_zone", sa.String(64), nullable=False, server_default=""))
    op.add_column("users", sa.Column("view_chain", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    for table, columns in (("users", ("view_chain", "view_zone")), ("chains", ("sha256",)),
                           ("zones", ("address_keywords", "aliases"))):
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)
