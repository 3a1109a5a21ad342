"""A scraped exporter whose lines carry a time that is not a number: the sample is refused and
said so; the other series' rollups all reach a real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest

from vigil.collectors import Sample, SeriesStore
from vigil.daemon._rollups import RollupFlusher
from vigil.daemon._scrape import SourceLoop
from vigil.settings import MetricsSettings, ScrapeTarget
from vigil.store import SqlStore

GOOD = 50


async def _exporter(body: bytes) -> tuple[asyncio.Server, int]:
    """A real exporter on a socket: answers every request with ``body`` as text exposition."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"Connection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    db = SqlStore(f"sqlite:///{tmp_path / 'v.db'}")
    yield db
    db.close()


@pytest.mark.parametrize("stamp", ["NaN", "+Inf", "-Inf"])
async def test_a_line_stamped_with_a_time_that_is_not_a_number_loses_no_other_rollup(
    store: SqlStore, stamp: str
) -> None:
    # The line's time (NaN / 1000) was stored as the series' time; its minute bucket, start
    # NaN, reached the store with the others and the database refused the whole transaction
    # (NOT NULL constraint failed: rollups.start): every series' minute was lost.
    lines = [f'up{{i="{i}"}} 1' for i in range(GOOD)] + [f"odd 1 {stamp}"]
    server, port = await _exporter(("\n".join(lines) + "\n").encode())
    series = SeriesStore(1000, 10, keep_closed=True)
    now = [10.0]

    def ingest(samples: Sequence[Sample]) -> list[str]:
        return [str(e) for e in series.add_all(samples)]

    target = ScrapeTarget(name="exp", url=f"http://127.0.0.1:{port}/metrics")
    loop = SourceLoop(target, ingest, clock=lambda: now[0])
    flusher = RollupFlusher(series, store, MetricsSettings())
    try:
        async with httpx.AsyncClient() as client:
            for now[0] in (10.0, 70.0):  # the second minute closes the first one's buckets
                await loop.once(client)
    finally:
        server.close()
        await server.wait_closed()
    assert loop.stored == 2 * GOOD
    assert loop.failing is not None and "odd" in loop.failing
    assert "time" in loop.failing and "not a finite number" in loop.failing
    await flusher.flush()
    assert flusher.lost == 0
    assert len(store.load_rollups("up", {}, 60, 0, 1e12)) == GOOD
