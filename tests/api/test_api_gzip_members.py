"""gzip request bodies as RFC 1952 allows them: several members one after the other (what
``cat a.gz b.gz`` or a streaming shipper that flushes a member per chunk sends) are all
inflated, and a body cut short inside a member is refused, never taken in part."""

from __future__ import annotations

import gzip

import httpx
import pytest
from apifakes import bearer

from vigil.api._gzip import inflate
from vigil.daemon import LogPipeline

FIRST = b"".join(b"worker %d started\n" % i for i in range(3))
SECOND = b"".join(b"disk sda%d full\n" % i for i in range(4))


def push(client: httpx.AsyncClient, body: bytes) -> object:
    return client.post(
        "/api/v1/logs?source=app",
        content=body,
        headers={
            **bearer("operator"),
            "Content-Type": "text/plain",
            "Content-Encoding": "gzip",
        },
    )


async def test_every_member_of_a_multi_member_gzip_push_is_counted(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    # the second member's lines were dropped without a word: 200 with 3 lines of 7
    resp = await push(client, gzip.compress(FIRST) + gzip.compress(SECOND))  # type: ignore[misc]
    assert resp.status_code == 200, resp.text
    assert resp.json()["lines"] == 7


async def test_a_gzip_body_cut_short_is_refused_and_nothing_is_counted(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    whole = gzip.compress(FIRST + SECOND)
    resp = await push(client, whole[: len(whole) - 12])  # type: ignore[misc]
    assert resp.status_code == 400, resp.text
    assert resp.json()["detail"].startswith("body: Content-Encoding is gzip but the body is not")
    page = (await client.get("/api/v1/logs/templates", headers=bearer("viewer"))).json()
    assert page["total"] == 0


def test_the_inflated_size_bound_holds_across_members() -> None:
    body = gzip.compress(b"a" * 600) + gzip.compress(b"b" * 600)
    assert inflate(body, 1200) == b"a" * 600 + b"b" * 600
    with pytest.raises(OverflowError):
        inflate(body, 1000)
