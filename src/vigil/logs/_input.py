"""Bad input made safe: bytes in, one clean text line out per input line, never an exception.

Used by the ``vigil logs`` CLI (:mod:`vigil.cli._logs`) and, later, by the log tailer: feed the
raw bytes as they arrive (:meth:`LineSplitter.feed`), call :meth:`LineSplitter.close` at the end
of input. The controller's log pipeline repairs each line of a JSON push, given whole, with
:meth:`LineSplitter.line`. Every input line gives exactly one output line, in order:

- invalid UTF-8 is replaced (U+FFFD), NUL and other control characters (except tab) become
  spaces, a CRLF ending loses its CR;
- a line longer than ``max_bytes`` keeps its head and ends with ``TRUNCATED_MARKER``; the rest
  is skipped as it streams by, so memory stays bounded however long the line;
- each case is counted in :class:`InputStats`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

DEFAULT_MAX_LINE_BYTES = 64 * 1024
"""Longer lines are dumps (JSON blobs, base64, stack traces on one line); 64 KiB keeps more than
any template needs and bounds the memory of one line."""

TRUNCATED_MARKER = " [truncated]"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x09), *range(0x0B, 0x20), 0x7F])
"""Control bytes (not tab or newline): CR too, so that CRLF lines take the careful path."""


@dataclass(slots=True)
class InputStats:
    """What the splitter had to repair."""

    lines: int = 0
    empty: int = 0
    invalid_utf8: int = 0
    control_chars: int = 0
    truncated: int = 0
    crlf: int = 0


class LineSplitter:
    """Incremental splitter of a byte stream into clean text lines."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.stats = InputStats()
        self._pending = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> Iterator[str]:
        """Yield every line completed by ``data``."""
        if self._pending or self._skipping:  # finish the line the last chunk left open
            nl = data.find(b"\n")
            if nl < 0:
                self._append(data)
                return
            yield from self._feed_careful(data[: nl + 1])
            data = data[nl + 1 :]
        fast = self._feed_clean(data)
        if fast is not None:
            yield from fast
            return
        yield from self._feed_careful(data)

    def _feed_careful(self, data: bytes) -> Iterator[str]:
        """Line by line, each repaired as needed (see the module docstring)."""
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            piece = data[start:nl]
            start = nl + 1
            if self._pending or self._skipping:
                self._append(piece)
                piece, truncated = bytes(self._pending), self._skipping
                self._pending.clear()
                self._skipping = False
            else:
                truncated = len(piece) > self.max_bytes
                if truncated:
                    piece = piece[: self.max_bytes]
            yield self._clean(piece, truncated)
        if start < len(data):
            self._append(data[start:])

    def _feed_clean(self, data: bytes) -> list[str] | None:
        """The common case in one pass: nothing pending, and the complete lines of ``data`` are
        short, printable ASCII (tabs allowed). None when any line needs the careful path."""
        if self._pending or self._skipping:
            return None
        end = data.rfind(b"\n") + 1
        body = data[:end]
        if not body.isascii() or len(body.translate(None, _CONTROL_BYTES)) != len(body):
            return None
        lines = body.decode("ascii").split("\n")
        lines.pop()  # after the last newline
        if len(body) > self.max_bytes and max(map(len, lines)) > self.max_bytes:
            return None
        stats = self.stats
        stats.lines += len(lines)
        stats.empty += lines.count("") + sum(map(str.isspace, lines))
        if end < len(data):
            self._append(data[end:])
        return lines

    def line(self, text: str) -> str:
        """One line given whole (an element of a JSON push's ``lines``): one line out, whatever
        it holds. A trailing LF (or CRLF) ends it, as in a file; an LF inside it (an event of
        several lines, a stack trace) is repaired like the other control characters: a space,
        counted once in ``control_chars``. Call it with nothing pending from :meth:`feed`."""
        raw = text.encode("utf-8", "surrogatepass")  # a lone surrogate is repaired as bad UTF-8
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        inner = b"\n" in raw
        if inner:
            raw = raw.replace(b"\n", b" ")
        truncated = len(raw) > self.max_bytes
        before = self.stats.control_chars
        text = self._clean(raw[: self.max_bytes] if truncated else raw, truncated)
        if inner and self.stats.control_chars == before:
            self.stats.control_chars += 1
        return text

    def close(self) -> Iterator[str]:
        """Yield the last line if the input did not end with a newline."""
        if self._pending or self._skipping:
            piece, truncated = bytes(self._pending), self._skipping
            self._pending.clear()
            self._skipping = False
            yield self._clean(piece, truncated)

    def _append(self, piece: bytes) -> None:
        room = self.max_bytes - len(self._pending)
        if len(piece) > room:
            self._skipping = True
            piece = piece[: max(room, 0)]
        self._pending += piece

    def _clean(self, raw: bytes, truncated: bool) -> str:
        stats = self.stats
        stats.lines += 1
        if truncated:
            raw = _whole_chars(raw)
        if raw.endswith(b"\r"):
            raw = raw[:-1]
            stats.crlf += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            stats.invalid_utf8 += 1
            text = raw.decode("utf-8", "replace")
        if not text.isprintable() and _CONTROL.search(text):
            stats.control_chars += 1
            text = _CONTROL.sub(" ", text)
        if truncated:
            stats.truncated += 1
            text += TRUNCATED_MARKER
        if not text.strip():
            stats.empty += 1
        return text


def _whole_chars(raw: bytes) -> bytes:
    """``raw`` without the UTF-8 character a truncation cut in two: the line held it whole,
    so it is dropped, not replaced and counted as invalid UTF-8 the input never had."""
    for back in range(1, min(4, len(raw)) + 1):
        byte = raw[-back]
        if byte < 0x80:
            return raw  # ASCII: the last character is whole
        if byte >= 0xC0:  # a lead byte: its character needs 2, 3 or 4 bytes
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return raw[:-back] if need > back else raw
    return raw
