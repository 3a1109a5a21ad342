"""Raw line in, (cluster, masked header) out: a :class:`LogFormat` and a miner together.

Used by the ``vigil logs`` CLI (:mod:`vigil.cli._logs`) for every input line. Adds a bounded
cache keyed on the raw line's *shape* (digits replaced by ``0``, :mod:`vigil.logs._shape`):
header detection and masking only look at whether a character is a digit, so a line of a shape
seen before is split where that line was split (no detection) and, when neither its masked
header nor its masked message keeps a digit, gets that line's cluster and header outright.
Timestamps, pids and counters change on every line, so this is the common case.
"""

from __future__ import annotations

from collections.abc import Iterable

from vigil.logs._cluster import Cluster
from vigil.logs._headers import LogFormat
from vigil.logs._miner import DEFAULT_MAX_SIGNATURES, TemplateMiner
from vigil.logs._shape import BYTE_SHAPE, has_digit, shape_key
from vigil.logs._tokens import mask


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
        # shape -> (cluster or None, masked header or None, content start, content stop)
        self._cache: dict[bytes | str, tuple[Cluster | None, str | None, int, int]] = {}
        self._safe = self.format.shape_safe
        self._crowdings = self.miner.crowdings

    def parse(self, line: str) -> tuple[Cluster, str]:
        """The line's cluster (current id and template) and its masked header prefix."""
        key: bytes | str = shape_key(line) if self._safe else line
        hit = self._cache.get(key)
        if hit is None:
            return self._miss(line, key)
        cluster, prefix, start, stop = hit
        miner = self.miner
        if cluster is not None:
            if cluster.id not in miner.clusters:  # merged or evicted since: look again
                return self._miss(line, key)
            miner.seen(cluster)
            return cluster, prefix if prefix is not None else mask(line[:start], header=True)
        cluster = miner.cluster_of(line[start:stop])
        self._crowded()
        return cluster, prefix if prefix is not None else mask(line[:start], header=True)

    def parse_many(self, lines: Iterable[str]) -> list[tuple[Cluster, str, str]]:
        """:meth:`parse` for many lines, with the cached case inlined (the CLI's hot loop); each
        with its cluster's template as of that line, before later lines widen it (the answer
        must not depend on which lines came in one read)."""
        out: list[tuple[Cluster, str, str]] = []
        append = out.append
        cache, miner, parse = self._cache, self.miner, self.parse
        alive = miner.clusters
        lines = lines if isinstance(lines, list) else list(lines)
        if not self._safe:
            return [(c, prefix, c.template) for c, prefix in map(parse, lines)]
        # every line's shape in three C calls (UTF-8 of joined lines = joined UTF-8 of lines)
        keys = "\n".join(lines).encode("utf-8", "surrogatepass").translate(BYTE_SHAPE).split(b"\n")
        if len(keys) != len(lines):  # a line with a newline of its own: one by one
            keys = [shape_key(line) for line in lines]
        shaped = miner.shaped
        seen = miner.lines  # the miner's line count, kept in a local while lines hit the cache
        try:
            for line, key in zip(lines, keys, strict=True):
                hit = cache.get(key)
                if hit is not None:
                    cluster, prefix, start, stop = hit
                    if cluster is not None and cluster.id in alive:
                        seen += 1
                        cluster.count += 1
                        cluster.last_line = seen
                        if prefix is None:
                            prefix = mask(line[:start], header=True)
                        append((cluster, prefix, cluster.template))
                        continue
                miner.lines = seen
                if hit is None or cluster is not None:  # new shape, or merged/evicted since
                    cluster, prefix = self._miss(line, key)
                else:  # the message keeps a digit (a weak word): mine the message
                    cluster = shaped(line[start:stop])[0]
                    self._crowded()
                    if prefix is None:
                        prefix = mask(line[:start], header=True)
                append((cluster, prefix, cluster.template))
                seen = miner.lines
        finally:
            miner.lines = seen
        return out

    def _miss(self, line: str, key: bytes | str) -> tuple[Cluster, str]:
        split = self.format.split(line)
        cluster, stable = self.miner.shaped(split.content)
        self._crowded()
        if split.start < 0 or line.startswith("{"):  # JSON: valid JSON depends on the digits
            return cluster, split.prefix
        prefix: str | None = split.prefix
        if prefix and has_digit(prefix):
            prefix = None  # a weak word in the header: mask each line's own header
        whole = cluster if stable and prefix is not None else None
        if len(self._cache) >= self.max_cached_lines:
            self._cache.clear()
        self._cache[key] = (whole, prefix, split.start, split.start + len(split.content))
        return cluster, split.prefix

    def _crowded(self) -> None:
        """Forget cached lines once a bucket of the miner became crowded: the clusters of its
        lines are no longer cached (:data:`vigil.logs._miner.CROWDED_BUCKET`)."""
        if self.miner.crowdings != self._crowdings:
            self._crowdings = self.miner.crowdings
            self._cache.clear()

    def merged(self) -> None:
        """Forget cached lines after clusters were merged or evicted."""
        self._cache.clear()
