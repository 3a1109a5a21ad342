"""Fencing: on PostgreSQL, a write transaction commits only while its controller still leads.

Used by :class:`vigil.store._engine.Connector` (``write``, which runs :meth:`Fence.check` first in
every write transaction once the store is fenced) and :meth:`vigil.store.SqlStore.lead`, which the
controller calls right after it took the database's claim (:class:`vigil.store.DatabaseClaim`)
and opened the store, before it acts on anything.

The claim alone is not enough: a leader whose claim connection died (a network cut, a server
restart, an idle-session kill) runs on, with its pool of store connections, until its next claim
check, while a standby that was granted the lock acts too. So leadership has an *epoch*, a number
kept in the ``meta`` row ``leader`` (no table of its own, so no migration) with the holder's name:

- :meth:`Fence.take` (a new leader) takes the exclusive transaction advisory lock ``FENCE_LOCK``,
  which waits for every write transaction of the old leader still in flight, then raises the
  epoch by one and keeps it;
- :meth:`Fence.check` (every later write transaction) takes ``FENCE_LOCK`` shared, then reads the
  epoch in a statement of its own (READ COMMITTED: a snapshot taken after the lock was granted, so
  a raise committed meanwhile is seen) and refuses when it is not this store's. The shared lock
  is held to the commit, so no raise can slip between the check and the commit: each write
  transaction of the old leader either commits before the new leader takes its epoch, or fails
  and is rolled back whole.

Writers share the lock with one another, so the leader's own writers never wait on each other.
A lone leader that lost its claim connection and took it again keeps its epoch (nobody raised it)
and writes on. Stores that never :meth:`~vigil.store.SqlStore.lead` (the CLI, the tests, SQLite
stores, whose claim is a file lock held for the process's life) are not fenced.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vigil.errors import NotLeaderError, StoreError
from vigil.store._schema import meta

FENCE_LOCK = 0x7669_6769_6C66_6E63  # b"vigilfnc": the advisory lock key of the leadership epoch
LEADER_KEY = "leader"
"""The ``meta`` row holding the leadership epoch, as JSON: ``{"epoch", "holder", "since"}``."""


_CHECK = (
    f"SELECT pg_advisory_xact_lock_shared({FENCE_LOCK}); "
    f"SELECT value FROM meta WHERE key = '{LEADER_KEY}'"
)
"""The check in one round trip: psycopg sends a query without parameters with the simple
protocol, which runs each statement with a snapshot of its own (taken after the lock was
granted by the one before)."""


ONE_TRIP_DRIVERS = ("psycopg",)
"""Drivers that send ``_CHECK`` in one round trip and hand back both results (others, such as
psycopg2, which keeps the last result only, take two statements)."""


_MEND = (
    f"stop every controller of this store, delete the row (DELETE FROM meta WHERE key = "
    f"'{LEADER_KEY}') and start them again: the first leads as epoch 1"
)


def _parse(value: object) -> dict[str, object] | None:
    if value is None:
        return None
    try:
        row = json.loads(str(value))
    except ValueError as err:
        raise StoreError(f"the meta row {LEADER_KEY!r} is not JSON: {value!r}: {_MEND}") from err
    if not isinstance(row, dict) or not isinstance(row.get("epoch"), int):
        raise StoreError(f"the meta row {LEADER_KEY!r} holds no epoch: {value!r}: {_MEND}")
    return row


def _read(conn: Connection) -> object:
    return conn.execute(sa.select(meta.c.value).where(meta.c.key == LEADER_KEY)).scalar()


def _locked_read(conn: Connection) -> object:
    """The ``leader`` row's value, read under ``FENCE_LOCK`` taken shared, in the statement
    after the lock's (READ COMMITTED: a raise committed while it waited is seen)."""
    if conn.dialect.driver in ONE_TRIP_DRIVERS:
        # the driver's own cursor: SQLAlchemy's execution path costs more than the check
        dbapi = conn.dialect.loaded_dbapi
        try:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(_CHECK)
                cursor.nextset()  # both results came in one answer
                row = cursor.fetchone()
            finally:
                cursor.close()
        except dbapi.Error as err:
            raise sa.exc.DBAPIError.instance(_CHECK, None, err, dbapi.Error) from err
        return None if row is None else row[0]
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(FENCE_LOCK)))
    return _read(conn)


class Fence:
    """This store's leadership epoch: taken once (:meth:`take`), checked by every write.

    ``on_lost(message)`` is called once, from the writing thread, by the first write that finds
    another controller's epoch: the controller stops acting at once rather than at its next
    claim check.
    """

    def __init__(self, on_lost: Callable[[str], None] | None = None) -> None:
        self.epoch: int | None = None
        self._value: object = None  # the leader row as this store wrote it: compared as text
        self._on_lost = on_lost
        self._taking: object = None
        self._told = threading.Lock()
        self._lost = False

    def take(self, conn: Connection, holder: str, at: float) -> int:
        """Raise the epoch by one for ``holder`` in ``conn``'s write transaction; keep it once
        committed (:meth:`taken`). Waits for the old leader's write transactions in flight."""
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(FENCE_LOCK)))
        row = _parse(_read(conn))
        epoch = 1 if row is None else int(str(row["epoch"])) + 1
        value = json.dumps({"epoch": epoch, "holder": holder, "since": at})
        if row is None:
            conn.execute(sa.insert(meta).values(key=LEADER_KEY, value=value))
        else:
            conn.execute(sa.update(meta).where(meta.c.key == LEADER_KEY).values(value=value))
        self._taking = value
        return epoch

    def taken(self, epoch: int) -> None:
        """The transaction of :meth:`take` committed: fence every later write with ``epoch``."""
        self.epoch, self._value = epoch, self._taking

    def check(self, conn: Connection, what: str) -> None:
        """Refuse ``what`` (raise :class:`NotLeaderError`) unless this store's epoch is current."""
        if self.epoch is None:
            return
        value = _locked_read(conn)
        if value == self._value:
            return
        row = _parse(value)
        if row is not None and row["epoch"] == self.epoch:
            return
        led = "nobody" if row is None else f"{row.get('holder') or '?'} (epoch {row['epoch']})"
        message = (
            f"this controller is no longer the leader: the store is led by {led}, this "
            f"controller led epoch {self.epoch}; {what} was refused and rolled back"
        )
        self._tell(message)
        raise NotLeaderError(message)

    def current(self, conn: Connection) -> bool:
        """Whether this store's epoch is still the store's (a plain read: for a check between
        writes, such as the claim's watch after it took a lost claim again)."""
        value = _read(conn)
        if value == self._value:
            return True
        row = _parse(value)
        return row is not None and row["epoch"] == self.epoch

    def _tell(self, message: str) -> None:
        with self._told:
            if self._lost:
                return
            self._lost = True
        if self._on_lost is not None:
            self._on_lost(message)
