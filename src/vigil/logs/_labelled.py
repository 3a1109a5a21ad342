"""A free text after a label that ends in a colon: one value however many words it has.

Called by :func:`vigil.logs._spans.span_slot` (on the miner's slow path, when a line would open
a new cluster) for a line and a cluster of another word count whose words agree on both sides
of one span. Pure: plain words in, plain values out.

A program that prints an error, a reason or a policy's verdict it got from elsewhere writes it
after a label of its own that ends in a colon, with ``%s`` or ``%v``: Teleport's ``Re-init the
cache on error: %v.``, Knative's ``Probing of %s failed, IP: %s, ready: %v, error: %v (depth:
%d)``, Gatekeeper's ``denied admission: %s``, Open WebUI's ``Connection error: %s``, Go's
``fmt.Errorf("...: %w", err)`` chains in general (etcd, containerd, Kubernetes' components),
Java's ``log.error("Failed to ...: {}", e.getMessage())`` and Python's ``logger.error("...:
%s", exc)``. The text has as many words as the error has, so two lines of the statement differ
in word count and in most of their words, and :func:`~vigil.logs._spans.span_slot` left them
apart (two texts of several words each, no quote or bracket framing them).

The evidence asked for here is that of one statement printed twice with two texts: the words
before the label and the label itself agree (no value or framed word between the label and the
first word that differs: MySQL's ``host: '<*>' (Got timeout ...`` is no text after ``host:``),
the words after the texts agree, both texts close with the same punctuation and the text's end
is marked (:func:`closed`: punctuation, a word after it that is not a plain word, or, at the
line's end, a bracket opened before the label). The label must be a word of letters
ending in one colon (``error:``, ``failed:``, ``admission:``): not a value before a colon
(OpenSSH's ``Received disconnect from <*>: 11: Bye Bye``, whose Loghub-2.0 labels keep each
reason text as the event's words, has a code there), not a scope (``routines::``), not a
``key:value`` word. The share of agreeing words is that of :mod:`vigil.logs._spans`
(:mod:`vigil.logs._share`, on the message's words), so a short message (``failed: timeout``
/ ``failed: connection refused``) still keeps its texts apart.
"""

from __future__ import annotations

import re

from vigil.logs._marks import WILDCARD

_LABEL = re.compile(r"^[A-Za-z][A-Za-z\-]*:$")
"""A label closing a fixed phrase: letters (a hyphen inside), one colon."""
_FIELD = re.compile(r"^[A-Za-z_][\w.\-]*=\S")
"""A ``key=value`` field: a run of them is the event's, not a text (``a=1 b=2``)."""
_PLAIN = re.compile(r"^[A-Za-z]+$")
"""A plain word of letters: the words a text may share after its label, or its own last word."""
_PAIRS = {")": "(", "]": "[", "}": "{", '"': '"', "'": "'"}
"""The bracket or quote a closing one closes."""
MAX_BACK = 3
"""How many words the two texts may share after the label (``cannot select series: ...`` /
``cannot parse query: ...`` share ``cannot``): the label is looked for this far before the
first word that differs."""


def is_label(word: str) -> bool:
    """True for a label word that may open a free text (``error:``, ``admission:``)."""
    return _LABEL.match(word) is not None


def label_start(words: list[str], line: list[str], p: int) -> int | None:
    """Where a free text starts in both ``words`` and ``line``, which agree on their first
    ``p`` words: right after the last label among the :data:`MAX_BACK` words before ``p``
    (the words there are the same in both); None when there is no label."""
    for q in range(p, max(p - MAX_BACK, 0), -1):
        if q - 1 < len(words) and words[q - 1] == line[q - 1] and is_label(words[q - 1]):
            return q
        if q - 1 >= len(words) or _PLAIN.match(words[q - 1]) is None:
            return None  # a value or a framed word between: the text does not start here
    return None


def closed(text: list[str], before: list[str], after: list[str]) -> bool:
    """True when a text's end is marked: its last word ends in punctuation (``closed.``), the
    word after it is not a plain word (``(depth: 0)``, ``- {}``), or, at the line's end, a
    bracket opened before the label closes it (``(TCP Flags: SYN, ACK)``). A plain word after
    the text may be its own (Kerberos' ``verify failure: Decrypt integrity check failed`` /
    ``Preauthentication failed``)."""
    end = closer(text[-1])
    if after:
        return bool(end) or _PLAIN.match(after[0]) is None
    if not end or end[-1] not in _PAIRS:
        return False
    head = " ".join(before)
    opening = _PAIRS[end[-1]]
    if opening == end[-1]:
        return head.count(opening) % 2 == 1
    return head.count(opening) > head.count(end[-1])


def texts_alike(have: list[str], new: list[str]) -> bool:
    """True when two texts after one label may be two values of one slot: neither is a run
    of ``key=value`` fields, and both close with the same punctuation (``closed.`` /
    ``EOF.``)."""
    if not have or not new:
        return False
    if any(_FIELD.match(w) for w in (*have, *new)):
        return False
    return closer(have[-1]) == closer(new[-1])


def closer(word: str) -> str:
    """The punctuation a text's last word ends with (``.``, ``,``, ``)``), not a value's."""
    n = len(word)
    while n > 0 and word[n - 1] in ".,;)]}\"'" and not word.endswith(WILDCARD, 0, n):
        n -= 1
    return word[n:]
