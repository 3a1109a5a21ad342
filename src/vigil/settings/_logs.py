"""The ``logs:`` section of ``vigil.yaml``: which files to follow where, and the analysis knobs.

Part of the settings root (:class:`vigil.settings.Settings.logs`). Read by ``vigil agent`` (the
sources of its own node, how often to ship), by the controller's log pipeline
(:mod:`vigil.daemon._logs`: the sources with no node, the analyses' parameters, the push limit)
and by the API's push endpoint. Errors carry ``file:line`` like the rest of the settings.

.. code-block:: yaml

    logs:
      sources:
        - path: /var/log/vllm/server.log
          node: gpu-01            # followed by gpu-01's agent; omit it: the controller follows it
          format: auto            # a format string, a preset (syslog, cri, k8s-json...) or auto
      ship_every: 5s
      analysis: {warmup_lines: 1000, warmup_seconds: 10m, incident_severity: critical}
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, field_validator, model_validator

from vigil.model import source_label as _source_label
from vigil.settings._types import Bytes, Loc, Seconds, _Section

FORMAT_PRESETS = frozenset({"auto", "syslog", "cri", "journald-json", "k8s-json"})
"""The presets of :data:`vigil.logs.PRESETS` (a test keeps the two lists equal)."""


def source_label(name: str) -> str:
    """A file name as a source label the API takes (``[A-Za-z0-9][A-Za-z0-9_.-]{0,62}``): other
    characters become ``_``, and one that does not start with a letter or digit gets ``log``
    in front. The rule is :func:`vigil.model.source_label`'s, which the agent calls without
    importing the settings models (pydantic)."""
    return _source_label(name)


class LogSource(_Section):
    path: str = Field(min_length=1)
    """The file to follow (rotation and truncation handled; offsets survive restarts)."""
    node: str | None = None
    """The node whose agent follows the file; none: the controller follows it itself."""
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    """The source label in templates and findings (default: the file's name, with characters
    other than letters, digits, '.', '_' and '-' made '_')."""
    format: str = "auto"
    """Header format: ``<Date> <Time> <Level>: <Content>``, a preset (syslog, cri, k8s-json,
    journald-json) or auto (detected line by line)."""

    @field_validator("format")
    @classmethod
    def _has_content(cls, value: str) -> str:
        # The full compile is vigil.logs.LogFormat's (a layer above settings): the agent and
        # the controller report a format it refuses with the source's name.
        if value not in FORMAT_PRESETS and "<Content>" not in value:
            raise ValueError(
                f"format {value!r} has no <Content> field: write e.g. "
                f"'<Date> <Time> <Level>: <Content>' or use one of {sorted(FORMAT_PRESETS)}"
            )
        return value

    @property
    def label(self) -> str:
        return self.name or source_label(os.path.basename(self.path) or self.path)


class LogAnalysisSettings(_Section):
    warmup_lines: int = Field(default=1000, ge=0)
    """Novelty: lines seen before a new template is news (every template is new at first)."""
    warmup_seconds: Seconds = 600.0
    """Novelty: and this long since the first line (covers periodic templates)."""
    burst_bucket: Seconds = Field(default=10.0, gt=0)
    """Bursts: the counting bucket; a template's count per bucket is tested against its EWMA."""
    burst_alpha: float = Field(default=1e-6, gt=0, lt=1)
    """Bursts: a count with a Poisson tail probability below this under the baseline."""
    burst_min_count: int = Field(default=5, ge=1)
    """Bursts: fewer lines than this in a bucket is never a burst."""
    burst_min_buckets: int = Field(default=6, ge=1)
    """Bursts: buckets of history a template needs before it is judged."""
    family_threshold: float = Field(default=0.5, gt=0, le=1)
    """Families: Jaccard similarity of constant words that links two templates."""
    window: Seconds = Field(default=300.0, gt=0)
    """Association rules and Bayes: how long before an incident a template counts as a
    precursor."""
    min_lift: float = Field(default=3.0, ge=1)
    """Association: a rule is reported once its lift passes this (and support 0.2)."""
    incident_severity: Literal["warning", "critical", "never"] = "critical"
    """Findings this severe (or worse) open an incident on ``logs:<node>/<source>``."""
    incident_quiet: Seconds = 600.0
    """A log incident resolves after this long without another such finding."""


class LogsSettings(_Section):
    sources: list[LogSource] = Field(default_factory=list)
    """Files to follow: on a node by its agent, or on the controller."""
    poll_every: Seconds = Field(default=0.5, gt=0)
    """How often followed files are read."""
    ship_every: Seconds = Field(default=5.0, gt=0)
    """How often an agent sends its templates + counts (one request per interval)."""
    batch_templates: int = Field(default=1000, ge=1, le=10_000)
    """Distinct templates an agent holds per batch; lines of further templates are counted
    (``overflow``) but not mined until the batch is sent."""
    samples: int = Field(default=3, ge=0, le=20)
    """Example lines sent per template per batch."""
    max_line_bytes: Bytes = 64 * 1024
    """Longer lines are cut, marked ``[truncated]`` and counted."""
    push_max_bytes: Bytes = 1024 * 1024
    """Largest body ``POST /api/v1/logs`` accepts (413 beyond)."""
    analysis: LogAnalysisSettings = LogAnalysisSettings()

    @model_validator(mode="after")
    def _positive(self) -> LogsSettings:
        if self.poll_every <= 0 or self.ship_every <= 0:
            raise ValueError("poll_every and ship_every must be > 0")
        if self.max_line_bytes < 256:
            raise ValueError(f"max_line_bytes must be >= 256 (got {self.max_line_bytes})")
        return self

    def for_node(self, node: str | None) -> list[LogSource]:
        """The sources followed by ``node``'s agent (``None``: by the controller)."""
        return [s for s in self.sources if s.node == node]

    def cross_problems(self, nodes: set[str]) -> list[tuple[Loc, str]]:
        """Sources on unknown nodes, and one file or label twice on one node."""
        problems: list[tuple[Loc, str]] = []
        seen: dict[tuple[str | None, str], int] = {}
        for i, src in enumerate(self.sources):
            if src.node is not None and src.node not in nodes:
                problems.append(
                    (
                        ("logs", "sources", i, "node"),
                        f"no node named {src.node!r}: add it to nodes or use one of "
                        f"{sorted(nodes)} (omit node to follow the file on the controller)",
                    )
                )
            for key, field in (
                ((src.node, "/" + src.path), "path"),
                ((src.node, src.label), "name"),
            ):
                if key in seen:
                    problems.append(
                        (
                            ("logs", "sources", i, field),
                            f"same {field} as logs.sources[{seen[key]}] on the same node: "
                            "give each source its own file and name",
                        )
                    )
                    break
                seen[key] = i
        return problems
