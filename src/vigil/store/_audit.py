"""The tamper-evident audit trail: a SHA-256 hash chain over the ``audit`` table.

Used by :class:`vigil.store.SqlStore` (``append_audit`` / ``verify_audit``), which the engine,
the API routers and the CLI call for every action taken. Each entry stores
``hash = sha256(prev_hash + canonical_json(at, actor, action, target, reason, result, detail))``;
the first entry's ``prev_hash`` is 64 zeros. Reading the chain head and inserting the next entry
happen in one write transaction (``BEGIN IMMEDIATE`` on SQLite, an advisory transaction lock on
PostgreSQL), and ``prev_hash`` is unique, so two processes appending at once can never fork the
chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vigil.errors import StoreError
from vigil.store import _query, _rows
from vigil.store._engine import Connector
from vigil.store._json import canonical
from vigil.store._protocol import AuditEntry
from vigil.store._schema import audit

GENESIS = "0" * 64
AUDIT_LOCK = 0x7669_6769_6C61_7564  # b"vigilaud": the advisory lock key of the chain head
_VERIFY_BATCH = 1000
_ATTEMPTS = 5


def entry_hash(
    prev_hash: str,
    *,
    at: float,
    actor: str,
    action: str,
    target: str,
    reason: str,
    result: str,
    detail: Mapping[str, Any],
) -> str:
    body = canonical(
        {
            "at": float(at),
            "actor": actor,
            "action": action,
            "target": target,
            "reason": reason,
            "result": result,
            "detail": detail,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def head(conn: Connection) -> str:
    """The hash of the last entry, read by the one appender of the moment: on PostgreSQL a
    transaction-level advisory lock plays the part of SQLite's ``BEGIN IMMEDIATE`` (a row lock
    on the last entry is not enough: in READ COMMITTED a waiter still reads the old head after
    the holder commits, and an empty trail has no row to lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK)))
    stmt = sa.select(audit.c.hash).order_by(audit.c.id.desc()).limit(1)
    last = conn.execute(stmt).scalar_one_or_none()
    return GENESIS if last is None else str(last)


def append(
    db: Connector,
    *,
    at: float,
    actor: str,
    action: str,
    target: str,
    reason: str,
    result: str,
    detail: Mapping[str, Any] | None,
    fenced: bool = True,
) -> AuditEntry:
    """Append the next entry of the chain, reading the head in the same write transaction
    (``fenced=False``: not refused by the leadership fence, see ``SqlStore.append_audit``)."""
    values: dict[str, Any] = {
        "at": float(at),
        "actor": actor,
        "action": action,
        "target": target,
        "reason": reason,
        "result": result,
        "detail": _rows.json_object(detail, f"audit detail of {action} {target}"),
    }
    what = f"appending audit entry {action} {target!r}"
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with db.write(what, fenced=fenced) as conn:
                prev_hash = head(conn)
                digest = entry_hash(prev_hash, **{k: values[k] for k in _HASHED})
                row = {**values, "prev_hash": prev_hash, "hash": digest}
                return AuditEntry(id=_query.insert(conn, audit, row), **row)
        except StoreError as err:
            # another writer took the same chain head first (possible without SQLite's
            # BEGIN IMMEDIATE): the unique prev_hash refused ours, so read the head again
            forked = isinstance(err.__cause__, sa.exc.IntegrityError)
            if attempt == _ATTEMPTS or not forked:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


_HASHED = ("at", "actor", "action", "target", "reason", "result", "detail")


def verify(conn: Connection) -> int | None:
    """Walk the chain from the start; return the id of the first broken entry, or ``None``."""
    prev_hash = GENESIS
    last_id = 0
    while True:
        rows = (
            conn.execute(
                sa.select(audit)
                .where(audit.c.id > last_id)
                .order_by(audit.c.id)
                .limit(_VERIFY_BATCH)
            )
            .mappings()
            .all()
        )
        if not rows:
            return None
        for row in rows:
            try:
                entry = _rows.to_audit(row)
            except StoreError:  # a row edited into something unreadable is a broken link too
                return int(row["id"])
            expected = entry_hash(
                prev_hash,
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                target=entry.target,
                reason=entry.reason,
                result=entry.result,
                detail=entry.detail,
            )
            if entry.prev_hash != prev_hash or entry.hash != expected:
                return entry.id
            prev_hash = entry.hash
            last_id = entry.id
