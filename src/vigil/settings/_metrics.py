"""The ``metrics:`` section of the settings: series storage and rollup retention, cardinality
limits, the Prometheus endpoints the controller scrapes and the PromQL queries it runs, and the
risk model's step. Part of the root :class:`vigil.settings._models.Settings`.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from vigil.settings._types import Seconds, _Section


class ScrapeTarget(_Section):
    """A Prometheus text exposition endpoint the controller scrapes (node_exporter, DCGM
    exporter, vLLM's ``/metrics``)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    """Names the target in logs and labels its samples ``job=<name>``."""
    url: str = Field(pattern=r"^https?://\S+$")
    interval: Seconds = Field(default=15.0, gt=0)
    """Seconds between two scrapes."""
    timeout: Seconds = Field(default=5.0, gt=0)
    node: str | None = None
    """Label the samples ``node=<node>`` (one of `nodes`), so rules and `vigil top` see them."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Extra labels for every sample of this target."""


class PromQuery(_Section):
    """A PromQL instant query run on a Prometheus server; its result is stored as ``name``."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.:]*$")
    """The series name the result is stored under (its labels come from the result)."""
    server: str = Field(pattern=r"^https?://\S+$")
    """The Prometheus server's base URL, e.g. `http://prometheus:9090`."""
    query: str = Field(min_length=1)
    interval: Seconds = Field(default=15.0, gt=0)
    timeout: Seconds = Field(default=5.0, gt=0)
    labels: dict[str, str] = Field(default_factory=dict)


class MetricsSettings(_Section):
    """Series storage, rollup retention, cardinality limits and the controller's own sources."""

    max_series: int = Field(default=100_000, ge=1)
    """Series kept in memory in all; a sample of a new series beyond it is refused."""
    max_series_per_metric: int = Field(default=20_000, ge=1)
    """Series of one metric name (a label such as a request id would explode it)."""
    ring: int = Field(default=900, ge=1)
    """Raw points per series in memory (900: 15 minutes at 1 Hz)."""
    keep_minutes: Seconds = Field(default=7 * 86400.0, gt=0)
    """How long 1-minute rollups are kept in the store (default 7 days; e.g. `168h`, `7d`)."""
    keep_hours: Seconds = Field(default=90 * 86400.0, gt=0)
    """How long 1-hour rollups are kept in the store (default 90 days; e.g. `2160h`, `90d`)."""
    flush_every: Seconds = Field(default=10.0, gt=0)
    """Seconds between two batched writes of the closed rollups to the store."""
    scrape: list[ScrapeTarget] = Field(default_factory=list)
    promql: list[PromQuery] = Field(default_factory=list)
    risk_step: Seconds = Field(default=60.0, ge=1.0)
    """The Markov risk model's time step: node states are sampled once per step (at least a
    second: heartbeats come about once a second, a shorter step only repeats the same state)."""
    risk_steps: int = Field(default=60, ge=1, le=1_000_000)
    """P(node down within this many steps) is what `GET /api/v1/nodes/{name}/risk` reports."""

    @field_validator("keep_minutes", "keep_hours")
    @classmethod
    def _keeps_a_bucket(cls, keep: float, info: ValidationInfo) -> float:
        """A retention shorter than one bucket deletes every bucket of its width at each pass
        (all history lost): most likely a bare number read as seconds (`keep_hours: 2160`
        meant 2160 hours, and is 36 minutes)."""
        width = 60.0 if info.field_name == "keep_minutes" else 3600.0
        if keep < width:
            unit = "m" if width == 60.0 else "h"
            raise ValueError(
                f"{keep:g}s keeps no {'1-minute' if width == 60.0 else '1-hour'} rollup (at "
                f"least {width:g}s); a bare number is seconds: write the unit, e.g. "
                f"'{keep:g}{unit}' or '{'7d' if width == 60.0 else '90d'}'"
            )
        return keep
