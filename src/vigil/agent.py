"""The node agent: sends heartbeats (with a little host info) to the controller, and ships logs.

Run by ``vigil agent`` on every node, and by the demo, tests and benchmarks as a real process.
Heartbeats go out at a fixed rate (start-to-start), so a slow controller answer does not stretch
the interval; the controller's answer sets the interval it expects.

With log files to follow (``logs.sources`` of its node, or ``--log``), a second loop reads them
every ``poll_every`` through :class:`vigil.collectors.LogEdge` (mining at the edge) and sends one
batch of templates + counts + samples every ``ship_every`` to ``POST /api/v1/logs/batches``, on
its own request: a log batch must not delay a heartbeat, and unlike host samples it is never
dropped: it is sent again until the controller has it (see :mod:`vigil.collectors._logedge`).

Samples ride on the heartbeats in batches of at most :data:`MAX_BATCH`, gzip-compressed when the
body is worth it. Back-pressure: samples wait in a bounded buffer (``max_buffered``); while the
controller is down or slow they pile up there, and past the bound the *oldest* are dropped and
counted in ``dropped``, so memory never grows without bound and the newest data goes first. A
source that raises gives no samples that round (logged when it starts and stops failing); the
heartbeat goes out regardless.

Requests go through the agent's own HTTP client (:mod:`vigil._agent_http`, standard library
only; httpx behind a proxy), and the settings models are imported only with ``--config``: the
agent's memory is issue 5's target (< 60 MB), and these two were ~20 MB of it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import random
import socket
import sys
import time
import urllib.parse
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from vigil._agent_http import HttpError, agent_client
from vigil._agent_retry import SampleRetry
from vigil.collectors import EdgeSourceSpec, LogEdge, Sample, host_facts
from vigil.errors import InputError
from vigil.logs import LogFormat, LogFormatError
from vigil.model import source_label

if TYPE_CHECKING:  # the settings models (pydantic, ~14 MB) load only with --config (issue 5)
    from vigil.settings import LogsSettings

log = logging.getLogger("vigil.agent")

METRICS_EVERY = 1.0
"""Seconds between two batches of host samples (the issue's 1 s resolution)."""
REQUEST_TIMEOUT_SHARE = 0.8
MAX_BUFFERED = 60_000
"""Samples held while the controller is unreachable: ~10 minutes of a 100-series node at 1 Hz
(~15 MB); past it the oldest go first."""
MAX_BATCH = 5_000
"""Samples per heartbeat, under the API's 10,000 (a backlog drains over several beats)."""
COMPRESS_OVER = 1024
"""Bodies at least this big are gzipped: a 50-sample batch shrinks ~8x; tiny ones are not."""
"""A heartbeat request may take at most this share of the interval, so requests never pile up."""
NOT_TAKEN = frozenset({429, 502, 503, 504})
"""Answers that mean the batch was not looked at: too many requests, a proxy in front of a
controller that is restarting (502, 504), the controller's database busy (503). Its samples are
kept, as when the controller cannot be reached; any other refusal drops them (sent again, the
same batch would be refused again)."""
LOG_BATCH_TIMEOUT = 30.0
"""Seconds a log batch request may take: a big batch to a busy controller is slow, not lost."""
LOG_RETRY_MAX = 60.0
"""Longest wait between two log-shipping rounds after errors in a row (the wait doubles from
the poll period per failed round): a lasting fault is tried again each minute, not each poll,
and not logged twice a second."""


LOG_POLL_EVERY = 0.5
"""Seconds between two reads of the followed files without a config (``logs.poll_every``)."""
LOG_SHIP_EVERY = 5.0
"""Seconds between two log batches without a config (``logs.ship_every``)."""
LOG_BATCH_TEMPLATES = 1000
"""Templates per batch without a config (``logs.batch_templates``)."""
LOG_SAMPLES = 3
"""Example lines per template per batch without a config (``logs.samples``)."""
LOG_MAX_LINE_BYTES = 64 * 1024
"""Longer lines are cut, without a config (``logs.max_line_bytes``).

These five are the defaults of :class:`vigil.settings.LogsSettings`, repeated here so an agent
run without ``--config`` never imports the settings models; a test keeps them equal."""


LOG_RETRY_MIN = 0.05
"""The first wait after a failed round when the poll period is shorter (0 included): a fault
never makes the loop spin."""


def retry_delay(every: float, failures: int) -> float:
    """Seconds before the next log-shipping round: ``every`` while it works; after ``failures``
    failed rounds in a row, ``every`` (at least :data:`LOG_RETRY_MIN`) doubled per failure
    after the first, at most :data:`LOG_RETRY_MAX`."""
    if failures <= 0:
        return every
    first = max(every, LOG_RETRY_MIN)
    return max(first, min(LOG_RETRY_MAX, first * 2.0 ** min(failures - 1, 32)))


def host_info() -> dict[str, Any]:
    """What a heartbeat says about the node; placement reads ``memory_free_mb`` and ``cpu_pct``."""
    return dict(host_facts())


def route_address(controller: str) -> str | None:
    """The local address of this host's route to ``controller`` (a URL): what ``vigil agent``
    advertises without ``--advertise-address``. A UDP socket is connected, which picks the
    route and sends nothing; None when the controller's name does not resolve (the controller
    then uses the heartbeat's peer address)."""
    parts = urllib.parse.urlsplit(controller)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname or "", port, type=socket.SOCK_DGRAM)
        family, kind, proto, _, target = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.connect(target)
            return str(probe.getsockname()[0])
    except (OSError, ValueError, IndexError) as exc:
        log.warning(
            "no route to %s to advertise (%s): the controller uses the peer", controller, exc
        )
        return None


def log_edge(
    node: str,
    logs: LogsSettings | None,
    paths: Sequence[str],
    log_format: str,
    state_dir: Path,
) -> LogEdge | None:
    """The agent's log follower: ``logs.sources`` of ``node`` plus ``paths`` (``--log``); None
    when there is no file to follow. InputError naming the source for a bad format or label."""
    specs = [
        EdgeSourceSpec(s.path, s.label, s.format) for s in (logs.for_node(node) if logs else [])
    ]
    specs += [
        EdgeSourceSpec(os.path.abspath(p), source_label(os.path.basename(p) or p), log_format)
        for p in paths
    ]
    if not specs:
        return None
    names: set[str] = set()
    for spec in specs:
        try:
            LogFormat(spec.format)
        except LogFormatError as exc:
            raise InputError(f"log source {spec.path}: {exc}") from exc
        if spec.name in names:
            raise InputError(
                f"log source {spec.path}: another source is also named {spec.name!r}; "
                "give one a name in logs.sources"
            )
        names.add(spec.name)
    return LogEdge(
        specs,
        state_dir / f"logs-{node}.json",
        max_templates=logs.batch_templates if logs else LOG_BATCH_TEMPLATES,
        samples=logs.samples if logs else LOG_SAMPLES,
        max_line_bytes=logs.max_line_bytes if logs else LOG_MAX_LINE_BYTES,
    )


def _json_object(resp: Answer) -> dict[str, Any] | None:
    """The answer's JSON object, or None when it is not one: ``resp.json()`` raised on an HTML
    page, and ``.get`` on a JSON list, out of :meth:`Agent.beat`, ending the agent."""
    try:
        answer = resp.json()
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError both are
        return None
    return answer if isinstance(answer, dict) else None


class Answer(Protocol):
    """What the agent reads of an answer (:class:`vigil._agent_http.Response`, httpx's)."""

    @property
    def status_code(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    def json(self) -> Any: ...


class Client(Protocol):
    """What the agent sends with: :class:`vigil._agent_http.AgentHttp` (its own), or an
    ``httpx.AsyncClient`` (behind a proxy; tests)."""

    def post(
        self,
        url: str,
        *,
        content: bytes | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float,
    ) -> Awaitable[Answer]: ...


def _no_answer() -> tuple[type[BaseException], ...]:
    """The errors of a request that got no answer: the agent's client's, and httpx's when httpx
    is loaded (a client passed in, or the one used behind a proxy). Importing httpx to name
    them would cost the memory its own client saves (issue 5)."""
    httpx = sys.modules.get("httpx")
    return (HttpError,) if httpx is None else (HttpError, httpx.HTTPError)


class MetricSource(Protocol):
    """A collector the agent reads every ``metrics_every`` seconds (host, GPU...)."""

    def collect(self) -> list[Sample]: ...


class Agent:
    def __init__(
        self,
        controller: str,
        name: str,
        token: str | None,
        *,
        interval: float = 1.0,
        jitter: float = 0.0,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        metrics: Sequence[MetricSource] = (),
        metrics_every: float = METRICS_EVERY,
        logs: LogEdge | None = None,
        log_poll_every: float = LOG_POLL_EVERY,
        log_ship_every: float = LOG_SHIP_EVERY,
        max_buffered: int = MAX_BUFFERED,
        compress: bool = True,
        address: str | None = None,
    ) -> None:
        self.address = address
        """Sent with each heartbeat: the address this node wants to be reached at (None: none
        sent, the controller takes the heartbeat's peer address)."""
        self.url = controller.rstrip("/") + "/api/v1/heartbeats"
        self.logs_url = controller.rstrip("/") + "/api/v1/logs/batches"
        self.logs = logs
        self.log_poll_every = log_poll_every
        self.log_ship_every = log_ship_every
        self.log_batches = 0
        self.log_failures = 0
        self.log_refused = 0
        self.metrics = metrics
        self.metrics_every = metrics_every
        self.pushed = 0
        """Samples the controller stored."""
        self.dropped = 0
        self.rejected = 0
        """Samples the controller answered it could not store (each heartbeat's answer)."""
        self._rejecting = False
        self._failing_sources: set[int] = set()
        self._last_metrics = -float("inf")
        self._buffer: deque[dict[str, Any]] = deque(maxlen=max_buffered)
        self.compress = compress
        self.name = name
        self.interval = interval
        self.jitter = jitter
        self.sent = 0
        self.failed = 0
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._rng = random.Random(seed)
        self.retry = SampleRetry(MAX_BATCH, self._rng)
        """When samples ride on a heartbeat again after failures, and how many."""
        self._dropping = False
        self._clock = clock
        self._sleep = sleep

    def _samples(self) -> list[dict[str, Any]]:
        """Collect when a batch is due (every ``metrics_every`` s) into the bounded buffer, and
        take the next batch (oldest first, at most :data:`MAX_BATCH`, none or fewer after
        failures: :class:`vigil._agent_retry.SampleRetry`) to send. They ride on the heartbeat:
        one request a second instead of two."""
        now = self._clock()
        if self.metrics and now - self._last_metrics >= self.metrics_every * 0.9:
            self._last_metrics = now
            self.buffer(
                {"name": s.name, "labels": s.labels_dict, "value": s.value, "at": s.at}
                for source in self.metrics
                for s in self._collect(source)
            )
        count = min(len(self._buffer), self.retry.batch(now))
        return [self._buffer.popleft() for _ in range(count)]

    def _collect(self, source: MetricSource) -> list[Sample]:
        """One source's samples; a source that raises gives none this round (logged when it
        starts failing and when it recovers): a collector's bug must not stop the heartbeats,
        or the node is declared down for it."""
        key = id(source)
        try:
            samples = source.collect()
        except Exception as exc:
            if key not in self._failing_sources:
                self._failing_sources.add(key)
                log.exception("metric source %s failed, skipped until it works: %s", source, exc)
            return []
        if key in self._failing_sources:
            self._failing_sources.discard(key)
            log.info("metric source %s works again", source)
        return samples

    def buffer(self, samples: Iterable[dict[str, Any]]) -> None:
        """Queue samples to send; past ``max_buffered`` the oldest are dropped (counted)."""
        dropped = 0
        for sample in samples:
            if len(self._buffer) == self._buffer.maxlen:
                dropped += 1
            self._buffer.append(sample)
        self._note_dropped(dropped)

    def _requeue(self, batch: list[dict[str, Any]]) -> None:
        """Put an unsent batch back in front of the newer samples, keeping the newest, and
        hold samples back a while (:meth:`SampleRetry.failed`): heartbeats go on without them."""
        keep = self._buffer.maxlen or 0
        merged = batch + list(self._buffer)
        self._note_dropped(max(0, len(merged) - keep))
        self._buffer = deque(merged[-keep:] if keep else [], maxlen=keep)
        self.retry.failed(self._clock(), self.interval)

    def _note_dropped(self, count: int) -> None:
        """Count samples dropped for room; log when dropping starts (and, in
        :meth:`_sent`, when it stops), not for every heartbeat."""
        if count and not self._dropping:
            log.warning(
                "%d samples buffered (the bound): the oldest are dropped until the controller "
                "takes them again (%d dropped so far)",
                self._buffer.maxlen,
                self.dropped + count,
            )
        self._dropping = self._dropping or count > 0
        self.dropped += count

    @property
    def buffered(self) -> int:
        """Samples waiting to be sent."""
        return len(self._buffer)

    def _encode(self, body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = {**self._headers, "Content-Type": "application/json"}
        if self.compress and len(data) >= COMPRESS_OVER:
            data = gzip.compress(data, compresslevel=1)  # level 1: ~all the gain, a tenth the CPU
            headers["Content-Encoding"] = "gzip"
        return data, headers

    async def beat(self, client: Client, seq: int) -> None:
        samples = self._samples()
        body = {"node": self.name, "seq": seq, "info": host_info(), "samples": samples}
        if self.address:
            body["address"] = self.address
        content, headers = self._encode(body)
        try:
            resp = await client.post(
                self.url,
                content=content,
                headers=headers,
                timeout=max(0.05, self.interval * REQUEST_TIMEOUT_SHARE),
            )
        except _no_answer() as exc:
            self.failed += 1
            self._requeue(samples)  # the controller may be down: keep them, bounded
            log.warning("heartbeat %d to %s failed: %s", seq, self.url, exc)
            return
        if resp.status_code in NOT_TAKEN:
            self.failed += 1
            self._requeue(samples)  # nothing was stored: keep them for the next beat, bounded
            log.warning(
                "heartbeat %d not taken (HTTP %d), samples kept: %s",
                seq,
                resp.status_code,
                resp.text[:200],
            )
            return
        if resp.status_code != 200:
            self.failed += 1
            self.dropped += len(samples)  # refused, not lost in transit: resending cannot help
            log.error("heartbeat %d refused: HTTP %d %s", seq, resp.status_code, resp.text[:200])
            return
        answer = _json_object(resp)
        if answer is None:  # a 200 from something else (another web server, a captive proxy)
            self.failed += 1
            self._requeue(samples)  # as when the controller cannot be reached: kept, bounded
            log.warning(
                "heartbeat %d: the answer of %s is not a Vigil controller's (HTTP 200, %s: "
                "%r); check --controller",
                seq,
                self.url,
                resp.headers.get("content-type", "no content type"),
                resp.text[:80],
            )
            return
        self.sent += 1
        self._sent()
        rejected = answer.get("samples_rejected", 0)
        rejected = rejected if isinstance(rejected, int) and 0 < rejected <= len(samples) else 0
        self.pushed += len(samples) - rejected
        self._report_rejected(seq, rejected, len(samples), answer.get("sample_errors"))
        interval = answer.get("interval")
        if isinstance(interval, int | float) and interval > 0:
            self.interval = float(interval)

    def _sent(self) -> None:
        """A heartbeat was answered: samples go with the next ones again."""
        self.retry.succeeded()
        if self._dropping and len(self._buffer) < (self._buffer.maxlen or 0):
            self._dropping = False
            log.info("samples are no longer dropped (%d dropped in all)", self.dropped)

    def _report_rejected(self, seq: int, rejected: int, sent: int, errors: Any) -> None:
        """Log the controller's refusal of samples when it starts and when it ends, not at
        every heartbeat: a clock more than 5 minutes ahead has every sample refused, which
        went unsaid (the node's metrics simply stopped)."""
        self.rejected += rejected
        if rejected and not self._rejecting:
            first = errors[0] if isinstance(errors, list) and errors else "no reason given"
            log.warning(
                "heartbeat %d: the controller refused %d of %d samples, first: %s "
                "(logged again when they are taken again)",
                seq,
                rejected,
                sent,
                first,
            )
        elif self._rejecting and sent and not rejected:
            log.info("heartbeat %d: the controller takes the samples again", seq)
        if sent:
            self._rejecting = rejected > 0

    async def run(self, count: int | None = None) -> None:
        """Send heartbeats forever (or ``count`` of them), and ship logs meanwhile. ``jitter`` (a
        share of the interval) delays each one by a uniform random amount, to test the
        controller's tolerance."""
        async with agent_client() as client:
            shipper = asyncio.create_task(self._ship_logs(client)) if self.logs else None
            try:
                await self._beats(client, count)
            finally:
                if shipper is not None:
                    shipper.cancel()
                    await asyncio.gather(shipper, return_exceptions=True)
                if self.logs is not None:
                    self.logs.close()

    async def _ship_logs(self, client: Client) -> None:
        """Read the files every ``log_poll_every``; send a batch every ``log_ship_every``.

        An error of one round (the state cannot be saved: a full disk, its directory gone) is
        logged and the next round tries again, the unsent batch still pending: it used to end
        this task without a word, and no log batch was sent for the rest of the agent's life.
        """
        assert self.logs is not None
        last = self._clock()
        failures = 0  # rounds failed in a row
        while True:
            await self._sleep(retry_delay(self.log_poll_every, failures))
            try:
                if self.logs.changed():  # an idle node costs one stat per file per poll
                    await asyncio.to_thread(self.logs.poll)
                if self._clock() - last >= self.log_ship_every:
                    last = self._clock()
                    await self.ship_logs(client)
            except Exception as exc:  # any error: shipping must go on
                # not only OSError: anything else (a bug, a MemoryError of a huge line, a
                # corrupt state) ended this task silently while the heartbeats went on
                failures += 1
                self.log_failures += 1
                wait = retry_delay(self.log_poll_every, failures)
                if isinstance(exc, OSError):
                    log.error("log shipping failed, trying again in %gs: %s", wait, exc)
                else:
                    log.exception("log shipping failed, trying again in %gs: %r", wait, exc)
            else:
                if failures:
                    log.info("log shipping works again after %d failed rounds", failures)
                failures = 0

    async def ship_logs(self, client: Client) -> bool:
        """Send the pending (or a new) log batch; True once the controller has it."""
        assert self.logs is not None
        batch = await asyncio.to_thread(self.logs.batch)
        if batch is None:
            return True
        body = {**batch, "node": self.name, "sent_at": time.time()}
        try:
            resp = await client.post(
                self.logs_url, json=body, headers=self._headers, timeout=LOG_BATCH_TIMEOUT
            )
        except _no_answer() as exc:
            self.log_failures += 1
            log.warning(
                "log batch %d to %s failed, kept for the next try: %s",
                batch["seq"],
                self.logs_url,
                exc,
            )
            return False
        if resp.status_code in (413, 422):
            # The controller will never take this batch (malformed, or over its body cap):
            # keeping it would stop every later one.
            self.log_refused += 1
            log.error("log batch %d refused, dropped: %s", batch["seq"], resp.text[:300])
            await asyncio.to_thread(self.logs.acked)
            return False
        if resp.status_code != 200:
            self.log_failures += 1
            log.warning(
                "log batch %d refused (HTTP %d, kept for the next try): %s",
                batch["seq"],
                resp.status_code,
                resp.text[:200],
            )
            return False
        await asyncio.to_thread(self.logs.acked)
        self.log_batches += 1
        return True

    async def _beats(self, client: Client, count: int | None) -> None:
        start = self._clock()
        seq = 0
        interval = self.interval
        while count is None or seq < count:
            if self.interval != interval:  # the controller asked for another interval
                interval = self.interval
                start = self._clock() - seq * interval
            due = start + seq * self.interval
            offset = self._rng.uniform(-self.jitter, self.jitter) * self.interval
            delay = max(0.0, due + offset - self._clock())
            await self._sleep(delay)
            await self.beat(client, seq)
            seq += 1
            if self._clock() - start > (seq + 10) * self.interval:
                start = self._clock() - seq * self.interval  # fell far behind: re-anchor
