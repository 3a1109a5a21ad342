"""Replicas remember whether they are held down (operator stop, crash loop) across restarts.

Alembic revision ``0002``, applied by :func:`vigil.store.migrate`. Existing rows are not held.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("replicas") as batch:
        batch.add_column(sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("replicas") as batch:
        batch.drop_column("held")
