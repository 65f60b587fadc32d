"""zones.aliases and zones.address_keywords: a zone file is read whole into the database, wherever the file is

Revision ID: 0008_zone_words
Revises: 0007_enterprise_industry
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_zone_words"
down_revision = "0007_enterprise_industry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("zones", sa.Column("aliases", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("zones", sa.Column("address_keywords", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("zones") as batch:
        batch.drop_column("address_keywords")
        batch.drop_column("aliases")
