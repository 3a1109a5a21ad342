"""Prometheus text exposition as a source: parse a scrape body into samples, or scrape a URL.

Exporters (node_exporter, DCGM exporter, vLLM's ``/metrics``) are scraped by the node agent and
the controller's metrics pipeline. Parsing is prometheus_client's own parser
(:func:`prometheus_client.parser.text_string_to_metric_families`); this module only maps its
output to :class:`Sample` and its errors to :class:`vigil.errors.InputError` naming the line.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from vigil.collectors._sample import Sample
from vigil.errors import BackendError, InputError

MAX_SCRAPE_BODY = 16 * 1024 * 1024
"""Bytes of a scrape body accepted (Prometheus' own default limit is unlimited; vLLM and DCGM
exporters answer in well under 1 MB, so 16 MB means something is wrong)."""


def _families(text: str) -> list[tuple[str, dict[str, str], float, float | None]]:
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

    NaN values (a summary with no observations, an idle gauge) are dropped unless ``keep_nan``:
    the series store and the detectors reject them. A malformed body raises
    :class:`~vigil.errors.InputError` as ``source:line: problem: the line``.
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
        if keep_nan or not math.isnan(value)
    ]


async def scrape(
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 - httpx enforces it per phase; part of the contract
    client: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
) -> list[Sample]:
    """GET ``url`` and parse the body; the samples are stamped with the time the answer came.

    Pass a long-lived ``client`` to reuse connections (one is created and closed otherwise).
    Transport failures, non-2xx answers and oversized bodies raise
    :class:`~vigil.errors.BackendError`; a malformed body raises :class:`~vigil.errors.InputError`.
    """
    own = client is None
    http = httpx.AsyncClient() if client is None else client
    try:
        response = await http.get(
            url, timeout=timeout, headers={"Accept": "text/plain;version=0.0.4"}
        )
    except httpx.HTTPError as exc:
        raise BackendError(f"scrape {url}: {type(exc).__name__}: {exc}") from exc
    finally:
        if own:
            await http.aclose()
    if not response.is_success:
        raise BackendError(f"scrape {url}: HTTP {response.status_code}")
    if len(response.content) > MAX_SCRAPE_BODY:
        raise BackendError(
            f"scrape {url}: body of {len(response.content)} bytes > {MAX_SCRAPE_BODY}"
        )
    return parse_exposition(response.text, clock(), source=url)
