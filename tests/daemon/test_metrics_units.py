"""The controller's metric parts on their own: the rollup flusher (batches, retention), the
risk model's seeding and live sampling, and a source loop reporting a failure once."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import random
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from vigil.agent import Agent
from vigil.collectors import Sample, SeriesStore
from vigil.daemon._risk import NodeRisk
from vigil.daemon._rollups import FLUSH_CHUNK, RollupFlusher
from vigil.daemon._scrape import SourceLoop
from vigil.detectors import runs_per_step, states_per_step
from vigil.errors import ConfigError, StoreError
from vigil.settings import MetricsSettings, ScrapeTarget, load_settings
from vigil.store import RollupRow, SqlStore

from .test_metrics_e2e import Counter


def test_states_per_step_samples_the_state_in_force_at_each_step() -> None:
    changes = [(0.0, "up"), (125.0, "down"), (130.0, "up"), (200.0, "suspect")]
    assert states_per_step(changes, 60.0, 250.0) == ["up", "up", "up", "up", "suspect"]
    assert states_per_step([], 60.0, 250.0) == []
    with pytest.raises(ValueError, match="step must be > 0"):
        states_per_step(changes, 0.0, 1.0)


def test_runs_per_step_are_the_runs_of_the_states_per_step() -> None:
    rng = random.Random(11)
    for _ in range(300):
        changes = [
            (float(rng.randint(0, 900)), rng.choice(("up", "suspect", "down")))
            for _ in range(rng.randint(0, 6))
        ]
        step, end = float(rng.choice((1, 7, 60))), float(rng.randint(0, 1000))
        expanded = [s for s, n in runs_per_step(changes, step, end) for _ in range(n)]
        assert expanded == states_per_step(changes, step, end)


def test_seeding_the_risk_model_from_a_long_history_costs_the_changes_not_the_span() -> None:
    # a node up since the epoch, at a one-second step: 1.7e9 steps, which the seed walked one
    # by one before the controller could start (a year of history at one second: 31 million)
    risk = NodeRisk(step=1.0, steps=60)
    now = 1.7e9
    risk.seed([(0.0, "a", "up"), (now - 10.0, "a", "suspect"), (now - 5.0, "a", "up")], now)
    assert risk.transitions == int(now)  # one per step after the first
    view = risk.view("a", "up")
    assert view.matrix["up"]["suspect"] == pytest.approx(1 / (now - 5.0))
    assert view.matrix["suspect"]["up"] == pytest.approx(1 / 5)


def test_risk_settings_out_of_bounds_are_refused_naming_the_line(tmp_path: Path) -> None:
    config = tmp_path / "vigil.yaml"
    config.write_text("metrics:\n  risk_step: 0.001\n  risk_steps: 100000000\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    problem = str(caught.value)
    assert "vigil.yaml:2: metrics.risk_step" in problem
    assert "vigil.yaml:3: metrics.risk_steps" in problem


def test_the_risk_model_learns_from_history_and_live_steps() -> None:
    risk = NodeRisk(step=60.0, steps=10)
    assert risk.view("a", "up").probability == 0.0  # nothing learned: nothing predicted
    # node a: up for 9 steps then down; node b: always up
    risk.seed([(0.0, "a", "up"), (540.0, "a", "down"), (0.0, "b", "up")], now=540.0)
    assert risk.transitions == 18
    one_step = NodeRisk(step=60.0, steps=1)
    one_step.seed([(0.0, "a", "up"), (540.0, "a", "down"), (0.0, "b", "up")], now=540.0)
    assert one_step.view("a", "up").probability == pytest.approx(1 / 18)
    assert risk.view("b", "up").probability == pytest.approx(1 - (17 / 18) ** 10)
    assert risk.view("a", "down").probability == 1.0
    risk.sample({"a": "down", "b": "up"})
    risk.sample({"a": "up", "b": "up"})
    view = risk.view("a", "up")
    assert view.transitions == 22  # two steps of two nodes
    assert view.matrix["down"]["up"] == pytest.approx(0.5)


def test_the_risk_of_a_fleet_is_computed_once_per_state_and_again_after_learning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GET /api/v1/risk asks for every node: at 1,000 nodes, a chain walk per node held the
    # event loop ~0.5 s per call; the answer depends on the node's state alone
    risk = NodeRisk(step=60.0, steps=60)
    nodes = {f"n{i}": "suspect" if i % 7 == 0 else "up" for i in range(1000)}
    risk.sample({n: "up" for n in nodes})
    risk.sample(nodes)
    walks: list[str] = []
    walk = risk.model.failure_probability

    def counted(state: str, steps: int) -> float:
        walks.append(state)
        return walk(state, steps)

    monkeypatch.setattr(risk.model, "failure_probability", counted)
    views = [risk.view(n, state) for n, state in nodes.items()]
    assert sorted(walks) == ["suspect", "up"]
    assert views[1].probability == walk("up", 60)
    assert views[0].probability == walk("suspect", 60)
    risk.sample({"n1": "down"})  # the model learns: the next answers are computed afresh
    after = risk.view("n2", "up")
    assert walks[-1] == "up" and len(walks) == 3
    assert after.probability == walk("up", 60) > views[1].probability
    assert after.transitions == views[1].transitions + 1


def flushing(tmp_path: Path, now: list[float]) -> tuple[SqlStore, SeriesStore, RollupFlusher]:
    """A real store, the series and a flusher keeping an hour of minutes and a day of hours,
    on the clock ``now[0]``."""
    store = SqlStore(f"sqlite:///{tmp_path / 'v.db'}")
    series = SeriesStore(100, 10, keep_closed=True)
    settings = MetricsSettings(keep_minutes=3600.0, keep_hours=86400.0)
    return store, series, RollupFlusher(series, store, settings, clock=lambda: now[0])


def assert_kept_the_last_hour_and_day(store: SqlStore) -> None:
    """gpu 0's rollups of three days of data: the last hour's minutes, the last day's hours."""
    minutes = store.load_rollups("gpu.temp", {"gpu": "0"}, 60, 0, 1e12)
    hours = store.load_rollups("gpu.temp", {"gpu": "0"}, 3600, 0, 1e12)
    assert [r.start for r in minutes] == [3 * 86400.0 - 3600 + 60 * i for i in range(60)]
    assert [r.start for r in hours] == [2 * 86400.0 + 3600 * i for i in range(24)]


async def test_the_flusher_writes_closed_buckets_and_prunes_by_retention(tmp_path: Path) -> None:
    now = [10 * 86400.0]
    store, series, flusher = flushing(tmp_path, now)
    try:
        for minute in range(0, 3 * 60 * 24):  # three days, one sample a minute, two series
            for gpu in ("0", "1"):
                series.add(Sample.of("gpu.temp", 40.0, minute * 60.0, {"gpu": gpu}))
        assert await flusher.flush() == 2 * (3 * 60 * 24 - 1 + 3 * 24 - 1)
        assert await flusher.flush() == 0  # handed out once
        assert await flusher.flush(final=True) == 4  # the open minute and hour of each series
        now[0] = 3 * 86400.0  # the end of the data
        await flusher.prune()
        assert_kept_the_last_hour_and_day(store)
        assert flusher.written == 2 * (3 * 60 * 24 + 3 * 24)
    finally:
        store.close()


async def test_a_wall_clock_jumping_a_year_ahead_does_not_prune_the_history(
    tmp_path: Path,
) -> None:
    # Retention was counted back from the wall clock: a controller started with its clock a
    # year ahead (a dead RTC, a bad NTP source) deleted every persisted rollup at its first
    # pass. As Prometheus, it is now counted back from the newest bucket stored (at most now).
    now = [3 * 86400.0]
    store, series, flusher = flushing(tmp_path, now)
    try:
        for minute in range(0, 3 * 60 * 24):
            series.add(Sample.of("gpu.temp", 40.0, minute * 60.0, {"gpu": "0"}))
        await flusher.flush(final=True)
        now[0] += 365 * 86400.0
        await flusher.prune()
        assert_kept_the_last_hour_and_day(store)
    finally:
        store.close()


class FailingOnSecondWrite(SqlStore):
    """A real store whose second rollup write fails (a full disk, a lock held too long)."""

    calls: list[int]

    def save_rollups(self, rows: Sequence[RollupRow]) -> int:
        self.calls.append(len(rows))
        if len(self.calls) == 2:
            raise StoreError("disk full")
        return super().save_rollups(rows)


async def test_a_big_flush_is_written_in_chunks_and_a_failed_chunk_loses_only_the_rest(
    tmp_path: Path,
) -> None:
    # one transaction for a minute of 1,000 nodes x 50 series held the GIL ~0.6 s at a stretch
    store = FailingOnSecondWrite(f"sqlite:///{tmp_path / 'v.db'}")
    store.calls = []
    series = SeriesStore(10_000, 1, keep_closed=True)
    flusher = RollupFlusher(series, store, MetricsSettings())
    try:
        for at in (0.0, 60.0):  # the second minute closes the first one's buckets
            for i in range(FLUSH_CHUNK * 2 + 10):
                series.add(Sample.of("m", 1.0, at, {"i": str(i)}))
        assert await flusher.flush() == FLUSH_CHUNK
        assert store.calls == [FLUSH_CHUNK, FLUSH_CHUNK]  # stopped at the failure
        assert flusher.lost == FLUSH_CHUNK + 10 and flusher.written == FLUSH_CHUNK
        kept = store.load_rollups("m", {}, 60, 0, 1e12)
        assert len(kept) == FLUSH_CHUNK
    finally:
        store.close()


async def test_a_failing_source_is_reported_once_until_it_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bodies = iter([b"", b"", b"up 1\n", b"up 1\n", b""])

    def answer(request: httpx.Request) -> httpx.Response:
        body = next(bodies)
        return httpx.Response(200, content=body) if body else httpx.Response(503)

    got: list[Sample] = []
    target = ScrapeTarget(name="exp", url="http://exporter:9100/metrics", node="n1")
    loop = SourceLoop(target, lambda s: got.extend(s) or [], clock=lambda: 5.0)
    caplog.set_level(logging.INFO, "vigil.daemon")
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        for _ in range(5):
            await loop.once(client)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "metrics.scrape exp (http://exporter:9100/metrics): scrape "
        "http://exporter:9100/metrics: HTTP 503 (reported once until it recovers)",
        "metrics.scrape exp (http://exporter:9100/metrics): recovered",
        "metrics.scrape exp (http://exporter:9100/metrics): scrape "
        "http://exporter:9100/metrics: HTTP 503 (reported once until it recovers)",
    ]
    assert [(s.name, s.labels_dict) for s in got] == [("up", {"job": "exp", "node": "n1"})] * 2


def test_the_agent_gzips_big_batches_and_leaves_small_ones_alone() -> None:
    agent = Agent("http://controller:8700", "n1", "tok")
    samples = [{"name": f"m{i}", "labels": {}, "value": float(i), "at": 1.0} for i in range(50)]
    big = {"node": "n1", "seq": 1, "info": {}, "samples": samples}
    data, headers = agent._encode(big)
    assert headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(data)) == big
    assert len(data) * 4 < len(json.dumps(big))
    small, headers = agent._encode({"node": "n1", "seq": 2, "info": {}, "samples": []})
    assert "Content-Encoding" not in headers
    assert json.loads(small)["seq"] == 2
    plain = Agent("http://controller:8700", "n1", "tok", compress=False)
    assert "Content-Encoding" not in plain._encode(big)[1]


def test_a_requeued_batch_goes_back_in_front_and_the_bound_drops_the_oldest() -> None:
    agent = Agent("http://controller:8700", "n1", "tok", max_buffered=4)
    agent.buffer({"v": v} for v in (3, 4, 5))
    agent._requeue([{"v": 1}, {"v": 2}])  # a failed batch, older than what is buffered
    assert [s["v"] for s in agent._buffer] == [2, 3, 4, 5]
    assert agent.dropped == 1


async def test_samples_a_busy_or_unreachable_controller_did_not_take_are_sent_again() -> None:
    # A proxy in front of a restarting controller answers 502, a busy database 503: the
    # samples were not stored, but the agent dropped them as if they had been refused.
    answers = [502, 503, 200, 422, 200]
    bodies: list[dict] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        length = int(head.split("content-length:")[1].split("\r\n")[0])
        body = await reader.readexactly(length)
        if "content-encoding: gzip" in head:
            body = gzip.decompress(body)
        bodies.append(json.loads(body))
        status = answers[len(bodies) - 1]
        reply = b'{"interval": 1.0, "node_status": "up", "samples_rejected": 0}'
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
            f"content-length: {len(reply)}\r\n\r\n".encode()
            + reply
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    source = Counter()
    now = [0.0]  # beats a minute apart: past any wait after a failure (vigil._agent_retry)
    agent = Agent(
        f"http://127.0.0.1:{port}",
        "n1",
        "tok",
        metrics=[source],
        metrics_every=0,
        clock=lambda: now[0],
    )
    async with server, httpx.AsyncClient() as client:
        for seq in range(len(answers)):
            await agent.beat(client, seq)
            now[0] += 60.0
    sent = [[s["value"] for s in body["samples"]] for body in bodies]
    assert sent == [[1.0], [1.0, 2.0], [1.0, 2.0, 3.0], [4.0], [5.0]]
    assert (agent.pushed, agent.dropped, agent.buffered) == (4, 1, 0)  # 4 taken, 1 refused


def test_the_risk_view_says_how_often_the_model_saw_the_nodes_state_left() -> None:
    # only up seen, for a long time: P(down) of an up node is 0 because up was never seen left
    risk = NodeRisk(step=60.0, steps=10)
    risk.seed([(0.0, "a", "up")], now=6000.0)
    assert risk.transitions == 100
    assert (risk.view("a", "up").probability, risk.view("a", "up").left) == (0.0, 0)
    risk.seed([(0.0, "b", "up"), (120.0, "b", "suspect"), (240.0, "b", "up")], now=300.0)
    assert risk.view("a", "up").left == 1
    assert risk.view("b", "suspect").left == 1
    assert risk.view("c", "down").left == 0
