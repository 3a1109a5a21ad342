"""The controller's log pipeline on a hand-moved clock, with a real SQLite store, bus and
incident book: it learns from incidents (association rules, P(fault | template)), resolves a
quiet log incident, keeps its templates across a restart and survives a corrupt state file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from _log_pipeline import Clock, counted_after_the_stop, local_file_pipelines, pipeline
from vigil.bus import EventBus
from vigil.daemon import LogPipeline
from vigil.daemon._logs import CHUNK_TEMPLATES
from vigil.daemon._logs_state import save_state
from vigil.model import Finding, FindingKind, IncidentChanged, IncidentState
from vigil.remediation import IncidentBook
from vigil.store import SqlStore

PAGE: dict[str, Any] = {"sort": "id", "descending": False, "offset": 0, "limit": 50}


def make(tmp_path: Path, store: SqlStore, clock: Clock, **analysis: object) -> LogPipeline:
    settings = {"analysis": {"warmup_lines": 5, "warmup_seconds": 0, "window": 60, **analysis}}
    return pipeline(tmp_path, store, clock, settings)


def crash(book: IncidentBook, n: int, at: float) -> None:
    book.raise_finding(
        Finding(FindingKind.PROCESS_EXITED, f"replica:llm/{n}", at, "exited with 137")
    )


async def every_two_minutes(
    logs: LogPipeline, clock: Clock, hours: int, served: int = 1
) -> AsyncIterator[tuple[int, int]]:
    """Hours of ordinary traffic: every 2 minutes the clock moves on and ``served`` request lines
    are logged; yields (hour, minute) so the test can add its own events at that moment."""
    start = clock.now
    for hour in range(hours):
        for minute in range(0, 60, 2):
            clock.now = start + hour * 3600 + minute * 60
            await logs.ingest_lines("n1", "app", [f"request {minute} served"] * served)
            yield hour, minute


async def test_templates_logged_before_incidents_rank_high_and_give_an_association_rule(
    tmp_path: Path, store: SqlStore
) -> None:
    clock = Clock()
    logs = make(tmp_path, store, clock)
    book = logs._incidents
    async for hour, minute in every_two_minutes(logs, clock, 12):  # noise all the time
        if hour % 2 == 0 and minute == 30:  # every other hour: a precursor, a crash 30 s later
            await logs.ingest_lines(
                "n1", "app", ["2024-05-01 12:00:00 ERROR CUDA out of memory on device 3"]
            )
            clock.now += 30
            crash(book, hour, clock.now)
            logs.learn_incidents(clock.now)
    clock.now += 3600
    logs.learn_incidents(clock.now)  # rules are reported once the incidents have settled
    rows = {
        t["template"]: t
        for t in logs.templates(sort="p_fault", descending=True, offset=0, limit=50).items
    }
    oom = rows["CUDA out of memory on device <*>"]
    noise = rows["request <*> served"]
    assert oom["p_fault"] > 0.6 > 0.1 > noise["p_fault"]
    first = logs.templates(sort="p_fault", descending=True, offset=0, limit=1).items[0]
    assert first["template"] == oom["template"]
    rules = [f for f in logs.found if f["kind"] == "log_association"]
    assert [r["template"] for r in rules] == [oom["template"]]
    assert rules[0]["evidence"]["lift"] > 3
    assert rules[0]["evidence"]["last_subject"].startswith("replica:llm/")


async def test_log_incidents_teach_nothing_and_resolve_once_quiet(
    tmp_path: Path, store: SqlStore
) -> None:
    clock = Clock()
    logs = make(tmp_path, store, clock, incident_quiet=600)
    await logs.ingest_lines("n1", "app", [f"request {i} served" for i in range(10)])
    clock.now += 10
    await logs.ingest_lines("n1", "app", ["2024-05-01 12:00:00 FATAL segfault in worker 7"])
    (incident,) = store.list_incidents(subject="logs:n1/app").items
    assert incident.kind is FindingKind.LOG_NOVELTY
    assert incident.severity.value == "critical"
    logs.learn_incidents(clock.now)
    assert logs.association.incidents == 0  # its own incidents are no evidence for the rules
    clock.now += 599
    logs.resolve_quiet(clock.now)
    assert store.find_active_incident("logs:n1/app") is not None
    clock.now += 1
    logs.resolve_quiet(clock.now)
    (incident,) = store.list_incidents(subject="logs:n1/app").items
    assert incident.state is IncidentState.RESOLVED


async def test_templates_and_findings_survive_a_restart_and_known_ones_are_no_news(
    tmp_path: Path, store: SqlStore
) -> None:
    clock = Clock()
    logs = make(tmp_path, store, clock)
    await logs.ingest_lines("n1", "app", [f"request {i} served" for i in range(10)])
    # "by user", not "for user": an account after "for user" is a value from its first line
    # (branch meaning16), and this test needs a word the miner widens after the restart
    await logs.ingest_lines("n1", "app", ["disk quota exceeded by user bob"])
    batch = {
        "agent_id": "x",
        "seq": 4,
        "sent_at": clock.now,
        "templates": [],
        "stats": {},
    }
    logs.ingest_batch("n2", batch)
    logs.save_now()
    again = make(tmp_path, store, clock)
    assert {t.template: t.count for t in again.registry.entries()} == {
        "request <*> served": 10,
        "disk quota exceeded by user bob": 1,
    }
    assert [f["template"] for f in again.found] == ["disk quota exceeded by user bob"]
    assert again.ingest_batch("n2", batch).duplicate
    await again.ingest_lines("n1", "app", ["disk quota exceeded by user alice"])
    # the push miner came back too and widened its template: a wider form of a known template
    # is no news
    assert "disk quota exceeded by user <*>" in {t.template for t in again.registry.entries()}
    assert len(again.found) == 1
    await again.ingest_lines("n1", "app", ["a brand new line"])
    assert len(again.found) == 2 and again.found[-1]["id"] == 2


def test_a_corrupt_state_file_is_moved_aside_and_the_pipeline_starts_empty(
    tmp_path: Path, store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "log-analysis.json").write_text('{"version": 1, "registry": [')
    logs = make(tmp_path, store, Clock())
    assert len(logs.registry) == 0
    assert (tmp_path / "log-analysis.json.bad").exists()
    assert "log-analysis.json: cannot be read" in caplog.text
    assert "moved to" in caplog.text


async def test_burst_baselines_and_what_incidents_taught_survive_a_restart(
    tmp_path: Path, store: SqlStore
) -> None:
    clock = Clock()
    logs = make(tmp_path, store, clock)
    book = logs._incidents
    async for hour, minute in every_two_minutes(logs, clock, 6, served=5):
        if minute == 30:  # every hour: a precursor, a crash 30 s later
            await logs.ingest_lines("n1", "app", ["ERROR CUDA out of memory on device 3"])
            clock.now += 30
            crash(book, hour, clock.now)
            logs.learn_incidents(clock.now)
    clock.now += 60
    before = {t["template"]: t["p_fault"] for t in logs.templates(**PAGE).items}
    noise_id = next(e.id for e in logs.registry.entries() if e.template.startswith("request"))
    baseline = logs.bursts.baseline(noise_id)
    logs.save_now()
    clock.now += 3600  # down for an hour
    again = make(tmp_path, store, clock)
    assert again.association.incidents == logs.association.incidents == 6
    assert again.bursts.baseline(noise_id) == baseline is not None
    after = {t["template"]: t["p_fault"] for t in again.templates(**PAGE).items}
    assert after == pytest.approx(before, rel=0.02)  # the slots open at the save close later
    assert after["CUDA out of memory on device <*>"] > 0.5
    # the same incident published again (it changed state) teaches nothing twice
    (first,) = store.list_incidents(subject="replica:llm/0").items
    again._bus.publish(IncidentChanged(at=clock.now, incident=first))
    again.learn_incidents(clock.now)
    assert again.association.incidents == 6


def test_a_version_1_state_keeps_its_templates_and_an_unknown_one_is_moved_aside(
    tmp_path: Path, store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    logs = make(tmp_path, store, clock)
    logs._observe("n1/app", "worker <*> started", clock.now)
    data = json.loads(save_state(logs))
    for key in ("bursts", "association", "bayes", "seen_incidents"):
        del data[key]
    (tmp_path / "log-analysis.json").write_text(json.dumps({**data, "version": 1}))
    assert [e.template for e in make(tmp_path, store, clock).registry.entries()] == [
        "worker <*> started"
    ]
    assert "version 1: burst baselines and association / Bayes counts start afresh" in caplog.text
    (tmp_path / "log-analysis.json").write_text(json.dumps({**data, "version": 9}))
    assert len(make(tmp_path, store, clock).registry) == 0
    assert (tmp_path / "log-analysis.json.bad").exists()
    assert "not a log-analysis state of version 1 or 2" in caplog.text


async def test_a_healed_incident_teaches_and_one_that_ends_as_a_blip_is_taken_back(
    tmp_path: Path, store: SqlStore
) -> None:
    clock = Clock()
    logs = make(tmp_path, store, clock)
    book = logs._incidents
    async for hour, minute in every_two_minutes(logs, clock, 12):
        if minute == 10:  # a precursor, a crash 30 s later, healed by a restart
            await logs.ingest_lines("n1", "app", ["ERROR CUDA out of memory on device 3"])
            clock.now += 30
            crash(book, hour, clock.now)
            logs.learn_incidents(clock.now)
            book.action_started(f"replica:llm/{hour}", clock.now + 1)
            book.recovered(f"replica:llm/{hour}", clock.now + 20)
        if minute == 40:  # a warning, then a node suspected for 10 s: a blip
            await logs.ingest_lines("n1", "app", ["WARN gc pause 1200 ms"])
            clock.now += 30
            book.raise_finding(Finding(FindingKind.NODE_SUSPECT, "node:n2", clock.now, "phi 9"))
            logs.learn_incidents(clock.now)
            clock.now += 10
            book.recovered("node:n2", clock.now)
        logs.learn_incidents(clock.now)
    clock.now += 3600
    rows = {t["template"]: t["p_fault"] for t in logs.templates(**PAGE).items}
    assert rows["CUDA out of memory on device <*>"] > 0.6
    assert rows["gc pause <*> ms"] < 0.2
    assert logs.counts.outcomes == {"healed": 12, "blip": 12}
    assert logs.association.incidents == 12
    rules = {f["template"] for f in logs.found if f["kind"] == "log_association"}
    assert "CUDA out of memory on device <*>" in rules and "gc pause <*> ms" not in rules


async def test_a_known_precursor_seen_again_warns_once_per_window(
    tmp_path: Path, store: SqlStore
) -> None:
    clock = Clock()
    logs = make(tmp_path, store, clock)
    book = logs._incidents
    oom = ["2024-05-01 12:00:00 ERROR CUDA out of memory on device 3"]
    async for hour, minute in every_two_minutes(logs, clock, 12):
        if hour % 2 == 0 and minute == 30:
            await logs.ingest_lines("n1", "app", oom)
            clock.now += 30
            crash(book, hour, clock.now)
            logs.learn_incidents(clock.now)
    clock.now += 3600
    logs.learn_incidents(clock.now)
    before = len(logs.found)
    assert [f["kind"] for f in logs.found].count("log_association") == 1  # the rule itself
    assert (await logs.ingest_lines("n1", "app", oom)).findings == 1
    warning = logs.found[-1]
    assert warning["kind"] == "log_association" and warning["subject"] == "logs:n1/app"
    assert warning["evidence"]["precursor"] and warning["evidence"]["p_fault"] > 0.6
    assert warning["summary"].startswith("known precursor seen: P(fault | template) = 0.")
    clock.now += 30
    assert (await logs.ingest_lines("n1", "app", oom)).findings == 0  # within the window
    await logs.ingest_lines("n1", "app", ["request 7 served"])  # noise: never a precursor
    assert len(logs.found) == before + 1
    clock.now += 60
    assert (await logs.ingest_lines("n1", "app", oom)).findings == 1  # a window later


async def test_a_stop_while_a_local_file_is_being_mined_loses_none_of_its_lines(
    tmp_path: Path, store: SqlStore
) -> None:
    # poll_local reads up to 1 MB, then mines it 512 lines at a time, yielding in between. A
    # stop (the task cancelled) between two chunks saved the file's offset past every line
    # read, while only the first chunks had been counted: the rest were never mined.
    restarted = local_file_pipelines(tmp_path, store, 3000)
    first = restarted()
    observe = first._observe

    def observe_then_stop(*args: Any, **kwargs: Any) -> int:
        polling.cancel()  # the stop arrives while the first chunk is being mined
        return observe(*args, **kwargs)

    first._observe = observe_then_stop  # type: ignore[method-assign]
    polling = asyncio.create_task(first.poll_local())
    assert await counted_after_the_stop(polling, first, restarted) == 3000


def agent_batch(seq: int, *templates: str, count: int = 1, level: str = "") -> dict[str, Any]:
    """Agent a1's batch ``seq``: ``count`` lines of each template, at ``level``."""
    item = {"source": "app", "count": count, "first_at": 0.0, "last_at": 0.0, "level": level}
    return {
        "agent_id": "a1",
        "seq": seq,
        "sent_at": 0.0,
        "templates": [{**item, "template": template, "samples": []} for template in templates],
        "stats": {},
    }


async def test_a_template_with_many_wildcards_is_judged_at_once_against_its_family(
    tmp_path: Path, store: SqlStore
) -> None:
    # Whether a new template only widens a known one was asked of a regex made of one '.*?'
    # per wildcard: against a family member it does not match, backtracking took 54 s for 18
    # wildcards and hours for 24, with the controller's event loop (heartbeats, API) blocked.
    clock = Clock()
    logs = make(tmp_path, store, clock)
    logs.ingest_batch("n1", agent_batch(1, "warm up", count=10))
    logs.ingest_batch("n1", agent_batch(2, "job " + " ".join(["a"] * 40) + " done!"))
    wide = "job " + " ".join(["<*>"] * 24) + " done"
    assert logs.ingest_batch("n1", agent_batch(3, wide)).findings == 1  # news: no widening
    # a template that does widen a known one is still no news
    logs.ingest_batch("n1", agent_batch(4, "copy file a to b finished"))
    widened = logs.ingest_batch("n1", agent_batch(5, "copy file <*> to <*> finished"))
    assert widened.findings == 0


async def test_a_restart_of_the_controller_does_not_repeat_a_precursor_warning_within_its_window(
    tmp_path: Path, store: SqlStore
) -> None:
    clock = Clock()
    logs = make(tmp_path, store, clock)
    oom = ["2024-05-01 12:00:00 ERROR CUDA out of memory on device 3"]
    async for hour, minute in every_two_minutes(logs, clock, 12):
        if hour % 2 == 0 and minute == 30:
            await logs.ingest_lines("n1", "app", oom)
            clock.now += 30
            crash(logs._incidents, hour, clock.now)
            logs.learn_incidents(clock.now)
    clock.now += 3600
    logs.learn_incidents(clock.now)
    assert (await logs.ingest_lines("n1", "app", oom)).findings == 1  # the warning
    logs.save_now()  # the controller stops (or its periodic save ran before a kill -9)
    clock.now += 30
    again = make(tmp_path, store, clock)
    assert (await again.ingest_lines("n1", "app", oom)).findings == 0  # within the window
    clock.now += 60
    assert (await again.ingest_lines("n1", "app", oom)).findings == 1  # a window later


def test_a_batch_of_similar_templates_is_matched_against_a_bounded_part_of_its_family(
    tmp_path: Path, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each new template with a wildcard was matched against every member of its family (is it
    # a widening?): a batch of N similar templates cost N^2 matches on the event loop. Now only
    # the members with its literal head and tail, at most MAX_WIDEN_SCAN of them.
    from vigil.daemon import _logs_match

    calls = 0
    real = _logs_match.wildcard_match

    def counting(parts: Any, text: str) -> bool:
        nonlocal calls
        calls += 1
        return real(parts, text)

    monkeypatch.setattr(_logs_match, "wildcard_match", counting)
    logs = make(tmp_path, store, Clock())
    n = 1500
    shapes = (("event {i} happened on <*> with code {c}", True), ("<*> job {i} <*>", False))
    for shape, head in shapes:
        calls = 0
        batch = agent_batch(1 + head, "x")
        item = batch["templates"][0]
        batch["templates"] = [{**item, "template": shape.format(i=i, c=i % 97)} for i in range(n)]
        logs.ingest_batch("n1", batch)
        assert len(logs.families.members(logs.registry.entries()[-1].id)) == n  # one family
        bound = n * 2 if head else n * _logs_match.MAX_WIDEN_SCAN
        assert calls <= bound  # all pairs: n * (n - 1) / 2 = 1,124,250
    # a widening is still told apart from news in a big family
    widened = logs.ingest_batch("n1", agent_batch(3, "event <*> happened on <*> with code 5"))
    assert widened.findings == 0


async def test_the_state_is_never_saved_with_half_an_agent_batch(
    tmp_path: Path, store: SqlStore
) -> None:
    # An agent batch is taken a chunk of templates per turn of the loop, its number counted
    # first. A periodic save between two chunks wrote that number with half the counts: after a
    # kill -9, the batch sent again was ignored as a duplicate and its other half was lost.
    clock = Clock()
    logs = make(tmp_path, store, clock)
    n = 3 * CHUNK_TEMPLATES
    batch = agent_batch(1, *(f"step {i} of the job" for i in range(n)), count=2)
    taking = asyncio.create_task(logs.receive_batch("n1", batch))
    await asyncio.sleep(0)  # the task takes its first chunk and gives the loop a turn
    assert not taking.done()
    assert await logs.save() is False  # not now
    assert not logs.state_path.exists()
    assert (await taking).lines == 2 * n
    assert await logs.save() is True
    again = make(tmp_path, store, clock)
    assert again.batches == {"n1/a1": 1}
    page = again.templates(sort="id", descending=False, offset=0, limit=500)
    assert (page.total, sum(t["count"] for t in page.items)) == (n, 2 * n)


def test_a_batch_sent_again_after_a_lost_state_counts_once_and_writes_no_finding_twice(
    tmp_path: Path, store: SqlStore
) -> None:
    # A kill -9 of the controller loses up to 10 s of the log state (counts, batch numbers),
    # but not the incidents already in SQLite. The agent, which never got its answer, sends its
    # batch again: its counts are taken again (they were lost), but its finding joined the
    # open incident a second time (findings 1 -> 2, a second finding.raised).
    clock = Clock()
    bus = EventBus()

    def restarted() -> LogPipeline:
        analysis = {"warmup_lines": 5, "warmup_seconds": 0}
        return pipeline(tmp_path, store, clock, {"analysis": analysis}, bus, store=store)

    logs = restarted()
    logs.ingest_batch("n1", agent_batch(1, "warm up", count=10))
    logs.save_now()  # the last save before the kill
    severe = agent_batch(2, "ERROR disk lost on unit <*>", count=5, level="ERROR")
    assert logs.ingest_batch("n1", severe).findings == 1
    (incident,) = store.list_incidents(subject="logs:n1/app").items
    assert incident.findings == 1
    # kill -9: the state on disk is the one saved before the batch
    again = restarted()
    result = again.ingest_batch("n1", severe)
    assert (result.duplicate, result.lines) == (False, 5)  # its counts were lost: taken again
    page = again.templates(sort="id", descending=False, offset=0, limit=50)
    assert {t["template"]: t["count"] for t in page.items}["ERROR disk lost on unit <*>"] == 5
    (incident,) = store.list_incidents(subject="logs:n1/app").items
    assert incident.findings == 1  # not written twice
    (listed,) = [f for f in again.found if f["severity"] == "critical"]
    assert listed["incident_id"] == incident.id
    # a later batch's findings are written as ever
    later = agent_batch(3, "ERROR fan stopped on unit <*>", level="ERROR")
    assert again.ingest_batch("n1", later).findings == 1
    assert store.get_incident(incident.id).findings == 2
