"""Prometheus text exposition: parsing with prometheus_client's parser, and scraping over HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from vigil.collectors import Sample, parse_exposition, scrape
from vigil.collectors import _prom as prom
from vigil.collectors._prom import parse_query_result
from vigil.errors import BackendError, InputError

DCGM = """\
# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-aaaa",device="nvidia0",Hostname="node-1"} 87
DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-bbbb",device="nvidia1",Hostname="node-1"} 3
# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).
# TYPE DCGM_FI_DEV_GPU_TEMP gauge
DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-aaaa",device="nvidia0",Hostname="node-1"} 71
# HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.
# TYPE DCGM_FI_DEV_XID_ERRORS gauge
DCGM_FI_DEV_XID_ERRORS{gpu="0",UUID="GPU-aaaa",device="nvidia0",Hostname="node-1"} 79 1700000000000
"""


def registry_text() -> str:
    registry = CollectorRegistry()
    Counter("requests", "Requests served", ["route"], registry=registry).labels("/v1").inc(3)
    Gauge("queue_depth", "Waiting requests", registry=registry).set(4.5)
    Histogram("latency_seconds", "Latency", buckets=(0.1, 1.0), registry=registry).observe(0.5)
    return generate_latest(registry).decode()


def test_a_prometheus_client_registry_round_trips_into_samples() -> None:
    samples = parse_exposition(registry_text(), at=100.0)
    got = {(s.name, s.labels): s.value for s in samples}
    assert got[("requests_total", (("route", "/v1"),))] == 3.0
    assert got[("queue_depth", ())] == 4.5
    assert got[("latency_seconds_bucket", (("le", "0.1"),))] == 0.0
    assert got[("latency_seconds_bucket", (("le", "1.0"),))] == 1.0
    assert got[("latency_seconds_bucket", (("le", "+Inf"),))] == 1.0
    assert got[("latency_seconds_count", ())] == 1.0
    assert got[("latency_seconds_sum", ())] == 0.5
    assert {s.at for s in samples} == {100.0}


def test_dcgm_exporter_text_keeps_labels_and_an_explicit_timestamp_wins() -> None:
    samples = parse_exposition(DCGM, at=100.0)
    util = [s for s in samples if s.name == "DCGM_FI_DEV_GPU_UTIL"]
    assert [(s.label("gpu"), s.value) for s in util] == [("0", 87.0), ("1", 3.0)]
    assert util[0].labels_dict == {
        "gpu": "0",
        "UUID": "GPU-aaaa",
        "device": "nvidia0",
        "Hostname": "node-1",
    }
    xid = next(s for s in samples if s.name == "DCGM_FI_DEV_XID_ERRORS")
    assert (xid.value, xid.at) == (79.0, 1_700_000_000.0)


def test_nan_values_are_dropped_unless_asked_for() -> None:
    text = "idle_ratio NaN\nbusy 1\n"
    assert [s.name for s in parse_exposition(text, at=1.0)] == ["busy"]
    kept = parse_exposition(text, at=1.0, keep_nan=True)
    assert [s.name for s in kept] == ["idle_ratio", "busy"]


def test_a_malformed_body_raises_input_error_naming_the_line() -> None:
    text = '# TYPE a gauge\na 1\nb{x="1"} not-a-number\nc 3\n'
    with pytest.raises(InputError) as caught:
        parse_exposition(text, at=1.0, source="http://node-1:9400/metrics")
    message = str(caught.value)
    assert message.startswith("http://node-1:9400/metrics:3: not Prometheus text exposition")
    assert 'b{x="1"} not-a-number' in message


async def test_scrape_fetches_parses_and_stamps_with_the_clock() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, text=DCGM)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        samples = await scrape(
            "http://node-1:9400/metrics", timeout=2.0, client=client, clock=lambda: 50.0
        )
    assert seen == ["http://node-1:9400/metrics"]
    assert (
        Sample.of(
            "DCGM_FI_DEV_GPU_TEMP",
            71,
            50.0,
            {"gpu": "0", "UUID": "GPU-aaaa", "device": "nvidia0", "Hostname": "node-1"},
        )
        in samples
    )


async def test_scrape_reports_http_errors_and_unreachable_exporters_as_backend_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/down":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(503, text="busy")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(BackendError, match=r"scrape http://x/metrics: HTTP 503"):
            await scrape("http://x/metrics", timeout=1.0, client=client)
        with pytest.raises(BackendError, match=r"scrape http://x/down: ConnectError"):
            await scrape("http://x/down", timeout=1.0, client=client)


async def test_scrape_reports_a_malformed_body_with_the_url_and_line() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="ok 1\n}{ 2\n"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(InputError, match=r"^http://x/metrics:2: "):
            await scrape("http://x/metrics", timeout=1.0, client=client)


@pytest.mark.parametrize("metric", [["x"], "up", 3, None])
def test_a_query_result_whose_metric_is_not_an_object_is_an_input_error(metric: object) -> None:
    answer = {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": metric, "value": [1, "2"]}]},
    }
    with pytest.raises(InputError, match=r"q on prom: malformed result .*not an object"):
        parse_query_result(answer, "q", source="q on prom")


async def fetch_fails(
    serve: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    source: str,
    seconds: float,
    match: str,
) -> None:
    """A scrape (``source`` "scrape") or an instant query ("query") of a loopback server that
    answers with ``serve``, its timeout ``seconds``, fails with a BackendError matching
    ``match``."""
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server, httpx.AsyncClient() as client:
        with pytest.raises(BackendError, match=match):
            if source == "scrape":
                await scrape(base + "/metrics", timeout=seconds, client=client)
            else:
                await prom.query(base, "up", name="up", timeout=seconds, client=client)


@pytest.mark.parametrize("source", ["scrape", "query"])
async def test_a_server_answering_without_end_is_cut_at_the_body_limit(
    monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    # the whole body was read before it was measured: an exporter (or a Prometheus server)
    # streaming for ever, each chunk well within the timeout, grew the reader's memory until
    # it was killed
    monkeypatch.setattr(prom, "MAX_SCRAPE_BODY", 1 << 20)
    sent = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n")
        writer.write(b"transfer-encoding: chunked\r\n\r\n")
        line = b"up 1\n" * 13000  # ~64 KiB per chunk
        try:
            while True:
                writer.write(b"%x\r\n%s\r\n" % (len(line), line))
                await writer.drain()
                sent += len(line)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    await fetch_fails(serve, source, 5.0, r"body over 1048576 bytes; not read further")
    assert sent < 64 << 20  # stopped near the limit, not at the end of a body that has none


@pytest.mark.parametrize("source", ["scrape", "query"])
async def test_a_server_trickling_its_answer_is_cut_at_the_timeout_for_the_whole_fetch(
    source: str,
) -> None:
    # httpx applies the timeout to each read: a server sending a byte every 0.2 s (a stuck
    # exporter, a proxy trickling) held a 1 s scrape for as long as it trickled, the source's
    # loop waiting without a word; Prometheus' scrape_timeout bounds the whole scrape
    body = (
        b"up 1\n"
        if source == "scrape"
        else b'{"status":"success","data":{"resultType":"vector","result":[]}}'
    )
    padding = 30  # 30 x 0.2 s: six times the timeout

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n")
        writer.write(b"content-length: %d\r\n\r\n" % (padding + len(body)))
        try:
            for _ in range(padding):
                writer.write(b"\n" if source == "scrape" else b" ")
                await writer.drain()
                await asyncio.sleep(0.2)
            writer.write(body)
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    await fetch_fails(serve, source, 1.0, r"timed out after 1s")


@pytest.mark.parametrize("source", ["scrape", "query"])
async def test_a_big_answer_is_parsed_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    # Parsed on the loop, 100,000 exposition lines (5 MB) stood the controller's event loop
    # still ~5 s (heartbeats unread, the API silent); now a worker thread parses them.
    lines = 20_000
    if source == "scrape":
        body = "".join(f'x{{i="{i}"}} {i}\n' for i in range(lines)).encode()
    else:
        result = [{"metric": {"i": str(i)}, "value": [100.0, str(i)]} for i in range(lines)]
        body = json.dumps(
            {"status": "success", "data": {"resultType": "vector", "result": result}}
        ).encode()
    threads: list[int] = []
    name = "parse_exposition" if source == "scrape" else "parse_query_result"
    parse = getattr(prom, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return parse(*args, **kwargs)

    monkeypatch.setattr(prom, name, spy)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n"
        writer.write(head % len(body) + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server, httpx.AsyncClient() as client:
        if source == "scrape":
            got = await scrape(base + "/m", timeout=30.0, client=client, labels={"job": "j"})
        else:
            got = await prom.query(base, "x", name="x", timeout=30.0, client=client)
    assert len(got) == lines and got[7].value == 7.0
    assert source == "query" or got[7].labels_dict == {"i": "7", "job": "j"}
    assert threads and threading.get_ident() not in threads


def test_a_query_whose_series_differ_only_by_name_is_refused_saying_how_to_fix_it() -> None:
    # stored under one name without __name__, the second was refused as "not newer than the
    # last one; out-of-order and duplicate samples are dropped", at every round, unexplained
    result = [
        {"metric": {"__name__": "gpu_temp", "gpu": "0"}, "value": [100.0, "71"]},
        {"metric": {"__name__": "mem_temp", "gpu": "0"}, "value": [100.0, "64"]},
        {"metric": {"__name__": "gpu_temp", "gpu": "1"}, "value": [100.0, "70"]},
    ]
    answer = {"status": "success", "data": {"resultType": "vector", "result": result}}
    with pytest.raises(
        InputError, match=r"^q on prom: 2 series of the result have the labels"
    ) as caught:
        parse_query_result(answer, "temps", source="q on prom")
    assert '{gpu="0"}' in str(caught.value) and "label_replace" in str(caught.value)
