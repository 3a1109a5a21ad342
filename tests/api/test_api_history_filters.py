"""History filters (``?subject=``, ``?kind=``) holding a control character are a 422 naming the
query field, on SQLite as on PostgreSQL, where the store refused the NUL and the listing
answered 500."""

from __future__ import annotations

import httpx
import pytest
from apifakes import bearer

from vigil.store import SqlStore


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
    any_client: httpx.AsyncClient, query: str, field: str
) -> None:
    resp = await any_client.get(query, headers=bearer("viewer"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"].startswith(f"query.{field}: must not hold control characters")


async def test_a_plain_filter_still_lists(
    any_client: httpx.AsyncClient, any_store: SqlStore
) -> None:
    any_store.append_event(1.0, "replica.exited", "replica:web/0", {})
    resp = await any_client.get("/api/v1/events?subject=replica:web/0", headers=bearer("viewer"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["total"] == 1
