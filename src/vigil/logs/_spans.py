"""A value of one word against several: where a line of another word count fits a cluster.

Called by :meth:`vigil.logs._miner.TemplateMiner._slow` only when a line would open a new
cluster (no cluster of its word count and first word takes it). The miner buckets lines by
word count, so ``service 'NFS' on host`` and ``service 'GPU Temp' on host``, or ``as
'working'`` and ``as 'not working'``, would never meet: a list, a name of several words or a
quoted message is one value however many words it has. :func:`span_slot` says whether a
cluster of another word count takes the line with every difference in **one** contiguous
span: the cluster's words there are one word (a value, maybe already ``<*>``) against a run
of the line's, or the other way round, and the words on both sides agree. Pure: plain words
in, plain values out.

What must not merge, and why it does not here:

- a constant word more or less (``Connection closed`` / ``Connection closed by peer``,
  ``JobId=<*> done`` / ``JobId=<*> WEXITSTATUS <*>``): one span is empty, which is no value,
  except right after a slot this rule made (``Cluster.spans``: ``attr=<*>`` took ``attr=a b``
  and ``attr=c``, so ``attr=d e f`` fits it);
- two spans of several words each (``Starting Daily apt upgrade...`` / ``Starting Cleanup of
  Temporary Directories...``): two free texts, not a value against a longer one;
- plain words with nothing framing them (``Client <*> disconnected.`` / ``Client <*> closed
  its connection.``, ``Started HTTPService at`` / ``Started Metrics Service at``): the fixture
  labels keep such pairs apart more often than they join them, so the value must be framed the
  same way in both lines: a quote or bracket (``'NFS'`` / ``'GPU Temp'``, ``[<*>]`` /
  ``[OkHttp ConnectionPool]``) or a key (``attr=cn mail uid`` / ``attr=gidNumber``);
- a run of ``key=value`` fields (``a=1`` / ``a=1 b=2``): the fields are the event's;
- short messages (``failed: timeout`` / ``failed: connection refused``): the words that
  agree must be :data:`MIN_CONSTANT_SHARE` of the shorter template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from vigil.logs._cluster import ANY, LOOSE, Cluster, _widen
from vigil.logs._nearby import NearbyIndex
from vigil.logs._shape import SHAPE
from vigil.logs._tokens import WILDCARD, covers, loose

MAX_EXTRA_WORDS = 8
"""How many words longer or shorter a line may be than a cluster it is compared with here:
the word-count buckets looked at are those within this distance (a bounded number of dict
lookups per new cluster, not a scan of every bucket)."""

MIN_CONSTANT_SHARE = 2 / 3
"""The words on both sides of the span that agree, as a share of the shorter template's
words: a value against several words is only one value when most of the message is the same
(``waiting for <*> to die``: 4 of 5); in ``failed: timeout`` / ``failed: connection refused
by peer`` one word of two agrees, and the tail is as likely another event."""

_OPENERS = "'\"([{<"
_CLOSERS = "'\")]}>,;:."
_KEY = re.compile(r"^[A-Za-z_][\w.\-]*=")


@dataclass(frozen=True, slots=True)
class Span:
    """Where a line fits a cluster of another word count: the cluster's words
    ``[start, stop)`` and the line's ``[start, line_stop)`` are one value, written ``slot``."""

    start: int
    stop: int
    line_stop: int
    slot: str
    agree: int


def _agrees(have: str, level: int, new: str) -> bool:
    if have == new or level == ANY:
        return True
    if len(have) + len(new) <= _MEMO_CHARS:
        return _loosely(have, new)
    return _loosely.__wrapped__(have, new)


_MEMO_CHARS = 96
"""Word pairs up to this many characters together are memoised (:func:`_loosely`): the
search meets the same pairs for many clusters and lines (59 % of its calls on the six
Loghub-2k files and every fixture in a row); longer words are compared afresh, so the cache
holds at most ``maxsize`` short pairs whatever the input."""


@lru_cache(maxsize=8192)
def _loosely(have: str, new: str) -> bool:
    """Two different words agree once their weak values are masked (``ssh2`` / ``ssh1``), or
    one covers the other (``rhost=<*>`` / ``rhost=<*>.example``)."""
    lh, ln = loose(have), loose(new)
    return lh == ln or covers(lh, ln) or covers(ln, lh)


def _opener(word: str) -> str:
    """What opens a value that frames it: a quote or bracket, or a ``key=``; "" for a plain
    word."""
    key = _KEY.match(word)
    if key is not None:
        return key.group(0)
    n = 0
    while n < len(word) and word[n] in _OPENERS and not word.startswith(WILDCARD, n):
        n += 1
    return word[:n]


def _closer(word: str) -> str:
    n = len(word)
    while n > 0 and word[n - 1] in _CLOSERS and not word.endswith(WILDCARD, 0, n):
        n -= 1
    return word[n:]


def span_slot(
    words: list[str], levels: list[int], line: list[str], spans: tuple[int, ...] = ()
) -> Span | None:
    """The one span in which a cluster (``words``, ``levels``, its values of several words
    ``spans``) and a line of another word count differ, when it is a value of one word against
    several; None otherwise."""
    m, n = len(words), len(line)
    if m == n or abs(m - n) > MAX_EXTRA_WORDS:
        return None
    short = min(m, n)
    p = 0
    while p < short and _agrees(words[p], levels[p], line[p]):
        p += 1
    s = 0
    while s < short - p and _agrees(words[m - 1 - s], levels[m - 1 - s], line[n - 1 - s]):
        s += 1
    if p + s == short:  # one span empty: a word more, unless beside a slot of several words
        if p == 0 or p - 1 not in spans:
            return None
        p -= 1
    if p == 0:
        return None  # the first word names the event
    have, new = words[p : m - s], line[p : n - s]
    if len(have) != 1 and len(new) != 1:
        return None  # two texts of several words each
    agree = p + s
    if agree < MIN_CONSTANT_SHARE * short:
        return None
    longer = new if len(new) > 1 else have
    if any("=" in w for w in longer[1:]):
        return None  # "a=1 b=2": a run of fields
    opener, closer = _opener(have[0]), _closer(have[-1])
    if not opener:
        return None  # plain words: "closed its connection." / "disconnected." are two events
    if opener != _opener(new[0]) or closer != _closer(new[-1]):
        return None  # "'NFS'" / "'GPU Temp'" agree; "(x)" / "[y z]" do not
    return Span(p, m - s, n - s, opener + WILDCARD + closer, agree)


def _shifted(places: tuple[int, ...], start: int, stop: int, shift: int) -> tuple[int, ...]:
    """Word positions after the words ``[start, stop)`` became one and the rest moved by
    ``shift``; those inside the span are gone."""
    return tuple(p if p < start else p + shift for p in places if p < start or p >= stop)


def fit(cluster: Cluster, span: Span, line: list[str], runs: list[int]) -> bool:
    """Widen ``cluster`` to take ``line`` (its collapsed ``runs``) with ``span`` as one value
    of any number of words; True when the cluster's span was the longer one, so that it now
    has the line's word count (the caller files it again)."""
    start, stop, line_stop = span.start, span.stop, span.line_stop
    level = ANY if span.slot == WILDCARD else LOOSE
    shrunk = line_stop - start == 1 and stop - start > 1
    if shrunk:
        shift = len(line) - len(cluster.words)
        cluster.words[start:stop] = [span.slot]
        cluster.levels[start:stop] = [level]
        cluster.runs[start:stop] = [1]
        cluster.pinned = _shifted(cluster.pinned, start, stop, shift)
        cluster.spans = _shifted(cluster.spans, start, stop, shift)
    else:
        cluster.words[start], cluster.levels[start], cluster.runs[start] = span.slot, level, 1
    cluster.spans = tuple(sorted({*cluster.spans, start}))
    _widen(
        cluster,
        [*line[:start], span.slot, *line[line_stop:]],
        [*runs[:start], 1, *runs[line_stop:]],
    )
    cluster._template = None
    cluster.varied = True
    return shrunk


def _candidates(
    buckets: Mapping[tuple[int, str], list[Cluster]],
    key: tuple[int, str],
    words: list[str],
    crowded: int,
    index: NearbyIndex,
    alive: Mapping[int, Cluster],
) -> Iterable[Cluster]:
    """The clusters of the buckets :func:`nearest` searches that may pass its cheap test, in
    its order (word count, then id): from ``index`` unless the line's own second or last word
    is a value (then every cluster of those buckets may agree there)."""
    n, first = key
    lo, hi = max(3, n - MAX_EXTRA_WORDS), n + MAX_EXTRA_WORDS
    if WILDCARD in words[1] or WILDCARD in words[-1]:
        for m in range(lo, hi + 1):
            other = buckets.get((m, first)) if m != n else None
            if other and len(other) <= crowded:
                yield from other
        return
    for cand in index.near(first, words, alive):
        m = len(cand.words)
        if lo <= m <= hi and m != n and len(buckets.get((m, first), ())) <= crowded:
            yield cand


def nearest(
    buckets: Mapping[tuple[int, str], list[Cluster]],
    key: tuple[int, str],
    words: list[str],
    crowded: int,
    index: NearbyIndex,
    alive: Mapping[int, Cluster],
) -> tuple[Cluster, Span] | None:
    """The cluster of the buckets of ``key``'s first word and up to :data:`MAX_EXTRA_WORDS`
    other word counts (none holding more than ``crowded`` clusters) that takes ``words`` with
    the most agreeing words (:func:`span_slot`), and where; None when none does. The clusters
    are drawn from ``index`` (:mod:`vigil.logs._nearby`), which holds every live cluster under
    its first word and the shapes of its second and last words."""
    if key[0] < 2:
        return None
    found: tuple[Cluster, Span] | None = None
    second, last = words[1], words[-1]
    second_shape, last_shape = second.translate(SHAPE), last.translate(SHAPE)
    loose_line = WILDCARD in second or WILDCARD in last
    for cand in _candidates(buckets, key, words, crowded, index, alive):
        # the rule needs two words agreeing beside the first one: the second or the last
        # agrees (a cheap test first: most clusters of a bucket share neither)
        cw = cand.words
        if (
            cw[1] != second
            and cw[-1] != last
            and not (loose_line or cand.spans or WILDCARD in cw[1] or WILDCARD in cw[-1])
            and cw[1].translate(SHAPE) != second_shape
            and cw[-1].translate(SHAPE) != last_shape
        ):
            continue
        levels = cand.levels
        if not (_agrees(cw[1], levels[1], second) or _agrees(cw[-1], levels[-1], last)):
            continue  # span_slot's answer then: it needs all words of the shorter but one
        span = span_slot(cw, levels, words, cand.spans)
        if span is not None and (found is None or span.agree > found[1].agree):
            found = cand, span
    return found
