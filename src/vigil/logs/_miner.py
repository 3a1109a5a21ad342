"""The online template miner: one line in, a stable cluster id and its template out.

Used by the ``vigil logs`` CLI (:mod:`vigil.cli._logs`) and, later, by the log collectors and
analyses. Pure: no I/O, no clock; line numbers are counted by the miner itself.

How a line finds its cluster:

1. **Fast path.** The content's *shape* (every digit replaced by ``0``, :data:`SHAPE`) is looked
   up in a bounded dict: two lines of one shape mask to the same string, because masking only
   ever looks at whether a character is a digit, never at which digit it is. So lines that differ
   only in their numbers (the common case: counters, ids, addresses, times) cost one
   ``str.translate`` and one dict lookup. A shape is remembered only when its masked form keeps no
   digit (a weak word such as ``ssh2`` stays literal, so its digits matter); such lines are masked
   word by word through a cache keyed the same way, then looked up by their masked signature.
2. **Slow path.** The masked words are compared with the clusters of the same word count whose
   first word matches (Drain's observation: the first word of a message is almost never a
   variable; a dotted unit name before a colon, ``gunicorn.service:``, counts as any such
   name). A cluster accepts the line when every differing position is
   - a weak variable (same shape once digits are masked), or a size in other units;
   - a value named by its key or quotes, any number of them: ``user=app``/``user=bob``,
     ``"orders_pkey"``/``"users_key"`` (:func:`vigil.logs._tokens.keyed`);
   - or, at most once, a plain word in a message of four words or more whose two values do not
     look alike and that a label introduces (a user name after ``user``/``for``/``from``, a value
     after ``name:``), two qualified names or two snake/kebab-case identifiers (see
     :func:`vigil.logs._tokens.introduced`), two name pairs (``web/web1``/``api/api2``,
     :data:`vigil.logs._tokens.NAME_PAIR`), or the opening unit name.
   The best cluster (fewest such positions) generalises in place, keeping the punctuation both
   values share (``'<*>'@'<*>'``), and the signature is remembered. When no cluster accepts
   the line but two or more differ from it in one plain word at one place (a third distinct
   word there: ``IN A``/``IN MX``/``IN AAAA``), they and the line become one cluster with a
   value there (:func:`_siblings`).

Early lines get their final answer: strong variables are masked from the first line on, so a
cluster is created with the right template, and a later line only ever widens it. When a
widened template makes two clusters identical they are merged; the younger id is remapped to
the older (``Match.remapped``, :meth:`TemplateMiner.resolve`).

Memory is bounded: at most ``max_clusters`` clusters (least recently seen evicted) and
``max_signatures`` remembered signatures (the table is dropped and rebuilt when full).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vigil.logs._shape import SHAPE, has_digit, shape_key
from vigil.logs._tokens import (
    MONTHS,
    NAME_PAIR,
    NAMED_ID,
    SPACE,
    UNITS,
    WILDCARD,
    covers,
    fold_dates,
    generalise,
    introduced,
    keyed,
    look_alike,
    loose,
    mask,
    plain_difference,
    quoted_span,
    split_words,
    unset,
)

FIRST_WORD_VARIABLE_POSITION = 2
"""The first two words of a message are its verb and subject ("Failed password", "Connection
closed"): a plain word there tells events apart, it is not a value (Drain's prefix rule)."""

MIN_WORDS_FOR_WORD_VARIABLE = 4
"""A plain word may be a variable only in a message of four words or more: in shorter ones
("cupsd startup succeeded", "onReceive action: SCREEN_ON") one word is most of the meaning."""

DEFAULT_MAX_CLUSTERS = 50_000
"""A real system has hundreds to a few thousand templates; 50k leaves room for noise."""

DEFAULT_MAX_SIGNATURES = 100_000
"""Each of the three caches (exact lines, masked lines, words) holds at most this many entries,
about 20 MB each at their fullest; a full cache is dropped and refills from the stream."""

# Position levels: how far a template word has been widened.
LITERAL, LOOSE, ANY = 0, 1, 2


@dataclass(slots=True)
class Cluster:
    """One template: its words, how widened each one is, and counts (line numbers are 1-based)."""

    id: int
    words: list[str]
    levels: list[int]
    runs: list[int]
    count: int = 0
    first_line: int = 0
    last_line: int = 0
    example: str = ""
    _template: str | None = field(default=None, repr=False)

    @property
    def template(self) -> str:
        if self._template is None:
            text = " ".join(
                " ".join([w] * r) if r > 1 else w
                for w, r in zip(self.words, self.runs, strict=True)
            )
            self._template = text.replace(SPACE, " ") if SPACE in text else text
        return self._template


@dataclass(frozen=True, slots=True)
class Match:
    """The answer for one line: its cluster id and that cluster's template right now."""

    cluster_id: int
    template: str
    created: bool = False
    changed: bool = False
    remapped: tuple[tuple[int, int], ...] = ()


class TemplateMiner:
    """Online template miner with one configuration for every log type.

    >>> m = TemplateMiner()
    >>> m.add("Invalid user admin from 10.0.0.1").template
    'Invalid user admin from <*>'
    >>> m.add("Invalid user oracle from 10.0.0.2").template
    'Invalid user <*> from <*>'
    """

    def __init__(
        self,
        *,
        max_clusters: int = DEFAULT_MAX_CLUSTERS,
        max_signatures: int = DEFAULT_MAX_SIGNATURES,
    ) -> None:
        self.max_clusters = max_clusters
        self.max_signatures = max_signatures
        self.clusters: dict[int, Cluster] = {}
        self.lines = 0
        self.next_id = 1
        self._signatures: dict[str, Cluster] = {}
        # line shape -> its cluster, or the positions of its weak words (masks that keep digits)
        self._shapes: dict[bytes, Cluster | tuple[int, ...]] = {}
        self._exact: dict[tuple[bytes, tuple[str, ...]], Cluster] = {}  # (shape, weak words)
        self._words: dict[str, str] = {}  # word shape -> mask, "" when the digits matter
        self._weak: dict[str, str] = {}  # word -> mask, for the word shapes marked ""
        self._buckets: dict[tuple[int, str], list[Cluster]] = {}
        self._remap: dict[int, int] = {}
        self._last_change: tuple[tuple[int, int], ...] | None = None

    # ------------------------------------------------------------------ public

    def add(self, content: str) -> Match:
        """Mine one line's content (header already removed) and return its cluster."""
        before = self.next_id
        cluster = self.cluster_of(content)
        if self._last_change is None:
            return Match(cluster.id, cluster.template, created=cluster.id >= before)
        change, self._last_change = self._last_change, None
        return Match(cluster.id, cluster.template, cluster.id >= before, True, change)

    def cluster_of(self, content: str) -> Cluster:
        """The fast form of :meth:`add` (no :class:`Match` built): the line's cluster itself."""
        return self.shaped(content)[0]

    def shaped(self, content: str) -> tuple[Cluster, bool]:
        """:meth:`cluster_of`, and whether every line of the same shape (digits aside) goes to
        that cluster too (its mask keeps no digit), so that a caller may cache by shape."""
        self.lines += 1
        key = shape_key(content)
        found = self._shapes.get(key)
        if isinstance(found, Cluster):
            cluster, stable = found, True
        else:
            stable = False
            hit = None
            if found is not None:  # the shape's weak words decide: look them up with it
                words = split_words(content)
                hit = self._exact.get((key, tuple([words[i] for i in found])))
            if hit is None:
                cluster, stable = self._lookup(content, key)
            else:
                cluster = hit
        cluster.count += 1
        cluster.last_line = self.lines
        return cluster, stable

    def _lookup(self, content: str, key: bytes) -> tuple[Cluster, bool]:
        """The cluster of a line whose shape (and weak words) were not seen yet; remembers it."""
        words = split_words(content)
        masks, weak = self._mask_list(words)
        masked = " ".join(fold_dates(words, masks))
        cluster = self._signatures.get(masked)
        if cluster is None:
            cluster = self._slow(content, masked)
        shapes = self._shapes
        if len(shapes) >= self.max_signatures:
            shapes.clear()
        if not weak:
            shapes[key] = cluster
            return cluster, True
        shapes[key] = weak
        if len(self._exact) >= self.max_signatures:
            self._exact.clear()
        self._exact[(key, tuple([words[i] for i in weak]))] = cluster
        return cluster, False

    def seen(self, cluster: Cluster) -> None:
        """Count one more line of ``cluster`` (for callers that cached the line's cluster)."""
        self.lines += 1
        cluster.count += 1
        cluster.last_line = self.lines

    def mask_words(self, content: str) -> str:
        """:func:`mask` word by word through a cache keyed on each word's shape: a constant
        word or a number of a shape seen before costs one dict lookup."""
        words = split_words(content)
        text = " ".join(fold_dates(words, self._mask_list(words)[0]))
        return text.replace(SPACE, " ") if SPACE in text else text

    def _mask_list(self, words: list[str]) -> tuple[list[str], tuple[int, ...]]:
        """Each word masked, and the positions of the weak words (masks that keep a digit)."""
        cache, weak_cache = self._words, self._weak
        out = []
        weak: list[int] = []
        for i, word in enumerate(words):
            key = word.translate(SHAPE)
            masked = cache.get(key)
            if masked is None:
                masked = WILDCARD if word.isdigit() else mask(word)
                if len(cache) >= self.max_signatures:
                    cache.clear()
                if has_digit(masked):
                    cache[key] = ""
                    weak.append(i)
                else:
                    cache[key] = masked
            elif not masked:  # a weak word: its digits are kept, so the word itself is the key
                weak.append(i)
                masked = weak_cache.get(word) or mask(word)
                if len(weak_cache) >= self.max_signatures:
                    weak_cache.clear()
                weak_cache[word] = masked
            out.append(masked)
        return out, tuple(weak)

    def resolve(self, cluster_id: int) -> int:
        """The current id of a cluster that may have been merged into another one."""
        while cluster_id in self._remap:
            cluster_id = self._remap[cluster_id]
        return cluster_id

    def remaps(self) -> dict[int, int]:
        """Every merge so far: old id -> the id it was merged into (maybe merged again)."""
        return dict(self._remap)

    def restore(
        self, clusters: list[Cluster], remap: dict[int, int], *, lines: int, next_id: int
    ) -> None:
        """Replace this miner's clusters (used by :func:`vigil.logs.loads`)."""
        self.clusters = {c.id: c for c in clusters}
        self._remap = dict(remap)
        self.lines = lines
        self.next_id = max([next_id, *(c.id + 1 for c in clusters)])
        self._rebuild_indexes()
        self._words.clear()
        self._weak.clear()

    def templates(self) -> list[Cluster]:
        """All clusters, most frequent first."""
        return sorted(self.clusters.values(), key=lambda c: (-c.count, c.id))

    # ------------------------------------------------------------------ slow path

    def _slow(self, content: str, masked: str) -> Cluster:
        words, runs = _collapse(masked.split())
        key = _bucket_key(words)
        bucket = self._buckets.setdefault(key, [])
        best: Cluster | None = None
        best_cost = (len(words) + 1, 0)
        for cand in bucket:
            cost = _cost(cand, words)
            if cost is not None and cost < best_cost:
                best, best_cost = cand, cost
                if cost == (0, 0):
                    break
        siblings = _siblings(words, bucket) if best is None else []
        if siblings:
            best = self._merge_siblings(words, runs, siblings, bucket)
        elif best is None:
            best = self._create(words, runs, key, bucket)
            best.example = content
            best.first_line = self.lines
        elif best_cost != (0, 0) and _widen(best, words, runs):
            self._last_change = self._merge_into(best, bucket)
        if len(self._signatures) >= self.max_signatures:
            self._signatures.clear()
        self._signatures[masked] = best
        return best

    def _create(
        self, words: list[str], runs: list[int], key: tuple[int, str], bucket: list[Cluster]
    ) -> Cluster:
        if len(self.clusters) >= self.max_clusters:
            self._evict()
            bucket = self._buckets.setdefault(key, [])
        cluster = Cluster(self.next_id, list(words), [LITERAL] * len(words), list(runs))
        self.next_id += 1
        self.clusters[cluster.id] = cluster
        bucket.append(cluster)
        return cluster

    def _evict(self) -> None:
        """Drop the least recently seen tenth of the clusters (amortised O(1) per line)."""
        victims = sorted(self.clusters.values(), key=lambda c: c.last_line)
        gone = {c.id for c in victims[: max(1, len(victims) // 10)]}
        for cid in gone:
            del self.clusters[cid]
        self._rebuild_indexes()
        self._remap = {k: v for k, v in self._remap.items() if v in self.clusters}

    def _merge_into(self, keep: Cluster, bucket: list[Cluster]) -> tuple[tuple[int, int], ...]:
        """Merge every cluster of ``bucket`` that ``keep``'s widened template now covers."""
        merged: list[tuple[int, int]] = []
        for other in list(bucket):
            if other is keep or other.id not in self.clusters:
                continue
            if _cost(keep, other.words) != (0, 0):
                continue
            survivor, gone = (keep, other) if keep.id < other.id else (other, keep)
            merged.append(self._fold(gone, survivor, bucket))
            keep = survivor
        return tuple(merged)

    def _merge_siblings(
        self, words: list[str], runs: list[int], siblings: list[Cluster], bucket: list[Cluster]
    ) -> Cluster:
        """Widen the oldest sibling to take ``words`` (their one differing word becomes
        ``<*>``) and fold the other siblings into it; returns it."""
        group = sorted(siblings, key=lambda c: c.id)
        keep = group[0]
        _widen(keep, words, runs)
        self._last_change = tuple(self._fold(gone, keep, bucket) for gone in group[1:])
        return keep

    def _fold(self, gone: Cluster, survivor: Cluster, bucket: list[Cluster]) -> tuple[int, int]:
        """Fold ``gone`` into ``survivor`` (template widened, counts and lines summed, its id
        remapped, the caches pointed at the survivor); returns the ``(gone, survivor)`` ids."""
        _widen(survivor, gone.words, gone.runs)
        survivor.count += gone.count
        survivor.first_line = min(survivor.first_line, gone.first_line)
        survivor.last_line = max(survivor.last_line, gone.last_line)
        self._remap[gone.id] = survivor.id
        bucket.remove(gone)
        del self.clusters[gone.id]
        for cache in (self._signatures, self._shapes, self._exact):
            for sig, c in list(cache.items()):
                if c is gone:
                    cache[sig] = survivor  # type: ignore[index]
        return gone.id, survivor.id

    def _rebuild_indexes(self) -> None:
        self._signatures.clear()
        self._shapes.clear()
        self._exact.clear()
        self._buckets.clear()
        for c in sorted(self.clusters.values(), key=lambda c: c.id):
            key = _bucket_key(c.words)
            self._buckets.setdefault(key, []).append(c)


_SUBJECT = re.compile(r"^[\w@\-]+(?:\.[\w@\-]+)+:$")
"""A dotted name before a colon opening a message: ``gunicorn.service: Main process exited``,
``com.apple.cts: ...``. Which unit or component says it is a value; the message is the event."""


_ZONE = re.compile(r"^[+-]?<\*>\]$")
_SIZED = re.compile(r"^<\*>(?: (?:" + "|".join(sorted(UNITS)) + r"))?[,;)\]}]*$")
"""A size as :func:`_collapse` writes it: ``<*> KB,``, or ``<*>,`` once its units varied."""


_FIELD_FIRST = re.compile(r"^(?!(?:msg|message|event)=)[A-Za-z_][\w.\-]*=(?![\"'])")
"""A record that opens with a ``key=value`` field (``allowed=true ugi=bob cmd=open``, audit
logs): its first word is a field like the others, not the verb of a message, so its value
may vary; a message key (``msg="..."``) still names the event."""


def _bucket_key(words: list[str]) -> tuple[int, str]:
    """Clusters compared with a line: same word count and first word (Drain's prefix rule), a
    subject (:data:`_SUBJECT`) counting as any subject, a ``key=value`` field as its key."""
    if not words:
        return 0, ""
    first = words[0]
    subject = first == "<*>:" or _SUBJECT.match(first) is not None  # "<*>:" once widened
    if not subject and "=" in first:
        field = _FIELD_FIRST.match(first)
        if field is not None:
            return len(words), field.group(0)
    return len(words), "<subject>" if subject else loose(first)


def _cost(cluster: Cluster, words: list[str]) -> tuple[int, int] | None:
    """(word-variable positions, weak positions) needed for ``cluster`` to take ``words``, or
    None when it cannot."""
    hard = soft = 0
    bare = False
    n = len(words)
    for i, (have, level, new) in enumerate(zip(cluster.words, cluster.levels, words, strict=True)):
        if have == new or level == ANY:
            continue
        lhave, lnew = loose(have), loose(new)
        if lhave == lnew or covers(lhave, lnew) or covers(lnew, lhave):
            soft += 1
            continue
        if _SIZED.match(have) and _SIZED.match(new):
            soft += 1  # "<*> KB," / "<*> MB," / "<*>,": one size in other units
            continue
        plain = plain_difference(have, new)
        if i == 0 and n >= 3 and not bare and _SUBJECT.match(have) and _SUBJECT.match(new):
            bare = True  # "a.service: Deactivated successfully." / "b.service: ..."
            hard += 1
            continue
        if i > 0 and quoted_span(lhave) and quoted_span(lnew):
            hard += 1  # two quoted values of several words: "Mozilla/5.0 (X11; ...)"
            continue
        key = keyed(have, new) if i > 0 or _FIELD_FIRST.match(have) else ""
        if key and (
            plain or key != "=" or (WILDCARD in have and WILDCARD in new) or unset(have, new)
        ):
            # "user=app"/"user=bob", '"memory"'/'"disk"', "dst=null"/"dst=<*>": any number
            hard += 1
            continue
        if (
            not bare
            and i >= 1  # "Server web/web1 is DOWN": a pair names a thing, even as the subject
            and (
                (
                    n >= MIN_WORDS_FOR_WORD_VARIABLE
                    and NAME_PAIR.match(lhave)
                    and NAME_PAIR.match(lnew)
                )
                or (n >= 3 and NAMED_ID.match(lhave) and NAMED_ID.match(lnew))  # "Task a.b[<*>] ok"
            )
            and lhave.split("/")[0] != lnew.split("/")[0]
        ):
            bare = True  # "web/web1"/"api/api2": once, where a word variable may be
            hard += 1
            continue
        if (
            bare
            or i < FIRST_WORD_VARIABLE_POSITION
            or n < MIN_WORDS_FOR_WORD_VARIABLE
            or not plain
            or not introduced(cluster.words[i - 1], have, new)
            or look_alike(have, new)
        ):
            return None
        bare = True
        hard += 1
    return hard, soft


MIN_SIBLINGS = 3
"""Events that differ in one plain word only, at one place, are taken for one event with a
value there once this many distinct words have shown up in that place."""


def _siblings(words: list[str], bucket: list[Cluster]) -> list[Cluster]:
    """The clusters of ``bucket`` that differ from ``words`` in one plain word at one place,
    when at least :data:`MIN_SIBLINGS` - 1 of them differ at the same place.

    Two words alternating in one place may be two events (``SCREEN_ON``/``SCREEN_OFF``,
    ``stored as bytes``/``values``), so a pair never merges on this ground; a third distinct
    word in the same place, everything else equal, is a set of values (DNS record types
    ``IN A``/``IN AAAA``/``IN MX``, table names, interface names), not of events: constants
    that tell events apart seldom come three to a slot with the rest of the message equal.
    """
    n = len(words)
    if n < MIN_WORDS_FOR_WORD_VARIABLE or len(bucket) < MIN_SIBLINGS - 1:
        return []
    by_place: dict[int, list[Cluster]] = {}
    for cand in bucket:
        place = -1
        for i in range(1, n):
            if cand.words[i] != words[i]:
                if place >= 0 or cand.levels[i] != LITERAL:
                    place = -2
                    break
                place = i
        if place > 0 and _word_values(cand.words[place], words[place]):
            by_place.setdefault(place, []).append(cand)
    for group in by_place.values():
        if len(group) >= MIN_SIBLINGS - 1:
            return group
    return []


_WORD_PART = re.compile(r"^\w*$")


def _word_values(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ in a run of word characters only (``IN A``/``IN MX``,
    ``'<*>/A/IN'``/``'<*>/NS/IN'``, ``of users:``/``of local:``), not followed by a sign: a
    letter with a sign (``x+``/``z-``) names a direction, a constant of the event."""
    head = _common_length(a, b)
    tail = _common_length(a[head:][::-1], b[head:][::-1])
    da, db = a[head : len(a) - tail], b[head : len(b) - tail]
    if not (_WORD_PART.match(da) and _WORD_PART.match(db)) or not (da or db):
        return False
    return not a[len(a) - tail :].startswith(("+", "-")) and "<" not in da + db


def _common_length(a: str, b: str) -> int:
    n, limit = 0, min(len(a), len(b))
    while n < limit and a[n] == b[n]:
        n += 1
    return n


def _collapse(words: list[str]) -> tuple[list[str], list[int]]:
    """Fold each run of wildcard words into one, remembering its length: a list of values
    ("delete blk_1 blk_2 blk_3") groups with a shorter one, while the template still shows a
    fixed-arity run ("softheader=<*> <*> <*>") as it is."""
    if WILDCARD not in words:
        return words, [1] * len(words)
    out: list[str] = []
    runs: list[int] = []
    for w in words:
        if out and out[-1] == WILDCARD and w.rstrip(",;)]}") in UNITS:
            # "5.2 KB," in a list or brackets is "<*>,": the unit is the value's. Ending a
            # phrase ("took 14.9 GB", "of 79 GiB of which") the unit stays, one word "<*> GB",
            # while every line of the cluster has it, and folds once another one shows up.
            bare = w.rstrip(".") in UNITS
            out[-1] += " " + w if runs[-1] == 1 and bare else w[len(w.rstrip(",;)]}")) :]
            continue
        if out and out[-1] in (WILDCARD, "/") and w.startswith("HTTP/<*>"):
            out[-1] = WILDCARD + w[8:]  # '"GET /a/b HTTP/1.1"', '"GET / HTTP/1.1"': '"GET <*>"'
            continue
        if out and out[-1][:1] == "[" and out[-1].endswith(WILDCARD) and _ZONE.match(w):
            out[-1] += "]"  # "[29/Nov/2026:10:00:01 +0000]": a time's zone offset is the time's
            continue
        if w == WILDCARD and out and out[-1] in MONTHS:
            out[-1] = WILDCARD  # "Jul 10": a date
        if w == WILDCARD and out and out[-1] == WILDCARD:
            runs[-1] += 1
        else:
            out.append(w)
            runs.append(1)
    return out, runs


def _widen(cluster: Cluster, words: list[str], runs: list[int]) -> bool:
    """Widen ``cluster``'s template so that it covers ``words``; True if it changed."""
    changed = False
    for i, run in enumerate(runs):
        if run != cluster.runs[i] and cluster.runs[i] != 1:
            cluster.runs[i] = 1  # a list of varying length: show it as one <*>
            changed = True
    for i, new in enumerate(words):
        have, level = cluster.words[i], cluster.levels[i]
        if have == new or level == ANY:
            continue
        lhave, lnew = loose(have), loose(new)
        if lhave == lnew or covers(lhave, lnew):
            if level != LOOSE or have != lhave:
                cluster.words[i], cluster.levels[i] = lhave, LOOSE
                changed = True
        elif covers(lnew, lhave):
            cluster.words[i], cluster.levels[i] = lnew, LOOSE
            changed = True
        else:
            pattern = generalise(lhave, lnew)
            cluster.words[i] = pattern
            cluster.levels[i] = ANY if pattern == WILDCARD else LOOSE
            changed = True
    if changed:
        cluster._template = None
    return changed
