"""bench/balance_faults.py's measurement hooks run inside the proxy: one that raises must stop
the bench with its own error (``PROBE.check``), not pass for the clients' errors it causes (a
502, a reset) as if they had been measured."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "balance_faults.py"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("balance_faults_under_test", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    sys.path.insert(0, str(BENCH.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH.parent))
    return module


def test_a_hook_that_raises_stops_the_bench_with_its_error() -> None:
    bench = _bench()

    @bench.loud
    def release_hook(self: object, outcome: object) -> None:
        raise TypeError("release_hook() got an unexpected keyword argument 'now'")

    with pytest.raises(TypeError):  # the proxy still sees the error where it happened
        release_hook(object(), "ok", now=1.0)
    assert release_hook.__name__ == "release_hook"  # functools.wraps: named in tracebacks
    with pytest.raises(SystemExit, match=r"a measurement hook raised:(.|\n)*unexpected keyword"):
        bench.PROBE.check()
    with pytest.raises(SystemExit):  # and every figure read from the probe stops there
        bench.vigil_kill_figures("a", 0.0)


def test_hooks_that_do_not_raise_leave_the_probe_usable() -> None:
    bench = _bench()
    assert bench.loud(lambda x: x + 1)(1) == 2
    bench.PROBE.check()
    bench.PROBE.clear()
