"""Pick a TCP port for a process that will bind it moments later (a replica, a test server).

Asking the kernel (``bind(0)``) and closing the socket leaves a window in which the same port
can be handed to someone else: any other ``bind(0)`` or outgoing ``connect()`` on the host draws
from the same ephemeral range (``/proc/sys/net/ipv4/ip_local_port_range``). A replica that then
finds its port taken exits at once, and a restart on the same port fails the same way until the
crash-loop guard gives up. :func:`free_port` therefore draws at random from the ports *outside*
the ephemeral range (never handed out implicitly) and checks that nothing holds the one drawn;
only on a host whose ephemeral range leaves no room does it fall back to ``bind(0)``.

Called by :func:`vigil.remediation.plan_replica` for replicas without a ``base_port``, and by
tests and benches for the servers they start.
"""

from __future__ import annotations

import random
import socket
from collections import deque
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LINUX_DEFAULT = (32768, 60999)
LOWEST = 10000  # below this live well-known services (databases, exporters, dev servers)
TRIES = 64

_rng = random.SystemRandom()
_handed: deque[int] = deque(maxlen=1024)  # picked here but maybe not bound yet


def ephemeral_range(path: Path = EPHEMERAL_RANGE_FILE) -> tuple[int, int]:
    """The kernel's range for implicit ports (Linux's default where it cannot be read)."""
    try:
        low, high = (int(word) for word in path.read_text().split()[:2])
    except (OSError, ValueError):
        return LINUX_DEFAULT
    return (low, high) if 0 < low <= high <= 65535 else LINUX_DEFAULT


def outside(low: int, high: int) -> list[range]:
    """The port ranges at or above :data:`LOWEST` that lie outside ``[low, high]``."""
    spans = [range(LOWEST, min(low, 65536)), range(max(high + 1, LOWEST), 65536)]
    return [span for span in spans if len(span) > 0]


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))  # no SO_REUSEADDR: a port in TIME_WAIT counts as taken
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1", rng: random.Random = _rng) -> int:
    """A port on ``host`` that nothing holds now, that the kernel will not hand out, and that
    this process has not picked recently (two replicas planned together get two ports)."""
    spans = outside(*ephemeral_range())
    total = sum(len(span) for span in spans)
    for _ in range(TRIES if total else 0):
        pick = rng.randrange(total)
        for span in spans:
            if pick < len(span):
                port = span[pick]
                break
            pick -= len(span)
        if port not in _handed and _bindable(host, port):
            _handed.append(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
