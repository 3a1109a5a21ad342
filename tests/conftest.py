"""Suite-wide guard: refuse to test a compiled data plane older than its source.

``make dev`` compiles the balancer's per-request modules in place with mypyc (``setup.py``), and
Python imports a module's ``.so`` before its ``.py``. After editing one of those ``.py`` files
without ``make compile``, the tests would silently run the old compiled code; this stops the
session first and names the fix. ``make test`` rebuilds on its own, so it never trips there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_BALANCER = Path(__file__).resolve().parent.parent / "src" / "vigil" / "balancer"


def stale_extensions(root: Path = _BALANCER) -> list[str]:
    """Sources under ``root`` changed after the extension module built from them."""
    stale = []
    for extension in root.rglob("*.so"):
        source = extension.with_name(extension.name.split(".", 1)[0] + ".py")
        if source.exists() and source.stat().st_mtime > extension.stat().st_mtime:
            stale.append(str(source.relative_to(root.parent.parent.parent)))
    return sorted(stale)


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("VIGIL_PURE_PYTHON", "") not in ("", "0"):
        return  # the sources are what runs
    stale = stale_extensions()
    if stale:
        pytest.exit(
            f"compiled data plane older than its source: {', '.join(stale)}; "
            "run `make compile` (or set VIGIL_PURE_PYTHON=1 to test the sources)",
            returncode=4,
        )
