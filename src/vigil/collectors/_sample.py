"""The one shape every metric collector returns: a named, labelled value at a time.

:class:`HostCollector`, :class:`GpuCollector` and :func:`parse_exposition` build samples; the node
agent pushes them with its heartbeats, and the controller's metrics pipeline stores them in a
:class:`SeriesStore` and feeds them to the detectors. A sample is frozen and hashable: its labels
are a sorted tuple of pairs, so two samples of the same series carry equal ``labels``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Labels = tuple[tuple[str, str], ...]
"""Label pairs sorted by name, so equal label sets compare (and hash) equal."""


def freeze_labels(labels: Mapping[str, str] | None) -> Labels:
    """The canonical (sorted, hashable) form of a label mapping."""
    if not labels:
        return ()
    return tuple(sorted((str(key), str(value)) for key, value in labels.items()))


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of one series: ``name{labels} = value`` at unix time ``at`` (seconds)."""

    name: str
    labels: Labels
    value: float
    at: float

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.labels))
        if ordered != self.labels:  # keep equal series equal whatever order the caller used
            object.__setattr__(self, "labels", ordered)

    @classmethod
    def of(
        cls, name: str, value: float, at: float, labels: Mapping[str, str] | None = None
    ) -> Sample:
        """Build a sample from a plain label dict: ``Sample.of("host.cpu.used_pct", 12.5, now)``."""
        return cls(name, freeze_labels(labels), float(value), float(at))

    def label(self, key: str) -> str | None:
        """The value of one label, or None when the sample does not carry it."""
        for name, value in self.labels:
            if name == key:
                return value
        return None

    @property
    def labels_dict(self) -> dict[str, str]:
        """The labels as a new dict (for JSON and display)."""
        return dict(self.labels)

    def __str__(self) -> str:
        inner = ",".join(f'{key}="{value}"' for key, value in self.labels)
        return f"{self.name}{{{inner}}} {self.value!r} @{self.at!r}"
