"""Raw line in, (cluster, masked header) out: a :class:`LogFormat` and a miner together.

Used by the ``vigil logs`` CLI (:mod:`vigil.cli._logs`) for every input line. Adds a bounded
cache of whole raw lines: a line seen before skips header detection and mining (exact repeats
are common in real logs: "Connection closed", "Registered BlockManager").
"""

from __future__ import annotations

from vigil.logs._headers import LogFormat
from vigil.logs._miner import DEFAULT_MAX_SIGNATURES, Cluster, TemplateMiner


class LineParser:
    """Parse raw lines with one format and one miner; ``parse`` never raises on bad lines."""

    def __init__(
        self,
        log_format: LogFormat | None = None,
        miner: TemplateMiner | None = None,
        *,
        max_cached_lines: int = DEFAULT_MAX_SIGNATURES,
    ) -> None:
        self.format = log_format if log_format is not None else LogFormat()
        self.miner = miner if miner is not None else TemplateMiner()
        self.max_cached_lines = max_cached_lines
        self._cache: dict[str, tuple[Cluster, str]] = {}

    def parse(self, line: str) -> tuple[Cluster, str]:
        """The line's cluster (current id and template) and its masked header prefix."""
        hit = self._cache.get(line)
        if hit is not None and hit[0].id in self.miner.clusters:
            self.miner.seen(hit[0])
            return hit
        split = self.format.split(line)
        cluster = self.miner.cluster_of(split.content)
        if len(self._cache) >= self.max_cached_lines:
            self._cache.clear()
        result = self._cache[line] = (cluster, split.prefix)
        return result

    def merged(self) -> None:
        """Forget cached lines after clusters were merged or evicted."""
        self._cache.clear()
