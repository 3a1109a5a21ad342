"""The span rules' share of agreeing words, counted on the message's words alone.

Called by :mod:`vigil.logs._spans` (:func:`~vigil.logs._spans.span_slot`, its label and list
rules) once a line and a cluster of another word count differ in one span: the words that agree
around it must be :data:`MIN_CONSTANT_SHARE` of the shorter template's. Pure: plain words in, a
yes or no out.

The share must not depend on how much header the detection left in the message. On the raw
feed it sometimes leaves fields there (Corosync's and Pacemaker's ``node1 corosync notice
[SERV ]``, a Java ``[thread]`` or a Python ``[module]`` after an unrecognised time); those words
agree in every line, so they raised the share of a raw line above that of the same line fed
with its header cut, and one pair was joined on one feed and not on the other. A header field
left in the message ends with a closed bracket, so the share counts the words after the last
word closing a bracket before the span (:func:`message_start`): the same words on both feeds.
A message's own bracketed context before the span (Kafka Connect's ``[connector|task-0]``,
``[Rank 0]``) is left out too: it is the same in both lines whatever the event, as a header is.
"""

from __future__ import annotations

MIN_CONSTANT_SHARE = 2 / 3
"""The words on both sides of the span that agree, as a share of the shorter template's
words: a value against several words is only one value when most of the message is the same
(``waiting for <*> to die``: 4 of 5); in ``failed: timeout`` / ``failed: connection refused
by peer`` one word of two agrees, and the tail is as likely another event."""


def message_start(words: list[str], upto: int) -> int:
    """Where the message starts for the share: after the last word of ``words[:upto]`` (the
    words that agree before the span) that closes a bracket (``]``, ``[SERV]``), 0 when none
    does (a pid's ``[<*>]`` too: what a bracket holds is the line's context either way)."""
    for i in range(upto - 1, -1, -1):
        if words[i].endswith("]"):
            return i + 1
    return 0


def enough(agree: int, short: int, words: list[str], upto: int) -> bool:
    """True when ``agree`` words of a shorter template of ``short`` words (both counted from
    the first word) are :data:`MIN_CONSTANT_SHARE` of it once the words before the message's
    start (:func:`message_start` of the ``upto`` words agreeing before the span) are left out
    of both."""
    cut = message_start(words, upto)
    return agree - cut >= MIN_CONSTANT_SHARE * (short - cut)
