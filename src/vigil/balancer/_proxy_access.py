"""The access log of the data plane: one line per request, built only when the logger is on.

Called by :mod:`vigil.balancer._proxy_exchange` when a request ends. The logger is
``vigil.balancer.access``; ``vigil balance`` / ``vigil up`` enable it at INFO to write it. Fields
(space separated): UTC time, client address, method, path, status, upstream (``-`` when none),
response body bytes, duration in seconds, request id. Status 499: the client went away.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vigil.balancer._proxy_core import ExchangeCore


def log_access(logger: logging.Logger, ex: ExchangeCore, duration: float) -> None:
    stats = ex.stats
    upstream = stats.upstream.id if stats is not None and stats.upstream is not None else "-"
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    logger.info(
        "%s %s %s %s %d %s %d %.6f %s",
        stamp,
        ex.client_ip.decode("latin-1"),
        ex.method.decode("latin-1"),
        ex.url.decode("latin-1"),
        ex.status,
        upstream,
        ex.bytes_out,
        duration,
        ex.meta.request_id.decode("latin-1"),
    )
