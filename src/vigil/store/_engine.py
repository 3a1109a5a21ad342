"""Engines and connections for the store: URL checks, SQLite pragmas, error translation.

Used by :class:`vigil.store.SqlStore` and :mod:`vigil.store._migrate`. The URL decides the
dialect; everything SQLite-specific (WAL, ``busy_timeout``, ``BEGIN IMMEDIATE`` for writes, the
shared connection of an in-memory database) lives in the SQLite branch here.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import StaticPool

from vigil.errors import StoreBusy, StoreError
from vigil.store import _json
from vigil.store._fence import Fence

SUPPORTED = ("sqlite", "postgresql")
WRITE = "vigil_write"
"""Execution option marking a connection whose transaction writes (``BEGIN IMMEDIATE``)."""

_BUSY_TIMEOUT_MS = 5000
_PRAGMAS = (
    f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)
_RETRY_FIRST_S = 0.002
_RETRY_MOST_S = 0.05


PG_DRIVER = "psycopg"
"""The PostgreSQL driver a plain ``postgresql://`` URL gets: psycopg 3 (``pip install
'vigil[postgres]'``), not SQLAlchemy's default psycopg2. A URL naming a driver keeps it."""


def parse_url(url: str) -> URL:
    """Parse and check a database URL; raise :class:`StoreError` when Vigil cannot use it."""
    hint = "use sqlite:///path or postgresql://user:password@host/db"
    try:
        parsed = sa.make_url(url)
    except exc.ArgumentError as err:
        raise StoreError(f"unsupported database URL {hide_password(url)!r}, {hint}") from err
    except ValueError as err:  # make_url reads the port with int(): a bare ValueError
        raise StoreError(
            f"unsupported database URL {hide_password(url)!r} (the port is no number), {hint}"
        ) from err
    if parsed.get_backend_name() not in SUPPORTED:
        raise StoreError(f"unsupported database URL {safe_url(parsed)!r}, {hint}")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername=f"postgresql+{PG_DRIVER}")
    return parsed


_SCHEME = re.compile(r"[^:/@]*:/+")
"""A scheme and its slashes opening a URL. A colon followed by ``/`` is not always one: the
user's colon before a password that opens with ``/`` was skipped too, and the URL shown whole."""


def hide_password(url: str) -> str:
    """A database URL the parser could not read, its password (from the user's colon, the
    first one not followed by ``/`` as a scheme's is, to the last ``@``) shown as ``***``, as
    :func:`safe_url` shows a parsed one: a mistyped ``store.url`` was quoted whole in the
    error, password included."""
    head, at, host = url.rpartition("@")
    scheme = _SCHEME.match(head)  # "postgresql://", "postgresql:/": not the user's colon
    colon = head.find(":", scheme.end() if scheme else 0)
    if not at or colon < 0:
        return url
    return f"{head[:colon]}:***@{host}"


def safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def claim_path(url: str) -> Path | None:
    """The file a controller locks to have the database at ``url`` to itself: beside a SQLite
    file (under its real path, so two spellings of one file give one lock). None for an
    in-memory database, which nothing else can open, and for PostgreSQL, which is claimed with
    an advisory lock instead (:class:`vigil.store.DatabaseClaim`)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite" or is_memory(parsed):
        return None
    assert parsed.database is not None
    database = Path(parsed.database).expanduser().resolve()
    return database.with_name(database.name + "-controller.lock")


PG_KEEPALIVES: Final = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}
"""TCP keepalives of the store's PostgreSQL sessions, client side (libpq): a server that vanished
is noticed in about 20 s instead of the system's default two hours."""
_PG_SERVER_KEEPALIVES = (
    "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
)
"""The same, server side, set at connection start (libpq ``options``): the server ends the
session of a controller whose host went silent in about 20 s, and so a write transaction it
left in flight, which a new leader waits for before it leads (:mod:`vigil.store._fence`)."""


def pg_session_options(url: URL) -> dict[str, Any]:
    """The engine options of a PostgreSQL store (keepalives both ways; ``options`` the URL gives
    are kept); none for SQLite."""
    if url.get_backend_name() != "postgresql":
        return {}
    given = url.query.get("options", "")
    given = given if isinstance(given, str) else " ".join(given)
    return {
        "connect_args": {**PG_KEEPALIVES, "options": f"{given} {_PG_SERVER_KEEPALIVES}".strip()}
    }


def create_engine(url: URL, **extra: Any) -> Engine:
    """Build the engine for ``url`` (already checked by :func:`parse_url`); ``extra`` options
    (a pool class, ``connect_args``) are added to, or replace, the defaults."""
    options: dict[str, Any] = {"json_serializer": _json.dumps}
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite:
        options["connect_args"] = {
            "check_same_thread": False,
            "timeout": _BUSY_TIMEOUT_MS / 1000,
        }
        if is_memory(url):
            options["poolclass"] = StaticPool
        else:
            assert url.database is not None
            try:
                Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(f"cannot create the directory of {safe_url(url)}: {err}") from err
    else:
        options["pool_pre_ping"] = True
    options.update(extra)
    try:
        engine = sa.create_engine(url, **options)
    except (exc.ArgumentError, exc.NoSuchModuleError) as err:
        raise StoreError(f"cannot open {safe_url(url)}: {err}") from err
    except ImportError as err:
        fix = " (pip install 'vigil[postgres]')" if url.get_backend_name() == "postgresql" else ""
        raise StoreError(f"cannot open {safe_url(url)}: driver missing ({err}){fix}") from err
    if sqlite:
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling is deferred-only)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _PRAGMAS:
            _run_waiting(cursor, pragma)
    finally:
        cursor.close()


def _run_waiting(cursor: Any, pragma: str) -> None:
    """Run ``pragma``, waiting as ``busy_timeout`` would when SQLite answers busy at once.

    SQLite does not call its busy handler everywhere: a ``journal_mode=WAL`` racing another
    connection's on a new database file is refused on the spot with "database is locked" (about
    one opener in 70 when four open a new file together), which failed a controller or a
    migration starting beside another. Such a refusal is retried, with growing pauses, for as
    long as the busy timeout lasts; anything else, or a refusal past it, is raised.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    pause = _RETRY_FIRST_S
    while True:
        try:
            cursor.execute(pragma)
            return
        except sqlite3.OperationalError as err:
            code = getattr(err, "sqlite_errorcode", None)
            if not isinstance(code, int) or code & 0xFF not in SQLITE_BUSY:
                raise
            if time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, _RETRY_MOST_S)


def _sqlite_on_begin(connection: Connection) -> None:
    mode = "IMMEDIATE" if connection.get_execution_options().get(WRITE) else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")


def describe(err: BaseException) -> str:
    """A one-line, useful description of a database error (the driver's message when there)."""
    if isinstance(err, exc.DBAPIError) and err.orig is not None:
        text = str(err.orig)
    elif isinstance(err, exc.StatementError) and err.orig is not None:
        text = f"{type(err.orig).__name__}: {err.orig}"
    else:
        text = str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__


SQLITE_BUSY: Final = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (the primary result codes)
PG_BUSY: Final = ("40001", "40P01", "55P03")  # serialization failure, deadlock, lock timeout


def busy(err: exc.SQLAlchemyError) -> bool:
    """Whether the database refused for now (locked, a conflict) rather than for good."""
    orig = getattr(err, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in SQLITE_BUSY
    return getattr(orig, "pgcode", None) in PG_BUSY or getattr(orig, "sqlstate", None) in PG_BUSY


_PG_FIXES: Final[tuple[tuple[str | None, tuple[str, ...], str], ...]] = (
    ("25006", (), "the database refuses writes (a read-only replica?): point store.url at "
     "the primary"),
    ("42501", (), "the store.url user lacks rights: grant it ownership of the database (Vigil "
     "creates and alters its tables)"),
    (None, ("FATAL:  database", "does not exist"), "create it (createdb, or CREATE DATABASE) "
     "or fix store.url"),
    (None, ("FATAL:  role", "does not exist"), "check the user in store.url"),
    (None, ("authentication failed",), "check the user and password in store.url"),
    (None, ("Connection refused",), "is PostgreSQL running there? check the host and port in "
     "store.url"),
    (None, ("could not translate host name",), "check the host in store.url"),
)  # fmt: skip
"""PostgreSQL refusals a user can fix, by SQLSTATE or by the driver's words (a failed connection
has no SQLSTATE), and the fix named after the error."""


def fix_for(err: exc.SQLAlchemyError) -> str:
    """The fix of a PostgreSQL refusal a user can mend, as ``": fix"``; empty when unknown."""
    orig = getattr(err, "orig", None)
    state = getattr(orig, "sqlstate", None)
    text = str(orig)
    for code, words, fix in _PG_FIXES:
        if (code is not None and code == state) or (words and all(w in text for w in words)):
            return f": {fix}"
    return ""


@contextmanager
def translate(what: str, url: URL) -> Iterator[None]:
    """Re-raise SQLAlchemy errors and unreadable values as :class:`StoreError`."""
    try:
        yield
    except StoreError:
        raise
    except exc.SQLAlchemyError as err:
        kind = StoreBusy if busy(err) else StoreError
        fix = fix_for(err) if url.get_backend_name() == "postgresql" else ""
        raise kind(f"{what} failed on {safe_url(url)}: {describe(err)}{fix}") from err
    except ValueError as err:  # e.g. a JSON column holding text that is not JSON
        raise StoreError(f"{what}: unreadable value in {safe_url(url)}: {err}") from err


class Connector:
    """Hands out connections: reads in a deferred transaction, writes in an immediate one.

    An in-memory SQLite database has a single shared connection, so its users are serialized
    with a lock; file databases and PostgreSQL rely on the pool and the database's own locking.
    """

    def __init__(self, url: URL) -> None:
        self.url = url
        self.engine = create_engine(url, **pg_session_options(url))
        self.fence: Fence | None = None  # set by SqlStore.lead: every write proves leadership
        self._lock: AbstractContextManager[Any] = (
            threading.RLock() if is_memory(url) else nullcontext()
        )
        self._local = threading.local()  # .conn: this thread's batch connection, if any

    @contextmanager
    def read(self, what: str) -> Iterator[Connection]:
        shared: Connection | None = getattr(self._local, "conn", None)
        if shared is not None:
            with translate(what, self.url):
                yield shared
            return
        with self._lock, translate(what, self.url), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self, what: str, *, fenced: bool = True) -> Iterator[Connection]:
        """A write transaction, fenced once the store leads (``fenced=False``: the audit entry
        of a host action refused because this controller no longer leads; see
        :meth:`vigil.store.SqlStore.append_audit`)."""
        shared: Connection | None = getattr(self._local, "conn", None)
        if shared is not None:
            with translate(what, self.url):
                yield shared
            return
        with self._lock, translate(what, self.url), self.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                if fenced and self.fence is not None:
                    self.fence.check(conn, what)  # held to the commit: see vigil.store._fence
                yield conn

    @contextmanager
    def batch(self, what: str) -> Iterator[None]:
        """One write transaction for every read and write this thread makes inside the block
        (committed at its end, rolled back whole on an error); nested blocks join the outer."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self.write(what) as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    def dispose(self) -> None:
        self.engine.dispose()
