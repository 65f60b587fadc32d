"""enterprises.industry: the 所属行业 text of the firm's file, which places it as `classify` does

Revision ID: 0007_enterprise_industry
Revises: 0006_alias_dates
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_enterprise_industry"
down_revision = "0006_alias_dates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("enterprises", sa.Column("industry", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("enterprises") as batch:
        batch.drop_column("industry")
