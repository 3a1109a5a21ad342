"""The Alertmanager alerts firing, by fingerprint (``alerts_firing``): the receiver kept them in
memory only, so after a restart (or a standby's takeover) a repeat raised its finding again and
a resolution resolved its subject while another alert still fired on it.

Alembic revision ``0005``, applied by :func:`vigil.store.migrate`; a test checks that the
migrated database matches :mod:`vigil.store._schema`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "alerts_firing",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("starts_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_index("ix_alerts_firing_subject", "alerts_firing", ["subject"])
    op.create_index("ix_alerts_firing_seen_at", "alerts_firing", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_firing_seen_at", table_name="alerts_firing")
    op.drop_index("ix_alerts_firing_subject", table_name="alerts_firing")
    op.drop_table("alerts_firing")
