"""Fixtures for the API tests: a fake control plane, a real SQLite store (``any_store``: SQLite
and PostgreSQL), clients per mode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from apifakes import FakeControl, build_app, serve
from prometheus_client import CollectorRegistry

from _log_pipeline import Clock
from _log_pipeline import pipeline as log_pipeline
from vigil.daemon import LogPipeline
from vigil.store import SqlStore, Store


@pytest.fixture
def control() -> FakeControl:
    return FakeControl()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    sql_store = SqlStore(f"sqlite:///{tmp_path}/v.db")
    yield sql_store
    sql_store.close()


@pytest.fixture
def any_store(db_url: str) -> Iterator[SqlStore]:
    """A real store on SQLite, then on PostgreSQL (the tests that take it run twice)."""
    sql_store = SqlStore(db_url)
    yield sql_store
    sql_store.close()


@pytest.fixture
def pipeline(control: FakeControl, store: SqlStore, tmp_path: Path) -> LogPipeline:
    """A real log pipeline on ``store`` with the default ``logs:`` settings, serving the app's
    log endpoints (test_api_logs.py has its own, with settings of its own)."""
    control.logs = log_pipeline(tmp_path, store, Clock(1_700_000_000.0), {})
    return control.logs


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def client(
    control: FakeControl, store: Store, registry: CollectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(build_app(control, store, registry)) as http:
        yield http


@pytest.fixture
async def any_client(
    control: FakeControl, any_store: SqlStore, registry: CollectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app on ``any_store`` (SQLite, then PostgreSQL)."""
    async with serve(build_app(control, any_store, registry)) as http:
        yield http


@pytest.fixture
async def open_client(
    control: FakeControl, store: Store, registry: CollectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with no API tokens configured (open read-only mode)."""
    async with serve(build_app(control, store, registry, tokens=False)) as http:
        yield http
