"""Headers: split a raw log line into its header fields and the message the miner sees.

Called by the ``vigil logs`` CLI (:mod:`vigil.cli._logs`) once per line, before
:class:`vigil.logs.TemplateMiner`. Three ways to split:

- a Loghub-style format string, ``<Date> <Time> <Level> <Component>: <Content>`` (runs of spaces
  match any whitespace, the rest is a regular expression, as in LogPAI's logparser);
- a preset name: ``syslog``, ``journald-json``, ``k8s-json`` (Docker/Kubernetes JSON lines),
  ``cri`` (containerd/CRI-O lines), ``auto``;
- automatic detection (``auto``, the default): JSON lines are recognised by their keys (a
  structured logger's line from its ``msg`` key to the end, a container runtime's ``log``
  field alone), other lines by their leading timestamp, level, pid, host and component tokens
  (:mod:`vigil.logs._detect`).

The ``prefix`` of a :class:`Split` is the header with its variable parts masked (``<*>``): the
CLI prints ``prefix + template`` so that a printed template still matches the line's format.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from vigil.errors import InputError
from vigil.logs._detect import detect_header
from vigil.logs._jsonname import JSON_MESSAGE_KEYS as _JSON_MESSAGE_KEYS
from vigil.logs._jsonname import statement_key
from vigil.logs._tokens import mask

CONTENT = "Content"

PRESETS: dict[str, str] = {
    "syslog": r"<Month> <Day> <Time> <Host> <Component>(\[<Pid>\])?: <Content>",
    "cri": "<Time> <Stream> <Tag> <Content>",
    "journald-json": "json",
    "k8s-json": "json",
    "auto": "auto",
}
"""Named formats accepted wherever a format string is (``--log-format syslog``)."""


class LogFormatError(InputError, ValueError):
    """A ``--log-format`` string that cannot be used (no ``<Content>``, bad regex)."""


@dataclass(frozen=True, slots=True)
class Split:
    """One line cut in two: the message for the miner, and the masked header before it."""

    content: str
    prefix: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    start: int = -1
    """Where ``content`` starts in the line when it is a slice of it, else -1 (a JSON field)."""


class LogFormat:
    """A compiled header format; :meth:`split` never fails (an unmatched line is all content)."""

    def __init__(self, spec: str = "auto") -> None:
        self.spec = spec
        self.shape_safe = not any(c.isdigit() for c in spec)
        """True when lines of one shape (digits aside) always split alike: not so for a format
        whose regular expression names a digit."""
        resolved = PRESETS.get(spec, spec)
        self.kind = resolved if resolved in ("auto", "json") else "format"
        self.headers: list[str] = []
        self._regex: re.Pattern[str] | None = None
        if self.kind == "format":
            self.headers, self._regex = compile_format(resolved)

    def split(self, line: str) -> Split:
        """Split ``line`` (no trailing newline) into header and content."""
        if self.kind == "format":
            return self._split_format(line)
        if line.startswith("{"):
            found = split_json(line)
            if found is not None:
                return found
        elif self.kind == "auto" and " {" in line:
            found = split_prefixed(line)
            if found is not None:
                return found
        if self.kind == "json":
            return Split(line)
        end, fields = detect_header(line)
        if end == 0:
            return Split(line, start=0)
        return Split(line[end:], mask(line[:end], header=True), fields, end)

    def _split_format(self, line: str) -> Split:
        assert self._regex is not None
        m = self._regex.match(line.strip())
        if m is None:
            return Split(line, start=0)
        start = m.start(CONTENT) + (len(line) - len(line.lstrip()))
        fields = tuple((h, m.group(h) or "") for h in self.headers if h != CONTENT)
        return Split(m.group(CONTENT), mask(line[:start], header=True), fields, start)


def compile_format(spec: str) -> tuple[list[str], re.Pattern[str]]:
    """``<Date> <Time>: <Content>`` -> (field names, regex), as LogPAI's logparser builds it
    (its header fields cut for good where they can be: :func:`_cut`)."""
    headers: list[str] = []
    regex = "^"
    parts = re.split(r"(<[^<>]+>)", spec)
    starts: list[int] = []  # where each part begins in the regex
    for k, part in enumerate(parts):
        starts.append(len(regex))
        if k % 2 == 0:
            left_open = _OPEN_FIELD.search(part)
            if left_open is not None:
                name = left_open.group(1)
                raise LogFormatError(f"log format {spec!r}: <{name} is not closed: write <{name}>")
            regex += _literal(part)
        else:
            name = part.strip("<>")
            if not name.isidentifier() or name in headers:
                raise LogFormatError(f"log format {spec!r}: bad or repeated field <{name}>")
            regex += f"(?P<{name}>.*?)"
            headers.append(name)
    if CONTENT not in headers:
        raise LogFormatError(f"log format {spec!r}: needs a <Content> field")
    try:
        plain = re.compile(regex + "$")
    except re.error as exc:
        where = _place(parts, starts, exc.pos)
        raise LogFormatError(
            f"log format {spec!r}: {where}{exc.msg} (the text between fields is a regular "
            "expression: write a literal ( ) [ ] { } ? * + with a backslash before it)"
        ) from exc
    lost = [name for name in headers if name not in plain.groupindex]
    if lost:  # "[<Time>]": a bracket set took the field in as characters
        raise LogFormatError(
            f"log format {spec!r}: <{lost[0]}> is inside a [...] set of characters: write "
            "a literal [ or ] with a backslash before it"
        )
    try:
        return headers, re.compile(_cut_fields(parts) + "$")
    except re.error:  # separators that make a regex only together: LogPAI's as it is
        return headers, plain


def _cut_fields(parts: list[str]) -> str:
    """The format's regex with each header field before ``<Content>`` and the separator
    after it made one atomic group, as long as each separator is a regex alone (:func:`_cut`)."""
    regex = "^"
    final = True  # the fields cut so far are final
    for k, part in enumerate(parts):
        if k % 2 == 0:
            if not (k and final):  # else the field before took it in
                regex += _literal(part)
            continue
        name = part.strip("<>")
        final = final and name != CONTENT and _cut(_literal(parts[k + 1]))
        if final:
            regex += f"(?>(?P<{name}>.*?)(?:{_literal(parts[k + 1])}))"
        else:
            regex += f"(?P<{name}>.*?)"
    return regex


def _literal(part: str) -> str:
    """The text between two fields as a regular expression: runs of spaces match any
    whitespace (LogPAI's reading)."""
    return re.sub(" +", r"\\s+", part)


def _cut(separator: str) -> bool:
    """True when a header field and the ``separator`` after it can be matched as one atomic
    group, ``(?>(?P<Field>.*?)(?:separator))``: the field ends where the separator is first
    found, for good. A lazy field that may be taken back made a line that fits the format no
    way try every way of cutting it (a power of its length: a 100-word line took seconds under
    the HDFS format, a long one never ended); a line that fits is cut at the same places, since
    its first cut is the one a backtracking match tries first and keeps. Not for a separator
    that is no regular expression alone (``(\\[`` before ``<PID>\\])?``): the fields after it
    keep the backtracking match, on a line cut short by the fields made final before it."""
    try:
        re.compile(separator)
    except re.error:
        return False
    return True


_OPEN_FIELD = re.compile(r"<([A-Za-z_]\w*)(?![\w>])")
"""A field name left open (``<Extra`` at the end, ``<Level <Content>``): taken for text, it
made the format match no line, and every line was mined whole, header and all."""


def _place(parts: list[str], starts: list[int], pos: int | None) -> str:
    """The text of the format where a regular expression error is (``'[ ' after <Date>: ``):
    the error's own position counts in the regex built from the format, not in the format."""
    if pos is None:
        return ""
    k = max(i for i, start in enumerate(starts) if start <= pos or i == 0)
    if k % 2:
        return f"{parts[k]}: "
    if k > 0:
        return f"{parts[k]!r} after {parts[k - 1]}: "
    return f"{parts[k]!r} before {parts[1]}: " if len(parts) > 1 else f"{parts[k]!r}: "


def split_json(line: str) -> Split | None:
    """A journald/Docker/Kubernetes JSON line: its message field is the content."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    for key in _JSON_MESSAGE_KEYS:
        value = obj.get(key)
        if isinstance(value, str):
            fields = tuple((k, str(v)) for k, v in obj.items() if k != key)
            if key in _STRUCTURED_KEYS:
                at = _message_key(line, key)
                if at > 0:
                    return Split(line[at:].rstrip(), mask(line[:at], header=True), fields, at)
            return Split(value.rstrip("\r\n"), "", fields)
    return _split_named(line, 0, obj)


def split_prefixed(line: str) -> Split | None:
    """A JSON object after one word (``:::MLLOG {...}``, a time): split as a JSON line with
    no message key is (:func:`_split_named`); None otherwise, a message key's line included
    (header detection reads those as before)."""
    at = line.find(" {") + 1
    if at <= 1 or " " in line[: at - 1] or "\t" in line[: at - 1]:
        return None
    try:
        obj = json.loads(line[at:])
    except ValueError:
        return None
    return _split_named(line, at, obj) if isinstance(obj, dict) else None


def _split_named(line: str, at: int, obj: dict[str, object]) -> Split | None:
    """A JSON object (from ``at`` in ``line``) with no message key, cut where the member
    whose value names the statement starts (:func:`vigil.logs._jsonname.statement_key`); None
    when no member does."""
    key = statement_key(obj)
    if key is None:
        return None
    start = _message_key(line[at:], key)
    if start <= 0:
        return None
    start += at
    fields = tuple((k, str(v)) for k, v in obj.items() if k != key)
    return Split(line[start:].rstrip(), mask(line[:start], header=True), fields, start)


_STRUCTURED_KEYS = frozenset(["msg", "message", "event"])
"""The message keys of structured loggers (zap, logrus, bunyan, pino, MongoDB, Python's JSON
formatter, structlog's ``event``): the fields written after the message are the event's own
attributes (``"took": "5ms","error":"..."``), so the content runs from the message key to the end
of the line, as logfmt's does from ``msg=``; the keys before it (time, level, caller) are header.
A container runtime's ``log``/``MESSAGE`` field holds the whole payload: its other keys stay out."""


def _message_key(line: str, key: str) -> int:
    """Where ``"key":`` starts at the top level of a JSON object line; 0 if not found."""
    depth, i, n = 0, 0, len(line)
    target = f'"{key}"'
    while i < n:
        c = line[i]
        if c == '"':
            if depth == 1 and line.startswith(target, i):
                after = line[i + len(target) :].lstrip()
                if after.startswith(":"):
                    return i
            i += 1
            while i < n and line[i] != '"':
                i += 2 if line[i] == "\\" else 1
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
        i += 1
    return 0
