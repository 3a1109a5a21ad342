"""A private, throw-away PostgreSQL server for the tests, started by the tests themselves.

Used by ``tests/conftest.py`` (which registers the ``pg_server`` session fixture from here), by
``tests/store/conftest.py`` (the store contract on PostgreSQL) and by
``tests/daemon/test_pg_*.py`` (two controllers on one database). The server is Debian's
``postgresql`` package (``apt-get install postgresql``; ``.ci/run`` installs it): ``initdb`` into a
temporary directory, then ``postgres`` on a free loopback port with its unix socket in that
directory, ``trust`` authentication and no fsync (the data dies with the test session). initdb
refuses to run as root, so under root the cluster belongs to the ``postgres`` user (or
``nobody``). The server is killed with the test process even on ``kill -9``
(``PR_SET_PDEATHSIG``), and each test gets a database of its own (:meth:`PgServer.database`).

Without the binaries the PostgreSQL cases skip, naming the package; under CI (``CI`` set, as
``.ci/run``'s caller does) they fail instead, so PostgreSQL can never silently drop out.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

LIB_DIR = Path("/usr/lib/postgresql")
"""Where Debian puts each version's binaries (``<version>/bin``), off PATH."""
PACKAGE_HINT = "apt-get install postgresql (Debian's package; .ci/run installs it)"
SUPERUSER = "vigil"
_START_TIMEOUT = 60.0
"""Seconds to wait for a new cluster to accept connections (initdb alone takes ~2 s here)."""
_PR_SET_PDEATHSIG = 1


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip (on a developer's machine) or fail (under CI) a PostgreSQL case that cannot run."""
    if in_ci():
        pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def find_bin_dir() -> Path | None:
    """The directory holding initdb and postgres: on PATH (symlinks resolved), else the newest
    ``/usr/lib/postgresql/<version>/bin`` (Debian keeps them off PATH)."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    versions = sorted(
        LIB_DIR.glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += versions
    for path in candidates:
        if (path / "initdb").is_file() and (path / "postgres").is_file():
            return path
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _owner() -> pwd.struct_passwd | None:
    """The unprivileged user the cluster runs as under root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root, and neither a postgres nor a nobody user exists")


def _demote(owner: pwd.struct_passwd | None) -> None:
    """In the child before exec: become ``owner``, and die with the test process."""
    if owner is not None:
        os.setgroups([])
        os.setgid(owner.pw_gid)
        os.setuid(owner.pw_uid)
    # after the uid change, which clears it: the server gets SIGQUIT (immediate shutdown)
    # when pytest dies, even by kill -9, so no cluster outlives its test session
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT, 0, 0, 0)


class PgServer:
    """One running cluster: ``url(database)`` for SQLAlchemy, ``database()`` per test."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="vigil-pg-"))
        self.port = _free_port()
        self._owner = _owner()
        self._proc: subprocess.Popen[bytes] | None = None
        self.log = self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        if self._owner is not None:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)
        data = self.root / "data"
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        init = subprocess.run(
            [str(self.bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            preexec_fn=lambda: _demote(self._owner),
            capture_output=True,
            env=env,
            check=False,
        )  # fmt: skip
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.decode(errors='replace')[-2000:]}")
        with open(self.log, "wb") as log:
            self._proc = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(data), "-p", str(self.port),
                 "-k", str(self.root), "-c", "listen_addresses=127.0.0.1",
                 "-c", "fsync=off", "-c", "full_page_writes=off",
                 "-c", "synchronous_commit=off", "-c", "max_connections=200"],
                preexec_fn=lambda: _demote(self._owner),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )  # fmt: skip
        self._wait_ready()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited at start: {self.log.read_text()[-2000:]}")
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def admin(self, sql: str) -> None:
        """Run one statement as the superuser on the ``postgres`` database (autocommit)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.encode())

    @contextlib.contextmanager
    def database(self, prefix: str = "t") -> Iterator[str]:
        """A new, empty database for one test; dropped afterwards (its sessions ended first)."""
        name = re.sub(r"[^a-z0-9_]", "_", f"{prefix}_{uuid.uuid4().hex[:12]}".lower())
        self.admin(f'CREATE DATABASE "{name}"')
        try:
            yield self.url(name)
        finally:
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)  # fast shutdown: ends sessions, then exits
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PgServer:
    """Start a cluster, or skip / fail (under CI) naming what is missing."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        unavailable(f"no initdb on PATH nor in /usr/lib/postgresql/*/bin: {PACKAGE_HINT}")
        raise AssertionError("unreachable")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("the psycopg driver is missing: make dev (pip install -e '.[dev]')")
    server = PgServer(bin_dir)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (started on first use, stopped at the end)."""
    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A ``postgresql://`` URL of an empty database of this test's own."""
    with pg_server.database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, once on SQLite (in ``tmp_path``) and once on PostgreSQL:
    the tests that must hold on both stores take this instead of writing the choice again."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/v.db"
    else:
        yield request.getfixturevalue("pg_url")
