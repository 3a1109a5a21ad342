"""``python -m vigil``: the same as the ``vigil`` console script."""

from __future__ import annotations

from vigil.cli import main

main()
