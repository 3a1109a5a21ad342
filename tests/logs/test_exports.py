from __future__ import annotations

import vigil.logs


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff (RUF022) keeps ``__all__`` in: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_lists_every_public_name() -> None:
    public = {n for n in dir(vigil.logs) if not n.startswith("_") and n != "annotations"}
    assert vigil.logs.__all__ == sorted(vigil.logs.__all__, key=_isort_key)
    assert set(vigil.logs.__all__) == public
