"""sites: the 载体台账 (land plots, standard factories, offices) and each site's status history

Revision ID: 0004_sites
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_sites"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("zone_id", sa.String(64), sa.ForeignKey("zones.id"), nullable=False, index=True),
        sa.Column("park_id", sa.String(64), sa.ForeignKey("parks.id")),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("lon", sa.Float()),
        sa.Column("lat", sa.Float()),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("land_use", sa.String(4), nullable=False),
        sa.Column("plot_ratio", sa.Float()),
        sa.Column("land_price_yuan_per_mu", sa.BigInteger()),
        sa.Column("floors", sa.Integer()),
        sa.Column("floor_load_kn_m2", sa.Float()),
        sa.Column("clear_height_m", sa.Float()),
        sa.Column("power_kva", sa.Integer()),
        sa.Column("rent_fen_per_m2_month", sa.Integer()),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("status_since", sa.Date()),
        sa.Column("available_from", sa.Date()),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="SET NULL"), index=True),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprises.id", ondelete="SET NULL")),
        sa.Column("output_yuan", sa.BigInteger()),
        sa.Column("tax_yuan", sa.BigInteger()),
        sa.Column("figures_year", sa.Integer()),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("as_of", sa.Date()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "site_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("from_status", sa.String(10)),
        sa.Column("to_status", sa.String(10), nullable=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="SET NULL")),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by_user", sa.String(80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("site_events")
    op.drop_table("sites")
