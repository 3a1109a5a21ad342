"""The controller's log pipeline as the log tests build it: a real SQLite store, bus and
incident book, on a hand-moved clock.

Used by tests/logs/test_analysis_local_backlog.py, tests/logs/test_analysis_widened.py,
tests/daemon/test_log_pipeline.py, tests/daemon/test_log_local_stop.py and the log endpoints'
tests in tests/api; the ``store``
fixture is registered by the conftest.py of tests/logs and tests/daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vigil.bus import EventBus
from vigil.daemon import LogPipeline
from vigil.remediation import IncidentBook
from vigil.settings import LogsSettings
from vigil.store import SqlStore


class Clock:
    """A clock the test moves by hand (``clock.now += 1``)."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    sql = SqlStore(f"sqlite:///{tmp_path}/v.db")
    yield sql
    sql.close()


def pipeline(
    tmp_path: Path,
    store: SqlStore,
    clock: Clock,
    settings: dict[str, Any],
    bus: EventBus | None = None,
    /,
    **options: Any,
) -> LogPipeline:
    """A pipeline with ``settings`` (the ``logs:`` section), its state in ``tmp_path``; a new
    bus unless one is given; ``options`` (``store=`` among them) go to :class:`LogPipeline`."""
    bus = bus or EventBus()
    return LogPipeline(
        LogsSettings.model_validate(settings),
        state_path=tmp_path / "log-analysis.json",
        bus=bus,
        incidents=IncidentBook(store, bus, clock),
        clock=clock,
        **options,
    )


def local_file_pipelines(tmp_path: Path, store: SqlStore, lines: int) -> Callable[[], LogPipeline]:
    """``tmp_path/app.log`` with ``lines`` request lines, and a maker of pipelines that tail it:
    each call is the controller (re)started on the same store, clock and state file."""
    log = tmp_path / "app.log"
    log.write_text("".join(f"request {i} served in {i % 7} ms\n" for i in range(lines)))
    clock = Clock()
    settings = {"sources": [{"path": str(log)}], "analysis": {"window": 60}}
    return lambda: pipeline(tmp_path, store, clock, settings)


def counted(logs: LogPipeline) -> int:
    """The lines ``logs`` has mined: the sum of its templates' counts."""
    return sum(t.count for t in logs.registry.entries())


async def counted_after_the_stop(
    polling: asyncio.Task[None], first: LogPipeline, restarted: Callable[[], LogPipeline]
) -> int:
    """Wait out ``first``'s cancelled ``polling``, save its state as ``run()`` does on its way
    out, and count what the pipeline ``restarted()`` has mined after its own poll."""
    with contextlib.suppress(asyncio.CancelledError):
        await polling
    assert polling.cancelled()
    first.save_now()
    again = restarted()
    await again.poll_local()
    return counted(again)
