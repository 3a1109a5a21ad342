"""Names numbered with ``#``: a label of several such names is one value, and a number after
``#`` ends before the name glued to it.

Called by :func:`vigil.logs._tokens.mask` on a line holding ``#``, before the word masks of
:data:`vigil.logs._tokens._STRONG` (whose number-opening rule would take ``0_MC`` of
``SrcID#0_MC#1`` for one value and drop the name after it). Pure string rewriting (branch
``masks32``).
"""

from __future__ import annotations

import re

from vigil.logs._marks import WILDCARD

_LABEL = re.compile(
    r"(?<![\w#-])[A-Za-z]\w*#\d+(?:[_-][A-Za-z]\w*(?:#\d+|\d\w*))+(?![\w#-])"
    r"|(?<=#)\d+(?=_[A-Za-z])"
)
"""A name numbered with ``#`` joined by ``_`` or ``-`` to more numbered names: EDAC's and
rasdaemon's DIMM label (``CPU_SrcID#0_MC#1_Chan#0_DIMM#0``: socket, memory controller, channel
and slot), Suricata's worker thread on its interface (``W#01-ens1f0``): one value, a place as
``R25-M1-N2`` is. One numbered name keeps its name (``Socket#3`` -> ``Socket#<*>``, the labels'
numbered names). Else a number after ``#`` ends before ``_`` and a name (``port#1_rx`` ->
``port#<*>_rx``): the name is not the number's."""


def mask_hashed(content: str) -> str:
    """``content`` with each label of ``#``-numbered names masked whole (:data:`_LABEL`), and a
    number after ``#`` before ``_name`` masked alone."""
    return _LABEL.sub(WILDCARD, content)
