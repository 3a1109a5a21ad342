"""Alembic migrations of the Vigil store, run in code by :mod:`vigil.store._migrate`."""

from __future__ import annotations
