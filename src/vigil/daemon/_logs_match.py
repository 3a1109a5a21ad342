"""Two helpers of the controller's log pipeline (:mod:`vigil.daemon._logs`): matching a template
with wildcards against a known one (is it only a widening?), and checking the configured sources'
header formats at start-up."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.errors import InputError
from vigil.settings import LogsSettings


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
