"""drop the indexes on enterprises' province, city and district codes

No query looks firms up by these codes (diagnosis, targets and linkage read them with the rows they fetch,
and blocking happens in DuckDB), yet each index cost a full table scan and sort on every large import
(about 5 s of a million-row load) and upkeep on every insert.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_INDEXES = (("ix_enterprises_province_code", "province_code"), ("ix_enterprises_city_code", "city_code"),
            ("ix_enterprises_district_code", "district_code"))


def upgrade() -> None:
    for name, _ in _INDEXES:
        op.drop_index(name, table_name="enterprises")


def downgrade() -> None:
    for name, column in _INDEXES:
        op.create_index(name, "enterprises", [column])
