"""sessions and logins: a per-user session version, login failures per (user, source) shared by every worker

A session cookie carries the user's session version; logging out, a password change or reset and deactivation
raise it, which ends every session of that user (re-activation does not bring the old cookies back).
The per-account hard lock (failed_logins, locked_until) let any stranger lock an administrator out; failures are
now rows per user and source (an address, or a device that signed in before) whose back-off delays only that
source (services/accounts/throttle.py), in the database so that every worker process sees them.

Revision ID: 0005_login_security
Revises: 0004_sites
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_login_security"
down_revision = "0004_sites"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("source", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_failures_user_source", "login_failures", ["username", "source", "at"])
    op.create_index("ix_login_failures_source", "login_failures", ["source", "at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
