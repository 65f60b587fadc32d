"""enterprise_aliases.recorded_on: the date a name (a merged record's, an imported short, English or former name)
became the firm's alias; with its source, where the name comes from and since when

Revision ID: 0006_alias_dates
Revises: 0005_login_security
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_alias_dates"
down_revision = "0005_login_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enterprise_aliases") as batch:
        batch.add_column(sa.Column("recorded_on", sa.Date()))


def downgrade() -> None:
    with op.batch_alter_table("enterprise_aliases") as batch:
        batch.drop_column("recorded_on")
