"""Strict JSON for the store: what JSON columns and the audit hash chain serialize.

Used by :mod:`vigil.store._engine` (the engine's ``json_serializer``) and
:mod:`vigil.store._audit` (the canonical form that is hashed). Values are normalised to plain
RFC 8259 JSON so SQLite and PostgreSQL (``jsonb``) accept and return exactly the same thing:
mappings become dicts with string keys, tuples and sets become lists, and non-finite floats
(``phi`` can be infinite) become the strings ``"Infinity"``, ``"-Infinity"`` and ``"NaN"``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Set
from enum import Enum
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Return ``value`` as plain JSON data; raise ``TypeError`` for what JSON cannot hold."""
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, Mapping):
        return {_key(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Set):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    raise TypeError(f"cannot store a {type(value).__name__} as JSON: {value!r}")


def _key(key: Any) -> str:
    if isinstance(key, Enum):
        return str(key.value)
    if isinstance(key, str | int | float | bool) or key is None:
        return key if isinstance(key, str) else json.dumps(key)
    raise TypeError(f"cannot use a {type(key).__name__} as a JSON key: {key!r}")


def dumps(value: Any) -> str:
    """Serialize for a JSON column (the engine's ``json_serializer``)."""
    return json.dumps(to_jsonable(value), ensure_ascii=False, allow_nan=False)


def canonical(value: Any) -> str:
    """The one canonical text of ``value``: sorted keys, no spaces, strict JSON."""
    return json.dumps(
        to_jsonable(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
