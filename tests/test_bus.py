"""EventBus: synchronous fan-out to bounded, filtered, closable subscriptions."""

from __future__ import annotations

import asyncio

from vigil.bus import EventBus, Subscription
from vigil.model import Event, HeartbeatReceived, ReplicaStarted, replica_id


def beat(seq: int, node: str = "gpu-01") -> HeartbeatReceived:
    return HeartbeatReceived(at=float(seq), node=node, seq=seq)


def drain(sub: Subscription) -> list[Event]:
    out = []
    while (event := sub.get_nowait()) is not None:
        out.append(event)
    return out


def test_every_subscriber_gets_every_event_in_order() -> None:
    bus = EventBus()
    subs = [bus.subscribe(f"s{i}") for i in range(3)]
    events = [beat(i) for i in range(5)]
    for event in events:
        bus.publish(event)
    for sub in subs:
        assert drain(sub) == events
    assert bus.published == 5


def test_a_subscriber_only_sees_events_published_after_it_subscribed() -> None:
    bus = EventBus()
    bus.publish(beat(0))
    sub = bus.subscribe("late")
    bus.publish(beat(1))
    assert drain(sub) == [beat(1)]


def test_accept_filters_what_a_subscriber_receives() -> None:
    bus = EventBus()
    started = ReplicaStarted(at=1.0, replica=replica_id("llm", 0), pid=1000)
    only_starts = bus.subscribe("starts", accept=lambda e: isinstance(e, ReplicaStarted))
    only_gpu2 = bus.subscribe("gpu-02", accept=lambda e: e.subject == "node:gpu-02")
    everything = bus.subscribe("all")
    for event in (beat(1), started, beat(2, node="gpu-02")):
        bus.publish(event)
    assert drain(only_starts) == [started]
    assert drain(only_gpu2) == [beat(2, node="gpu-02")]
    assert drain(everything) == [beat(1), started, beat(2, node="gpu-02")]
    assert only_starts.dropped == only_gpu2.dropped == 0


def test_a_full_queue_drops_its_oldest_events_and_counts_them() -> None:
    bus = EventBus()
    slow = bus.subscribe("slow", limit=3)
    fast = bus.subscribe("fast")
    for i in range(10):
        bus.publish(beat(i))
    assert slow.dropped == 7
    assert drain(slow) == [beat(7), beat(8), beat(9)]
    assert len(drain(fast)) == 10
    assert fast.dropped == 0


def test_publish_never_blocks_on_a_subscriber_that_never_reads() -> None:
    bus = EventBus()
    stuck = bus.subscribe("stuck", limit=1)
    for i in range(1000):
        bus.publish(beat(i))
    assert stuck.dropped == 999
    assert drain(stuck) == [beat(999)]


async def test_closing_a_subscription_ends_its_async_iteration_after_queued_events() -> None:
    bus = EventBus()
    sub = bus.subscribe("reader")
    received: list[Event] = []

    async def read() -> None:
        async for event in sub:
            received.append(event)

    reader = asyncio.create_task(read())
    bus.publish(beat(1))
    bus.publish(beat(2))
    await asyncio.sleep(0)
    sub.close()
    bus.publish(beat(3))  # after close: not delivered
    await asyncio.wait_for(reader, timeout=5)
    assert received == [beat(1), beat(2)]


async def test_get_returns_none_once_the_subscription_is_closed() -> None:
    bus = EventBus()
    sub = bus.subscribe("reader")
    waiting = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    sub.close()
    assert await asyncio.wait_for(waiting, timeout=5) is None


async def test_closing_a_full_subscription_still_ends_its_iteration() -> None:
    bus = EventBus()
    sub = bus.subscribe("full", limit=2)
    bus.publish(beat(1))
    bus.publish(beat(2))
    sub.close()
    received = [event async for event in sub]
    assert received == [beat(2)]  # the oldest made room for the end marker


def test_a_closed_subscription_no_longer_receives_and_others_still_do() -> None:
    bus = EventBus()
    closed = bus.subscribe("closed")
    open_ = bus.subscribe("open")
    closed.close()
    bus.publish(beat(1))
    assert closed.get_nowait() is None  # the end marker, nothing after it
    assert closed.get_nowait() is None
    assert drain(open_) == [beat(1)]
