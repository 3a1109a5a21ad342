"""Fixtures for the API tests: a fake control plane, a real SQLite store, clients per mode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from apifakes import FakeControl, build_app
from prometheus_client import CollectorRegistry

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
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def client(
    control: FakeControl, store: Store, registry: CollectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(control, store, registry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
        yield http


@pytest.fixture
async def open_client(
    control: FakeControl, store: Store, registry: CollectorRegistry
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with no API tokens configured (open read-only mode)."""
    app = build_app(control, store, registry, tokens=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vigil.test") as http:
        yield http
