"""Against a REAL Alertmanager: its webhook receiver posts to a real controller's
``/api/v1/alerts/alertmanager`` with a bearer token; an alert posted to Alertmanager becomes an
incident in Vigil, and its resolution resolves it.

Needs Debian's ``prometheus-alertmanager`` package (``.ci/run`` installs it). Without the binary
the test is skipped, saying so, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from vigil.backends import free_port
from vigil.daemon import Controller

from ._support import eventually, tagged_env
from .conftest import API_TOKENS, OPERATOR, VIEWER, StartController

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
MISSING = "the prometheus-alertmanager binary is absent: `apt-get install prometheus-alertmanager`"
pytestmark = pytest.mark.skipif(
    ALERTMANAGER is None and os.environ.get("CI") != "true", reason=MISSING + " (.ci/run does)"
)


class RealAlertmanager:
    def __init__(self, tmp_path: Path, tag: str) -> None:
        self.tmp_path = tmp_path
        self.tag = tag
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "alertmanager.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *vigil_ports: int) -> None:
        """Alertmanager with one webhook entry per controller port (a leader and its standby)."""
        assert ALERTMANAGER is not None, MISSING + " and CI=true: .ci/run must install it"
        config = self.tmp_path / "alertmanager.yml"
        config.write_text(
            "route:\n"
            "  receiver: vigil\n"
            "  group_by: ['alertname']\n"
            "  group_wait: 100ms\n"
            "  group_interval: 500ms\n"
            "  repeat_interval: 1h\n"
            "receivers:\n"
            "  - name: vigil\n"
            "    webhook_configs:\n"
            + "".join(
                f"      - url: http://127.0.0.1:{port}/api/v1/alerts/alertmanager\n"
                "        send_resolved: true\n"
                "        max_alerts: 1000\n"
                "        http_config:\n"
                "          authorization:\n"
                f"            credentials: {OPERATOR}\n"
                for port in vigil_ports
            )
        )
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    ALERTMANAGER,
                    f"--config.file={config}",
                    f"--storage.path={self.tmp_path / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--cluster.listen-address=",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=tagged_env(self.tag),
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    async def ready(self) -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(self.url + "/-/ready", timeout=2)).status_code == 200
        except httpx.HTTPError:
            return False

    async def webhooks_sent(self) -> float:
        """How many notifications Alertmanager has delivered to its webhook (its /metrics)."""
        async with httpx.AsyncClient() as client:
            text = (await client.get(self.url + "/metrics", timeout=5)).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("alertmanager_notifications_total{")
            and 'integration="webhook"' in line
        )

    async def post(self, alerts: list[dict[str, Any]]) -> None:
        async with httpx.AsyncClient() as client:
            answer = await client.post(self.url + "/api/v2/alerts", json=alerts, timeout=5)
        assert answer.status_code == 200, answer.text


@pytest.fixture
def alertmanager(tmp_path: Path, tag: str) -> Iterator[RealAlertmanager]:
    manager = RealAlertmanager(tmp_path, tag)
    yield manager
    manager.stop()


async def incident_states(controller: Controller, subject: str) -> list[tuple[str, str]]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            f"http://127.0.0.1:{controller.api_port}/api/v1/incidents",
            params={"subject": subject},
            headers={"Authorization": f"Bearer {VIEWER}"},
            timeout=5,
        )
    assert answer.status_code == 200, answer.text
    return [(i["kind"], i["state"]) for i in answer.json()["items"]]


async def test_alertmanager_alert_opens_and_resolves_a_vigil_incident(
    alertmanager: RealAlertmanager, start_controller: StartController
) -> None:
    controller = await start_controller({"nodes": [{"name": "local"}, {"name": "gpu-01"}]})
    assert controller.api_port is not None
    alertmanager.start(controller.api_port)
    await eventually(alertmanager.ready, 60, "Alertmanager ready", state=alertmanager.tail)

    started = datetime.now(UTC) - timedelta(seconds=5)
    gpu_hot: dict[str, Any] = {
        "labels": {"alertname": "GpuHot", "instance": "gpu-01:9100", "severity": "critical"},
        "annotations": {"summary": "GPU 0 at 91C"},
        "startsAt": started.isoformat(),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=gpu_temp",
    }
    await alertmanager.post([gpu_hot])

    async def opened() -> bool:
        return await incident_states(controller, "node:gpu-01") == [("external_alert", "open")]

    await eventually(opened, 60, "the alert's incident in Vigil", state=alertmanager.tail)
    incident = controller.store.find_active_incident("node:gpu-01")
    assert incident is not None and incident.severity.value == "critical"
    assert incident.summary == "alert GpuHot: GPU 0 at 91C"
    [finding] = incident.evidence["findings"]
    assert finding["generator_url"] == gpu_hot["generatorURL"]
    assert finding["fingerprint"]  # Alertmanager's own

    ended = datetime.now(UTC) - timedelta(seconds=1)
    await alertmanager.post([gpu_hot | {"endsAt": ended.isoformat()}])

    async def resolved() -> bool:
        return await incident_states(controller, "node:gpu-01") == [("external_alert", "resolved")]

    await eventually(resolved, 60, "the incident resolved by Vigil", state=alertmanager.tail)
    audit = [e.action for e in controller.store.list_audit().items]
    assert "alert.firing" in audit and "alert.resolved" in audit

    def persisted() -> set[str]:  # published from the receiver's thread, stored from the bus
        return {e.kind for e in controller.store.list_events(subject="node:gpu-01").items}

    await eventually(
        lambda: {"finding.raised", "incident.changed"} <= persisted(), 10, "the events stored"
    )


async def test_a_restarted_controller_resolves_a_node_only_when_its_last_alert_does(
    alertmanager: RealAlertmanager, start_controller: StartController
) -> None:
    """Two alerts fire on gpu-01, the controller restarts, one resolves: the incident stays open
    (the firing fingerprints were in memory only: the restarted controller resolved it)."""
    port = free_port()
    config = {
        "nodes": [{"name": "local"}, {"name": "gpu-01"}],
        "api": {"port": port, "tokens": API_TOKENS},
    }
    first = await start_controller(config)
    alertmanager.start(port)
    await eventually(alertmanager.ready, 60, "Alertmanager ready", state=alertmanager.tail)
    started = datetime.now(UTC) - timedelta(seconds=5)
    alerts = [
        {
            "labels": {"alertname": name, "instance": "gpu-01:9100", "severity": "critical"},
            "startsAt": started.isoformat(),
        }
        for name in ("GpuHot", "GpuFanFailed")
    ]
    await alertmanager.post(alerts)

    def findings() -> int:
        incident = first.store.find_active_incident("node:gpu-01")
        return 0 if incident is None else len(incident.evidence["findings"])

    await eventually(lambda: findings() == 2, 60, "both alerts in one incident")
    await start_controller.stop(first)
    second = await start_controller(config)
    sent = await alertmanager.webhooks_sent()
    ended = datetime.now(UTC) - timedelta(seconds=1)
    await alertmanager.post([alerts[0] | {"endsAt": ended.isoformat()}])

    async def delivered() -> bool:
        return await alertmanager.webhooks_sent() > sent

    await eventually(delivered, 60, "GpuHot's resolution delivered", state=alertmanager.tail)
    assert await incident_states(second, "node:gpu-01") == [("external_alert", "open")]
    await alertmanager.post([alerts[1] | {"endsAt": ended.isoformat()}])

    async def resolved() -> bool:
        return await incident_states(second, "node:gpu-01") == [("external_alert", "resolved")]

    await eventually(
        resolved, 60, "the incident resolved by the last alert", state=alertmanager.tail
    )
