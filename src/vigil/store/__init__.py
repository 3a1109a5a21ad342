"""State storage: the Store protocol and its SQL implementation (SQLite now, PostgreSQL later)."""

from __future__ import annotations

from vigil.store._protocol import AuditEntry, Page, Store, StoredEvent

__all__ = ["AuditEntry", "Page", "Store", "StoredEvent"]
