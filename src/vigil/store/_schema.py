"""The store's tables, as SQLAlchemy Core metadata: the single description of the schema.

Used by :mod:`vigil.store._sql` to build queries; the Alembic migrations in
``vigil/store/migrations`` create the same tables (a test compares the two). Only portable
constructs are used so the same metadata serves SQLite and PostgreSQL: enums are stored as
their string values, mappings as JSON (``jsonb`` on PostgreSQL), times as float epoch seconds.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
"""JSON column type: TEXT holding JSON on SQLite, ``jsonb`` on PostgreSQL."""

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""Row ids and the columns that refer to them: ``BIGINT`` on PostgreSQL (``INTEGER`` is 32-bit
there, and a busy fleet writes more than 2**31 events in its life), ``INTEGER`` on SQLite, where
it is already 64-bit and only ``INTEGER PRIMARY KEY`` is the autoincrementing rowid."""

metadata = sa.MetaData()

nodes = sa.Table(
    "nodes",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("address", sa.String(255), nullable=False),
    sa.Column("labels", JSON, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("last_heartbeat", sa.Float, nullable=True),
    sa.Column("phi", sa.Float, nullable=False),
    sa.Column("info", JSON, nullable=False),
    sa.Column("address_source", sa.String(16), nullable=False, server_default=""),
)

services = sa.Table(
    "services",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("spec", JSON, nullable=False),
)

replicas = sa.Table(
    "replicas",
    metadata,
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
    sa.Column("held", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_replicas_service_idx", "service", "idx"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("data", JSON, nullable=False),
    sa.Index("ix_events_subject_id", "subject", "id"),
    sa.Index("ix_events_kind_id", "kind", "id"),
    sqlite_autoincrement=True,
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
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
    sa.Index("ix_incidents_subject_state", "subject", "state", "id"),
    sa.Index("ix_incidents_state_id", "state", "id"),
    sqlite_autoincrement=True,
)

actions = sa.Table(
    "actions",
    metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column(
        "incident_id",
        ID,
        sa.ForeignKey("incidents.id", name="fk_actions_incident_id"),
        nullable=True,
    ),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("ok", sa.Boolean, nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_actions_subject_id", "subject", "id"),
    sa.Index("ix_actions_incident_id", "incident_id", "id"),
    sqlite_autoincrement=True,
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("action", sa.String(255), nullable=False),
    sa.Column("target", sa.String(255), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("detail", JSON, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # two writers that read the same chain head cannot both append: the chain cannot fork
    sa.UniqueConstraint("prev_hash", name="uq_audit_prev_hash"),
    sqlite_autoincrement=True,
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

series = sa.Table(
    "series",
    metadata,
    sa.Column("id", ID, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("labels", sa.Text, nullable=False),  # canonical JSON list of [key, value] pairs
    sa.UniqueConstraint("name", "labels", name="uq_series_name_labels"),
    sqlite_autoincrement=True,
)
"""One row per metric series that has persisted rollups (the rollups refer to its id)."""

rollups = sa.Table(
    "rollups",
    metadata,
    sa.Column(
        "series_id",
        ID,
        sa.ForeignKey("series.id", name="fk_rollups_series_id"),
        primary_key=True,
    ),
    sa.Column("width", sa.Integer, primary_key=True),  # seconds: 60 or 3600
    sa.Column("start", sa.Float, primary_key=True),
    sa.Column("min", sa.Float, nullable=False),
    sa.Column("max", sa.Float, nullable=False),
    sa.Column("total", sa.Float, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("last", sa.Float, nullable=False),
    sa.Index("ix_rollups_width_start", "width", "start"),  # retention deletes by age
)
"""1-minute and 1-hour rollups (min/max/sum/count/last) of each series, kept for retention."""

alerts_firing = sa.Table(
    "alerts_firing",
    metadata,
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("starts_at", sa.Float, nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False),
    sa.Index("ix_alerts_firing_subject", "subject"),  # how many still fire on a subject
    sa.Index("ix_alerts_firing_seen_at", "seen_at"),  # the least recently seen go past the cap
)
"""Alertmanager alerts firing, by fingerprint (the receiver :mod:`vigil.api._alerts`): kept in
the store so a repeat after a restart or a standby's takeover is a repeat, and a resolution
resolves the subject only when its last alert does."""
