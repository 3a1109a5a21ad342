"""What the log endpoints need from the controller: the :class:`LogService` Protocol.

:meth:`vigil.api.ControlPlane.log_service` returns one; the controller's log pipeline
(:class:`vigil.daemon._logs.LogPipeline`) implements it and the routers of
:mod:`vigil.api._logs` call it. Items are plain JSON-ready dicts shaped like the response models
of :mod:`vigil.api._logs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from vigil.store import Page

TemplateSort = Literal["count", "last_seen", "first_seen", "p_fault", "id"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What a push or a batch did: lines counted, templates touched, findings raised."""

    lines: int
    templates: int
    findings: int
    duplicate: bool = False


class LogService(Protocol):
    max_push_bytes: int
    """The largest push body accepted (``logs.push_max_bytes``)."""

    async def receive_batch(self, node: str, batch: Mapping[str, Any]) -> IngestResult:
        """An agent's batch of templates + counts (a repeated ``(agent_id, seq)`` is ignored),
        analysed in chunks, giving the event loop a turn between them."""
        ...

    async def ingest_lines(
        self, node: str, source: str, lines: Sequence[str] | bytes
    ) -> IngestResult:
        """Raw lines from another shipper: repaired, mined on the controller (in chunks, giving
        the event loop a turn between them), analysed."""
        ...

    def templates(
        self,
        *,
        sort: TemplateSort,
        descending: bool,
        offset: int,
        limit: int,
        source: str | None = None,
    ) -> Page[dict[str, Any]]:
        """Controller-wide templates with counts, times, example, family and P(fault | T)."""
        ...

    def findings(
        self,
        *,
        kind: str | None,
        since: float | None,
        offset: int,
        limit: int,
        incident: int | None = None,
    ) -> Page[dict[str, Any]]:
        """Log findings (novelty, burst, association), newest first, each with its template's
        ``P(fault | template)`` now; ``incident``: only the findings of that incident."""
        ...
