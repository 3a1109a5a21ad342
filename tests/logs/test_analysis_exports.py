from __future__ import annotations

import types

import vigil.logs.analysis


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff (RUF022) keeps ``__all__`` in: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_the_analysis_package_lists_every_public_name_sorted() -> None:
    module = vigil.logs.analysis
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and n != "annotations" and not isinstance(v, types.ModuleType)
    }
    assert module.__all__ == sorted(module.__all__, key=_isort_key)
    assert set(module.__all__) == public
