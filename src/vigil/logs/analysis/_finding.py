"""What the log analyses report: :class:`LogFinding`, and the severity of a log line.

Pure: no I/O, no clock. Built by :class:`~vigil.logs.analysis.NoveltyDetector` and
:class:`~vigil.logs.analysis.BurstDetector`.

Severity of a template (:func:`severity_of`): the line's level gives the starting point
(:func:`level_severity`: ERROR/FATAL/CRITICAL and their aliases -> critical, WARN -> warning,
anything else or no level -> info), and a template that holds one of :data:`SEVERE_WORDS` is
raised by one step (info -> warning -> critical). A word matches at the start of a token, so
``fail`` matches ``failed`` and ``FAILURE`` but ``oom`` does not match ``room``.

Mapping to :class:`vigil.model.Finding` (for the controller's log pipeline, which owns it):
``vigil.model`` has no log kind yet, so a ``LogFinding`` is kept apart and maps as::

    Finding(kind=<a log FindingKind added to vigil.model by its owner>,
            subject=lf.subject,            # "logs:<source>", or "logs" without a source
            at=lf.at, summary=lf.summary, severity=lf.severity,
            evidence=lf.finding_evidence())  # {"log_kind", "template_id", "template",
                                             #  "score", **lf.evidence}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vigil.model import Severity

SEVERE_WORDS: tuple[str, ...] = (
    "abort",
    "corrupt",
    "cuda",
    "denied",
    "ecc",
    "error",
    "exception",
    "fail",
    "fatal",
    "killed",
    "nccl",
    "oom",
    "out of memory",
    "panic",
    "refused",
    "segfault",
    "segmentation fault",
    "timed out",
    "timeout",
    "traceback",
    "unreachable",
    "xid",
)
"""Words that make a template more severe by one step, matched case-insensitively at the start
of a token. The general ones mark failed operations (``fail``, ``error``, ``exception``,
``timeout``, ``refused``, ``denied``, ``unreachable``); the process ones a dying process
(``oom``, ``killed``, ``panic``, ``segfault``, ``abort``); the GPU ones are how AI
infrastructure fails (``xid`` for NVIDIA Xid errors, ``ecc`` for memory errors, ``nccl`` for
collective hangs, ``cuda`` for CUDA errors)."""

_SEVERE = re.compile(
    r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(w) for w in SEVERE_WORDS) + ")",
    re.IGNORECASE,
)

_CRITICAL_LEVELS = frozenset(
    [
        "alert",
        "crit",
        "critical",
        "e",
        "emerg",
        "emergency",
        "err",
        "error",
        "f",
        "fatal",
        "failure",
        "panic",
        "severe",
        "0",
        "1",
        "2",
        "3",
    ]
)
"""Levels that mean an error or worse: the log4j/Python/Go names, syslog's ``err``..``emerg``
(and their numeric priorities 0-3), Java's ``SEVERE``, Android's one-letter ``E``/``F``."""

_WARNING_LEVELS = frozenset(["w", "warn", "warning", "4"])
"""Warnings: the usual names, Android's ``W`` and syslog priority 4."""

_STRIP = "[]()<>{}:;,|/ \t"

_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
_BY_RANK = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)


def level_severity(level: str | None) -> Severity:
    """The severity a line's level field implies: ``"[ERROR]"`` -> critical, ``"W"`` -> warning."""
    if not level:
        return Severity.INFO
    bare = level.strip(_STRIP).lower()
    if bare in _CRITICAL_LEVELS:
        return Severity.CRITICAL
    if bare in _WARNING_LEVELS:
        return Severity.WARNING
    return Severity.INFO


def severe_words(template: str) -> list[str]:
    """The :data:`SEVERE_WORDS` found in ``template``, lower-cased, in order, without repeats."""
    return list(dict.fromkeys(m.group(0).lower() for m in _SEVERE.finditer(template)))


def raise_severity(severity: Severity, steps: int = 1) -> Severity:
    """``severity`` raised by ``steps`` (capped at critical)."""
    return _BY_RANK[min(2, _RANK[severity] + steps)]


def severity_rank(severity: Severity) -> int:
    """0 for info, 1 for warning, 2 for critical."""
    return _RANK[severity]


def severity_of(template: str, level: str | None = None) -> Severity:
    """The level's severity, one step higher when the template holds a severe word."""
    base = level_severity(level)
    return raise_severity(base) if _SEVERE.search(template) else base


class LogFindingKind(StrEnum):
    """What a log analysis found."""

    NOVEL_TEMPLATE = "novel_template"
    TEMPLATE_BURST = "template_burst"


@dataclass(frozen=True, slots=True)
class LogFinding:
    """One finding about a template: what, when, how bad and how sure (``score`` in [0, 1])."""

    kind: LogFindingKind
    template_id: int
    template: str
    at: float
    severity: Severity
    score: float
    summary: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    """Where the lines came from (a file, a replica, a node); empty when the caller has one."""

    @property
    def subject(self) -> str:
        """The :attr:`vigil.model.Finding.subject` this finding maps to: ``logs:<source>``."""
        return f"logs:{self.source}" if self.source else "logs"

    def finding_evidence(self) -> dict[str, Any]:
        """The evidence a :class:`vigil.model.Finding` would carry (see the module docstring)."""
        return {
            "log_kind": self.kind.value,
            "template_id": self.template_id,
            "template": self.template,
            "score": self.score,
            **self.evidence,
        }
