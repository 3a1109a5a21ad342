"""Build hook: compiles the balancer's per-request data plane to C with mypyc.

Everything else about the package is declared in ``pyproject.toml``. The modules in
:data:`DATA_PLANE` run for every proxied request; compiled, the proxy spends about half the
Python CPU per request (``bench/balance_overhead.py``). The same ``.py`` files stay the source
of truth and run unchanged when the extensions are absent.

The compile is asked for with ``VIGIL_MYPYC=1``; without it this file declares no extension, so
a plain ``pip install`` stays as quick as before. ``make install`` / ``make dev`` run
``VIGIL_MYPYC=1 python setup.py build_ext --inplace`` once the dependencies are installed, since
mypyc type-checks the modules first and needs the libraries' types; a wheel is built the same way
(``VIGIL_MYPYC=1 pip wheel --no-build-isolation .`` in an environment with the dependencies and
mypy). A failed compile (no C compiler or Python headers) leaves the pure-Python package working:
every extension is optional.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup

_BALANCER = "src/vigil/balancer/"
DATA_PLANE = [
    _BALANCER + name + ".py"
    for name in (
        "_http_answers",
        "_http_chunks",
        "_http_headers",
        "_http_plain",
        "_http_raw",
        "_http_request_checks",
        "_http_response",
        "_http_whole",
        "_pool_budget",
        "_pool_health",
        "_pool_learned",
        "_pool_shared",
        "_proxy_accept",
        "_proxy_access",
        "_proxy_balance",
        "_proxy_client",
        "_proxy_connpool",
        "_proxy_core",
        "_proxy_exchange",
        "_proxy_metrics",
        "_proxy_peers",
        "_proxy_state",
        "_proxy_transports",
        "_proxy_upstream",
        "_upstream",
        "pool",
        "policies/_hash",
        "policies/_least",
        "policies/_p2c",
        "policies/_p2c_model",
        "policies/_p2c_pooled",
        "policies/_rotation",
    )
]


def data_plane_extensions() -> list[Extension]:
    """The compiled data plane, or nothing unless asked for (``VIGIL_MYPYC=1``) with mypyc there."""
    if os.environ.get("VIGIL_MYPYC", "") != "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        sys.stderr.write("vigil: mypyc not installed; the data plane stays pure Python\n")
        return []
    extensions: list[Extension] = mypycify(
        ["--config-file", "pyproject.toml", *DATA_PLANE],
        opt_level="3",
        group_name="vigil_dataplane",
    )
    for extension in extensions:
        extension.optional = True  # no compiler: keep the pure-Python modules, do not fail
    return extensions


setup(ext_modules=data_plane_extensions())
