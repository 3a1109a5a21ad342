"""Helpers of the controller's log pipeline (:mod:`vigil.daemon._logs`): matching a template with
wildcards against a known one (is it only a widening of a known template?), and checking the
configured sources' header formats at start-up."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.errors import InputError
from vigil.logs import WILDCARD
from vigil.logs.analysis import NoveltyDetector, TemplateFamilies, TemplateRegistry
from vigil.settings import LogsSettings

MAX_WIDEN_SCAN = 256
"""Family members a new template with ``<*>`` is matched against to tell a widening from a new
event, oldest first. Looked up by the template's literal head and tail there are rarely more;
with ``<*>`` at both ends every member is a candidate, and all N of a family of N similar
templates per template was N^2 per batch. A widening missed beyond that is reported as new."""


def widens_known(
    template_id: int,
    template: str,
    families: TemplateFamilies,
    registry: TemplateRegistry,
    novelty: NoveltyDetector,
) -> bool:
    """Whether ``template`` is a known template widened by a miner (``user bob`` ->
    ``user <*>``): it matches a member of its family, so it is no new event."""
    if WILDCARD not in template:
        return False
    parts = template.split(WILDCARD)
    # only the members with its literal head and tail, at most MAX_WIDEN_SCAN of them: a
    # family of N similar templates scanned whole per new template was N^2 per batch
    candidates = families.members_with_ends(template_id, parts[0], parts[-1], limit=MAX_WIDEN_SCAN)
    for other in candidates:
        entry = registry.get(other)
        if other != template_id and entry is not None and wildcard_match(parts, entry.template):
            return novelty.known(other)
    return False


def wildcard_match(parts: Sequence[str], text: str) -> bool:
    """Whether ``text`` is ``parts`` joined by stretches of any text (a template split at its
    wildcards). Linear: each part is found leftmost after the previous one, which is enough
    with wildcards only (a regex of ``.*?`` backtracks exponentially in their number)."""
    if len(parts) == 1:
        return text == parts[0]
    first, last = parts[0], parts[-1]
    end = len(text) - len(last)
    if end < len(first) or not text.startswith(first) or not text.endswith(last):
        return False
    pos = len(first)
    for part in parts[1:-1]:
        found = text.find(part, pos, end)
        if found < 0:
            return False
        pos = found + len(part)
    return True


def check_source_formats(settings: LogsSettings) -> None:
    """Raise InputError naming the source whose format vigil.logs cannot compile."""
    from vigil.logs import LogFormat, LogFormatError

    for i, src in enumerate(settings.sources):
        try:
            LogFormat(src.format)
        except LogFormatError as exc:
            raise InputError(f"logs.sources[{i}].format: {exc}") from exc
