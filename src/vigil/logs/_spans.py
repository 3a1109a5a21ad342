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
  agree must be two thirds of the shorter template, counted on the message's words
  (:mod:`vigil.logs._share`: header fields the detection left are not counted);
- a span opening with two words that name two events (:func:`vigil.logs._slots.event_words`):
  a quoted request line's method (``"GET <*>"`` / ``"POST <*>:predict HTTP/<*>"``, uvicorn's
  and every access log's request line, whose target the masks cut into another word count).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from vigil.logs._cluster import ANY, LOOSE, Cluster
from vigil.logs._compare import covers, loose
from vigil.logs._labelled import closed, closer, label_start, texts_alike
from vigil.logs._nearby import NearbyIndex
from vigil.logs._shape import SHAPE
from vigil.logs._share import enough, message_start
from vigil.logs._slots import event_words
from vigil.logs._tokens import WILDCARD
from vigil.logs._widening import widen

MAX_EXTRA_WORDS = 8
"""How many words longer or shorter a line may be than a cluster it is compared with here:
the word-count buckets looked at are those within this distance (a bounded number of dict
lookups per new cluster, not a scan of every bucket)."""

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
    """What opens a value that frames it: a quote or bracket, or a ``key=`` with the quotes or
    brackets after it (``cid=[``: Kea's ``cid=[no info]`` against ``cid=[01:52:54...]`` is
    ``cid=[<*>]``, the brackets the program's, not the value's); "" for a plain word."""
    key = _KEY.match(word)
    n = 0 if key is None else key.end()
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
    q = min(p, short - 1)  # a list's items end in commas: a cheap test before the list rule
    if p and "," in (words[q][-1:], line[q][-1:], words[p - 1][-1:], line[p - 1][-1:]):
        listed = _list_span(words, line, p, s)
        if listed is not None:
            return listed
    if p:
        labelled = _labelled_span(words, line, p, s, spans)
        if labelled is not None:
            return labelled
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
    if not enough(agree, short, words, p):
        return None
    longer = new if len(new) > 1 else have
    if any("=" in w for w in longer[1:]):
        return None  # "a=1 b=2": a run of fields
    opener, closer = _opener(have[0]), _closer(have[-1])
    if not opener:
        return None  # plain words: "closed its connection." / "disconnected." are two events
    if opener != _opener(new[0]) or closer != _closer(new[-1]):
        return None  # "'NFS'" / "'GPU Temp'" agree; "(x)" / "[y z]" do not
    if event_words(new if len(new) > 1 else have, 0, have[0], new[0]):
        return None  # '"GET <*>"' / '"POST <*>:predict HTTP/<*>"': two requests' methods
    return Span(p, m - s, n - s, opener + WILDCARD + closer, agree)


def _labelled_span(
    words: list[str], line: list[str], p: int, s: int, spans: tuple[int, ...]
) -> Span | None:
    """The span of two free texts after one label ending in a colon (:mod:`vigil.logs._labelled`:
    ``error: connection closed.`` / ``error: watcher is closed: EOF.``), or of such a text against
    the slot a first pair made; None when no label opens the span or the texts do not fit."""
    start = label_start(words, line, p)
    if start is None or start - message_start(words, start - 1) < 2:
        return None  # no label, or the message's first word (a kernel's "ACPI:", "CPU:")
    m, n = len(words), len(line)
    s = min(s, _same_tail(words, line))  # a text's last word is not a value's "<*>"
    if start in spans:  # the cluster's slot there takes the line's text
        tail = m - start - 1
        if s < tail:
            return None
    else:
        tail = min(s, min(m, n) - start - 1)
        if tail < 0:
            return None  # the shorter line ends at the label: a text more, not another one
    have, new = words[start : m - tail], line[start : n - tail]
    if not texts_alike(have, new) or not closed(new, line[:start], line[n - tail :]):
        return None  # unframed at its end: as likely the statement's own words (strerror's)
    agree = start + tail
    # the words both texts open with agree too (Corosync's "Service engine loaded: corosync
    # configuration map access [0]" / "... corosync configuration service [1]": 6 of 7)
    shared = start if start in spans else p
    if not enough(shared + tail, min(m, n), words, start):
        return None
    return Span(start, m - tail, n - tail, WILDCARD + closer(have[-1]), agree)


def _same_tail(words: list[str], line: list[str]) -> int:
    """How many last words ``words`` and ``line`` share once weak values are masked."""
    k, limit = 0, min(len(words), len(line))
    while k < limit and loose(words[-1 - k]) == loose(line[-1 - k]):
        k += 1
    return k


def _list_bounds(words: list[str], i: int) -> tuple[int, int]:
    """The words ``[start, stop)`` of the list of items separated by ``, `` that word ``i`` is
    in: the words before it that end in a comma, it, and the words after it up to the first
    that does not (``(i, i + 1)`` for a word in no list)."""
    start = i
    while start > 0 and words[start - 1].endswith(","):
        start -= 1
    stop = i
    while stop < len(words) - 1 and words[stop].endswith(","):
        stop += 1
    return start, stop + 1


def _frame_closer(word: str, opener: str) -> str:
    """The closers at the end of a list's last word that close the list's frame, not the
    item's own brackets: ``camellia256-cts-cmac(26)})`` -> ``})``."""
    closer = _closer(word)
    inner = word[len(opener) : len(word) - len(closer)]
    own = sum(map(inner.count, "([{")) - sum(map(inner.count, ")]}"))
    return closer[max(own, 0) :].lstrip("'\"")  # an item's closing quote is the item's


_MARKS = "()[]{}'\""


def _items(span: list[str], opener: str, closer: str) -> list[str]:
    """A list's items without its frame and commas; the slot of a list made one (``<*>``)
    left out."""
    out = []
    for i, w in enumerate(span):
        if i == 0 and w.startswith(opener):
            w = w[len(opener) :]
        if i == len(span) - 1 and closer and w.endswith(closer):
            w = w[: -len(closer)]
        w = w.removesuffix(",")
        if w != WILDCARD:
            out.append(w)
    return out


def _skeleton_of(span: list[str], opener: str, closer: str) -> str | None:
    items = _items(span, opener, closer)
    return "".join(c for c in items[0] if c in _MARKS) if items else None


def _alike(span: list[str], opener: str, closer: str, skeleton: str | None = None) -> bool:
    """True when a list's items are of one kind: written with the same brackets and quotes
    (``aes256-cts-hmac-sha1-96(18)`` and ``DEPRECATED:arcfour-hmac(23)``; ``'cloud-init'`` and
    ``'--mode'``), and as ``skeleton`` when given (another list's)."""
    for item in _items(span, opener, closer):
        marks = "".join(c for c in item if c in _MARKS)
        if skeleton is None:
            skeleton = marks
        elif marks != skeleton:
            return False
    return True


def _list_span(words: list[str], line: list[str], p: int, s: int) -> Span | None:
    """Where a cluster and a line of another word count differ only in the number of items of
    one framed list (Kerberos' ``{aes256-cts-hmac-sha1-96(18), aes128-cts-hmac-sha1-96(17)}``
    of 2, 4, 6 or 8 items; ``['a', 'b']`` / ``['c', 'd', 'e']``): the whole list, from the word
    that opens its frame (a bracket, brace, parenthesis, quote or ``key=``) to the word that
    closes it, is one value on both sides; None when the difference is not inside one such
    list. Items that are ``key=value`` fields are the event's (as :func:`span_slot` has it)."""
    m, n = len(words), len(line)
    ci, li = min(p, m - 1), min(p, n - 1)
    if p >= m - s:  # nothing differs in the cluster: the line's items were added beside p - 1
        ci = max(p - 1, 0)
    if p >= n - s:
        li = max(p - 1, 0)
    start, stop = _list_bounds(words, ci)
    line_start, line_stop = _list_bounds(line, li)
    if start != line_start or start == 0 or m - stop != n - line_stop:
        return None
    if p < start or m - s > stop or n - s > line_stop or stop - start + line_stop - start < 3:
        return None
    opener = _opener(words[start]).rstrip("'\"")  # quotes open each item, not the list
    if not opener or opener != _opener(line[start]).rstrip("'\""):
        return None
    closer = _frame_closer(words[stop - 1], _opener(words[start]) if stop == start + 1 else "")
    last = line[line_stop - 1]
    if closer != _frame_closer(last, _opener(line[start]) if line_stop == start + 1 else ""):
        return None
    if opener[-1] in "([{" and ")]}"["([{".index(opener[-1])] not in closer:
        return None  # the bracket that opens the list does not close it here
    items = [*words[start:stop], *line[start:line_stop]]
    if any("=" in w[len(opener) :] for w in items):
        return None  # "a=1, b=2": fields
    if not _alike(words[start:stop], opener, closer) or not _alike(
        line[start:line_stop], opener, closer, _skeleton_of(words[start:stop], opener, closer)
    ):
        return None  # mosquitto's "(p2, c1, k60, u'iot')": fields of several kinds
    agree = start + m - stop
    if not enough(agree, agree + 1, words, start):  # the share with the list as one word
        return None
    return Span(start, stop, line_stop, opener + WILDCARD + closer, agree)


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
    shrunk = stop - start > 1  # the cluster's span of several words becomes one slot
    if shrunk:
        shift = 1 - (stop - start)
        cluster.words[start:stop] = [span.slot]
        cluster.levels[start:stop] = [level]
        cluster.runs[start:stop] = [1]
        cluster.pinned = _shifted(cluster.pinned, start, stop, shift)
        cluster.spans = _shifted(cluster.spans, start, stop, shift)
    else:
        cluster.words[start], cluster.levels[start], cluster.runs[start] = span.slot, level, 1
    cluster.spans = tuple(sorted({*cluster.spans, start}))
    widen(
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
