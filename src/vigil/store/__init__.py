"""State storage: the Store protocol and its SQL implementation (SQLite and PostgreSQL).

Used by the daemon's event persister, the incident manager, the API routers and the CLI:
``open_store(url)`` gives a migrated :class:`Store`; :func:`migrate` and
:func:`schema_revision` serve the CLI's database commands; :func:`claim_path` names the file a
controller locks to have a SQLite store to itself, and :class:`DatabaseClaim` is the advisory
lock that gives a PostgreSQL database to one controller; :meth:`SqlStore.lead` then fences the
controller's writes (refused once another controller leads: :mod:`vigil.store._fence`). Errors are
:class:`vigil.errors.StoreError` (and its :class:`vigil.errors.NotFoundError`).
"""

from __future__ import annotations

from vigil.store._claim import DatabaseClaim
from vigil.store._engine import claim_path
from vigil.store._migrate import migrate, schema_revision
from vigil.store._protocol import AuditEntry, FiringAlert, Page, RollupRow, Store, StoredEvent
from vigil.store._sql import SqlStore


def open_store(url: str) -> Store:
    """Open the store at ``url`` (``sqlite:///path``, ``sqlite://``, ``postgresql://...``),
    upgrading its schema to the one this Vigil expects."""
    return SqlStore(url)


__all__ = [
    "AuditEntry",
    "DatabaseClaim",
    "FiringAlert",
    "Page",
    "RollupRow",
    "SqlStore",
    "Store",
    "StoredEvent",
    "claim_path",
    "migrate",
    "open_store",
    "schema_revision",
]
