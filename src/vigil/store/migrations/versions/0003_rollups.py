"""Persisted metric rollups: a ``series`` table (name + labels) and its 1-minute / 1-hour
``rollups`` (min, max, sum, count, last per bucket), pruned by age.

Alembic revision ``0003``, applied by :func:`vigil.store.migrate`. Written out by hand (see
``0001``); a test checks that the migrated database matches :mod:`vigil.store._schema`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.UniqueConstraint("name", "labels", name="uq_series_name_labels"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "rollups",
        sa.Column(
            "series_id",
            sa.Integer,
            sa.ForeignKey("series.id", name="fk_rollups_series_id"),
            primary_key=True,
        ),
        sa.Column("width", sa.Integer, primary_key=True),
        sa.Column("start", sa.Float, primary_key=True),
        sa.Column("min", sa.Float, nullable=False),
        sa.Column("max", sa.Float, nullable=False),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("last", sa.Float, nullable=False),
    )
    op.create_index("ix_rollups_width_start", "rollups", ["width", "start"])


def downgrade() -> None:
    op.drop_index("ix_rollups_width_start", table_name="rollups")
    op.drop_table("rollups")
    op.drop_table("series")
