"""Every public package lists its public surface in a sorted ``__all__`` (httpx's
test_exported_members style): what the package namespace exposes is what ``__all__`` says."""

from __future__ import annotations
import __future__

import importlib
import pkgutil
import types

import pytest

PACKAGES = [
    "vigil.model",
    "vigil.store",
    "vigil.backends",
    "vigil.collectors",
    "vigil.detectors",
    "vigil.remediation",
    "vigil.api",
    "vigil.web",
    "vigil.daemon",
    "vigil.cli",
    "vigil.logs",
    "vigil.logs.analysis",
    "vigil.balancer",
    "vigil.settings",
]


def ruff_order(name: str) -> tuple[int, str]:
    """The order ruff (RUF022) keeps ``__all__`` in: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def public_namespace(module: types.ModuleType) -> set[str]:
    """Names a user sees in the package: not private, not submodules, not __future__ flags."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and not isinstance(value, __future__._Feature)
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_every_name_in_it_exists(name: str) -> None:
    package = importlib.import_module(name)
    exported = list(package.__all__)
    assert exported == sorted(exported, key=ruff_order)
    assert len(set(exported)) == len(exported), "duplicates in __all__"
    missing = [n for n in exported if not hasattr(package, n)]
    assert missing == []


@pytest.mark.parametrize("name", PACKAGES)
def test_all_lists_exactly_the_public_names_of_the_package_namespace(name: str) -> None:
    package = importlib.import_module(name)
    assert set(package.__all__) == public_namespace(package)


@pytest.mark.parametrize("name", PACKAGES)
def test_names_imported_from_private_submodules_keep_their_definition(name: str) -> None:
    """A re-exported class or function is the object its private module defines (no stale
    copies), and that module lives inside the package (a private module, or a public one such
    as ``vigil.balancer.pool``)."""
    package = importlib.import_module(name)
    private = {
        f"{name}.{info.name}"
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("_")
    }
    for export in package.__all__:
        value = getattr(package, export)
        origin = getattr(value, "__module__", None)
        if isinstance(value, type | types.FunctionType) and origin != name:
            inside = origin in private or str(origin).startswith(f"{name}.")
            assert inside, f"{name}.{export} comes from {origin}"
            assert getattr(importlib.import_module(origin), export) is value


def test_the_exported_members_check_notices_a_forgotten_name() -> None:
    fake = types.ModuleType("fake_pkg")
    source = "from __future__ import annotations\nimport json\n_hidden = 1\nShown = 2\nForgot = 3"
    exec(source, vars(fake))
    assert public_namespace(fake) == {"Shown", "Forgot"}
