"""A replica's never-live count is written off the controller's event loop, in order.

The runners count on the loop (:class:`vigil.remediation.HealingGate`), and the count was
written in line there: a slow or locked store held heartbeats, probes and the API for as long.
A real controller and a real SQLite store whose never-live writes wait, in the thread that runs
them, until the loop has answered; the wait is bounded so that the controller of old (which
wrote in line and so could not answer) fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from vigil.daemon import Controller
from vigil.model import Replica, ReplicaId
from vigil.remediation import NeverLive, NeverLiveLedger
from vigil.settings import Settings
from vigil.store import SqlStore

HELD_AT_MOST = 5.0
"""Seconds a held write waits for the test: only a guard against hanging, never a measure."""


class HeldStore(SqlStore):
    """The first never-live write waits for ``release``; ``written`` lists them in order."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released = False
        self.written: list[str] = []

    def set_meta(self, key: str, value: str) -> None:
        if key.startswith("never_live:"):
            if not self.entered.is_set():
                self.entered.set()
                # set by the test from the event loop: only possible while the loop runs
                self.released = self.release.wait(HELD_AT_MOST)
            self.written.append(value)
        super().set_meta(key, value)


async def test_never_live_counts_are_written_off_the_loop_in_the_order_counted(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    store = HeldStore(url)
    settings = Settings.model_validate({"data_dir": str(tmp_path / "data"), "api": {"port": 0}})
    controller = Controller(settings, base_dir=tmp_path, store=store, serve_api=False)
    run = asyncio.create_task(controller.run())
    try:
        await asyncio.wait_for(controller.started.wait(), 30)
        for n in range(1, 21):  # as a runner counts restarts that did not help, on the loop
            controller.gate.set_never_live("llm/0", NeverLive(n, escalated=n == 20))
        assert await asyncio.to_thread(store.entered.wait, 30)
        store.release.set()
    finally:
        controller.stop()
        await asyncio.wait_for(run, 30)
    assert store.released  # the loop was free while the first write was held
    expected = [json.dumps({"restarts": n, "escalated": n == 20}) for n in range(1, 21)]
    assert store.written == expected  # all written before the store closed, in order
    again = SqlStore(url)
    try:
        assert NeverLiveLedger(again).get("llm/0") == NeverLive(20, escalated=True)
    finally:
        again.close()


async def test_the_count_of_a_replica_taken_out_of_the_config_is_deleted(tmp_path: Path) -> None:
    # one meta row per replica ever configured stayed for ever (never_live:<replica>)
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    store = SqlStore(url)
    store.upsert_service("gone", {"name": "gone"})
    store.upsert_replica(Replica(ReplicaId("gone/0"), "gone", 0, "local", 1))
    NeverLiveLedger(store).put("gone/0", NeverLive(2, escalated=True))
    settings = Settings.model_validate({"data_dir": str(tmp_path / "data"), "api": {"port": 0}})
    controller = Controller(settings, base_dir=tmp_path, store=store, serve_api=False)
    run = asyncio.create_task(controller.run())
    try:
        await asyncio.wait_for(controller.started.wait(), 30)
    finally:
        controller.stop()
        await asyncio.wait_for(run, 30)
    again = SqlStore(url)
    try:
        assert again.get_meta("never_live:gone/0") is None
        assert again.list_replicas() == []
    finally:
        again.close()
