"""The log endpoints over a real LogPipeline (real SQLite store, bus and incident book, a
hand-moved clock): pushes in JSON and text, size limits, auth, agent batches counted once,
templates sorted and paged, findings filtered."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from apifakes import AGENT_A, FakeControl, bearer

from _log_pipeline import Clock
from _log_pipeline import pipeline as log_pipeline
from vigil.daemon import LogPipeline
from vigil.store import Store


@pytest.fixture
def clock() -> Clock:
    return Clock(1_700_000_000.0)


@pytest.fixture
def pipeline(control: FakeControl, store: Store, tmp_path: Path, clock: Clock) -> LogPipeline:
    settings = {"push_max_bytes": 4096, "analysis": {"warmup_lines": 3, "warmup_seconds": 0}}
    control.logs = log_pipeline(tmp_path, store, clock, settings)
    return control.logs


def batch(seq: int, *templates: tuple[str, int], agent_id: str = "a1") -> dict:
    return {
        "node": "node-a",
        "agent_id": agent_id,
        "seq": seq,
        "sent_at": 1_700_000_000.0,
        "templates": [
            {
                "source": "app.log",
                "template": text,
                "count": count,
                "first_at": 1_700_000_000.0,
                "last_at": 1_700_000_000.0,
                "level": "INFO",
                "samples": [text.replace("<*>", "7")],
            }
            for text, count in templates
        ],
        "stats": {"app.log": {"lines": sum(c for _, c in templates)}},
    }


async def test_a_json_push_is_mined_into_templates_with_their_counts(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    lines = [f"worker {i} started in {i * 3} ms" for i in range(5)] + ["disk sda1 full"]
    resp = await client.post(
        "/api/v1/logs",
        json={"node": "web-7", "source": "app", "lines": lines},
        headers=bearer("operator"),
    )
    assert resp.status_code == 200, resp.text
    # the warm-up is 3 lines: the disk line is new after it
    assert resp.json() == {"lines": 6, "templates": 2, "findings": 1, "duplicate": False}
    page = (await client.get("/api/v1/logs/templates", headers=bearer("viewer"))).json()
    assert [(t["template"], t["count"]) for t in page["items"]] == [
        ("worker <*> started in <*> ms", 5),
        ("disk <*> full", 1),  # a block device is a value from its first line (logs._blockdevs)
    ]
    assert page["items"][0]["sources"] == {"web-7/app": 5}
    assert page["items"][0]["example"] == "worker 0 started in 0 ms"


async def test_a_text_push_repairs_bad_bytes_and_counts_them(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    body = b"bad \xff\xfe byte 1\r\nnul \x00 here 2\n\nlast line without newline 3"
    resp = await client.post(
        "/api/v1/logs?source=raw",
        content=body,
        headers={**bearer("operator"), "Content-Type": "text/plain"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["lines"] == 4
    stats = pipeline.stats["push/raw"]
    assert stats == {"lines": 4, "empty": 1, "invalid_utf8": 1, "control_chars": 1, "crlf": 1}
    examples = [t.example for t in pipeline.registry.entries()]
    assert "bad \ufffd\ufffd byte 1" in examples
    assert "nul   here 2" in examples


async def test_a_push_over_the_size_limit_is_refused_with_413(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    too_big = {"source": "app", "lines": ["x" * 100] * 50}
    resp = await client.post("/api/v1/logs", json=too_big, headers=bearer("operator"))
    assert resp.status_code == 413
    assert "logs.push_max_bytes (4096 bytes)" in resp.json()["detail"]

    async def chunks():  # no Content-Length: the limit holds while the body streams in
        for _ in range(10):
            yield b"y" * 1000 + b"\n"

    resp = await client.post(
        "/api/v1/logs?source=app",
        content=chunks(),
        headers={**bearer("operator"), "Content-Type": "text/plain"},
    )
    assert resp.status_code == 413
    assert len(pipeline.registry) == 0


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"{not json", "application/json", "body: not JSON"),
        (b'{"lines": ["a"]}', "application/json", "source"),
        (b'{"source": "bad name!", "lines": []}', "application/json", "source"),
        (b"some line", "text/plain", "query.source: required"),
    ],
)
async def test_a_malformed_push_gets_a_422_naming_the_field(
    client: httpx.AsyncClient,
    pipeline: LogPipeline,
    body: bytes,
    content_type: str,
    expected: str,
) -> None:
    resp = await client.post(
        "/api/v1/logs", content=body, headers={**bearer("operator"), "Content-Type": content_type}
    )
    assert resp.status_code == 422, resp.text
    assert expected in resp.json()["detail"]


async def test_pushing_needs_an_operator_or_the_nodes_agent_token(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    push = {"node": "node-a", "source": "app", "lines": ["hello"]}
    assert (await client.post("/api/v1/logs", json=push)).status_code == 401
    resp = await client.post("/api/v1/logs", json=push, headers=bearer("viewer"))
    assert resp.status_code == 403
    assert (
        await client.post("/api/v1/logs", json=push, headers=bearer(AGENT_A))
    ).status_code == 200
    other = {**push, "node": "node-b"}
    assert (
        await client.post("/api/v1/logs", json=other, headers=bearer(AGENT_A))
    ).status_code == 403


async def test_an_agent_batch_sent_twice_is_counted_once(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    first = batch(1, ("worker <*> started", 40), ("GPU <*> fell off the bus", 2))
    resp = await client.post("/api/v1/logs/batches", json=first, headers=bearer(AGENT_A))
    # 40 lines are past the warm-up of 3: the second template is news
    assert resp.json() == {"lines": 42, "templates": 2, "findings": 1, "duplicate": False}
    again = await client.post("/api/v1/logs/batches", json=first, headers=bearer(AGENT_A))
    assert again.json()["duplicate"] is True
    # a new agent id (its state dir was lost) starts its own sequence
    fresh = batch(1, ("worker <*> started", 1), agent_id="a2")
    assert (await client.post("/api/v1/logs/batches", json=fresh, headers=bearer(AGENT_A))).json()[
        "duplicate"
    ] is False
    counts = {t.template: t.count for t in pipeline.registry.entries()}
    assert counts == {"worker <*> started": 41, "GPU <*> fell off the bus": 2}
    wrong_node = {**batch(2, ("x", 1)), "node": "node-b"}
    resp = await client.post("/api/v1/logs/batches", json=wrong_node, headers=bearer(AGENT_A))
    assert resp.status_code == 403


async def test_templates_sort_and_page(
    client: httpx.AsyncClient, pipeline: LogPipeline, clock: Clock
) -> None:
    for seq, (text, count) in enumerate([("alpha <*>", 5), ("beta <*>", 50), ("gamma <*>", 1)]):
        clock.now += 10
        await client.post(
            "/api/v1/logs/batches", json=batch(seq + 1, (text, count)), headers=bearer(AGENT_A)
        )

    async def listing(**params: object) -> list[str]:
        resp = await client.get("/api/v1/logs/templates", params=params, headers=bearer("viewer"))
        assert resp.status_code == 200, resp.text
        return [t["template"] for t in resp.json()["items"]]

    assert await listing() == ["beta <*>", "alpha <*>", "gamma <*>"]
    assert await listing(sort="first_seen", order="asc") == ["alpha <*>", "beta <*>", "gamma <*>"]
    assert await listing(sort="count", order="asc", offset=1, limit=1) == ["alpha <*>"]
    bad = await client.get("/api/v1/logs/templates?sort=size", headers=bearer("viewer"))
    assert bad.status_code == 422
    assert "sort" in bad.json()["detail"]


async def test_findings_are_listed_newest_first_and_filtered(
    client: httpx.AsyncClient, pipeline: LogPipeline, clock: Clock, store: Store
) -> None:
    warm = batch(1, ("worker <*> started", 10))
    await client.post("/api/v1/logs/batches", json=warm, headers=bearer(AGENT_A))
    clock.now += 5
    news = batch(2, ("checkpoint <*> saved", 1))
    await client.post("/api/v1/logs/batches", json=news, headers=bearer(AGENT_A))
    clock.now += 5
    crit = {
        **batch(3, ("Xid <*> error on GPU <*>", 1)),
    }
    crit["templates"][0]["level"] = "ERROR"
    resp = await client.post("/api/v1/logs/batches", json=crit, headers=bearer(AGENT_A))
    assert resp.json()["findings"] == 1

    page = (await client.get("/api/v1/logs/findings", headers=bearer("viewer"))).json()
    assert [(f["kind"], f["template"], f["severity"]) for f in page["items"]] == [
        ("log_novelty", "Xid <*> error on GPU <*>", "critical"),
        ("log_novelty", "checkpoint <*> saved", "info"),
    ]
    # the critical one opened an incident on the source, as a metric rule's finding would
    (incident,) = store.list_incidents(subject="logs:node-a/app.log").items
    assert page["items"][0]["incident_id"] == incident.id
    assert page["items"][1]["incident_id"] is None
    since = (
        await client.get(
            "/api/v1/logs/findings",
            params={"since": clock.now, "kind": "log_novelty"},
            headers=bearer("viewer"),
        )
    ).json()
    assert [f["template"] for f in since["items"]] == ["Xid <*> error on GPU <*>"]
    bursts = await client.get("/api/v1/logs/findings?kind=log_burst", headers=bearer("viewer"))
    assert bursts.json()["total"] == 0


async def test_the_log_endpoints_are_in_the_openapi_schema(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths["/api/v1/logs"]["post"]["requestBody"]["content"]) == {
        "application/json",
        "text/plain",
    }
    for path in ("/api/v1/logs/batches", "/api/v1/logs/templates", "/api/v1/logs/findings"):
        assert path in paths


async def test_a_batch_count_too_large_for_the_analyses_is_a_422_and_breaks_nothing(
    client: httpx.AsyncClient, pipeline: LogPipeline, clock: Clock
) -> None:
    # A count past a float's range was accepted, and the next batch of that template then
    # failed with a 500 (OverflowError in the burst baseline) for good.
    huge = batch(1, ("worker <*> started", 10**400))
    resp = await client.post("/api/v1/logs/batches", json=huge, headers=bearer(AGENT_A))
    assert resp.status_code == 422, resp.text
    assert "body.templates.0.count" in resp.json()["detail"]
    for seq in (1, 2):
        clock.now += 20.0  # the next bucket: the baseline takes the last one's count
        ok = batch(seq, ("worker <*> started", 3))
        resp = await client.post("/api/v1/logs/batches", json=ok, headers=bearer(AGENT_A))
        assert resp.status_code == 200, resp.text
    assert {t.template: t.count for t in pipeline.registry.entries()} == {"worker <*> started": 6}


async def test_a_batch_with_negative_or_unnamed_stats_is_a_422_and_counts_never_go_back(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    # Negative stats were added as they came: the controller's repaired-line counters (and
    # /metrics) went down; any text was taken as a source or stat name and kept for good.
    first = batch(1, ("worker <*> started", 4))
    first["stats"] = {"app.log": {"lines": 4, "invalid_utf8": 2}}
    assert (
        await client.post("/api/v1/logs/batches", json=first, headers=bearer(AGENT_A))
    ).status_code == 200
    bad_stats = [
        {"app.log": {"lines": 1, "invalid_utf8": -2}},
        {"app.log": {"lines": 10**400}},
        {"no/such source": {"lines": 1}},
        {"app.log": {"x" * 100: 1}},
    ]
    for seq, stats in enumerate(bad_stats, start=2):
        bad = {**batch(seq, ("worker <*> started", 1)), "stats": stats}
        resp = await client.post("/api/v1/logs/batches", json=bad, headers=bearer(AGENT_A))
        assert resp.status_code == 422, (stats, resp.text)
        assert "body.stats" in resp.json()["detail"]
    assert pipeline.stats == {"node-a/app.log": {"lines": 4, "invalid_utf8": 2}}
    assert pipeline.counts.problems == {("node-a", "app.log", "invalid_utf8"): 2}


async def test_a_push_of_deeply_nested_json_is_a_422_not_a_500(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    # 2 KB of '[' is valid-looking JSON too deep for Python's parser: RecursionError, a 500.
    resp = await client.post(
        "/api/v1/logs",
        content=b"[" * 2000,
        headers={**bearer("operator"), "Content-Type": "application/json"},
    )
    assert resp.status_code == 422, resp.text
    assert "body: not JSON" in resp.json()["detail"]
    assert pipeline.registry.entries() == []


async def test_an_agent_batch_with_a_long_line_of_numbers_is_taken_whole(
    client: httpx.AsyncClient, pipeline: LogPipeline, tmp_path: Path
) -> None:
    # A 64 KB line of numbers (under logs.max_line_bytes) mines into a template twice as long
    # ("<*> " per "1 "): past the API's template limit, so the whole batch got a 422 and the
    # agent dropped it, losing every other line of those seconds too.
    from vigil.collectors import EdgeSourceSpec, LogEdge

    log = tmp_path / "app.log"
    log.write_bytes(b"worker 3 started\n" + b" ".join([b"7"] * 32_000) + b"\nworker 4 started\n")
    edge = LogEdge([EdgeSourceSpec(str(log), "app.log")], tmp_path / "edge.json")
    assert edge.poll() == 3
    body = {**(edge.batch() or {}), "node": "node-a", "sent_at": 1_700_000_000.0}
    resp = await client.post("/api/v1/logs/batches", json=body, headers=bearer(AGENT_A))
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["lines"] == 3
    counts = sorted(t.count for t in pipeline.registry.entries())
    assert counts == [1, 2]
    edge.close()


async def test_each_pushed_json_line_counts_once_whatever_newlines_it_holds(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    # Docker's json-file keeps each line's "\n"; a stack trace shipped as one event holds several
    lines = ["worker 1 started\n", "worker 2 started\r\n", "boom\n  at f()\n  at g()", "done"]
    resp = await client.post(
        "/api/v1/logs",
        json={"node": "web-7", "source": "app", "lines": lines},
        headers=bearer("operator"),
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["lines"] == 4
    stats = pipeline.stats["web-7/app"]
    assert stats == {"lines": 4, "crlf": 1, "control_chars": 1}  # no empty line was made up
    examples = {t.example for t in pipeline.registry.entries()}
    assert "boom   at f()   at g()" in examples
    assert "worker 1 started" in examples or "worker 2 started" in examples


async def test_a_batch_for_a_node_not_in_the_config_is_a_404_as_its_heartbeats_are(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    # An admin token could file log batches under any name (a typo: "node-aa") while that
    # node's heartbeats and samples got a 404; its templates were counted apart for ever.
    unknown = {**batch(1, ("worker <*> started", 3)), "node": "node-z"}
    resp = await client.post("/api/v1/logs/batches", json=unknown, headers=bearer("admin"))
    assert resp.status_code == 404, resp.text
    assert "node-z" in resp.json()["detail"]
    assert list(pipeline.registry.entries()) == []
    beat = await client.post(
        "/api/v1/heartbeats", json={"node": "node-z", "seq": 0}, headers=bearer("admin")
    )
    assert beat.status_code == 404  # the same answer
    known = {**batch(1, ("worker <*> started", 3)), "node": "node-b"}
    resp = await client.post("/api/v1/logs/batches", json=known, headers=bearer("admin"))
    assert resp.status_code == 200, resp.text


async def test_a_huge_seq_blocks_only_its_own_agent_id_and_a_fresh_state_ships_again(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    # Suspected: a huge seq makes every later batch a duplicate for ever. Only for that
    # (node, agent_id): an agent with a fresh state dir draws a new agent_id and ships.
    huge = batch(10**18, ("worker <*> started", 1), agent_id="a1")
    assert (await client.post("/api/v1/logs/batches", json=huge, headers=bearer(AGENT_A))).json()[
        "duplicate"
    ] is False
    old = batch(5, ("worker <*> started", 1), agent_id="a1")
    resp = await client.post("/api/v1/logs/batches", json=old, headers=bearer(AGENT_A))
    assert resp.json()["duplicate"] is True
    fresh = batch(1, ("worker <*> started", 1), agent_id="b7")
    resp = await client.post("/api/v1/logs/batches", json=fresh, headers=bearer(AGENT_A))
    assert resp.json()["duplicate"] is False
    counts = {t.template: t.count for t in pipeline.registry.entries()}
    assert counts == {"worker <*> started": 2}
