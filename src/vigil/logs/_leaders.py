"""A dot leader, the run of dots that pads a name out to a status column: one value.

Called by :func:`vigil.logs._tokens.mask` on every line that holds four dots in a row, before
the word masks. Pure string rewriting.

Programs that print a table of steps pad each step's name with dots so that its status lines up
in a column: dbt (``1 of 12 START sql view model staging.stg_orders ........ [RUN]``), Maven's
reactor summary (``[INFO] core ................................ SUCCESS [  2.345 s]``),
OpenRC's and Debian's init scripts, Django's ``migrate`` (``Applying auth.0001_initial... OK``
glues them, so it is not one), pytest's ``--verbose`` progress and many test runners. The run's
length is the column's width minus the name's, so it changes with every name: a template that
keeps it splits one statement into one cluster per length (holdout28's dbt: GA 0.379). It is
masked as a value, as the name beside it is.

The shape is narrowed to padding: four dots or more (an ellipsis, ``Trying to recover...`` or a
lone ``...``, is three and stays), standing alone between spaces or the line's ends (a dotted
name, a relative path ``../..``, a number ``1....5`` are glued to something else and stay).
"""

from __future__ import annotations

import re

from vigil.logs._marks import WILDCARD

_LEADER = re.compile(r"(?<!\S)\.{4,}(?!\S)")


def mask_leaders(content: str) -> str:
    """``content`` with every run of four dots or more standing alone masked as ``<*>``."""
    return _LEADER.sub(WILDCARD, content)
