"""``POST /auto_maintain`` checks the whole audit chain without holding up the event loop.

The walk reads every audit entry (about a second per 20,000 on a busy machine): on the loop, it
stalled heartbeats and probes for as long. A real controller and a real SQLite store whose
``verify_audit`` waits, in the thread that runs it, until the loop has answered.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from vigil.daemon import Controller
from vigil.settings import Settings
from vigil.store import SqlStore


class SlowAuditStore(SqlStore):
    """A SqlStore whose chain walk lasts until the test lets it end."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released = False

    def verify_audit(self) -> int | None:
        self.entered.set()
        # set by the test from the event loop: only possible while the loop runs meanwhile
        self.released = self.release.wait(timeout=20)
        return super().verify_audit()


async def test_auto_maintain_walks_the_audit_chain_off_the_event_loop(tmp_path: Path) -> None:
    store = SlowAuditStore(f"sqlite:///{tmp_path / 'vigil.db'}")
    settings = Settings.model_validate({"data_dir": str(tmp_path / "data"), "api": {"port": 0}})
    controller = Controller(settings, base_dir=tmp_path, store=store, serve_api=False)
    run = asyncio.create_task(controller.run())
    try:
        await asyncio.wait_for(controller.started.wait(), 30)
        maintain = asyncio.create_task(controller.auto_maintain(actor="alice"))
        assert await asyncio.to_thread(store.entered.wait, 30)
        store.release.set()  # the loop is free while the chain is walked
        assert await maintain is True
        assert store.released
    finally:
        controller.stop()
        await asyncio.wait_for(run, 30)
