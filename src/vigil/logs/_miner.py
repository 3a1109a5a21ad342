"""The online template miner: one line in, a stable cluster id and its template out.

Used by the ``vigil logs`` CLI (:mod:`vigil.cli._logs`) and, later, by the log collectors and
analyses. Pure: no I/O, no clock; line numbers are counted by the miner itself.

How a line finds its cluster:

1. **Fast path.** The content's *shape* (every digit replaced by ``0``,
   :data:`vigil.logs._shape.SHAPE`) is looked
   up in a bounded dict: two lines of one shape mask to the same string, because masking only
   ever looks at whether a character is a digit, never at which digit it is. So lines that differ
   only in their numbers (the common case: counters, ids, addresses, times) cost one
   ``str.translate`` and one dict lookup. A shape is remembered only when its masked form keeps no
   digit (a weak word such as ``ssh2`` stays literal, so its digits matter); such lines are masked
   word by word through a cache keyed the same way (:class:`vigil.logs._wordmasks.WordMasks`),
   then looked up by their masked signature.
2. **Slow path.** The masked words are compared with the clusters of the same word count whose
   first word matches (Drain's observation: the first word of a message is almost never a
   variable; a dotted unit name before a colon, ``gunicorn.service:``, counts as any such
   name). A cluster accepts the line when every differing position is
   - a weak variable (same shape once digits are masked), or a size in other units;
   - a value named by its key or quotes, any number of them: ``user=app``/``user=bob``,
     ``"orders_pkey"``/``"users_key"`` (:func:`vigil.logs._slots.keyed`); except a key's
     word kept over a burst of one repeated message, a constant of that event
     (:func:`vigil.logs._cluster.settled`: a new cluster, the position pinned in both);
   - a value named by its form, any number of them: two signal names, two DNS record types
     beside ``IN`` or two response codes, the fields of a ``a;b;c`` record
     (:mod:`vigil.logs._slots`);
   - one compound value masked whole in one line and in part in the other, any number of
     them (``usertable,<*>,<*>.``/``events,,<*>.``, :func:`vigil.logs._slots.mask_reach`);
   - once, two names whose differing part is joined by a dot, backslash, ``#``, ``@`` or colon
     and that have one skeleton (``cmd/put.go:<*>:cmd.put()``/``pkg/log.go:<*>:log.If()``,
     ``user:<*>``/``tok:<*>``), wherever they stand (:func:`vigil.logs._cluster.joined_names`);
   - or, at most once, a plain word in a message of four words or more whose two values do not
     look alike and that a label introduces (a user name after ``user``/``for``/``from``, a value
     after ``name:``), two qualified names or two snake/kebab-case identifiers (see
     :func:`vigil.logs._slots.introduced`), two name pairs (``web/web1``/``api/api2``,
     :data:`vigil.logs._compare.NAME_PAIR`), the opening unit name, a whole column of a
     ``|`` row, an HTTP reason phrase after its code, a label's value ending a short message
     or a name after a first word naming its kind; the same two words again elsewhere in
     the line are that one value given twice.
   - once, in the first two words, a name enclosed in brackets that alone differs
     (``[pg-orders|task-0] Couldn't ...``/``[mysql-users|task-0] ...``, ``Key (id)=(<*>)``/
     ``Key (email)=(<*>)``; :func:`vigil.logs._enclosed.enclosed_name`): a first word is filed
     with its enclosed names written alike, so such lines meet.
   The best cluster (fewest such positions) generalises in place, keeping the punctuation both
   values share (``'<*>'@'<*>'``), and the signature is remembered. When no cluster accepts
   the line but two or more differ from it in one plain word at one place (a third distinct
   word there: ``IN A``/``IN MX``/``IN AAAA``), they and the line become one cluster with a
   value there (:func:`vigil.logs._siblings.siblings`); the same for a third lower-case name
   opening one statement, which the first-word buckets hid (:mod:`vigil.logs._heads`); the
   comparisons live in :mod:`vigil.logs._cluster`.
3. **Another word count.** A line that would still open a cluster may fit one of a nearby word
   count under its first word when they differ in one value framed alike, one word against
   several (``'NFS'``/``'GPU Temp'``, ``attr=cn mail``/``attr=uid``): that value becomes one
   slot of any length (:mod:`vigil.logs._spans`). The clusters it looks at come from an index
   by first word and the shapes of the second and last words (:mod:`vigil.logs._nearby`), so
   a new line is compared with those that can agree there, not with whole buckets.

Early lines get their final answer: strong variables are masked from the first line on, so a
cluster is created with the right template, and a later line only ever widens it. When a
widened template makes two clusters identical they are merged; the younger id is remapped to
the older (``Match.remapped``, :meth:`TemplateMiner.resolve`).

Memory is bounded: at most ``max_clusters`` clusters (least recently seen evicted) and
``max_signatures`` remembered signatures (the table is dropped and rebuilt when full).

Work per line is bounded too: a bucket of more than :data:`CROWDED_BUCKET` clusters (lines
that share their first word and length but are otherwise new) offers a line a bounded list
of candidates, not all of its clusters, and its lines are not cached, so that a loaded miner
answers as the one that saved it (:meth:`vigil.logs._crowded.WordsIndex.candidates`).
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass

from vigil.logs._cluster import (
    ANY,
    LITERAL,
    Cluster,
    _bucket_key,
    _cost,
    pin_place,
)
from vigil.logs._commands import fold_masks
from vigil.logs._crowded import CROWDED_BUCKET, WordsIndex, by_id
from vigil.logs._heads import HeadsIndex
from vigil.logs._msgids import unkept
from vigil.logs._nearby import NearbyIndex
from vigil.logs._notes import CacheKey, CacheNotes
from vigil.logs._numbered import NumberedNames
from vigil.logs._shape import shape_key
from vigil.logs._siblings import siblings as _siblings
from vigil.logs._spans import fit, nearest
from vigil.logs._texts import SPACE, split_words
from vigil.logs._tokens import WILDCARD
from vigil.logs._widening import collapse, widen
from vigil.logs._wordmasks import WordMasks

DEFAULT_MAX_CLUSTERS = 50_000
"""A real system has hundreds to a few thousand templates; 50k leaves room for noise."""

DEFAULT_MAX_SIGNATURES = 100_000
"""Each of the three caches (exact lines, masked lines, words) holds at most this many entries,
about 20 MB each at their fullest; a full cache is dropped and refills from the stream."""


@dataclass(frozen=True, slots=True)
class Match:
    """The answer for one line: its cluster id and that cluster's template right now."""

    cluster_id: int
    template: str
    created: bool = False
    changed: bool = False
    remapped: tuple[tuple[int, int], ...] = ()


MAX_SETTLED_EVENTS = 4
"""At most this many events told apart by the word under one pinned key
(:func:`vigil.logs._cluster.settled`); one more word there and the key is a value after all:
the bound that keeps a variable which happened to open with a burst from making a template of
each of its values."""


def _same_literal(survivor: Cluster, gone: Cluster, place: int) -> bool:
    return (
        place < len(survivor.words)
        and survivor.levels[place] == LITERAL
        and survivor.words[place] == gone.words[place]
    )


def _family(pins: list[tuple[Cluster, int]]) -> tuple[int, list[Cluster]] | None:
    """The place and clusters of the pinned key that a new word there would take past
    :data:`MAX_SETTLED_EVENTS` events, or None."""
    by_place: dict[int, list[Cluster]] = {}
    for cluster, place in pins:
        by_place.setdefault(place, []).append(cluster)
    for place, group in by_place.items():
        if len(group) >= MAX_SETTLED_EVENTS:
            return place, group
    return None


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
        self._masks = WordMasks(max_signatures)  # each word's mask, cached (:mod:`._wordmasks`)
        self._numbered = NumberedNames()  # glued names' numbers (:mod:`._numbered`)
        self._buckets: dict[tuple[int, str], list[Cluster]] = {}
        self._crowd = WordsIndex()  # the crowded buckets' words indexes (:mod:`._crowded`)
        self._near = NearbyIndex()  # every bucket's clusters by second/last word (:mod:`._nearby`)
        self._heads = HeadsIndex()  # clusters opened by a lower-case name (:mod:`._heads`)
        self._crowded = False  # whether the last slow-path line was filed in a crowded bucket
        self.crowdings = 0
        """How many times a bucket became crowded (each time, every cache was dropped): a
        caller that caches clusters by line drops its cache when this changes."""
        self._remap: dict[int, int] = {}
        self._last_change: tuple[tuple[int, int], ...] | None = None
        # cluster id -> the keys of the three caches above written with it (its signatures:
        # str, its shapes: bytes, its exact lines: tuple), so that a merge re-points only the
        # gone cluster's entries; a key overwritten or dropped since is skipped when read
        self._notes = CacheNotes()
        self.folds: list[tuple[int, Cluster, Cluster]] | None = None
        """When a list (:class:`vigil.logs._holdback.Holdback` sets one and empties it): each
        merge as ``(line number, gone, survivor)``, the line being the one that made it.
        None by default: nothing kept."""

    # ------------------------------------------------------------------ public

    def add(self, content: str) -> Match:
        """Mine one line's content (header already removed) and return its cluster."""
        before = self.next_id
        self._take_change()  # a merge left by a line mined with cluster_of is not this line's
        cluster = self.cluster_of(content)
        change = self._take_change()
        if change is None:
            return Match(cluster.id, cluster.template, created=cluster.id >= before)
        return Match(cluster.id, cluster.template, cluster.id >= before, True, change)

    def _take_change(self) -> tuple[tuple[int, int], ...] | None:
        """The widening or merges of the last slow-path line, forgotten once taken."""
        change, self._last_change = self._last_change, None
        return change

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
                if hit is not None and self._numbered.widen(hit, words, found):
                    self._refile(hit)  # a place its earlier lines kept: "osd17" a value now
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
        masks, weak, kept = self._masks.mask_list(words)
        masked = " ".join(fold_masks(words, masks, content))
        cluster = self._signatures.get(masked)
        self._crowded = False  # (a remembered signature is never a crowded bucket's)
        plain = ""
        if cluster is None and kept:  # a message id kept: its line as masked with no id kept
            plain = " ".join(fold_masks(words, unkept(masks, kept), content))
            cluster = self._signatures.get(plain)
        if cluster is None:
            cluster = self._slow(content, masked)
            if plain and not self._crowded and all(words[i] not in cluster.words for i, _ in kept):
                self._remember(plain, cluster)  # its cluster has the id's place as a value
        if weak and self._numbered.widen(cluster, words, weak):
            self._refile(cluster)  # "osd17" once "osd" came with another number: a value
        if not cluster.varied and key != shape_key(cluster.example):
            cluster.varied = True  # (a miss of the shape cache: rare, and each shape once)
        if self._crowded:
            return cluster, False  # not remembered: see CROWDED_BUCKET
        shapes = self._shapes
        if len(shapes) >= self.max_signatures:
            shapes.clear()
        if not weak:
            shapes[key] = cluster
            self._point(cluster, key)
            return cluster, True
        shapes[key] = weak
        if len(self._exact) >= self.max_signatures:
            self._exact.clear()
        exact = (key, tuple([words[i] for i in weak]))
        self._exact[exact] = cluster
        self._point(cluster, exact)
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
        text = " ".join(fold_masks(words, self._masks.mask_list(words)[0], content))
        return text.replace(SPACE, " ") if SPACE in text else text

    def resolve(self, cluster_id: int) -> int:
        """The current id of a cluster that may have been merged into another one."""
        while cluster_id in self._remap:
            cluster_id = self._remap[cluster_id]
        return cluster_id

    def remaps(self) -> dict[int, int]:
        """Every merge so far: old id -> the id it was merged into (maybe merged again)."""
        return dict(self._remap)

    def numbered_names(self) -> dict[str, str | None]:
        """The glued names seen and their one number, None once two (:mod:`._numbered`)."""
        return dict(self._numbered.numbers)

    def restore(
        self,
        clusters: list[Cluster],
        remap: dict[int, int],
        *,
        lines: int,
        next_id: int,
        numbered: dict[str, str | None] | None = None,
    ) -> None:
        """Replace this miner's clusters (used by :func:`vigil.logs.loads`)."""
        self.clusters = {c.id: c for c in clusters}
        self._remap = dict(remap)
        self.lines = lines
        self.next_id = max([next_id, *(c.id + 1 for c in clusters)])
        self._masks.clear()
        self._numbered.clear()
        self._numbered.numbers.update(numbered or {})
        self._forget()
        self._buckets.clear()
        for c in sorted(self.clusters.values(), key=lambda c: c.id):
            self._buckets.setdefault(self._filed_key(c), []).append(c)
        self._reindex()

    def _reindex(self) -> None:
        """Rebuild the words indexes from the crowded buckets (on load, on eviction, and once
        stale entries make them twice the clusters): each cluster under its words and under
        its second word, by id."""
        self._crowd.clear()
        self._near.rebuild(self._buckets)
        self._heads.rebuild(self.clusters.values())
        for key, bucket in self._buckets.items():
            if len(bucket) > CROWDED_BUCKET:  # only a crowded bucket reads them
                for c in bucket:  # in id order: appended in order
                    self._crowd.file(key, c)

    def _index(self, key: tuple[int, str], cluster: Cluster) -> None:
        """File ``cluster`` under its words now (created or widened), in id order."""
        if self._crowd.indexed > 4 * max(self.max_clusters, len(self.clusters)):
            self._reindex()
        else:
            self._crowd.file(key, cluster)

    def _file_near(self, first: str, cluster: Cluster) -> None:
        """File the cluster a slow-path line went to for the nearby-bucket search (every change
        of a cluster's words is made on that path, but a numbered name's: :meth:`_refile`);
        rebuilt once stale entries are many."""
        if self._near.entries > 4 * len(self.clusters) + 1024:
            self._near.rebuild(self._buckets)
        else:
            self._near.file(first, cluster)

    def _refile(self, cluster: Cluster) -> None:
        """File ``cluster`` again for the bucket searches once a numbered name in it became a
        value outside the slow path (:mod:`._numbered`): a second or last word turned ``<*>``
        makes it a candidate for lines of any shape there."""
        key = self._filed_key(cluster)
        self._file_near(key[1], cluster)
        if len(self._buckets.get(key, ())) > CROWDED_BUCKET:
            self._index(key, cluster)

    def _filed_key(self, cluster: Cluster) -> tuple[int, str]:
        """The bucket ``cluster`` was filed under: that of the line that created it (its
        example), not that of its words now: a widened opening word may key elsewhere
        (``(root)``, a subject, widens to ``(<*>)``, not one), where no line would find it."""
        words = split_words(cluster.example)
        masked = " ".join(fold_masks(words, self._masks.mask_list(words)[0], cluster.example))
        key = _bucket_key(collapse(masked.split())[0])
        return key if key[0] == len(cluster.words) else _bucket_key(cluster.words)

    def templates(self) -> list[Cluster]:
        """All clusters, most frequent first."""
        return sorted(self.clusters.values(), key=lambda c: (-c.count, c.id))

    # ------------------------------------------------------------------ slow path

    def _slow(self, content: str, masked: str) -> Cluster:
        words, runs = collapse(masked.split())
        key = _bucket_key(words)
        bucket = self._buckets.setdefault(key, [])
        self._crowded = crowded = len(bucket) > CROWDED_BUCKET
        cands = self._crowd.candidates(key, words, bucket, self.clusters) if crowded else bucket
        best: Cluster | None = None
        best_cost = (len(words) + 1, 0)
        for cand in cands:
            cost = _cost(cand, words)
            if cost is not None and cost < best_cost:
                best, best_cost = cand, cost
                if cost == (0, 0):
                    break
        siblings = _siblings(words, cands) if best is None else []
        heads = (
            self._heads.group(words, self.clusters)
            if best is None
            and not siblings
            and not crowded
            and words
            and "a" <= words[0][:1] <= "z"
            else []
        )
        if siblings:
            best = self._merge_siblings(words, runs, siblings, bucket)
        elif heads:
            best = self._merge_heads(words, runs, heads)
        elif best is None:
            pins = [(c, p) for c in cands if (p := pin_place(c, words)) >= 0]
            family = _family(pins)
            spanned = None if family or crowded else self._spanned(words, runs, key)
            if family:
                best = self._unpin(words, runs, family, bucket)
            elif spanned is not None:
                best = spanned
            else:
                best = self._create(words, runs, key, bucket)
                best.example = content
                best.first_line = self.lines
                for cand, place in pins:  # "user=root" then "user=guest": both keep their word
                    cand.pinned = tuple(sorted({*cand.pinned, place}))
                    best.pinned = tuple(sorted({*best.pinned, place}))
        elif best_cost != (0, 0) and widen(best, words, runs):
            best, self._last_change = self._merge_into(best, bucket, cands)
        self._file_near(key[1], best)
        if not crowded:  # the line may have made its bucket crowded: cache it then neither
            self._crowded = crowded = len(self._buckets.get(key, ())) > CROWDED_BUCKET
        if crowded:
            self._index(key, best)
            return best
        self._remember(masked, best)
        return best

    def _remember(self, masked: str, cluster: Cluster) -> None:
        """Remember that the masked line ``masked`` goes to ``cluster``."""
        if len(self._signatures) >= self.max_signatures:
            self._signatures.clear()
        self._signatures[masked] = cluster
        self._point(cluster, masked)

    def _merge_heads(self, words: list[str], runs: list[int], group: list[Cluster]) -> Cluster:
        """Widen the oldest of ``group`` to take ``words`` (its first word becomes ``<*>``)
        and fold the others into it, each out of its own bucket; returns it."""
        group = sorted(group, key=lambda c: c.id)
        keep = group[0]
        changed = widen(keep, words, runs)
        if keep.words[0] != WILDCARD:  # a name is a value whole ("backup" / "expire": "<*>")
            keep.words[0], keep.levels[0], keep._template, changed = WILDCARD, ANY, None, True
        merged = []
        for gone in group[1:]:
            for home in (self._filed_key(gone), _bucket_key(gone.words)):
                bucket = self._buckets.get(home, [])
                if any(c is gone for c in bucket):
                    merged.append(self._fold(gone, keep, bucket))
                    if not bucket:
                        del self._buckets[home]
                    break
        self._heads.file(keep)
        self._last_change = tuple(merged) if merged or changed else None
        return keep

    def _spanned(self, words: list[str], runs: list[int], key: tuple[int, str]) -> Cluster | None:
        """The cluster of another word count that takes ``words`` with one value of one word
        against several (:func:`vigil.logs._spans.span_slot`), widened (and moved to the line's
        bucket when its span was the longer one); None when there is none. Only on the
        new-cluster path: a bounded number of buckets, none of them crowded."""
        found = nearest(self._buckets, key, words, CROWDED_BUCKET, self._near, self.clusters)
        if found is None:
            return None
        first = key[1]
        cluster, span = found
        home = (len(cluster.words), first)
        if fit(cluster, span, words, runs):  # shrunk: its span was the longer one
            self._buckets[home].remove(cluster)
            if not self._buckets[home]:
                del self._buckets[home]
            home = (len(cluster.words), first)  # the line's word count, or fewer for a list
            bucket = self._buckets.setdefault(home, [])
            insort(bucket, cluster, key=by_id)
            if len(bucket) == CROWDED_BUCKET + 1:  # crowded now, as in _create
                for c in bucket:
                    self._index(home, c)
                self._forget()
                self.crowdings += 1
        bucket = self._buckets[home]
        merged, change = self._merge_into(cluster, bucket, list(bucket))
        self._last_change = change if change else ()
        return merged

    def _create(
        self, words: list[str], runs: list[int], key: tuple[int, str], bucket: list[Cluster]
    ) -> Cluster:
        if len(self.clusters) >= self.max_clusters:
            self._evict()
            bucket = self._buckets.setdefault(key, [])
        cluster = Cluster(self.next_id, list(words), [LITERAL] * len(words), list(runs))
        self.next_id += 1
        self.clusters[cluster.id] = cluster
        if words and "a" <= words[0][:1] <= "z":  # a lower-case first word: a name? (._heads)
            self._heads.file(cluster)
        bucket.append(cluster)
        if len(bucket) == CROWDED_BUCKET + 1:  # crowded now: no cached answer for its lines
            for c in bucket:
                self._index(key, c)
            self._forget()
            self.crowdings += 1
        return cluster

    def _evict(self) -> None:
        """Drop the least recently seen tenth of the clusters (amortised O(1) per line)."""
        victims = sorted(self.clusters.values(), key=lambda c: c.last_line)
        gone = {c.id for c in victims[: max(1, len(victims) // 10)]}
        for cid in gone:
            del self.clusters[cid]
        self._forget()
        for key, bucket in list(self._buckets.items()):  # each survivor stays where it was filed
            bucket[:] = [c for c in bucket if c.id not in gone]
            if not bucket:
                del self._buckets[key]
        self._reindex()
        # an id merged twice (4 into 3, 3 into 2) resolves through an id that is no cluster
        # now: keep each old id whose last survivor lives, pointing straight at it
        resolve, alive = self.resolve, self.clusters
        self._remap = {k: t for k in self._remap if (t := resolve(k)) in alive}

    def _merge_into(
        self, keep: Cluster, bucket: list[Cluster], among: list[Cluster]
    ) -> tuple[Cluster, tuple[tuple[int, int], ...]]:
        """Merge every cluster of ``among`` (``bucket``'s clusters the line was compared with)
        that ``keep``'s widened template now covers; the survivor (an older cluster ``keep``
        was folded into, maybe) and the merges."""
        merged: list[tuple[int, int]] = []
        for other in list(among):
            if other is keep or other.id not in self.clusters:
                continue
            if _cost(keep, other.words) != (0, 0):
                continue
            survivor, gone = (keep, other) if keep.id < other.id else (other, keep)
            merged.append(self._fold(gone, survivor, bucket))
            keep = survivor
        return keep, tuple(merged)

    def _merge_siblings(
        self, words: list[str], runs: list[int], siblings: list[Cluster], bucket: list[Cluster]
    ) -> Cluster:
        """Widen the oldest sibling to take ``words`` (their one differing word becomes
        ``<*>``) and fold the other siblings into it; returns it."""
        group = sorted(siblings, key=lambda c: c.id)
        keep = group[0]
        widen(keep, words, runs)
        self._last_change = tuple(self._fold(gone, keep, bucket) for gone in group[1:])
        return keep

    def _unpin(
        self,
        words: list[str],
        runs: list[int],
        family: tuple[int, list[Cluster]],
        bucket: list[Cluster],
    ) -> Cluster:
        """One more word under a pinned key than :data:`MAX_SETTLED_EVENTS`: the key is a value
        after all. Unpin it and make the family one cluster with ``<*>`` there (ids remapped)."""
        place, group = family
        for c in group:
            c.pinned = tuple(p for p in c.pinned if p != place)
        return self._merge_siblings(words, runs, group, bucket)

    def _forget(self) -> None:
        """Drop the three line caches (and the notes of what points into them)."""
        self._signatures.clear()
        self._shapes.clear()
        self._exact.clear()
        self._notes.clear()

    def _point(self, cluster: Cluster, key: CacheKey) -> None:
        """Note that the cache entry ``key`` now points at ``cluster`` (:mod:`._notes`)."""
        if self._notes.note(cluster.id, key):
            self._notes.rebuild(self._signatures, self._shapes, self._exact)

    def _fold(self, gone: Cluster, survivor: Cluster, bucket: list[Cluster]) -> tuple[int, int]:
        """Fold ``gone`` into ``survivor`` (template widened, counts and lines summed, its id
        remapped, the caches pointed at the survivor); returns the ``(gone, survivor)`` ids."""
        widen(survivor, gone.words, gone.runs)
        # a constant of ``gone`` that the survivor still holds word for word stays a constant
        # (the older id survives: a pinned younger cluster's pin was lost with it)
        if gone.spans:
            survivor.spans = tuple(sorted({*survivor.spans, *gone.spans}))
        kept = [p for p in gone.pinned if _same_literal(survivor, gone, p)]
        if kept:
            survivor.pinned = tuple(sorted({*survivor.pinned, *kept}))
        survivor.count += gone.count
        survivor.varied = True  # two messages now
        survivor.first_line = min(survivor.first_line, gone.first_line)
        survivor.last_line = max(survivor.last_line, gone.last_line)
        self._remap[gone.id] = survivor.id
        if self.folds is not None:
            self.folds.append((self.lines, gone, survivor))
        bucket.remove(gone)
        del self.clusters[gone.id]
        self._notes.repoint(gone, survivor, self._signatures, self._shapes, self._exact)
        return gone.id, survivor.id
