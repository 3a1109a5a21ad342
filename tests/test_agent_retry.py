"""The agent after heartbeats that got no answer: samples wait (backoff with jitter) while
the heartbeats go on, the batch shrinks then grows back, and dropping for room is logged once.
:mod:`vigil._agent_retry` and its use in :meth:`vigil.agent.Agent.beat`, on a clock passed in.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
from typing import Any

import pytest

from vigil._agent_http import HttpError
from vigil._agent_retry import MAX_WAIT, MIN_BATCH, SampleRetry
from vigil.agent import MAX_BATCH, Agent
from vigil.collectors import Sample


def test_the_wait_doubles_per_failure_with_jitter_up_to_the_cap_and_the_batch_halves() -> None:
    retry = SampleRetry(MAX_BATCH, random.Random(7))
    waits, limits = [], []
    for _ in range(9):
        waits.append(retry.failed(100.0, 1.0))
        limits.append(retry.limit)
        assert retry.batch(100.0) == 0  # nothing while waiting
        assert retry.batch(100.0 + waits[-1]) == retry.limit  # then a smaller batch
    ceilings = [1, 2, 4, 8, 16, MAX_WAIT, MAX_WAIT, MAX_WAIT, MAX_WAIT]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert len(set(waits)) == len(waits)  # jittered: agents failing together part
    assert limits == [2500, 1250, 625, 312, 156, MIN_BATCH, MIN_BATCH, MIN_BATCH, MIN_BATCH]
    grown = []
    for _ in range(8):
        retry.succeeded()
        grown.append(retry.batch(100.0))
    assert grown == [200, 400, 800, 1600, 3200, MAX_BATCH, MAX_BATCH, MAX_BATCH]
    assert retry.failures == 0


class Answer:
    status_code = 200
    headers: dict[str, str] = {}
    text = ""

    def json(self) -> Any:
        return {"interval": 0.2, "node_status": "up", "samples_rejected": 0}


class SlowController:
    """Times out (no answer) the first ``timeouts`` heartbeats, then answers; keeps the
    number of samples each heartbeat carried."""

    def __init__(self, timeouts: int) -> None:
        self.timeouts = timeouts
        self.carried: list[int] = []

    async def post(
        self,
        url: str,
        *,
        content: bytes,
        headers: Any,
        timeout: float,  # noqa: ASYNC109 - the agent's Client
    ) -> Answer:
        assert "Content-Encoding" not in headers
        self.carried.append(len(json.loads(content)["samples"]))
        if len(self.carried) <= self.timeouts:
            raise HttpError(f"timed out after {timeout}s")
        return Answer()


class Host:
    def __init__(self, series: int) -> None:
        self.series = series

    def collect(self) -> list[Sample]:
        return [Sample.of(f"m{i}", 1.0, 1000.0, {}) for i in range(self.series)]


async def test_after_timeouts_every_heartbeat_still_goes_out_and_samples_wait_then_drain() -> None:
    now = [0.0]
    agent = Agent(
        "http://controller:8700",
        "n1",
        "tok",
        interval=0.2,
        seed=3,
        clock=lambda: now[0],
        metrics=[Host(50)],
        metrics_every=0.2,
        compress=False,
    )
    controller = SlowController(timeouts=20)  # four seconds of a stalled controller
    for seq in range(80):
        await agent.beat(controller, seq)
        now[0] += 0.2
    carried = controller.carried
    assert len(carried) == 80  # liveness: a heartbeat every interval, whatever the backlog
    # before: each timed-out beat's samples went again with the next one, 50, 100, ... 1,000
    # a request to the stalled controller; now they wait, longer after each failure
    assert max(carried[:20]) <= 150
    assert sum(1 for n in carried[:20] if n) <= 5
    # once it answers, the backlog goes in batches that at most double, from 2 * MIN_BATCH
    for before, after in itertools.pairwise(carried[20:]):
        assert after <= max(2 * before, 2 * MIN_BATCH), carried
    assert carried[-1] == 50  # drained: each beat carries only its own collection again
    assert agent.buffered == 0 and agent.dropped == 0  # all of it delivered in the end
    assert agent.pushed == 80 * 50
    assert agent.retry.failures == 0


async def test_dropping_for_room_is_logged_when_it_starts_and_when_it_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    agent = Agent(
        "http://controller:8700",
        "n1",
        "tok",
        interval=1.0,
        clock=lambda: now[0],
        metrics=[Host(10)],
        metrics_every=1.0,
        max_buffered=25,
        compress=False,
    )
    caplog.set_level(logging.INFO, "vigil.agent")
    controller = SlowController(timeouts=6)
    for seq in range(12):
        await agent.beat(controller, seq)
        now[0] += 60.0  # past every wait: each beat carries what it may
    assert agent.dropped > 0 and agent.buffered == 0
    about = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(about) == 2, about
    assert about[0].startswith("25 samples buffered (the bound): the oldest are dropped")
    assert about[1] == f"samples are no longer dropped ({agent.dropped} dropped in all)"
