"""Fixtures for the backend tests: a unique Vigil instance per test, and no process left behind."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from vigil.backends.local import LocalBackend

from ._helpers import kill_everything_of, marked


@pytest.fixture
async def instance() -> AsyncIterator[str]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    await kill_everything_of(name)
    assert marked(name) == []


@pytest.fixture
async def backend(instance: str) -> AsyncIterator[LocalBackend]:
    b = LocalBackend(instance)
    yield b
    await kill_everything_of(instance)
    b.close()
