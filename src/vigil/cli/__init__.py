"""The ``vigil`` command line. Entry point: :func:`main` (the console script)."""

from __future__ import annotations

from vigil.cli._app import app, main

__all__ = ["app", "main"]
