"""Message ids opening a message: a catalogue id is kept as a word, not masked as a value.

Called by :meth:`vigil.logs._wordmasks.WordMasks.mask_list` on every line the miner masks word
by word (the slow path: a line shape not seen before), after each word's own mask
(:func:`keep_ids`); by :func:`vigil.logs._cluster._bucket_key` (:func:`filed_as`) and by
:meth:`vigil.logs.TemplateMiner._lookup` (:func:`unkept`). Pure: plain words in, plain words
out.

Many programs print the id of the catalogue entry a message comes from before its text: FRR's
``[M59KS-A3ZXZ]`` (``[XXXXX-XXXXX]``), IBM WebSphere / Open Liberty's ``CWWKF0011I:`` and
z/OS's ``IEF403I`` (a prefix, a number and a severity letter), Oracle's ``ORA-12541:``, MySQL's
``[MY-010931]``, WildFly's ``WFLYSRV0010:``, Kea's ``DHCP4_LEASE_ALLOC``, Cisco's
``%BGP-5-ADJCHANGE:``. The id is constant per statement: the labels keep it as written (the
fixtures' README: Kea's and FRR's message ids, a WildFly message id, a Junos event tag; as
Loghub-2.0 keeps HealthApp's and Windows' event names). The word masks cannot tell such an id
from a value of the same shape and mask the ones with two numbered parts or a run of three
digits (``[M59KS-A3ZXZ]`` -> ``[<*>]``, ``CWWKF0011I:`` -> ``<*>:``), so every statement loses
its id in its template.

The evidence used is the id's place and shape, and then the stream, online:

- **place**: the message's first word, or the bracketed word right after a first word that
  ends in a colon (a daemon's tag the header detection left in the message, FRR's ``BGP:
  [XXXXX-XXXXX]``);
- **shape**: upper-case letters and digits, maybe joined by ``-`` or ``_``, maybe in square
  brackets, maybe ending in a colon, with two letters or more and a digit, and not hexadecimal
  alone (``[4BF92F3577B34DA6]``, a trace or span id, stays a value);
- **online**: such a word is kept with its digits as a *weak* word (:mod:`vigil.logs._tokens`),
  so the miner decides: an id whose statement's other words differ from every other id's
  opens a cluster of its own and keeps its id (one id, one statement: a catalogue id); a second
  id in a cluster whose other words agree (many ids, one statement: a request or session id)
  makes that place ``<*>``, as any weak word's second value does. A kept id is filed in the
  bucket its masked form would have had (:func:`filed_as`), so grouping meets the same
  clusters as before and only the templates keep the id. No state but a bounded cache of
  :func:`filed_as` (:data:`FILED_LIMIT` words), which :func:`keep_ids` fills with the mask the
  word masks already made: a stream of new request ids of an id's shape then masks each id once,
  not twice (once for the line, once for its bucket).
"""

from __future__ import annotations

import re

from vigil.logs._tokens import mask

_ID = re.compile(r"^(?:\[[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*\]|%?[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*):?$")
"""A catalogue id's shape: upper-case letters and digits joined by ``-`` or ``_``, bare (with
Cisco's ``%`` before it) or in square brackets, maybe closed by a colon."""

_HEX_ONLY = re.compile(r"^[\[%]?[0-9A-F\-_]+\]?:?$")
"""Hexadecimal digits alone (a trace id, a checksum, an address): a value, never an id."""

_DIGIT = re.compile(r"\d")
_TWO_LETTERS = re.compile(r"[A-Z][^A-Z]*[A-Z]")


def catalogue_id(word: str) -> bool:
    """True when ``word`` has a catalogue message id's shape: ``[M59KS-A3ZXZ]``,
    ``CWWKF0011I:``, ``ORA-12541:``, ``DHCP4_LEASE_ALLOC``; not ``[4BF92F35]`` (hex alone),
    ``ABC`` (no digit), ``A1`` (one letter)."""
    return (
        _ID.match(word) is not None
        and _HEX_ONLY.match(word) is None
        and _DIGIT.search(word) is not None
        and _TWO_LETTERS.search(word) is not None
    )


def id_places(words: list[str]) -> tuple[int, ...]:
    """The places of ``words`` that may hold a message id (see the module docstring): the
    first word, and the bracketed second word after a first word ending in a colon."""
    if not words:
        return ()
    if len(words) > 1 and words[0][-1:] == ":" and words[1][:1] == "[":
        return (0, 1)
    return (0,)


def keep_ids(words: list[str], masks: list[str]) -> list[tuple[int, str]]:
    """Put back in ``masks`` (in place) each catalogue id the word masks made a value, at the
    places of :func:`id_places`; return those places with the masks they had (the caller files
    the places as weak words)."""
    kept = []
    for i in id_places(words):
        word = words[i]
        was = masks[i]
        if was == word:  # unmasked: filed as itself, whatever its shape (no regex to run)
            _file(word, word)
        elif catalogue_id(word):
            kept.append((i, was))
            _file(word, was)  # the word masks' own mask of it: what filed_as would make
            masks[i] = word
    return kept


def _file(word: str, filed: str) -> None:
    """Remember that ``word`` is filed under ``filed`` (bounded: a full cache is dropped)."""
    if len(_FILED) >= FILED_LIMIT:
        _FILED.clear()
    _FILED[word] = filed


FILED_LIMIT = 4096
"""Words :func:`filed_as` remembers; a full cache is dropped and refills from the stream."""

_FILED: dict[str, str] = {}
"""word -> the word it is filed under: a cache of the pure :func:`filed_as`, shared by miners."""


def filed_as(word: str) -> str:
    """The word a line's first word is filed under (:func:`vigil.logs._cluster._bucket_key`):
    a catalogue id as the word masks make it, so that the id kept as a word meets the same
    clusters as it did masked (a request id of that shape among ids the masks take whole,
    ``[7KQ2M9XZ]`` / ``[P3LX8W2A]``, shares their bucket and becomes ``[<*>]``); any other
    word as it is."""
    filed = _FILED.get(word)
    if filed is None:
        filed = mask(word) if catalogue_id(word) else word
        _file(word, filed)
    return filed


def unkept(masks: list[str], kept: list[tuple[int, str]]) -> list[str]:
    """``masks`` with the ids :func:`keep_ids` kept masked again: the line as the word masks
    alone make it. The miner looks a line up under it when its own masked form is new, so a
    new request id of an id's shape finds the cluster that already made that place a value
    (without it, every such line took the slow path: 2.5x the CPU on a stream of them)."""
    out = list(masks)
    for i, was in kept:
        out[i] = was
    return out
