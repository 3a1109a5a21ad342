"""Alertmanager alerts firing, by fingerprint: read, noted, dropped, counted per subject, capped.

Called by :class:`vigil.store.SqlStore` (``get_firing_alert`` and the rest), which the
Alertmanager receiver (:mod:`vigil.api._alerts`) uses inside the transaction of each chunk of
alerts: a chunk rolled back forgets what it noted, so Alertmanager's retry raises it again.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vigil.store import _query
from vigil.store._protocol import FiringAlert
from vigil.store._schema import alerts_firing as table


def get(conn: Connection, fingerprint: str) -> FiringAlert | None:
    stmt = sa.select(table.c.subject, table.c.starts_at).where(table.c.fingerprint == fingerprint)
    row = conn.execute(stmt).first()
    return None if row is None else FiringAlert(fingerprint, str(row[0]), float(row[1]))


def put(conn: Connection, alert: FiringAlert, seen_at: float) -> None:
    values = {
        "fingerprint": alert.fingerprint,
        "subject": alert.subject,
        "starts_at": alert.starts_at,
        "seen_at": seen_at,
    }
    _query.upsert(conn, table, values, "fingerprint")


def drop(conn: Connection, fingerprint: str) -> bool:
    result = conn.execute(sa.delete(table).where(table.c.fingerprint == fingerprint))
    return bool(result.rowcount)


def count(conn: Connection, subject: str) -> int:
    stmt = sa.select(sa.func.count()).select_from(table).where(table.c.subject == subject)
    return int(conn.execute(stmt).scalar_one())


def prune(conn: Connection, keep: int) -> int:
    """Keep the ``keep`` most recently seen; the number dropped."""
    newest = sa.select(table.c.fingerprint).order_by(table.c.seen_at.desc(), table.c.fingerprint)
    older = newest.offset(max(0, keep)).scalar_subquery()
    result = conn.execute(sa.delete(table).where(table.c.fingerprint.in_(older)))
    return int(result.rowcount)
