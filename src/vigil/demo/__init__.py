"""The demo fleet: a fake model server, a fault timeline and the live view of ``vigil demo``.

Importing this package stays cheap: the model server (``python -m vigil.demo.model_server``) is
started many times and must not pay for the controller's imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def run_demo(console: Console, *, duration: float = 60.0, port: int = 0) -> int:
    """Run ``vigil demo``; 0 when every injected fault ended as expected."""
    from vigil.demo._run import run_demo as _run_demo

    return _run_demo(console, duration=duration, port=port)


__all__ = ["run_demo"]
