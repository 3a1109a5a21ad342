"""Bad input to the log endpoints is refused naming the field the way every other route names
it (``query.since``, ``body.lines.0``), and a refusal says what was refused."""

from __future__ import annotations

import httpx
import pytest
from apifakes import AGENT_A, bearer

from vigil.daemon import LogPipeline


@pytest.mark.parametrize("since", ["nan", "inf", "-inf"])
async def test_a_findings_since_that_is_not_a_time_is_a_422(
    client: httpx.AsyncClient, pipeline: LogPipeline, since: str
) -> None:
    # it answered 200 with no findings, as if there were none (GET /series refuses the same)
    resp = await client.get(f"/api/v1/logs/findings?since={since}", headers=bearer("viewer"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"] == f"query.since: {float(since)} is not a time (Unix seconds)"


@pytest.mark.parametrize(
    ("path", "body", "what"),
    [
        ("/api/v1/logs", {"node": "node-b", "source": "app", "lines": ["x"]}, "log lines"),
        (
            "/api/v1/logs/batches",
            {
                "node": "node-b",
                "agent_id": "a1",
                "seq": 1,
                "sent_at": 1.0,
                "templates": [],
            },
            "log batches",
        ),
        ("/api/v1/samples", {"node": "node-b", "samples": []}, "samples"),
        ("/api/v1/heartbeats", {"node": "node-b", "seq": 1}, "heartbeats"),
    ],
    ids=["push", "batch", "samples", "heartbeat"],
)
async def test_an_agent_token_used_for_another_node_is_told_what_it_may_not_send(
    client: httpx.AsyncClient, pipeline: LogPipeline, path: str, body: dict, what: str
) -> None:
    # every refusal said "may only send heartbeats", a log push's and a batch's too
    resp = await client.post(path, json=body, headers=bearer(AGENT_A))
    assert resp.status_code == 403, resp.text
    assert resp.json()["detail"] == (
        f"this agent token may only send {what} for node 'node-a', not 'node-b'"
    )


async def test_a_bad_json_push_names_the_body_field_as_every_route_does(
    client: httpx.AsyncClient, pipeline: LogPipeline
) -> None:
    # it said 'lines.0: ...' and 'source: ...', where every other route says 'body.lines.0'
    resp = await client.post("/api/v1/logs", json={"lines": ["ok", 7]}, headers=bearer("operator"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"] == (
        "body.source: field required; body.lines.1: input should be a valid string (got 7)"
    )


@pytest.mark.parametrize(
    ("times", "field"),
    [
        ({"sent_at": "NaN"}, "body.sent_at"),
        ({"sent_at": "Infinity"}, "body.sent_at"),
        ({"first_at": "-Infinity"}, "body.templates.0.first_at"),
        ({"last_at": "NaN"}, "body.templates.0.last_at"),
    ],
    ids=["sent-nan", "sent-inf", "first-minus-inf", "last-nan"],
)
async def test_an_agent_batch_with_a_time_that_is_no_number_is_a_422_naming_it(
    client: httpx.AsyncClient, pipeline: LogPipeline, times: dict[str, str], field: str
) -> None:
    # JSON has no NaN or Infinity, but the parser takes them: the batch was counted (200) with
    # its backlog span NaN or infinite (lines spread over an endless span count in no bucket),
    # where the pipeline's backlog_span says the API refuses non-finite times
    values = {"sent_at": "1700000000.0", "first_at": "1699999999.0", "last_at": "1700000000.0"}
    values.update(times)
    template = (
        '{"source": "app", "template": "disk <*> failed", "count": 3, '
        f'"first_at": {values["first_at"]}, "last_at": {values["last_at"]}}}'
    )
    body = (
        f'{{"node": "node-a", "agent_id": "a1", "seq": 1, "sent_at": {values["sent_at"]}, '
        f'"templates": [{template}]}}'
    )
    resp = await client.post(
        "/api/v1/logs/batches",
        content=body,
        headers={**bearer(AGENT_A), "Content-Type": "application/json"},
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"].startswith(f"{field}: "), resp.json()
    assert "finite" in resp.json()["detail"]
    assert not list(pipeline.registry.entries()), "nothing of the batch is counted"
