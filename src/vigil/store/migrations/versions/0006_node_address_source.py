"""Where a node's address came from (``nodes.address_source``: ``config``, ``agent`` or
``heartbeat``; empty when unknown): the store kept a learned address but not its source, so after
a restart (or a standby's takeover) an address the agent had asked for showed ``heartbeat`` as
its source until the next heartbeat said otherwise. Rows of older stores read as empty, which the
controller takes as ``heartbeat`` (what it showed before).

Alembic revision ``0006``, applied by :func:`vigil.store.migrate`; a test checks that the
migrated database matches :mod:`vigil.store._schema`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.add_column(
            sa.Column("address_source", sa.String(16), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("nodes") as batch:
        batch.drop_column("address_source")
