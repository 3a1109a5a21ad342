"""What the log pipeline answers to ``GET /api/v1/logs/templates`` and ``/api/v1/logs/findings``:
pages of templates (with their family and ``P(fault | template)``) and of recent findings.

A base class of :class:`vigil.daemon._logs.LogPipeline`, which holds the state these read; the API
routers of :mod:`vigil.api._logs` call them through the controller's ``log_service()``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from vigil.api import TemplateSort
from vigil.logs.analysis import FaultBayes, TemplateFamilies, TemplateRegistry
from vigil.store import Page


class LogQueries:
    """Read-only pages over the pipeline's registry, families, Bayes counts and findings."""

    registry: TemplateRegistry
    families: TemplateFamilies
    bayes: FaultBayes
    found: deque[dict[str, Any]]
    _clock: Callable[[], float]

    def templates(
        self,
        *,
        sort: TemplateSort,
        descending: bool,
        offset: int,
        limit: int,
        source: str | None = None,
    ) -> Page[dict[str, Any]]:
        now = self._clock()
        rows = []
        for entry in self.registry.entries():
            if source is not None and source not in entry.sources:
                continue
            row = entry.to_dict()
            row["family"] = self.families.family_of(entry.id)
            row["p_fault"] = self.bayes.posterior(entry.id, now)
            rows.append(row)
        rows.sort(key=lambda r: (r[sort], r["id"]), reverse=descending)
        return Page(rows[offset : offset + limit], len(rows), offset, limit)

    def findings(
        self,
        *,
        kind: str | None,
        since: float | None,
        offset: int,
        limit: int,
        incident: int | None = None,
    ) -> Page[dict[str, Any]]:
        rows = [
            f
            for f in reversed(self.found)
            if (kind is None or f["kind"] == kind)
            and (since is None or f["at"] >= since)
            and (incident is None or f["incident_id"] == incident)
        ]
        now = self._clock()
        page = [
            {**f, "p_fault": self.bayes.posterior(f["template_id"], now)}
            for f in rows[offset : offset + limit]
        ]
        return Page(page, len(rows), offset, limit)
