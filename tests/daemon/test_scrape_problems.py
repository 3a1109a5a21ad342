"""A scraped exporter with an infinite gauge, and a source whose samples are partly refused and
which then goes down: what is stored and what is said, over real sockets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import httpx
import pytest

from vigil.collectors import Sample, SeriesStore
from vigil.daemon._scrape import SourceLoop
from vigil.settings import ScrapeTarget


class Exporter:
    """A real HTTP server on a socket answering ``status`` and ``body``; tests change them."""

    def __init__(self) -> None:
        self.status, self.body = 200, b""
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = f"HTTP/1.1 {self.status} X\r\ncontent-type: text/plain\r\n"
        writer.write(f"{head}content-length: {len(self.body)}\r\n\r\n".encode() + self.body)
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/metrics"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def loop_into(series: SeriesStore, url: str, now: list[float]) -> SourceLoop:
    def ingest(samples: Sequence[Sample]) -> list[str]:
        return [str(e) for e in series.add_all(samples)]

    return SourceLoop(ScrapeTarget(name="exp", url=url), ingest, clock=lambda: now[0])


@pytest.mark.parametrize("value", ["+Inf", "-Inf"])
async def test_an_infinite_gauge_is_dropped_like_nan_and_the_source_is_not_failing(
    value: str,
) -> None:
    # NaN was dropped at the parse but +-Inf went on to the store, which refuses it: the source
    # was reported failing for good ("1 of 3 samples not stored") by one legitimate line
    exporter = Exporter()
    exporter.body = f"a 1\nb {value}\nc NaN\nd 2\n".encode()
    series, now = SeriesStore(100, 10), [10.0]
    async with exporter as url, httpx.AsyncClient() as client:
        loop = loop_into(series, url, now)
        await loop.once(client)
    assert loop.failing is None
    assert [k.name for k in series.series()] == ["a", "d"]


async def test_a_source_going_down_is_reported_even_while_some_of_its_samples_were_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A source whose samples were partly refused (a series given twice) was "failing"; when
    # the exporter then went down, nothing was said: only a change from working was reported
    exporter = Exporter()
    exporter.body = b'a 1\nb{x="1"} 2\nb{x="1"} 3\n'
    series, now = SeriesStore(100, 10), [10.0]
    caplog.set_level(logging.INFO, "vigil.daemon")
    async with exporter as url, httpx.AsyncClient() as client:
        loop = loop_into(series, url, now)
        for now[0], status in ((10.0, 200), (20.0, 200), (30.0, 503), (40.0, 503), (50.0, 200)):
            exporter.status = status
            await loop.once(client)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 3, said
    assert "1 of 3 samples not stored" in said[0]
    assert "HTTP 503" in said[1] and "reported once until it recovers" in said[1]
    assert "1 of 3 samples not stored" in said[2]  # back up, still with its doubled series


async def test_a_line_repeating_its_own_timestamp_is_not_a_refusal() -> None:
    # cAdvisor (the kubelet's /metrics/cadvisor) and /federate stamp their lines; scraped
    # again before they refresh, a line repeats its time. Prometheus ignores such a repeat;
    # here the store refused it as "not newer than the last one" and the source was failing
    exporter = Exporter()
    stamped = 'container_cpu_usage_seconds_total{{id="/a"}} {v} {ms}\n'
    series, now = SeriesStore(100, 10), [1000.0]
    async with exporter as url, httpx.AsyncClient() as client:
        loop = loop_into(series, url, now)
        for now[0], value, ms in (
            (1000.0, 5, 999_000),
            (1010.0, 5, 999_000),
            (1020.0, 7, 1_015_000),
        ):
            exporter.body = (stamped.format(v=value, ms=ms) + "up 1\n").encode()
            await loop.once(client)
            assert loop.failing is None, loop.failing
    [cpu] = series.match("container_cpu_usage_seconds_total")
    assert series.query(cpu.name, dict(cpu.labels)) == [(999.0, 5.0), (1015.0, 7.0)]
    assert loop.stored == 5  # 2 + 1 + 2: the repeat is not counted as stored either


async def test_labels_of_the_exporter_that_the_target_sets_too_are_kept_as_exported() -> None:
    # A Pushgateway or a /federate endpoint labels its series with their own job (and
    # kube-state-metrics with node): the target's job / node overwrote them, two jobs' series
    # became one (the second refused at every round as not newer) and the job was lost.
    # As Prometheus does (honor_labels: false), the exporter's are kept as exported_<name>.
    exporter = Exporter()
    exporter.body = b'up{job="a",instance="x"} 1\nup{job="b",instance="x"} 0\nup{instance="y"} 1\n'
    series, now = SeriesStore(100, 10), [10.0]
    async with exporter as url, httpx.AsyncClient() as client:
        loop = loop_into(series, url, now)
        await loop.once(client)
    assert loop.failing is None, loop.failing
    assert [dict(k.labels) for k in series.match("up")] == [
        {"exported_job": "a", "instance": "x", "job": "exp"},
        {"exported_job": "b", "instance": "x", "job": "exp"},
        {"instance": "y", "job": "exp"},
    ]


async def test_a_big_answer_is_stored_in_chunks_with_the_loop_free_between_them() -> None:
    # stored in one go, 100,000 lines held the controller's loop seconds at a minute boundary
    exporter = Exporter()
    exporter.body = "".join(f'm{{i="{i}"}} {i}\n' for i in range(5000)).encode()
    seen: list[int] = []  # the other task's ticks at each chunk
    ticks = 0

    async def other_work() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    def ingest(samples: Sequence[Sample]) -> list[str]:
        seen.append(ticks)
        return []

    async with exporter as url, httpx.AsyncClient() as client:
        loop = SourceLoop(ScrapeTarget(name="exp", url=url), ingest, clock=lambda: 10.0)
        ticker = asyncio.create_task(other_work())
        try:
            await loop.once(client)
        finally:
            ticker.cancel()
    assert loop.stored == 5000 and len(seen) == 3
    assert seen[0] < seen[1] < seen[2]  # the other task ran between two chunks
