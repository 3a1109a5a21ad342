"""The controller's ``/metrics`` for the log pipeline, the rules and the series store: a real
controller fed over HTTP (pushes, agent batches, samples), then scraped like Prometheus does."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ._support import eventually
from .conftest import ADMIN, StartController

AUTH = {"Authorization": f"Bearer {ADMIN}"}
AGENT_TOKEN = "agent-n1-token-0123456789"
AGENT = {"Authorization": f"Bearer {AGENT_TOKEN}"}


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = (await client.get("/metrics")).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(metrics: dict[Any, float], name: str, **labels: str) -> float | None:
    return metrics.get((name, tuple(sorted(labels.items()))))


def batch(seq: int, at: float) -> dict[str, Any]:
    return {
        "node": "n1",
        "agent_id": "a1",
        "seq": seq,
        "sent_at": at,
        "templates": [
            {
                "source": "app",
                "template": "worker <*> ready",
                "count": 7,
                "first_at": at,
                "last_at": at,
            }
        ],
        "stats": {"app": {"lines": 7, "invalid_utf8": 2, "overflow": 3}},
    }


async def test_the_metrics_endpoint_counts_logs_findings_rules_and_refusals(
    start_controller: StartController,
) -> None:
    controller = await start_controller(
        {
            "agents": [{"node": "n1", "token": AGENT_TOKEN}],
            "nodes": [{"name": "n1"}],
            "rules": [
                {"name": "hot", "expr": "gpu.temp > 80"},
                {"name": "odd", "expr": "anomaly(gpu.temp) > 0.9"},
            ],
            "metrics": {"max_series": 2},
            "logs": {
                "poll_every": 0.05,
                "push_max_bytes": 10_000,
                "analysis": {"warmup_lines": 3, "warmup_seconds": 0},
            },
        }
    )
    base = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(base_url=base) as client:
        samples = [
            {"name": "gpu.temp", "value": 70.0 + 20 * (i >= 4), "at": 1000.0 + i} for i in range(6)
        ]
        samples += [
            {"name": "other", "value": 1.0, "at": 1000.0, "labels": {"i": str(i)}} for i in range(3)
        ]  # two series are allowed in all: two of these refused
        stored = await client.post(
            "/api/v1/samples", headers=AUTH, json={"node": "n1", "samples": samples}
        )
        assert stored.json()["rejected"] == 2, stored.text
        lines = [f"request {i} served" for i in range(5)] + ["FATAL segfault in worker 7"]
        pushed = await client.post(
            "/api/v1/logs", headers=AUTH, json={"node": "n1", "source": "app", "lines": lines}
        )
        assert pushed.json()["findings"] == 1
        now = controller.clock()
        for seq in (1, 1, 2):  # the second is a batch sent again
            answer = await client.post("/api/v1/logs/batches", headers=AGENT, json=batch(seq, now))
            assert answer.status_code == 200, answer.text
        too_big = await client.post(
            "/api/v1/logs?source=app",
            headers={**AUTH, "content-type": "text/plain"},
            content=b"x" * 20_000,
        )
        assert too_big.status_code == 413
        malformed = await client.post("/api/v1/logs/batches", headers=AGENT, json={"node": "n1"})
        assert malformed.status_code == 422

        async def rounds() -> float | None:
            return value(await scrape(client), "vigil_log_analysis_round_seconds_count")

        await eventually(rounds, 20, "an analysis round")
        m = await scrape(client)
    assert value(m, "vigil_log_lines_received_total", node="n1", source="app") == 6 + 2 * 7
    assert value(m, "vigil_log_batches_received_total", node="n1", via="push") == 1
    assert value(m, "vigil_log_batches_received_total", node="n1", via="agent") == 2
    assert value(m, "vigil_log_batches_duplicate_total", node="n1") == 1
    problem = "vigil_log_input_problems_total"
    assert value(m, problem, node="n1", source="app", problem="overflow") == 6
    assert value(m, problem, node="n1", source="app", problem="invalid_utf8") == 4
    assert value(m, "vigil_log_requests_rejected_total", endpoint="push", status="413") == 1
    assert value(m, "vigil_log_requests_rejected_total", endpoint="batches", status="422") == 1
    assert value(m, "vigil_log_templates") == 3
    assert value(m, "vigil_log_findings_total", kind="log_novelty", severity="critical") == 1
    assert value(m, "vigil_rule_evaluations_total", rule="hot") == 6
    assert value(m, "vigil_rule_evaluations_total", rule="odd") == 6
    assert value(m, "vigil_rules_firing", rule="hot") == 1  # 90 since the fifth sample
    assert value(m, "vigil_rules_firing", rule="odd") == 0  # still learning
    assert value(m, "vigil_series_refused_total") == 2
    # no template id or text as a label anywhere
    assert not any("template" in dict(labels) for _, labels in m)


async def test_the_rollups_saturated_by_the_flusher_are_counted_on_the_metrics(
    start_controller: StartController,
) -> None:
    # RollupFlusher counted them (and logged them) but /metrics did not say
    controller = await start_controller({"nodes": [{"name": "n1"}]})
    base = f"http://127.0.0.1:{controller.api_port}"
    async with httpx.AsyncClient(base_url=base) as client:
        assert value(await scrape(client), "vigil_rollups_saturated_total") == 0
        huge = [  # two of them sum past the largest double; the third closes minute 0
            {"name": "gpu.flops", "value": 1e308, "at": at} for at in (1020.0, 1050.0, 1090.0)
        ]
        stored = await client.post(
            "/api/v1/samples", headers=AUTH, json={"node": "n1", "samples": huge}
        )
        assert stored.json()["rejected"] == 0, stored.text
        assert await controller.flusher.flush() >= 1
        assert value(await scrape(client), "vigil_rollups_saturated_total") == 1
