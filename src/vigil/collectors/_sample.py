"""The one shape every metric collector returns: a named, labelled value at a time.

:class:`HostCollector`, :class:`GpuCollector` and :func:`parse_exposition` build samples; the node
agent pushes them with its heartbeats, and the controller's metrics pipeline stores them in a
:class:`SeriesStore` and feeds them to the detectors. A sample is frozen and hashable: its labels
are a sorted tuple of pairs, so two samples of the same series carry equal ``labels``.

:class:`SampleBatch` holds one push's samples in columns: the lean heartbeat path
(:mod:`vigil.api._beat`) builds one per heartbeat and the controller stores it with
:meth:`SeriesStore.add_batch <vigil.collectors.SeriesStore.add_batch>`, without a
:class:`Sample` object per sample (at 1,000 nodes x 50 series a second, building them was 15 %
of the controller's loop). It is still a sequence of samples for every other consumer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

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


class SampleBatch(Sequence[Sample]):
    """Samples in four parallel columns; ``batch[i]`` is the :class:`Sample` they make.

    ``labels`` holds canonical :data:`Labels` (as :func:`freeze_labels` makes them), usually
    the same tuple object for every sample of a push. The columns are not copied: build a
    batch from fresh lists and do not change them afterwards.
    """

    __slots__ = ("ats", "labels", "names", "values")

    def __init__(
        self, names: list[str], labels: list[Labels], values: list[float], ats: list[float]
    ) -> None:
        if not len(names) == len(labels) == len(values) == len(ats):
            raise ValueError(
                f"SampleBatch columns differ in length: {len(names)} names, {len(labels)} "
                f"labels, {len(values)} values, {len(ats)} times"
            )
        self.names, self.labels, self.values, self.ats = names, labels, values, ats

    def __len__(self) -> int:
        return len(self.names)

    @overload
    def __getitem__(self, index: int) -> Sample: ...

    @overload
    def __getitem__(self, index: slice) -> list[Sample]: ...

    def __getitem__(self, index: int | slice) -> Sample | list[Sample]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return Sample(self.names[index], self.labels[index], self.values[index], self.ats[index])

    def __iter__(self) -> Iterator[Sample]:
        for row in zip(self.names, self.labels, self.values, self.ats, strict=True):
            yield Sample(*row)

    def __repr__(self) -> str:
        return f"SampleBatch({len(self)} samples)"
