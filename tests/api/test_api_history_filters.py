"""History filters (``?subject=``, ``?kind=``) holding a control character are a 422 naming the
query field, on SQLite as on PostgreSQL, where the store refused the NUL and the listing
answered 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from apifakes import FakeControl, bearer, build_app, serve
from prometheus_client import CollectorRegistry

from vigil.store import SqlStore


@pytest.fixture
async def api(control: FakeControl, any_store: SqlStore) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(control, any_store, CollectorRegistry())
    async with serve(app) as http:
        yield http


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/api/v1/incidents?subject=replica:web/0%00", "subject"),
        ("/api/v1/events?subject=%00", "subject"),
        ("/api/v1/events?kind=replica.exited%00", "kind"),
        ("/api/v1/actions?subject=a%00b", "subject"),
    ],
)
async def test_a_filter_with_a_control_character_is_a_422_naming_it(
    api: httpx.AsyncClient, query: str, field: str
) -> None:
    resp = await api.get(query, headers=bearer("viewer"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"].startswith(f"query.{field}: must not hold control characters")


async def test_a_plain_filter_still_lists(api: httpx.AsyncClient, any_store: SqlStore) -> None:
    any_store.append_event(1.0, "replica.exited", "replica:web/0", {})
    resp = await api.get("/api/v1/events?subject=replica:web/0", headers=bearer("viewer"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["total"] == 1
