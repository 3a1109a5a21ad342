"""The Alertmanager receiver's writer thread ends with the controller that made it.

The receiver writes its chunks of alerts on a thread of its own, made at the first notification
and kept in the app's state. Nothing stopped it: every controller that had received an alert
left a ``vigil-alerts`` thread behind when its run() returned (one more per controller life in
a test session, or in a process that runs controllers one after the other), and a chunk still
being written at shutdown went on after the event persister had stopped, its events lost.
A real controller, its real API server and a real SQLite store.
"""

from __future__ import annotations

import threading

import httpx

from ._support import GPU_FLEET, NOTIFICATION
from .conftest import OPERATOR, StartController


def alert_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("vigil-alerts")]


async def test_the_receivers_thread_ends_when_the_controller_stops(
    start_controller: StartController,
) -> None:
    before = alert_threads()
    controller = await start_controller(GPU_FLEET)
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"http://127.0.0.1:{controller.api_port}/api/v1/alerts/alertmanager",
            json=NOTIFICATION,
            headers={"Authorization": f"Bearer {OPERATOR}"},
            timeout=10,
        )
    assert answer.status_code == 200, answer.text
    made = [t for t in alert_threads() if t not in before]  # the receiver's, made on demand
    assert len(made) == 1
    await start_controller.stop(controller)
    assert not made[0].is_alive()
    # what the chunk published reached the bus before the persister stopped, and was stored
    kinds = {e.kind for e in controller.store.list_events(subject="node:gpu-01").items}
    assert {"finding.raised", "incident.changed"} <= kinds
