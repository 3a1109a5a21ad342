"""Tests of vigil.store: the Store contract, persistence across restarts, migrations."""

from __future__ import annotations
