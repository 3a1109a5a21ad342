"""Fixtures for the store tests: one store per backend, so PostgreSQL can join the list later.

Add a backend by adding its name to ``STORES`` and a branch to :func:`store_url`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from vigil.store import SqlStore

STORES = ["sqlite_file", "sqlite_memory"]


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite_file":
        return f"sqlite:///{tmp_path / 'state' / 'vigil.db'}"
    if request.param == "sqlite_memory":
        return "sqlite://"
    raise AssertionError(f"unknown store {request.param}")


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    opened = SqlStore(store_url)
    yield opened
    opened.close()


@pytest.fixture
def file_url(tmp_path: Path) -> str:
    """A SQLite file URL, for tests about what outlives one SqlStore (restarts, processes)."""
    return f"sqlite:///{tmp_path / 'vigil.db'}"


RawSql = Callable[..., None]


@pytest.fixture
def raw_sql(store: SqlStore) -> RawSql:
    """Run raw SQL on the store's own database, as an attacker or a newer Vigil would."""

    def execute(sql: str, **params: object) -> None:
        with store._db.engine.begin() as conn:
            conn.execute(sa.text(sql), params)

    return execute
