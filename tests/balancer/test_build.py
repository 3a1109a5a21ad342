"""The two builds of the data plane: mypyc-compiled (``make dev``) and from source
(``VIGIL_PURE_PYTHON=1``), and that the switch really changes what is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import vigil.balancer._proxy_client as client_module
from vigil.balancer._pure import build, stale_sources

_PROBE = (
    "import json, vigil.balancer.pool as p, vigil.balancer.policies._p2c as q;"
    "from vigil.balancer._pure import build;"
    "print(json.dumps([build(), p.__file__, q.__file__]))"
)


def _probe(**env: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return list(json.loads(out))


def test_the_pure_switch_imports_every_module_from_its_source() -> None:
    name, pool, p2c = _probe(VIGIL_PURE_PYTHON="1")
    assert name == "pure Python"
    assert pool.endswith("pool.py") and p2c.endswith("_p2c.py")


def test_build_reports_what_this_process_imported() -> None:
    compiled = Path(client_module.__file__ or "").suffix == ".so"
    assert build() == ("compiled" if compiled else "pure Python")
    name, pool, _ = _probe(VIGIL_PURE_PYTHON="0")  # "0" is off, as unset is
    compiled_pool = any(Path(pool).parent.glob("pool.*.so"))
    assert name == ("compiled" if compiled_pool else "pure Python")
    assert pool.endswith(".so") == compiled_pool


def test_proxy_settings_cross_to_worker_processes_by_pickle() -> None:
    # spawned workers receive them pickled; a compiled frozen dataclass needs __reduce__ for it
    import pickle

    from vigil.balancer._proxy_state import ProxySettings

    settings = ProxySettings(connect_timeout=0.5, affinity_header="x-user", max_retries=0)
    assert pickle.loads(pickle.dumps(settings)) == settings


def _layout(tmp_path: Path, *, checkout: bool, source_newer: bool) -> Path:
    package = tmp_path / "src" / "vigil" / "balancer"
    package.mkdir(parents=True)
    if checkout:
        (tmp_path / ".git").mkdir()
    source = package / "pool.py"
    extension = package / "pool.cpython-311-x86_64-linux-gnu.so"
    source.write_text("")
    extension.write_bytes(b"")
    older, newer = (extension, source) if source_newer else (source, extension)
    os.utime(older, (1_000_000, 1_000_000))
    os.utime(newer, (2_000_000, 2_000_000))
    return package


def test_a_compiled_module_older_than_its_source_is_stale_in_a_checkout(tmp_path: Path) -> None:
    package = _layout(tmp_path, checkout=True, source_newer=True)
    assert stale_sources(package) == ["src/vigil/balancer/pool.py"]


def test_a_fresh_build_or_an_installed_package_is_never_stale(tmp_path: Path) -> None:
    assert stale_sources(_layout(tmp_path / "a", checkout=True, source_newer=False)) == []
    # installed (no checkout): install times say nothing about which file is newer
    assert stale_sources(_layout(tmp_path / "b", checkout=False, source_newer=True)) == []
