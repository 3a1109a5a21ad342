"""A real Alertmanager in front of a leader and its standby on one PostgreSQL database, as the
README's Alertmanager section says to set it up: one webhook entry per controller. The standby
serves no API until it leads (Alertmanager retries its entry); after a ``kill -9`` of the leader
it takes over, and the alert's resolution resolves the incident the old leader opened (the
firing fingerprints are in the store). Real ``vigil up`` processes, real PostgreSQL
(``tests/_postgres.py``), Debian's ``prometheus-alertmanager``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from vigil.backends import free_port

from ._support import VigilUp, wait_until, write_config
from .conftest import API_TOKENS, VIEWER
from .test_alertmanager_e2e import ALERTMANAGER, MISSING, RealAlertmanager

pytestmark = pytest.mark.skipif(ALERTMANAGER is None, reason=MISSING)


def states(url: str) -> list[tuple[str, str, str]]:
    answer = httpx.get(
        url + "/api/v1/incidents", headers={"Authorization": f"Bearer {VIEWER}"}, timeout=5
    )
    assert answer.status_code == 200, answer.text
    return [(i["subject"], i["kind"], i["state"]) for i in answer.json()["items"]]


def post(manager: RealAlertmanager, alerts: list[dict[str, Any]]) -> None:
    answer = httpx.post(manager.url + "/api/v2/alerts", json=alerts, timeout=5)
    assert answer.status_code == 200, answer.text


def ready(manager: RealAlertmanager) -> bool:
    try:
        return httpx.get(manager.url + "/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
def test_an_alert_opened_on_the_leader_is_resolved_by_the_standby_that_took_over(
    pg_url: str, tmp_path: Path, tag: str, vigil_up: Callable[..., VigilUp]
) -> None:
    ports = [free_port(), free_port()]
    configs = []
    for name, port in zip(("a", "b"), ports, strict=True):
        (tmp_path / name).mkdir()
        config = {
            "data_dir": "data",
            "store": {"url": pg_url},
            "api": {"host": "127.0.0.1", "port": port, "tokens": API_TOKENS},
            "nodes": [{"name": "local"}, {"name": "gpu-01"}],
        }
        configs.append(write_config(tmp_path / name / "vigil.yaml", config))
    leader = vigil_up(configs[0])
    leader_url = leader.wait_up()
    standby = vigil_up(configs[1], "--standby")  # the README's flag
    wait_until(lambda: "standby: the store" in standby.output(), 30, "standby", standby.output)
    manager = RealAlertmanager(tmp_path, tag)
    try:
        manager.start(*ports)
        wait_until(lambda: ready(manager), 60, "Alertmanager ready", manager.tail)
        gpu_hot: dict[str, Any] = {
            "labels": {"alertname": "GpuHot", "instance": "gpu-01:9100", "severity": "critical"},
            "annotations": {"summary": "GPU 0 at 91C"},
            "startsAt": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
        }
        post(manager, [gpu_hot])
        opened = [("node:gpu-01", "external_alert", "open")]
        wait_until(lambda: states(leader_url) == opened, 60, "the incident", manager.tail)

        leader.proc.kill()  # kill -9: the server drops its advisory lock with its connection
        leader.proc.wait(timeout=10)
        new_url = standby.wait_up(timeout=60)
        assert states(new_url) == opened  # the same incident, from the shared store

        ended = datetime.now(UTC) - timedelta(seconds=1)
        post(manager, [gpu_hot | {"endsAt": ended.isoformat()}])
        resolved = [("node:gpu-01", "external_alert", "resolved")]
        wait_until(
            lambda: states(new_url) == resolved, 60, "resolved by the new leader", manager.tail
        )
    finally:
        manager.stop()
