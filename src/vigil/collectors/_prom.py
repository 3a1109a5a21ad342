"""Prometheus text exposition as a source: parse a scrape body into samples, or scrape a URL.

Exporters (node_exporter, DCGM exporter, vLLM's ``/metrics``) are scraped by the node agent and
the controller's metrics pipeline. Parsing is prometheus_client's own parser
(:func:`prometheus_client.parser.text_string_to_metric_families`); this module only maps its
output to :class:`Sample` and its errors to :class:`vigil.errors.InputError` naming the line.

httpx and prometheus_client are imported when a scrape, a query or a parse runs, not with the
module: ``vigil.collectors`` is imported by every node agent, which scrapes nothing and does
not use httpx (~5 MB of its memory, issue 5).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from vigil.collectors._sample import Sample
from vigil.errors import BackendError, InputError

if TYPE_CHECKING:
    import httpx

MAX_SCRAPE_BODY = 16 * 1024 * 1024
"""Bytes of a scrape body accepted (Prometheus' own default limit is unlimited; vLLM and DCGM
exporters answer in well under 1 MB, so 16 MB means something is wrong)."""


def redacted(url: str) -> str:
    """``url`` as it may be shown: the password of its userinfo (``http://user:pass@host``,
    basic auth, the one way to reach a protected exporter) replaced by ``<secret>``, as
    Prometheus shows it. Every problem of a source names its URL, and it went to the log whole."""
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL urllib can split (an unclosed '['): hide the userinfo whole
        scheme, sep, rest = url.partition("://")
        return f"{scheme}{sep}<secret>@{rest.rpartition('@')[2]}"
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:<secret>@{host}"))


def _families(text: str) -> list[tuple[str, dict[str, str], float, float | None]]:
    from prometheus_client.parser import text_string_to_metric_families

    return [
        (s.name, s.labels, float(s.value), None if s.timestamp is None else float(s.timestamp))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def _first_bad_line(text: str) -> tuple[int, str] | None:
    """Re-parse line by line to find the one the parser rejected (only on the error path)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            _families(line + "\n")
        except Exception:  # the parser raises ValueError, IndexError, KeyError...
            return number, line
    return None


def parse_exposition(
    text: str, at: float, *, source: str = "exposition", keep_nan: bool = False
) -> list[Sample]:
    """Samples of a Prometheus text exposition, stamped ``at`` unless a line carries its own time.

    NaN and infinite values (a summary with no observations, an idle gauge, a limit of +Inf)
    are dropped unless ``keep_nan``, as a query's are: the series store and the detectors
    reject them (kept, an infinite gauge had its source reported failing for good). A
    malformed body raises :class:`~vigil.errors.InputError` as ``source:line: problem: the
    line``.
    """
    try:
        rows = _families(text)
    except Exception as exc:  # prometheus_client raises plain ValueError and friends
        bad = _first_bad_line(text)
        where = f"{source}:{bad[0]}" if bad else source
        shown = f": {bad[1][:200]!r}" if bad else ""
        raise InputError(f"{where}: not Prometheus text exposition ({exc}){shown}") from exc
    return [
        Sample.of(name, value, at if stamp is None else stamp, labels)
        for name, labels, value, stamp in rows
        if keep_nan or math.isfinite(value)
    ]


@contextlib.asynccontextmanager
async def _bounded(timeout: float, what: str) -> AsyncIterator[None]:  # noqa: ASYNC109
    """``timeout`` for the whole fetch, as Prometheus' ``scrape_timeout``: httpx applies its own
    to each phase (each read), so a server trickling its answer a byte at a time held a fetch,
    and its source's loop, for as long as it trickled, with nothing said."""
    try:
        async with asyncio.timeout(timeout):
            yield
    except TimeoutError as exc:
        raise BackendError(f"{what}: timed out after {timeout:g}s") from exc


async def _body(response: httpx.Response, what: str) -> bytes:
    """The body of a streamed ``response``, read up to :data:`MAX_SCRAPE_BODY` bytes: it was
    read whole before it was measured, so a server answering without end (each chunk within
    the timeout) grew the controller's memory until it was killed."""
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_SCRAPE_BODY:
            raise BackendError(f"{what}: body over {MAX_SCRAPE_BODY} bytes; not read further")
        chunks.append(chunk)
    return b"".join(chunks)


async def scrape(
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 - httpx enforces it per phase; part of the contract
    client: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
    labels: Mapping[str, str] | None = None,
) -> list[Sample]:
    """GET ``url`` and parse the body; the samples are stamped with the time the answer came.

    ``labels`` are added to every sample (an exposition's own label of one of their names is
    kept as ``exported_<name>``, as Prometheus does). Pass a long-lived
    ``client`` to reuse connections (one is created and closed otherwise). The body is parsed
    in a worker thread: 100,000 lines (5 MB) took ~5 s of pure Python, during which the
    controller's event loop (heartbeats, the API) stood still. Transport failures, non-2xx
    answers and oversized bodies raise :class:`~vigil.errors.BackendError`; a malformed body
    raises :class:`~vigil.errors.InputError`.
    """
    import httpx

    own = client is None
    http = httpx.AsyncClient() if client is None else client
    shown = redacted(url)
    try:
        headers = {"Accept": "text/plain;version=0.0.4"}
        async with (
            _bounded(timeout, f"scrape {shown}"),
            http.stream("GET", url, timeout=timeout, headers=headers) as response,
        ):
            if not response.is_success:
                raise BackendError(f"scrape {shown}: HTTP {response.status_code}")
            body = await _body(response, f"scrape {shown}")
            charset = response.charset_encoding or "utf-8"
    except httpx.HTTPError as exc:
        raise BackendError(f"scrape {shown}: {type(exc).__name__}: {exc}") from exc
    finally:
        if own:
            await http.aclose()
    return await asyncio.to_thread(_parse_body, body, charset, clock(), shown, labels or {})


def _parse_body(
    body: bytes, charset: str, at: float, url: str, labels: Mapping[str, str]
) -> list[Sample]:
    """A scrape body's samples with ``labels`` added (run in a worker thread by :func:`scrape`)."""
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know: as httpx, fall back to UTF-8
        text = body.decode("utf-8", errors="replace")
    samples = parse_exposition(text, at, source=url)
    if not labels:
        return samples
    return [Sample.of(s.name, s.value, s.at, _relabel(s.labels_dict, labels)) for s in samples]


def _relabel(own: dict[str, str], labels: Mapping[str, str]) -> dict[str, str]:
    """``own`` with ``labels`` set, an exporter's label of the same name kept as
    ``exported_<name>`` (Prometheus' ``honor_labels: false``): a Pushgateway's or a
    ``/federate``'s ``job`` was overwritten, and two jobs' series became one."""
    for key, value in labels.items():
        if own.get(key):
            own[f"exported_{key}"] = own[key]
        own[key] = value
    return own


def parse_query_result(
    payload: object, name: str, *, source: str, labels: dict[str, str] | None = None
) -> list[Sample]:
    """Samples of a Prometheus ``/api/v1/query`` answer, each stored as ``name``.

    A vector gives one sample per element (its labels, minus ``__name__``, plus ``labels``); a
    scalar gives one sample. NaN and infinite values are dropped. Anything else (an error answer,
    a matrix, a string, two series with one label set once ``__name__`` is dropped) raises
    :class:`~vigil.errors.InputError` naming ``source``.
    """
    extra = labels or {}
    if not isinstance(payload, dict):
        raise InputError(f"{source}: answer is not a JSON object")
    if payload.get("status") != "success":
        raise InputError(
            f"{source}: Prometheus answered {payload.get('errorType', 'an error')}: "
            f"{payload.get('error', payload)}"
        )
    data = payload.get("data")
    if not isinstance(data, dict):
        raise InputError(f"{source}: answer has no data object")
    kind, result = data.get("resultType"), data.get("result")
    rows: list[tuple[Any, Any]]
    try:
        if kind == "scalar" and isinstance(result, list):
            rows = [({}, result)]
        elif kind == "vector" and isinstance(result, list):
            rows = [(item["metric"], item["value"]) for item in result]
        else:
            raise InputError(
                f"{source}: result type {kind!r} is not supported (use a query that gives an "
                "instant vector or a scalar, e.g. wrap a range in rate() or avg_over_time())"
            )
        samples = []
        for metric, (stamp, text) in rows:
            if not isinstance(metric, dict):  # .items() below: an AttributeError killed the loop
                raise TypeError(f"a result's metric is {type(metric).__name__}, not an object")
            value = float(text)
            if not math.isfinite(value):
                continue
            tags = {str(k): str(v) for k, v in metric.items() if k != "__name__"}
            samples.append(Sample.of(name, value, float(stamp), {**tags, **extra}))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{source}: malformed result ({type(exc).__name__}: {exc})") from exc
    _distinct(samples, source)
    return samples


def _distinct(samples: list[Sample], source: str) -> None:
    """InputError when two samples of a result are one series once ``__name__`` is dropped
    (``{__name__=~"a|b"}``): stored under one name, all but the first were refused at every
    round as "not newer than the last one", which said nothing of the query."""
    if len({s.labels for s in samples}) == len(samples):
        return
    seen: dict[tuple[tuple[str, str], ...], int] = {}
    for s in samples:
        seen[s.labels] = seen.get(s.labels, 0) + 1
    labels, count = max(seen.items(), key=lambda item: item[1])
    shown = "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}"
    raise InputError(
        f"{source}: {count} series of the result have the labels {shown} once their metric "
        "name is dropped, and would be stored as one: query one metric, or tell them apart "
        'with label_replace(..., "metric", "$1", "__name__", "(.*)")'
    )


async def query(
    server: str,
    promql: str,
    *,
    name: str,
    timeout: float,  # noqa: ASYNC109 - httpx enforces it per phase; part of the contract
    client: httpx.AsyncClient,
    labels: dict[str, str] | None = None,
) -> list[Sample]:
    """Run the instant query ``promql`` on the Prometheus server at ``server`` (its base URL).

    Transport failures and non-JSON answers raise :class:`~vigil.errors.BackendError`; a query
    Prometheus rejects (HTTP 400/422 with an error body) raises :class:`~vigil.errors.InputError`.
    """
    import httpx

    url = server.rstrip("/") + "/api/v1/query"
    server = redacted(server)  # as shown in every problem from here on
    source = f"query {promql!r} on {server}"
    try:
        params = {"query": promql}
        async with (
            _bounded(timeout, source),
            client.stream("GET", url, params=params, timeout=timeout) as response,
        ):
            body = await _body(response, source)
    except httpx.HTTPError as exc:
        raise BackendError(f"{source}: {type(exc).__name__}: {exc}") from exc
    # in a worker thread, as scrape()'s parse: a big answer must not stall the event loop
    return await asyncio.to_thread(
        _parse_answer, body, response.status_code, name, server, source, labels
    )


def _parse_answer(
    body: bytes,
    status: int,
    name: str,
    server: str,
    source: str,
    labels: dict[str, str] | None,
) -> list[Sample]:
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise BackendError(
            f"{source}: HTTP {status}, not JSON (is {server} a Prometheus server?)"
        ) from exc
    if status >= 500:
        raise BackendError(f"{source}: HTTP {status}: {payload}")
    return parse_query_result(payload, name, source=source, labels=labels)
