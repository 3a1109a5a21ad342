"""uvloop's table of live transports, kept with plain weak references (no Python callback each).

uvloop records every transport it makes in a ``weakref.WeakValueDictionary`` keyed by its
descriptor (``Loop._track_transport``, for one check: ``add_reader``, ``add_writer`` and the
``sock_*`` calls refuse a descriptor a live transport uses). The dictionary's ``__setitem__``
is Python (it builds a ``KeyedRef``, itself a Python class with ``__new__`` and ``__init__``),
and every entry's callback, Python too, deletes it when the transport is freed: ~6,300
instructions when a connection is accepted and ~1,500 more when it is freed (callgrind,
``bench/stream_setup.py``, docs/benchmarks.md "First event, round of 5 Dec"), a tenth of what
a new stream costs the proxy, on every path into a transport (``create_server`` too).

:func:`lighten` gives the loop's dictionary (found among the loop's referents: uvloop keeps it
in a C field) a class of its own whose ``__setitem__`` stores a plain ``weakref.ref``, without
a callback. Every look-up the loop makes works as before (a dead reference reads as absent, as a
``KeyedRef`` whose object is gone), so the check above still refuses a live transport's
descriptor; a dead entry stays until a new transport takes its descriptor number (at most one
per descriptor number: bounded by the open-files limit). Called by
:class:`vigil.balancer._proxy_accept.Listener` under uvloop; where the loop does not hold
exactly one such dictionary (another uvloop), nothing is changed.

That ``__setitem__`` is a :class:`Store` (branch ``first8``): a callable object, not a
function, so the type slot calls it with the key and the value only (no ``__get__``, no bound
``self``), and this module is compiled by mypyc (``setup.py``), so the call runs no Python
frame: ``_track_transport`` 2,208 -> ~600 instructions per new stream. The table keeps a plain
Python class (a compiled class's layout differs from ``WeakValueDictionary``'s, and the
table's ``__class__`` could not be assigned it); the class is made per table, holding that
table's ``Store``.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any, Final

# the reference type, looked up once
_ref: Final = weakref.ref


class Store:
    """``table[key] = transport`` for one table: a plain weak reference into its dictionary."""

    def __init__(self, data: dict[Any, Any]) -> None:
        self.data = data

    def __call__(self, key: Any, value: Any) -> None:
        self.data[key] = _ref(value)


def lighten(loop: object) -> bool:
    """Give ``loop``'s transport table (uvloop) the class that stores plain weak references;
    whether it has it now. Not changed unless exactly one ``WeakValueDictionary`` is among
    its referents."""
    tables = [o for o in gc.get_referents(loop) if isinstance(o, weakref.WeakValueDictionary)]
    if len(tables) != 1:
        return False
    table = tables[0]
    if type(table) is weakref.WeakValueDictionary:
        data: dict[Any, Any] = table.data  # type: ignore[attr-defined]
        table.__class__ = type(
            "TransportTable", (weakref.WeakValueDictionary,), {"__setitem__": Store(data)}
        )
    return lightened(table)


def lightened(table: object) -> bool:
    """Whether ``table`` has the class :func:`lighten` gives."""
    return isinstance(type(table).__dict__.get("__setitem__"), Store)
