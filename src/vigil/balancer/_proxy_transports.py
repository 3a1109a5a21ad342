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
in a C field) the class :class:`TransportTable`, whose ``__setitem__`` stores a plain
``weakref.ref``, without a callback. Every look-up the loop makes works as before (a dead
reference reads as absent, as a ``KeyedRef`` whose object is gone), so the check above still
refuses a live transport's descriptor; a dead entry stays until a new transport takes its
descriptor number (at most one per descriptor number: bounded by the open-files limit). Called
by :class:`vigil.balancer._proxy_accept.Listener` under uvloop; where the loop does not hold
exactly one such dictionary (another uvloop), nothing is changed.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

# the class's own reference type, looked up once (a global read per call otherwise)
_ref = weakref.ref


class TransportTable(weakref.WeakValueDictionary):  # type: ignore[type-arg]
    """A ``WeakValueDictionary`` whose entries are plain weak references (no removal
    callback): a dead one reads as absent, and is replaced when its key is set again."""

    data: dict[Any, Any]  # the base class's dictionary of references (not in its stubs)

    def __setitem__(self, key: Any, value: Any, ref: Any = _ref) -> None:
        self.data[key] = ref(value)


def lighten(loop: object) -> bool:
    """Give ``loop``'s transport table (uvloop) the class :class:`TransportTable`; whether it
    has it now. Not changed unless exactly one ``WeakValueDictionary`` is among its referents."""
    tables = [o for o in gc.get_referents(loop) if isinstance(o, weakref.WeakValueDictionary)]
    if len(tables) != 1:
        return False
    table = tables[0]
    if type(table) is weakref.WeakValueDictionary:
        table.__class__ = TransportTable
    return type(table) is TransportTable
