"""Fixtures for the store tests: one store per backend, and a durable URL per durable backend.

``STORES`` is every backend the contract runs on: SQLite in a file and in memory, and a real
PostgreSQL server (``tests/_postgres.py`` starts a private cluster once per session and gives
each test a database of its own; without the ``postgresql`` package these cases skip, and under
CI they fail). ``durable_url`` is the subset whose data outlives one ``SqlStore`` (restarts,
several stores on one database). Add a backend by adding its name here and a branch to
:func:`_url`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from _postgres import PgServer
from vigil.store import SqlStore
from vigil.store._engine import create_engine, parse_url

STORES = ["sqlite_file", "sqlite_memory", "postgresql"]
DURABLE = ["sqlite_file", "postgresql"]


def _url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite_file":
        yield f"sqlite:///{tmp_path / 'state' / 'vigil.db'}"
    elif kind == "sqlite_memory":
        yield "sqlite://"
    elif kind == "postgresql":
        server: PgServer = request.getfixturevalue("pg_server")
        with server.database() as url:
            yield url
    else:
        raise AssertionError(f"unknown store {kind}")


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from _url(request.param, request, tmp_path)


@pytest.fixture(params=DURABLE)
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that outlives one SqlStore, for restarts and several stores at once."""
    yield from _url(request.param, request, tmp_path)


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    opened = SqlStore(store_url)
    yield opened
    opened.close()


@pytest.fixture
def file_url(tmp_path: Path) -> str:
    """A SQLite file URL, for tests about SQLite's own file (WAL, locking, corruption)."""
    return f"sqlite:///{tmp_path / 'vigil.db'}"


RawSql = Callable[..., None]


def run_sql(url: str, sql: str, **params: object) -> None:
    """Run raw SQL on the database at ``url`` in its own engine (the store's is untouched)."""
    engine = create_engine(parse_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()


@pytest.fixture
def raw_sql(store: SqlStore) -> RawSql:
    """Run raw SQL on the store's own database, as an attacker or a newer Vigil would."""

    def execute(sql: str, **params: object) -> None:
        with store._db.engine.begin() as conn:
            conn.execute(sa.text(sql), params)

    return execute
