"""A JSON line with no message key: the member whose value names the statement.

Called by :mod:`vigil.logs._headers` (:func:`statement_key`, where a JSON object line has no
``msg``/``message``/``event``/``log`` member) and by :func:`vigil.logs._texts.split_words`
(:func:`named_head`, for a message that opens with a JSON member). Pure functions, no state.

Many programs write events as JSON objects with no message text at all: the event is named by
an identifier under a key of the format's own choosing (MLPerf's ``:::MLLOG {"namespace": "",
"time_ms": ..., "event_type": "POINT_IN_TIME", "key": "cache_clear", "value": ...}``, borg's
``{"type": "file_status", "status": "A", "path": ...}``; structlog's ``"event"``, ``"action"``,
``"op"`` elsewhere). No key name is common to them, but the value's shape is: a lower-case
identifier of letters joined by ``_`` or ``.`` (``cache_clear``, ``file_status``,
``run.start``), which a value (a host ``gpu-node-07``, a path, a number, an id, a name in
capitals such as ``POINT_IN_TIME`` or ``ServiceReconciler``, a level word such as ``info``)
seldom is. The first top-level member with such a value starts the message (the members
before it are header, as those before ``"msg"`` are), and the miner files the line under that
member's key and value together (:func:`named_head`), as it files a text message under its
first word: ``"key": "cache_clear"`` and ``"key": "init_start"`` are two events, not one event
with a value.
"""

from __future__ import annotations

import re

from vigil.logs._headerwords import LEVEL_WORDS
from vigil.logs._marks import SPACE

JSON_MESSAGE_KEYS = ("MESSAGE", "message", "msg", "log", "Message", "event")
"""The keys that hold a JSON line's message, the first present one taken: ``event`` last, as
structlog names it (its default renderer's key; logrus configured to match, authentik), where a
line with a ``msg`` as well has its ``event`` as a field (MetalLB's ``"event":"ipAllocated"``)."""
MESSAGE_KEYS = frozenset(key.lower() for key in JSON_MESSAGE_KEYS)
"""The same keys matched case-blind: a line with one has its message, never a statement's name."""
_NAME = re.compile(r"^[a-z]+(?:[_.][a-z]+)*$")
"""A lower-case identifier of letters, its parts joined by ``_`` or ``.``."""
_KEY_WORD = re.compile(r'^\{?"([^"\s]+)":$')
"""A message's first word that is a JSON member's key alone (``"key":``, ``{"type":``)."""
_NAME_WORD = re.compile(r'^"([a-z]+(?:[_.][a-z]+)*)"(?:,|\}+,?)?$')
"""A JSON string value that is such an identifier, with the comma or braces after it."""


def is_name(value: str) -> bool:
    """True when ``value`` has the shape of a statement's name (``cache_clear``), not a level."""
    return len(value) <= 64 and _NAME.match(value) is not None and value not in LEVEL_WORDS


def statement_key(obj: dict[str, object]) -> str | None:
    """The key of the first top-level member of ``obj`` whose value is a string shaped as a
    statement's name; None when there is none or when ``obj`` has a message key."""
    if any(key.lower() in MESSAGE_KEYS for key in obj):
        return None
    for key, value in obj.items():
        if isinstance(value, str) and is_name(value):
            return key
    return None


def named_head(words: list[str]) -> list[str]:
    """``words`` with the first two joined (the space kept as :data:`SPACE`) when they are a
    JSON member's key and a string value shaped as a statement's name: ``"key":
    "cache_clear",`` is the line's first word, so lines of other names are other events. A
    message key's member (``"msg": "done",``) and any other first words are left as they are."""
    if len(words) < 2:
        return words
    key = _KEY_WORD.match(words[0])
    if key is None or key.group(1).lower() in MESSAGE_KEYS:
        return words
    value = _NAME_WORD.match(words[1])
    if value is None or value.group(1) in LEVEL_WORDS:
        return words
    return [words[0] + SPACE + words[1], *words[2:]]
