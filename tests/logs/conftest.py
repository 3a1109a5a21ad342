"""Fixtures of tests/logs: ``store`` (a SQLite store in the test's tmp_path, closed after),
from tests/_log_pipeline.py, for the tests that run the controller's log pipeline."""

from __future__ import annotations

from _log_pipeline import store

__all__ = ["store"]  # a fixture, registered for this directory
