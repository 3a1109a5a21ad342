"""``VIGIL_PURE_PYTHON=1``: run the balancer from its ``.py`` files even where they are compiled.

``make install`` / ``make dev`` compile the per-request data plane with mypyc (see ``setup.py``);
Python then imports the ``.so`` next to each ``.py``. This switch puts a finder first on
``sys.meta_path`` that loads every ``vigil.balancer.*`` module from its source instead, so the
same tests run against both builds (``make test``) and an operator can rule the compiled build
out when chasing a bug. :mod:`vigil.balancer` calls :func:`install_if_asked` before importing
anything else, so the choice holds for the whole process (and the worker processes it spawns,
which inherit the environment). :func:`build` says which one is running.

In a source checkout (a ``.git`` beside ``src/``), a compiled module older than its source
(edited or pulled since the last ``make``) would run old code: then the sources are used, with a
warning naming ``make compile``, and ``tests/conftest.py`` refuses to test such a build.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

ENV = "VIGIL_PURE_PYTHON"
_PREFIX = "vigil.balancer."
_PACKAGE = Path(__file__).resolve().parent


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Finds ``vigil.balancer.*`` modules as ``.py`` files, ignoring extension modules."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(_PREFIX) or not path:
            return None
        leaf = fullname.rpartition(".")[2]
        for folder in path:
            source = os.path.join(folder, leaf + ".py")
            if os.path.isfile(source):
                return importlib.util.spec_from_file_location(fullname, source)
        return None  # a package (its __init__.py) or not ours: the usual finders


def install_if_asked() -> None:
    """Put the source-first finder in place when ``VIGIL_PURE_PYTHON`` is set (to anything but
    ``0`` or an empty string), or when a compiled module of a checkout is stale. Idempotent."""
    if os.environ.get(ENV, "") in ("", "0"):
        stale = stale_sources()
        if not stale:
            return
        warnings.warn(
            f"vigil: the compiled data plane is older than {', '.join(stale)}; running the "
            "sources instead (run `make compile` to rebuild it)",
            RuntimeWarning,
            stacklevel=2,
        )
    if not any(isinstance(f, _SourceFirst) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFirst())


def stale_sources(package: Path = _PACKAGE) -> list[str]:
    """Sources of a source checkout changed after the extension built from them (repository
    paths); ``[]`` outside a checkout, where files carry their install times."""
    root = package.parent.parent.parent  # src/vigil/balancer -> the repository
    if not (root / ".git").exists():
        return []
    stale = []
    for extension in package.rglob("*.so"):
        source = extension.with_name(extension.name.split(".", 1)[0] + ".py")
        if source.exists() and source.stat().st_mtime > extension.stat().st_mtime:
            stale.append(str(source.relative_to(root)))
    return sorted(stale)


def build() -> str:
    """``"compiled"`` when the data plane runs from mypyc extensions, else ``"pure Python"``."""
    from vigil.balancer import _proxy_client

    return "compiled" if _proxy_client.__file__.endswith((".so", ".pyd")) else "pure Python"
