"""Suite-wide guard: refuse to test a compiled data plane older than its source.

``make dev`` compiles the balancer's per-request modules in place with mypyc (``setup.py``), and
Python imports a module's ``.so`` before its ``.py``. After editing one of those ``.py`` files
without ``make compile``, Vigil runs the sources instead (with a warning, see
:mod:`vigil.balancer._pure`), so the tests would no longer test the compiled build; this stops
the session first and names the fix. ``make test`` rebuilds on its own, so it never trips there.

It also registers the PostgreSQL fixtures of ``tests/_postgres.py`` (``pg_server``: one private
cluster per session; ``pg_url``: a database per test; ``db_url``: a database per test on SQLite
and on PostgreSQL) once, for every directory.
"""

from __future__ import annotations

import os

import pytest

from _postgres import db_url, pg_server, pg_url
from vigil.balancer._pure import stale_sources

__all__ = ["db_url", "pg_server", "pg_url"]  # fixtures, registered here once for the whole suite


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("VIGIL_PURE_PYTHON", "") not in ("", "0"):
        return  # the sources are what runs
    stale = stale_sources()
    if stale:
        pytest.exit(
            f"compiled data plane older than its source: {', '.join(stale)}; "
            "run `make compile` (or set VIGIL_PURE_PYTHON=1 to test the sources)",
            returncode=4,
        )
