"""A pytest plugin for hunting flaky tests: repeat tests in one process, stall it with GC passes.

Not loaded by the suite; named on the command line when a test fails once in a while under load::

    PYTHONPATH=tests .venv/bin/python -m pytest -p no:cacheprovider -p _load_harness \\
        --rep 20 --gc-stall 200000 --fail-dir /tmp/fails tests/daemon/test_agents.py::test_x

``--rep N`` runs each collected test N times (pytest-repeat's ``--count``; not installed here),
one process: no interpreter start per run. ``--gc-stall OBJECTS`` keeps that many small
containers alive and runs ``gc.collect()`` on a thread every 0.2-0.6 s: each pass holds the GIL
for a few hundred ms on a loaded host, stalling the event loop of an in-process controller as a
big heap left by earlier tests in the same run does (``pytest tests/logs tests/daemon``); CPU
load alone rarely reproduces such flakes (clock29, flaky30 in docs/benchmarks.md).
``--fail-dir DIR`` writes each failure's full report to ``DIR/<n>-<phase>.txt`` when it happens.
"""

from __future__ import annotations

import gc
import random
import threading
import time
from pathlib import Path

import pytest

_HEAP: list[object] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("load harness")
    group.addoption("--rep", type=int, default=1, help="run each test this many times")
    group.addoption(
        "--gc-stall", type=int, default=0, help="objects on the heap of a GC pass every 0.2-0.6 s"
    )
    group.addoption("--fail-dir", default=None, help="write each failure's report here")


def _stall() -> None:
    rng = random.Random()
    while True:
        time.sleep(rng.uniform(0.2, 0.6))
        gc.collect()


def pytest_configure(config: pytest.Config) -> None:
    objects = config.getoption("gc_stall")
    if objects < 0 or config.getoption("rep") < 1:
        raise pytest.UsageError("--gc-stall must be >= 0 and --rep >= 1")
    if objects:
        _HEAP.extend({"k": [i]} for i in range(objects))
        threading.Thread(target=_stall, daemon=True, name="gc-stall").start()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    n = metafunc.config.getoption("rep")
    if n > 1:
        metafunc.fixturenames.append("_rep")
        metafunc.parametrize("_rep", range(n), ids=[f"r{i}" for i in range(n)])


_FAIL_DIR: list[Path] = []
"""Where failures are written (``--fail-dir``), set at session start."""


def pytest_sessionstart(session: pytest.Session) -> None:
    where = session.config.getoption("fail_dir")
    if where:
        _FAIL_DIR.append(Path(where))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.failed or not _FAIL_DIR:
        return
    out = _FAIL_DIR[0]
    out.mkdir(parents=True, exist_ok=True)
    n = len(list(out.iterdir()))
    text = [report.nodeid, report.longreprtext]
    text += [f"--- {name}\n{body}" for name, body in report.sections]
    (out / f"{n}-{report.when}.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
