"""An error's text written after its key without quotes (``error=connection refused``): one value.

Called by :func:`vigil.logs._texts.split_words` (:func:`join_unquoted`, for a line holding
``err=`` or ``error=``), by :mod:`vigil.logs._cluster` (:func:`unquoted_text`: two such texts
in one place are one value) and by :func:`vigil.logs._compare.generalise`
(:func:`unquoted_pattern`). Pure string functions, no state.

Rust's ``tracing`` (the ``tracing-subscriber`` formatter) prints a field recorded by its
``Display``, an error above all, as ``key=value`` with no quotes, whatever spaces the value
holds: linkerd2-proxy's ``Connection closed error=TLS detection timed out
client.addr=10.42.3.7:51522``, Vector's ``Healthcheck failed. error=Failed to make HTTP(S)
request: ... component_kind="sink"``, and the other programs on that formatter (Quickwit,
Meilisearch, Garage); Calico's felix writes its logrus fields the same way (``error=dial tcp
10.96.41.12:5473: i/o timeout``). The text runs to the next ``key=`` word or to the end of
the line. Word by word, each error of another length made a template of its own; joined into
one word (its spaces kept as :data:`vigil.logs._texts.SPACE`) it is compared as one value.
A text that stays the same is printed as its words, as the labels keep it (``error=Connection
refused (os error <*>)``); two texts that share no opening word, or that differ in most of
their words, are one ``<*>`` after the key.

A command line after its key among other fields is written the same way (branch kv28):
Falco's ``command=sh -c nvidia-smi -q terminal=34817`` (its ``proc.cmdline``), ``cmd=`` and
``cmdline=`` fields of process records (a command ending the line, as sudo's ``COMMAND=``, is
left to the span rules).
A program and its arguments are one value, so two command lines under one key are
``key=<*>`` whatever their words (:func:`command_pair`, also for a one-word command against a
longer one, asked by :func:`vigil.logs._compare.generalise` and
:func:`vigil.logs._widening.widen`).

Only the keys of an error (``err``, ``error``, dotted ``error.message`` style names ending in
them) and of a command line (``cmd``, ``cmdline``, ``command``, in any case): any other key's
value ends at its first space, as logfmt's unquoted values do (``status=ok done``: ``done`` is
the message's word)."""

from __future__ import annotations

import re

from vigil.logs._marks import SPACE, WILDCARD

_ERROR_KEY = re.compile(r"^(?:[\w\-]+\.)*(?:err|error|(?i:cmd|cmdline|command))=[^\s\"'=]")
"""A word opening an error's or a command line's unquoted text: the key and the text's first
character."""
_COMMAND_KEY = re.compile(r"^(?:[\w\-]+\.)*(?i:cmd|cmdline|command)=")
"""A command line's key (``command=``, Falco's ``proc.cmdline=``, sudo's ``COMMAND=``): its
text is a program and its arguments, one value whole."""
_KEY = re.compile(r"^[\w.\-]+=")
"""A word opening the next field (``client.addr=``, ``error.sources=[...]``)."""
MAX_TEXT_WORDS = 16
"""Longer runs are left as words: an error chain is a few clauses, a longer run is more likely
a key followed by the message's own words than one value."""


def join_unquoted(words: list[str]) -> list[str]:
    """``words`` with an error's unquoted text (``error=TLS detection timed out``) joined into
    one word, up to the next ``key=`` word or the end; the first word (the message's) and a
    text of one word are left as they are. A command line is joined only up to a next
    ``key=`` word: one that ends the line (sudo's ``COMMAND=...``) is a trailing span, which
    the miner's span rules (:mod:`vigil.logs._spans`) already fold into one value."""
    for i in range(1, len(words) - 1):
        if not _ERROR_KEY.match(words[i]):
            continue
        end = i + 1
        while end < len(words) and not _KEY.match(words[end]):
            end += 1
        if end - i < 2 or end - i > MAX_TEXT_WORDS:
            continue
        if end == len(words) and _COMMAND_KEY.match(words[i]) is not None:
            continue
        return [*words[:i], SPACE.join(words[i:end]), *words[end:]]
    return words


def unquoted_text(word: str) -> bool:
    """True for a word :func:`join_unquoted` joined (an error key and a text of several words)."""
    return SPACE in word and _ERROR_KEY.match(word) is not None


def command_pair(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are two command lines under one command key, at least one of
    several words (:func:`join_unquoted` joined it): ``command=bash`` / ``command=bash -il``.
    A command of one word is a command line as well, so the pair is one value."""
    return (
        (SPACE in a or SPACE in b)
        and _COMMAND_KEY.match(a) is not None
        and _ERROR_KEY.match(a) is not None
        and _ERROR_KEY.match(b) is not None
        and same_key(a, b)
    )


def unquoted_pattern(a: str, b: str) -> str | None:
    """The pattern for two of :func:`join_unquoted`'s words that are two errors, not one with
    values in it: ``key=<*>`` when they share no opening word
    (``error=TLS detection timed out`` / ``error=connection closed before message
    completed``), or, as many words in both, when most of them differ (after the words up to
    a label ending in ``:`` that both open with, kept). None otherwise (another key; one text
    with values in it, widened word by word by the caller)."""
    key, _, va = a.partition("=")
    keyb, _, vb = b.partition("=")
    if key != keyb:
        return None
    if _COMMAND_KEY.match(a) is not None:
        return key + "=" + WILDCARD  # two command lines: "sh -c nvidia-smi -q" / "bash -il"
    ta, tb = va.split(SPACE), vb.split(SPACE)
    if ta[0] != tb[0] and len(ta) != len(tb):
        return key + "=" + WILDCARD
    head = differing_head(ta, tb)
    if head is None:
        return None
    return key + "=" + SPACE.join([*ta[:head], WILDCARD])


def differing_head(ta: list[str], tb: list[str]) -> int | None:
    """How many opening words two texts of as many words, most of them different, keep: those
    up to the last label ending in ``:`` that both open with (``failed to query data: <*>``);
    None when the counts differ or at most half the words differ (one text with values in it).
    Used by :func:`unquoted_pattern` and :func:`vigil.logs._texts.other_text`."""
    if len(ta) != len(tb) or 2 * sum(x != y for x, y in zip(ta, tb, strict=True)) <= len(ta):
        return None
    head = 0
    for n, (x, y) in enumerate(zip(ta, tb, strict=True)):
        if x != y:
            break
        if x.endswith(":"):
            head = n + 1
    return head


def same_key(a: str, b: str) -> bool:
    """True when two of :func:`join_unquoted`'s words open with one key."""
    return a[: a.find("=")] == b[: b.find("=")]
