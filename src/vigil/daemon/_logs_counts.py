"""Plain counters of the log pipeline, read at scrape time by the controller's ``/metrics``.

:class:`LogCounts` is filled by :class:`vigil.daemon._logs.LogPipeline` (what arrived, what was
ignored, what was found, how long an analysis round took) and read by
:class:`vigil.daemon._metrics.PipelineCollector`. No Prometheus objects here: the pipeline counts
plain numbers and the collector turns them into metric families when scraped. Labels stay few:
node and source (at most :data:`MAX_LABELLED` pairs, the rest under ``(other)``), finding kind
and severity; never a template id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_LABELLED = 1000
"""``node/source`` pairs given their own series; a fleet of more sources shares ``(other)``."""
OTHER = "(other)"


@dataclass(slots=True)
class LogCounts:
    lines: dict[tuple[str, str], int] = field(default_factory=dict)
    """Lines received per (node, source)."""
    batches: dict[tuple[str, str], int] = field(default_factory=dict)
    """Batches received per (node, via): ``agent`` batches, ``push`` requests, ``file`` reads."""
    duplicates: dict[str, int] = field(default_factory=dict)
    """Agent batches ignored as already counted, per node."""
    problems: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """Repaired input and agent overflow per (node, source, problem)."""
    findings: dict[tuple[str, str], int] = field(default_factory=dict)
    """Findings raised per (kind, severity)."""
    outcomes: dict[str, int] = field(default_factory=dict)
    """Incidents learned from, by how they ended (healed, escalated, resolved, blip)."""
    rounds: int = 0
    round_seconds: float = 0.0
    """Analysis rounds of the pipeline's loop, and the time they took in all."""
    last_round_seconds: float = 0.0
    labelled: set[tuple[str, str]] = field(default_factory=set)
    """The (node, source) pairs given series of their own, at most :data:`MAX_LABELLED`: lines
    and problems share them (an agent batch's ``stats`` name sources that sent no line in it,
    and each new name was a new series when only ``lines`` was counted against the cap)."""

    def key(self, source_key: str) -> tuple[str, str]:
        """``node/source`` -> (node, source), or (``(other)``, ``(other)``) past the cap."""
        node, _, source = source_key.partition("/")
        pair = (node, source)
        if pair not in self.labelled:
            if len(self.labelled) >= MAX_LABELLED:
                return (OTHER, OTHER)
            self.labelled.add(pair)
        return pair

    def received(self, source_key: str, lines: int) -> None:
        pair = self.key(source_key)
        self.lines[pair] = self.lines.get(pair, 0) + lines

    def batch(self, node: str, via: str) -> None:
        key = (node, via)
        if key not in self.batches and len(self.batches) >= MAX_LABELLED:
            key = (OTHER, via)
        self.batches[key] = self.batches.get(key, 0) + 1

    def duplicate(self, node: str) -> None:
        if node not in self.duplicates and len(self.duplicates) >= MAX_LABELLED:
            node = OTHER
        self.duplicates[node] = self.duplicates.get(node, 0) + 1

    def problem(self, source_key: str, name: str, count: int) -> None:
        node, source = self.key(source_key)
        key = (node, source, name)
        self.problems[key] = self.problems.get(key, 0) + count

    def finding(self, kind: str, severity: str) -> None:
        key = (kind, severity)
        self.findings[key] = self.findings.get(key, 0) + 1

    def round(self, seconds: float) -> None:
        self.rounds += 1
        self.round_seconds += seconds
        self.last_round_seconds = seconds
