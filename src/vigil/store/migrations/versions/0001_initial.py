"""Initial schema of the Vigil store: nodes, services, replicas, events, incidents, actions,
audit and meta.

Alembic revision ``0001``, applied by :func:`vigil.store.migrate` (and on every
``SqlStore(url, migrate=True)``). Written out by hand rather than imported from
:mod:`vigil.store._schema`, so later changes to the metadata need a new revision; a test checks
that the migrated database matches the metadata.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("last_heartbeat", sa.Float, nullable=True),
        sa.Column("phi", sa.Float, nullable=False),
        sa.Column("info", JSON, nullable=False),
    )
    op.create_table(
        "services",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("spec", JSON, nullable=False),
    )
    op.create_table(
        "replicas",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("started_at", sa.Float, nullable=True),
        sa.Column("create_time", sa.Float, nullable=True),
        sa.Column("restarts", sa.Integer, nullable=False),
        sa.Column("exit_code", sa.Integer, nullable=True),
        sa.Column("live", sa.String(32), nullable=False),
        sa.Column("ready", sa.String(32), nullable=False),
        sa.Column("log_path", sa.Text, nullable=True),
    )
    op.create_index("ix_replicas_service_idx", "replicas", ["service", "idx"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_subject_id", "events", ["subject", "id"])
    op.create_index("ix_events_kind_id", "events", ["kind", "id"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("opened_at", sa.Float, nullable=False),
        sa.Column("detected_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("first_action_at", sa.Float, nullable=True),
        sa.Column("resolved_at", sa.Float, nullable=True),
        sa.Column("findings", sa.Integer, nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_incidents_subject_state", "incidents", ["subject", "state", "id"])
    op.create_index("ix_incidents_state_id", "incidents", ["state", "id"])
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column(
            "incident_id",
            sa.Integer,
            sa.ForeignKey("incidents.id", name="fk_actions_incident_id"),
            nullable=True,
        ),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("ok", sa.Boolean, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_actions_subject_id", "actions", ["subject", "id"])
    op.create_index("ix_actions_incident_id", "actions", ["incident_id", "id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(255), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("prev_hash", name="uq_audit_prev_hash"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for index, table in (
        ("ix_actions_incident_id", "actions"),
        ("ix_actions_subject_id", "actions"),
        ("ix_incidents_state_id", "incidents"),
        ("ix_incidents_subject_state", "incidents"),
        ("ix_events_kind_id", "events"),
        ("ix_events_subject_id", "events"),
        ("ix_replicas_service_idx", "replicas"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "meta",
        "audit",
        "actions",
        "incidents",
        "events",
        "replicas",
        "services",
        "nodes",
    ):
        op.drop_table(table)
