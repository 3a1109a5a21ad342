"""Row ids are 64-bit on PostgreSQL: ``events``, ``incidents``, ``actions``, ``audit`` and
``series`` ids, and the columns that refer to them (``actions.incident_id``,
``rollups.series_id``), become ``BIGINT``, with their sequences. ``INTEGER`` is 32-bit there, and a
controller that writes a few hundred events a second passes 2**31 within months. SQLite's
``INTEGER`` is already 64-bit: nothing changes there.

Alembic revision ``0004``, applied by :func:`vigil.store.migrate`; a test checks that the
migrated database matches :mod:`vigil.store._schema`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

IDS = ("events", "incidents", "actions", "audit", "series")
REFERENCES = (("actions", "incident_id"), ("rollups", "series_id"))


def _retype(to: type[sa.Integer]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    word = "bigint" if to is sa.BigInteger else "integer"
    for table in IDS:
        op.alter_column(table, "id", type_=to(), existing_nullable=False)
        op.execute(f"ALTER SEQUENCE {table}_id_seq AS {word}")
    for table, column in REFERENCES:
        op.alter_column(table, column, type_=to())


def upgrade() -> None:
    _retype(sa.BigInteger)


def downgrade() -> None:
    _retype(sa.Integer)
