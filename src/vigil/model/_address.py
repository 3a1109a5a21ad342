"""The address an agent asks to be reached at (``vigil agent --advertise-address``, the
heartbeat's ``address``): an IP address or a host name, nothing else.

Called by the agent's CLI option (:mod:`vigil.cli._app`) and by the heartbeat's validation in
the API (:class:`vigil.api._schemas.HeartbeatIn`, :data:`vigil.api._beat.BEAT`), so both refuse
the same values with the same words. Pure: no name is resolved.
"""

from __future__ import annotations

import ipaddress
import re

MAX_ADDRESS = 253
"""The longest host name DNS allows (and far more than any IP address's text)."""

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def check_address(value: str) -> str:
    """``value`` as given when it is an IP address or a host name; else ``ValueError`` saying
    what is wanted (a URL, a port, a space... are refused: the controller adds the port)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    named = 0 < len(value) <= MAX_ADDRESS and all(_LABEL.match(label) for label in labels)
    if named and not labels[-1].isdigit():  # 10.0.0.300 is no name
        return value
    raise ValueError(
        "must be an IP address or a host name, e.g. 10.0.0.7 or gpu-3.internal, with no "
        f"scheme or port (got {value!r})"
    )
