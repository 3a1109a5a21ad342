"""The settings' value types and base section: durations (`"500ms"`, `"2m"`), sizes (`"10MB"`),
roles, config places (``Loc``), the frozen ``extra="forbid"`` base of every section, and the
stored form of a token. Imported by the section modules (:mod:`vigil.settings._models`,
``_rules``, ``_metrics``, ``_logs``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]i?B?|B)?\s*$", re.IGNORECASE)


def _as_seconds(value: Any) -> Any:
    """Accept ``0.5``, ``"500ms"``, ``"5s"``, ``"2m"``, ``"1h"``, ``"7d"``; leave other values to
    pydantic."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(
                "not a duration: use a number of seconds or '500ms', '5s', '2m', '1h', '7d' "
                f"(got {value!r})"
            )
        return float(match.group(1)) * _UNITS[match.group(2)]
    return value


def _as_bytes(value: Any) -> Any:
    """Accept ``1048576``, ``"10MB"``, ``"512KiB"``, ``"1G"``."""
    if isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"not a size: use bytes or '10MB', '512KiB' (got {value!r})")
        unit = (match.group(2) or "B").upper()[0]
        return int(match.group(1)) * {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]
    return value


Seconds = Annotated[float, BeforeValidator(_as_seconds), Field(ge=0)]
Bytes = Annotated[int, BeforeValidator(_as_bytes), Field(ge=0)]


def _as_network(value: Any) -> Any:
    """An address or CIDR block (``10.0.0.0/8``, ``192.168.1.5``, ``fd00::/8``), kept as its
    canonical text (host bits are cut: ``10.1.2.3/8`` is ``10.0.0.0/8``)."""
    if not isinstance(value, str):
        raise ValueError(f"expected an address or CIDR block as a string (got {value!r})")
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IP address or CIDR block (e.g. 10.0.0.0/8, 192.168.1.5, fd00::/8)"
        ) from None


Network = Annotated[str, BeforeValidator(_as_network)]
Role = Literal["viewer", "operator", "admin"]
Loc = tuple[str | int, ...]
"""A place in the config: ``("services", 0, "replicas")``."""


class _Section(BaseModel):
    # allow_inf_nan=False: YAML's `.inf` passed every `>= 0` check, and an infinite interval
    # reached agents as {"interval": Infinity} (not JSON) and made a stop wait for ever
    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, allow_inf_nan=False
    )


def hash_token(token: str) -> str:
    """The stored form of a bearer token: its SHA-256 in hex (tokens are random, so no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()
