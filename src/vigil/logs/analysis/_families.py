"""Families: similar templates grouped together, incrementally.

Pure: no I/O, and no clock either: families depend on the templates' text alone. Called by the
controller's log pipeline (:mod:`vigil.daemon._logs`) for every new, widened or dropped template.

A template's **constant tokens** are its words with the ``<*>`` parts and surrounding
punctuation removed, lower-cased (``"Connection to <*> failed:"`` -> ``{connection, to,
failed}``); a ``key=value`` word is its key (``"user=<*>"`` and ``"user=bob"`` are both
``user=``: the miner takes a keyed value for a variable and widens it, several at once, and a
widened template must stay in the family of the one it widens). Two templates are similar when
the Jaccard index of their constant tokens reaches ``threshold``::

    J(A, B) = |A & B| / |A | B|

A family is a connected component of the similarity graph (single linkage): templates linked
through a chain of similar pairs are one family. ``"Connection to <*> failed"`` and
``"Connection to <*> failed after <*> retries"`` share 3 of 5 tokens (J = 0.6); ``"User <*>
logged in"`` shares none with them.

Incremental, and close to linear in the number of templates of one family (a batch of 1,000
similar templates cost ~N^3 when every link was kept and every family walked per template):

- an inverted index maps a token to the **families** holding it, and each family to its
  members by token. A new template is compared, family by family, with the members sharing a
  token (rarest first, newest first) only until one is similar: one link is enough to join a
  family, so joining a family of N similar templates costs one comparison, not N;
- a family keeps a **spanning tree** of the links found (one per member), not every link.
  Removing a leaf of the tree leaves the family whole; removing an inner member rebuilds that
  family alone, by re-adding its members (another family cannot link to it, else they would be
  one). Families found are the connected components, as before; only the work differs;
- families merged by a template are merged smaller into larger; the family id (the smallest
  template id in the family: the oldest template, so it stays the same as the family grows) is
  the first of the family's sorted ids, not a walk. ``comparisons`` counts the Jaccard indexes
  computed (the tests bound it);
- one template costs at most :data:`MAX_COMPARISONS` comparisons (families sharing its rarest
  tokens first): only there can a family differ from exact single linkage.

A template whose text changed (the miner widened it) is re-linked, and
:meth:`TemplateFamilies.remove` (a template merged away) can split a family. Memory: at most
``max_templates`` templates (the one least recently passed to :meth:`~TemplateFamilies.add`
dropped first).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import OrderedDict
from collections.abc import Iterable

from vigil.logs._tokens import WILDCARD

DEFAULT_THRESHOLD = 0.5
"""Half the constant tokens in common: "X failed" and "X failed after N retries" (0.6) are one
family; templates sharing only a verb or a preposition are not."""

DEFAULT_MAX_TEMPLATES = 10_000
"""Ten thousand templates; a family keeps one tree link per member, so memory is linear."""

MAX_COMPARISONS = 500
"""Comparisons one template may cost when it is added. The families sharing its rarest tokens
are looked at first, so a similar template is found within the first few; the most any template
of the six Loghub sets and the fixtures needed, all of them in one table, is 246. Only a template
sharing common words with over 500 templates it is not similar to (a flood of dissimilar ones
all saying "error in module", or a big family it does not belong to) reaches it, and may miss a
family it shares only its commonest words with; exact, it cost N comparisons per template and
N^2 per batch of N."""

_SMALL = 8
"""A family this small is compared member by member, without walking its index by rarity."""
_PUNCT = "[](){}<>:;,.!?\"'`|"
_LAST_CHAR = chr(0x10FFFF)  # after every text starting with a probe, in the sorted texts


def constant_tokens(template: str) -> frozenset[str]:
    """The template's constant tokens (see the module docstring)."""
    out = set()
    for word in template.split():
        key, eq, _ = word.partition("=")
        if eq and key and WILDCARD not in key:
            word = key + eq  # the value is a variable, masked or not
        word = word.replace(WILDCARD, "").strip(_PUNCT).lower()
        if any(ch.isalpha() for ch in word):
            out.add(word)
    return frozenset(out)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """``|a & b| / |a | b|``; 0.0 for two empty sets (templates of variables only)."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


class _Family:
    """One family: its members, their tokens' index, a spanning tree of links, sorted texts."""

    __slots__ = ("by_token", "heads", "ids", "tails", "tree")

    def __init__(self) -> None:
        self.ids: list[int] = []  # the members, sorted
        self.by_token: dict[str, dict[int, None]] = {}  # insertion-ordered: oldest first
        self.tree: dict[int, set[int]] = {}
        self.heads: list[tuple[str, int]] = []  # (text, id), sorted: members by prefix
        self.tails: list[tuple[str, int]] = []  # (reversed text, id): members by suffix


class TemplateFamilies:
    """Single-linkage families of templates by Jaccard similarity of their constant tokens.

    >>> f = TemplateFamilies()
    >>> f.add(1, "Connection to <*> failed")
    1
    >>> f.add(2, "User <*> logged in")
    2
    >>> f.add(3, "Connection to <*> failed after <*> retries")
    1
    """

    def __init__(
        self, *, threshold: float = DEFAULT_THRESHOLD, max_templates: int = DEFAULT_MAX_TEMPLATES
    ) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1] (got {threshold})")
        if max_templates < 1:
            raise ValueError(f"max_templates must be >= 1 (got {max_templates})")
        self.threshold = threshold
        self.max_templates = max_templates
        self.comparisons = 0
        """Jaccard indexes computed so far (work done; the tests bound it)."""
        self._tokens: OrderedDict[int, frozenset[str]] = OrderedDict()
        self._texts: dict[int, str] = {}
        self._family: dict[int, int] = {}  # template id -> family key
        self._families: dict[int, _Family] = {}
        self._index: dict[str, set[int]] = {}  # token -> keys of the families holding it
        self._next_key = 0

    def __len__(self) -> int:
        """How many templates are held."""
        return len(self._tokens)

    def add(self, template_id: int, template: str) -> int:
        """Add (or update, or touch) a template and return its family id."""
        if self._texts.get(template_id) == template:
            self._tokens.move_to_end(template_id)
            return self.family_of(template_id)
        if template_id in self._tokens:
            self.remove(template_id)
        tokens = constant_tokens(template)
        self._tokens[template_id] = tokens
        self._texts[template_id] = template
        self._join(template_id, tokens, None)
        if len(self._tokens) > self.max_templates:
            self.remove(next(iter(self._tokens)))
        return self.family_of(template_id)

    def remove(self, template_id: int) -> None:
        """Forget a template (merged away by the miner, or evicted); its family may split."""
        tokens = self._tokens.pop(template_id, None)
        if tokens is None:
            return
        text = self._texts.pop(template_id)
        key = self._family.pop(template_id)
        fam = self._families[key]
        fam.ids.pop(bisect_left(fam.ids, template_id))
        self._unindex(key, fam, template_id, tokens, text)
        neighbours = fam.tree.pop(template_id)
        for other in neighbours:
            fam.tree[other].discard(template_id)
        if not fam.ids:
            del self._families[key]
        elif len(neighbours) > 1:  # an inner node of the tree: the family may split
            self._rebuild(key, fam)

    def merged(self, remapped: Iterable[tuple[int, int]]) -> None:
        """Apply the miner's merges (``Match.remapped``: old id -> surviving id)."""
        for old, _new in remapped:
            self.remove(old)

    def members(self, template_id: int) -> list[int]:
        """The ids in ``template_id``'s family, sorted (empty if the template is unknown)."""
        key = self._family.get(template_id)
        return [] if key is None else list(self._families[key].ids)

    def family_of(self, template_id: int) -> int:
        """The family id: the smallest template id in the family (the id itself if unknown)."""
        key = self._family.get(template_id)
        return template_id if key is None else self._families[key].ids[0]

    def families(self) -> dict[int, list[int]]:
        """Every family: family id -> sorted member ids (families of one included)."""
        out = {fam.ids[0]: list(fam.ids) for fam in self._families.values()}
        return dict(sorted(out.items()))

    def template(self, template_id: int) -> str | None:
        """The text last added for ``template_id``."""
        return self._texts.get(template_id)

    def members_with_ends(
        self, template_id: int, head: str, tail: str, *, limit: int | None = None
    ) -> list[int]:
        """The members of ``template_id``'s family whose text starts with ``head`` and ends with
        ``tail``, sorted. Looked up in the family's texts sorted from the start and from the
        end, whichever holds fewer with that head or tail, so the cost follows those, not the
        family's size; ``limit`` bounds how many of them are looked at (the oldest members
        when there is neither head nor tail)."""
        key = self._family.get(template_id)
        if key is None:
            return []
        fam = self._families[key]
        if not head and not tail:
            return fam.ids[:limit]
        ranges = []
        for texts, probe in ((fam.heads, head), (fam.tails, tail[::-1])):
            lo = bisect_left(texts, (probe,))
            hi = bisect_left(texts, (probe + _LAST_CHAR,), lo)
            ranges.append((hi - lo, lo, texts))
        size, lo, texts = min(ranges, key=lambda r: r[0])
        out = []
        for _, other in texts[lo : lo + (size if limit is None else min(size, limit))]:
            text = self._texts[other]
            if text.startswith(head) and text.endswith(tail):
                out.append(other)
        return sorted(out)

    # --- internals ------------------------------------------------------------------------------

    def _join(self, template_id: int, tokens: frozenset[str], allowed: set[int] | None) -> None:
        """Link a new template to every family it is similar to (only ``allowed`` ones if
        given), merging them, or start a family of its own. Families are looked at by the
        template's rarest tokens first, for at most :data:`MAX_COMPARISONS` comparisons."""
        linked: list[tuple[int, int]] = []  # (family key, the member found similar)
        budget = MAX_COMPARISONS
        checked: set[int] = set()
        families, all_tokens, size, threshold = (
            self._families,
            self._tokens,
            len(tokens),
            self.threshold,
        )
        for token in sorted(tokens, key=lambda t: len(self._index.get(t, ()))):
            for key in self._index.get(token, ()):
                if key in checked or (allowed is not None and key not in allowed):
                    continue
                checked.add(key)
                ids = families[key].ids
                if len(ids) <= _SMALL:  # most families: each member compared, inline (hot loop)
                    for other in reversed(ids):
                        theirs = all_tokens[other]
                        common = len(tokens & theirs)
                        budget -= 1
                        if common / (size + len(theirs) - common) >= threshold:
                            linked.append((key, other))
                            break
                        if budget <= 0:
                            break
                else:
                    witness, spent = self._witness(families[key], tokens, budget)
                    budget -= spent
                    if witness is not None:
                        linked.append((key, witness))
                if budget <= 0:
                    break
            if budget <= 0:
                break
        self.comparisons += MAX_COMPARISONS - budget
        if linked:
            linked.sort(key=lambda kw: -len(self._families[kw[0]].ids))
            key = linked[0][0]
            fam = self._families[key]
            for other_key, _ in linked[1:]:
                self._absorb(key, fam, other_key)
                if allowed is not None:
                    allowed.discard(other_key)
        else:
            key, fam = self._new_family()
            if allowed is not None:
                allowed.add(key)
        fam.tree[template_id] = {witness for _, witness in linked}
        for _, witness in linked:
            fam.tree[witness].add(template_id)
        self._place(key, fam, template_id, tokens)

    def _witness(self, fam: _Family, tokens: frozenset[str], budget: int) -> tuple[int | None, int]:
        """A member of ``fam`` similar to ``tokens`` (or None) and the comparisons spent: the
        members sharing a token are compared, the family's rarest shared tokens first and the
        newest members first, until one is similar or ``budget`` comparisons are made."""
        shared = sorted((len(fam.by_token[t]), t) for t in tokens if t in fam.by_token)
        seen: set[int] = set()
        for _, token in shared:
            for other in reversed(fam.by_token[token]):
                if other in seen:
                    continue
                seen.add(other)
                if jaccard(tokens, self._tokens[other]) >= self.threshold:
                    return other, len(seen)
                if len(seen) >= budget:
                    return None, len(seen)
        return None, len(seen)

    def _new_family(self) -> tuple[int, _Family]:
        key = self._next_key
        self._next_key += 1
        fam = self._families[key] = _Family()
        return key, fam

    def _place(self, key: int, fam: _Family, template_id: int, tokens: frozenset[str]) -> None:
        """Make ``template_id`` a member of ``fam`` (its tree links already set)."""
        insort(fam.ids, template_id)
        self._family[template_id] = key
        for token in tokens:
            ids = fam.by_token.get(token)
            if ids is None:
                ids = fam.by_token[token] = {}
                self._index.setdefault(token, set()).add(key)
            ids[template_id] = None
        text = self._texts[template_id]
        insort(fam.heads, (text, template_id))
        insort(fam.tails, (text[::-1], template_id))

    def _unindex(
        self, key: int, fam: _Family, template_id: int, tokens: frozenset[str], text: str
    ) -> None:
        for token in tokens:
            ids = fam.by_token[token]
            del ids[template_id]
            if not ids:
                del fam.by_token[token]
                self._drop_key(token, key)
        fam.heads.pop(bisect_left(fam.heads, (text, template_id)))
        fam.tails.pop(bisect_left(fam.tails, (text[::-1], template_id)))

    def _drop_key(self, token: str, key: int) -> None:
        keys = self._index[token]
        keys.discard(key)
        if not keys:
            del self._index[token]

    def _absorb(self, key: int, fam: _Family, other_key: int) -> None:
        """Merge family ``other_key`` into ``fam`` (the larger one)."""
        other = self._families.pop(other_key)
        for token in other.by_token:
            self._drop_key(token, other_key)
        for template_id in other.ids:
            fam.tree[template_id] = other.tree[template_id]
            self._place(key, fam, template_id, self._tokens[template_id])

    def _rebuild(self, key: int, fam: _Family) -> None:
        """Find again the families in what is left of ``fam``, re-adding its members oldest first
        (only to each other: no other family can link to them)."""
        del self._families[key]
        for token in fam.by_token:
            self._drop_key(token, key)
        allowed: set[int] = set()
        for template_id in fam.ids:
            self._join(template_id, self._tokens[template_id], allowed)
