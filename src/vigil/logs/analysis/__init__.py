"""Log analyses, the pure core: what is new, bursting, related, or tied to incidents.

Fed with mined lines (template ids from :class:`vigil.logs.TemplateMiner`) and incident
openings, each analysis is pure: no I/O and no clock, every method that needs the time takes
``now`` (seconds, any origin), so it is tested with plain numbers.

- :class:`NoveltyDetector`: a template never seen after a warm-up -> :class:`LogFinding`, with
  a severity from the line's level and the template's words (:func:`severity_of`).
- :class:`BurstDetector`: a template's count per bucket improbable under its own EWMA baseline
  (a Poisson tail test, :func:`poisson_log_sf`) -> :class:`LogFinding`.
- :class:`TemplateFamilies`: single-linkage families of similar templates (Jaccard similarity
  of their constant tokens), updated as templates arrive.
- :class:`AssociationMiner`: rules "template -> incident within W" with support, confidence
  and lift.
- :class:`FaultBayes`: ``P(fault | template)`` with Laplace smoothing, to rank templates.
- :class:`TemplateRegistry`: one controller-wide id per template text (agents mine apart),
  with counts, first/last seen, an example and per-source counts.

Called by the controller's log pipeline (:mod:`vigil.daemon._logs`: one set of analyses over
the registry's ids; findings go on the bus as :class:`vigil.model.Finding` as described in
:class:`LogFinding`'s module) and read by ``GET /api/v1/logs/findings``. Memory is bounded in
every analysis (LRU caps), so they run on endless streams.

>>> novelty = NoveltyDetector(warmup_lines=1, warmup_seconds=0)
>>> novelty.observe(1, "worker <*> started", now=0.0) is None
True
>>> novelty.observe(2, "NCCL watchdog timeout on rank <*>", now=5.0, level="WARN").severity
<Severity.CRITICAL: 'critical'>
"""

from __future__ import annotations

from vigil.logs.analysis._association import AssociationMiner, AssociationRule
from vigil.logs.analysis._bayes import FaultBayes, FaultScore
from vigil.logs.analysis._blame import FLEET_SOURCE
from vigil.logs.analysis._bursts import MIN_RATE, BurstDetector
from vigil.logs.analysis._families import TemplateFamilies, constant_tokens, jaccard
from vigil.logs.analysis._finding import (
    SEVERE_WORDS,
    LogFinding,
    LogFindingKind,
    level_severity,
    severe_words,
    severity_of,
)
from vigil.logs.analysis._novelty import NoveltyDetector
from vigil.logs.analysis._poisson import poisson_log_sf, poisson_sf, poisson_threshold
from vigil.logs.analysis._registry import TemplateEntry, TemplateRegistry

__all__ = [
    "FLEET_SOURCE",
    "MIN_RATE",
    "SEVERE_WORDS",
    "AssociationMiner",
    "AssociationRule",
    "BurstDetector",
    "FaultBayes",
    "FaultScore",
    "LogFinding",
    "LogFindingKind",
    "NoveltyDetector",
    "TemplateEntry",
    "TemplateFamilies",
    "TemplateRegistry",
    "constant_tokens",
    "jaccard",
    "level_severity",
    "poisson_log_sf",
    "poisson_sf",
    "poisson_threshold",
    "severe_words",
    "severity_of",
]
