"""The controller-wide template table: one id per template text, with counts and examples.

Pure: no I/O, no clock (every method takes ``now``). Called by the controller's log pipeline
(:mod:`vigil.daemon._logs`) for every template an agent or a push sends. Agents mine their own
files independently, so the same event gets a different cluster id on each node: the table maps
them by their **template text** to one id, which the analyses (novelty, bursts, families,
association, Bayes) and ``GET /api/v1/logs/templates`` use.

Each entry keeps its count, first and last time seen, one example line, the most severe level
seen (:func:`~vigil.logs.analysis.level_severity` order) and its count per source (at most
:data:`MAX_SOURCES_PER_TEMPLATE` sources). Memory is bounded: at most ``max_templates`` entries,
the least recently seen evicted first (their ids are returned so the analyses forget them).
:meth:`TemplateRegistry.to_dict` / :meth:`TemplateRegistry.from_dict` save and restore it
(plain JSON); a malformed dict raises :class:`vigil.errors.InputError` naming the field.

**Merges.** A miner widens a template (``user bob`` -> ``user <*>``) and merges two into one as
lines arrive. :meth:`TemplateRegistry.merge` ``(old text, new text)`` follows it: the entry of the
old text takes the new text (same id: every analysis keeps its state), or, when the new text
has an entry already (a true merge, or another source sent it first), is folded into it (counts
added, first/last seen widened, per-source counts summed) and its id is returned for the
analyses to fold too. The old text stays an **alias** of the surviving id, so a source whose
miner has not widened yet (another node) counts into the same template; at most
``max_templates`` aliases are kept (oldest dropped), and an entry's aliases go with it when it
is evicted.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from vigil.errors import InputError
from vigil.logs.analysis._finding import level_severity, severity_rank

DEFAULT_MAX_TEMPLATES = 50_000
"""As many as one miner holds: a fleet's distinct templates number in the thousands."""

MAX_SOURCES_PER_TEMPLATE = 64
"""Per-source counts kept per template; further sources are added to ``"(other)"``."""

MAX_EXAMPLE_CHARS = 2048
"""An example line is for reading: its head is enough."""

OTHER_SOURCE = "(other)"


@dataclass(slots=True)
class TemplateEntry:
    """One controller-wide template."""

    id: int
    template: str
    count: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    example: str = ""
    level: str = ""
    sources: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "template": self.template,
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "example": self.example,
            "level": self.level,
            "sources": dict(self.sources),
        }


class TemplateRegistry:
    """Template text -> :class:`TemplateEntry` with a stable controller-wide id."""

    def __init__(self, *, max_templates: int = DEFAULT_MAX_TEMPLATES) -> None:
        if max_templates < 1:
            raise ValueError(f"max_templates must be >= 1 (got {max_templates})")
        self.max_templates = max_templates
        self.next_id = 1
        self._by_text: OrderedDict[str, TemplateEntry] = OrderedDict()
        self._by_id: dict[int, TemplateEntry] = {}
        self._alias: OrderedDict[str, int] = OrderedDict()  # old text -> the id it now counts in
        self._aliases_of: dict[int, set[str]] = {}

    def __len__(self) -> int:
        return len(self._by_text)

    def get(self, template_id: int) -> TemplateEntry | None:
        return self._by_id.get(template_id)

    def id_of(self, template: str) -> int | None:
        entry = self._by_text.get(template)
        return None if entry is None else entry.id

    def entries(self) -> list[TemplateEntry]:
        return list(self._by_text.values())

    def current(self, template: str) -> TemplateEntry | None:
        """The live entry a text counts in now: its own, or the one it was merged into."""
        entry = self._by_text.get(template)
        if entry is None:
            tid = self._alias.get(template)
            entry = None if tid is None else self._by_id.get(tid)
        return entry

    def merge(self, old: str, new: str) -> tuple[int, int] | None:
        """A miner turned template ``old`` into ``new`` (widened, or merged with another):
        ``(old id, surviving id)``, the same id when the entry only took the new text; None
        when nothing changed (``old`` unknown, or counted in ``new``'s entry already)."""
        was = self.current(old)
        if was is None or old == new:
            return None
        into = self.current(new)
        if into is was:
            return None
        if into is None:  # a widening: the entry takes the new text, same id
            del self._by_text[was.template]
            self._add_alias(was.template, was.id)
            was.template = new
            self._by_text[new] = was
            self._alias.pop(new, None)
            return was.id, was.id
        del self._by_text[was.template]
        del self._by_id[was.id]
        into.count += was.count
        into.first_seen = min(into.first_seen, was.first_seen)
        into.last_seen = max(into.last_seen, was.last_seen)
        into.example = into.example or was.example
        if severity_rank(level_severity(was.level)) > severity_rank(level_severity(into.level)):
            into.level = was.level
        for source, count in was.sources.items():
            key = source
            if key not in into.sources and len(into.sources) >= MAX_SOURCES_PER_TEMPLATE:
                key = OTHER_SOURCE
            into.sources[key] = into.sources.get(key, 0) + count
        for text in self._aliases_of.pop(was.id, set()):
            self._add_alias(text, into.id)
        self._add_alias(was.template, into.id)
        return was.id, into.id

    def _add_alias(self, text: str, template_id: int) -> None:
        previous = self._alias.pop(text, None)
        if previous is not None:
            self._aliases_of.get(previous, set()).discard(text)
        self._alias[text] = template_id
        self._aliases_of.setdefault(template_id, set()).add(text)
        while len(self._alias) > self.max_templates:
            gone, tid = self._alias.popitem(last=False)
            self._aliases_of.get(tid, set()).discard(gone)

    def _drop_aliases(self, template_id: int) -> None:
        for text in self._aliases_of.pop(template_id, set()):
            self._alias.pop(text, None)

    def observe(
        self,
        template: str,
        now: float,
        *,
        count: int = 1,
        example: str = "",
        level: str = "",
        source: str = "",
    ) -> tuple[TemplateEntry, bool, list[int]]:
        """Count ``count`` lines of ``template``: (its entry, created?, ids evicted for room)."""
        entry = self._by_text.get(template)
        evicted: list[int] = []
        if entry is None and self._alias:
            entry = self.current(template)  # a text merged into another: counts there
        created = entry is None
        if entry is None:
            entry = TemplateEntry(self.next_id, template, first_seen=now, last_seen=now)
            self.next_id += 1
            self._by_text[template] = entry
            self._by_id[entry.id] = entry
            while len(self._by_text) > self.max_templates:
                _, gone = self._by_text.popitem(last=False)
                del self._by_id[gone.id]
                self._drop_aliases(gone.id)
                evicted.append(gone.id)
        else:
            self._by_text.move_to_end(entry.template)
        entry.count += count
        entry.last_seen = max(entry.last_seen, now)
        if example and not entry.example:
            entry.example = example[:MAX_EXAMPLE_CHARS]
        if level and (
            not entry.level
            or severity_rank(level_severity(level)) > severity_rank(level_severity(entry.level))
        ):
            entry.level = level
        if source:
            key = source
            if key not in entry.sources and len(entry.sources) >= MAX_SOURCES_PER_TEMPLATE:
                key = OTHER_SOURCE
            entry.sources[key] = entry.sources.get(key, 0) + count
        return entry, created, evicted

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON, least recently seen first (the order :meth:`from_dict` restores)."""
        return {
            "next_id": self.next_id,
            "templates": [e.to_dict() for e in self._by_text.values()],
            "aliases": [[text, tid] for text, tid in self._alias.items()],
        }

    @classmethod
    def from_dict(
        cls, data: object, *, max_templates: int = DEFAULT_MAX_TEMPLATES
    ) -> TemplateRegistry:
        """Read back :meth:`to_dict`; ``InputError`` naming the field when it is malformed."""
        if not isinstance(data, dict):
            raise InputError(f"templates: expected an object (got {type(data).__name__})")
        registry = cls(max_templates=max_templates)
        items = data.get("templates")
        if not isinstance(items, list):
            raise InputError("templates.templates: expected a list")
        for i, item in enumerate(items):
            registry._restore(item, f"templates.templates[{i}]")
        aliases = data.get("aliases", [])  # absent from files saved before merges were kept
        if not isinstance(aliases, list):
            raise InputError("templates.aliases: expected a list of [text, id] pairs")
        for i, pair in enumerate(aliases):
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not isinstance(pair[0], str)
                or type(pair[1]) is not int
            ):
                raise InputError(f"templates.aliases[{i}]: expected a [text, id] pair")
            if pair[1] in registry._by_id and pair[0] not in registry._by_text:
                registry._add_alias(pair[0], pair[1])
        next_id = data.get("next_id")
        if type(next_id) is not int or next_id < 1:
            raise InputError(f"templates.next_id: expected a positive integer (got {next_id!r})")
        registry.next_id = max([next_id, *(e.id + 1 for e in registry._by_id.values())])
        return registry

    def _restore(self, item: object, where: str) -> None:
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected an object")
        want: dict[str, tuple[type, ...]] = {
            "id": (int,),
            "template": (str,),
            "count": (int,),
            "first_seen": (int, float),
            "last_seen": (int, float),
            "example": (str,),
            "level": (str,),
            "sources": (dict,),
        }
        for name, types in want.items():
            if type(item.get(name)) not in types:
                kinds = " or ".join(t.__name__ for t in types)
                raise InputError(f"{where}.{name}: expected {kinds} (got {item.get(name)!r})")
        sources = item["sources"]
        if not all(isinstance(k, str) and type(v) is int for k, v in sources.items()):
            raise InputError(f"{where}.sources: expected source name -> integer count")
        entry = TemplateEntry(
            item["id"],
            item["template"],
            item["count"],
            float(item["first_seen"]),
            float(item["last_seen"]),
            item["example"],
            item["level"],
            dict(sources),
        )
        if entry.id in self._by_id or entry.template in self._by_text:
            raise InputError(f"{where}: template id {entry.id} or its text appears twice")
        self._by_text[entry.template] = entry
        self._by_id[entry.id] = entry
