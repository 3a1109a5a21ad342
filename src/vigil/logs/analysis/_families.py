"""Families: similar templates grouped together, incrementally.

Pure: no I/O, and no clock either: families depend on the templates' text alone.

A template's **constant tokens** are its words with the ``<*>`` parts and surrounding
punctuation removed, lower-cased (``"Connection to <*> failed:"`` -> ``{connection, to,
failed}``; ``"user=<*>"`` keeps ``user=``). Two templates are similar when the Jaccard index of
their constant tokens reaches ``threshold``::

    J(A, B) = |A & B| / |A | B|

A family is a connected component of the similarity graph (single linkage): templates linked
through a chain of similar pairs are one family. ``"Connection to <*> failed"`` and
``"Connection to <*> failed after <*> retries"`` share 3 of 5 tokens (J = 0.6); ``"User <*>
logged in"`` shares none with them.

Incremental: :meth:`TemplateFamilies.add` compares a template only with those sharing a token
(an inverted index) and records its links; a template whose text changed (the miner widened it)
is re-linked, and :meth:`TemplateFamilies.remove` (a template merged away) can split a family.
The family id is the smallest template id in the family: the oldest template, so it stays the
same as the family grows. Memory: at most ``max_templates`` templates (the one least recently
passed to :meth:`~TemplateFamilies.add` dropped first).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from vigil.logs._tokens import WILDCARD

DEFAULT_THRESHOLD = 0.5
"""Half the constant tokens in common: "X failed" and "X failed after N retries" (0.6) are one
family; templates sharing only a verb or a preposition are not."""

DEFAULT_MAX_TEMPLATES = 10_000
"""Ten thousand templates; links are sparse in practice (a few per template)."""

_PUNCT = "[](){}<>:;,.!?\"'`|"


def constant_tokens(template: str) -> frozenset[str]:
    """The template's constant tokens (see the module docstring)."""
    out = set()
    for word in template.split():
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
        self._tokens: OrderedDict[int, frozenset[str]] = OrderedDict()
        self._texts: dict[int, str] = {}
        self._index: dict[str, set[int]] = {}
        self._links: dict[int, set[int]] = {}

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
        links: set[int] = set()
        candidates: set[int] = set()
        for token in tokens:
            candidates |= self._index.get(token, set())
        for other in candidates:
            if jaccard(tokens, self._tokens[other]) >= self.threshold:
                links.add(other)
                self._links[other].add(template_id)
        for token in tokens:
            self._index.setdefault(token, set()).add(template_id)
        self._tokens[template_id] = tokens
        self._texts[template_id] = template
        self._links[template_id] = links
        if len(self._tokens) > self.max_templates:
            self.remove(next(iter(self._tokens)))
        return self.family_of(template_id)

    def remove(self, template_id: int) -> None:
        """Forget a template (merged away by the miner, or evicted); its family may split."""
        tokens = self._tokens.pop(template_id, None)
        if tokens is None:
            return
        for token in tokens:
            ids = self._index[token]
            ids.discard(template_id)
            if not ids:
                del self._index[token]
        for other in self._links.pop(template_id):
            self._links[other].discard(template_id)
        del self._texts[template_id]

    def merged(self, remapped: Iterable[tuple[int, int]]) -> None:
        """Apply the miner's merges (``Match.remapped``: old id -> surviving id)."""
        for old, _new in remapped:
            self.remove(old)

    def members(self, template_id: int) -> list[int]:
        """The ids in ``template_id``'s family, sorted (empty if the template is unknown)."""
        if template_id not in self._tokens:
            return []
        seen = {template_id}
        todo = [template_id]
        while todo:
            for other in self._links[todo.pop()]:
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return sorted(seen)

    def family_of(self, template_id: int) -> int:
        """The family id: the smallest template id in the family (the id itself if unknown)."""
        members = self.members(template_id)
        return members[0] if members else template_id

    def families(self) -> dict[int, list[int]]:
        """Every family: family id -> sorted member ids (families of one included)."""
        out: dict[int, list[int]] = {}
        done: set[int] = set()
        for template_id in sorted(self._tokens):
            if template_id not in done:
                members = self.members(template_id)
                done.update(members)
                out[members[0]] = members
        return out

    def template(self, template_id: int) -> str | None:
        """The text last added for ``template_id``."""
        return self._texts.get(template_id)
