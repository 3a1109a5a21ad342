"""One controller per PostgreSQL database: a session-level advisory lock on its own connection.

Used by :class:`vigil.daemon._lock.DatabaseLock`, which the controller takes at start (SQLite
stores are claimed with a file lock instead, :func:`vigil.store.claim_path`). The lock is
``pg_advisory_lock`` on a key derived from the database's name, held by a dedicated connection
for the controller's life: the server drops it when that connection ends, so a controller
killed with ``kill -9`` frees the database at once, and one whose host vanished frees it when
the session's TCP keepalives give up (``_KEEPALIVES``, about 20 s). The connection's
``application_name`` names the holder (pid and host), which a refused controller reads back
from ``pg_stat_activity``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from vigil.errors import StoreError
from vigil.store._engine import (
    PG_BUSY,
    create_engine,
    describe,
    fix_for,
    parse_url,
    safe_url,
)

_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}
"""The lock connection's TCP keepalives, client side (libpq): a server that vanished is noticed
in about 20 s instead of the system's default two hours."""
_SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)
"""The same, server side (per-session settings any user may change): the server ends the
session, and so drops the lock, about 20 s after the holder's host went silent."""
_APP_NAME_MAX = 63  # PostgreSQL truncates application_name to NAMEDATALEN - 1 bytes


def holder_name() -> str:
    """What the lock connection calls itself: ``vigil controller pid N on HOST``."""
    return f"vigil controller pid {os.getpid()} on {socket.gethostname()}"[:_APP_NAME_MAX]


def lock_key(database: str) -> int:
    """The advisory lock key of ``database``: a signed 64-bit number from its name."""
    digest = hashlib.sha256(f"vigil controller of {database}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class DatabaseClaim:
    """The controller's claim on the PostgreSQL database at ``url``.

    :meth:`try_acquire` returns None once held, or who holds it; :meth:`wait` blocks up to a
    given time for the holder to go; :meth:`held` checks the claim is still there (its
    connection alive); :meth:`release` lets go. One caller at a time (a thread of its own).
    """

    def __init__(self, url: str) -> None:
        self.url = parse_url(url)
        if self.url.get_backend_name() != "postgresql":
            raise StoreError(f"{safe_url(self.url)}: only a PostgreSQL database is claimed")
        self.database = self.url.database or ""
        self.key = lock_key(self.database)
        self.name = holder_name()
        """What this controller calls itself: its lock connection's ``application_name``."""
        self.engine = create_engine(
            self.url,
            poolclass=NullPool,
            connect_args={**_KEEPALIVES, "application_name": self.name},
        )
        self._conn: Connection | None = None
        self._held = False

    @staticmethod
    def applies(url: str) -> bool:
        """Whether the store at ``url`` is claimed this way (a PostgreSQL database)."""
        return parse_url(url).get_backend_name() == "postgresql"

    @property
    def where(self) -> str:
        """The database URL, password hidden."""
        return safe_url(self.url)

    def __repr__(self) -> str:
        return f"DatabaseClaim({safe_url(self.url)!r}, key={self.key})"

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            try:
                conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                for statement in _SERVER_KEEPALIVES:
                    conn.exec_driver_sql(statement)
            except exc.SQLAlchemyError as err:
                raise StoreError(
                    f"cannot claim {safe_url(self.url)} for this controller: {describe(err)}"
                    f"{fix_for(err)}"
                ) from err
            self._conn = conn
        return self._conn

    def try_acquire(self) -> str | None:
        """Take the lock if it is free: None when held now, else a description of the holder."""
        conn = self._connection()
        got = self._run(conn, "SELECT pg_try_advisory_lock(:key)")
        if got:
            self._held = True
            return None
        return self.holder()

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the lock (granted the moment its holder goes)."""
        conn = self._connection()
        conn.exec_driver_sql(f"SET lock_timeout = {max(1, int(seconds * 1000))}")
        try:
            self._run(conn, "SELECT pg_advisory_lock(:key)")
        except StoreError as err:
            if _busy(err.__cause__):  # lock_timeout: the holder is still there
                return False
            raise
        self._held = True
        return True

    def holder(self) -> str:
        """Who holds the lock, as its connection named itself (``?`` when it cannot be seen)."""
        sql = (
            "SELECT a.application_name, a.client_addr, a.pid FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid = :hi AND l.objid = :lo AND l.objsubid = 1"
        )
        hi, lo = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        row = self._run(self._connection(), sql, hi=hi, lo=lo, one=True)
        if row is None:
            return "?"
        name, addr, pid = row
        where = f" from {addr}" if addr else ""
        return f"{name or 'a client'} (server pid {pid}{where})"

    def held(self) -> bool:
        """Whether this claim still holds the lock: its connection answers and owns the lock."""
        if not self._held or self._conn is None:
            return False
        sql = (
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid = pg_backend_pid() AND classid = :hi AND objid = :lo AND objsubid = 1"
        )
        hi, lo = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        try:
            return bool(self._run(self._conn, sql, hi=hi, lo=lo))
        except StoreError:
            self._held = False
            return False

    def release(self) -> None:
        """Let go of the lock (closing its connection) and of the engine."""
        conn, self._conn, self._held = self._conn, None, False
        if conn is not None:
            with contextlib.suppress(exc.SQLAlchemyError):
                conn.close()  # the session ends: the server drops the lock
        self.engine.dispose()

    def _run(self, conn: Connection, sql: str, *, one: bool = False, **params: Any) -> Any:
        params.setdefault("key", self.key)
        try:
            result = conn.execute(sa.text(sql), params)
            return result.first() if one else result.scalar()
        except exc.SQLAlchemyError as err:
            raise StoreError(
                f"claiming {safe_url(self.url)} for this controller failed: {describe(err)}"
            ) from err


def _busy(err: BaseException | None) -> bool:
    orig = getattr(err, "orig", None)
    return getattr(orig, "sqlstate", None) in PG_BUSY
