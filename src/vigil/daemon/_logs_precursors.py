"""The log pipeline's findings about precursors: association rules, and known precursors seen.

Called by :class:`vigil.daemon._logs.LogPipeline`: :func:`rule_finding` when a new rule
"template -> incident within W" passes its support and lift (once per template), and
:func:`precursor_finding` each time a template with a reported rule is seen again while
``P(fault | template) >= PRECURSOR_P`` (the pipeline keeps it to once per window). Both build a
:class:`~vigil.logs.analysis.LogFinding` the pipeline raises as ``log_association``; plain
values in, a value out.
"""

from __future__ import annotations

from vigil.logs.analysis import (
    AssociationRule,
    LogFinding,
    LogFindingKind,
    TemplateEntry,
    severity_of,
)
from vigil.model import Severity

PRECURSOR_P = 0.5
"""A template with a reported association rule warns again each time it is seen (at most once
per window) while ``P(fault | template)`` is at least this: more often than not, an incident
followed it."""


def rule_finding(
    rule: AssociationRule, entry: TemplateEntry, *, incidents: int, window: float, now: float
) -> LogFinding:
    """The finding of a new association rule on ``entry``'s template."""
    return LogFinding(
        kind=LogFindingKind.NOVEL_TEMPLATE,  # the pipeline raises it as LOG_ASSOCIATION
        template_id=rule.template_id,
        template=entry.template,
        at=now,
        severity=Severity.WARNING
        if severity_of(entry.template, entry.level) != Severity.INFO
        else Severity.INFO,
        score=min(1.0, 1.0 - 1.0 / rule.lift),
        summary=(
            f"log template precedes incidents: {rule.incidents_preceded} of {incidents} within "
            f"{window:g}s (confidence {rule.confidence:.2f}, lift {rule.lift:.1f}): "
            f"{entry.template}"
        ),
        evidence={
            "support": rule.support,
            "confidence": rule.confidence,
            "lift": rule.lift,
            "incidents_preceded": rule.incidents_preceded,
            "last_subject": rule.last_subject,
        },
        source="rules",
    )


def precursor_finding(
    template_id: int, template: str, source: str, *, p_fault: float, window: float, now: float
) -> LogFinding | None:
    """A warning that a known precursor was seen on ``source``; None below :data:`PRECURSOR_P`."""
    if p_fault < PRECURSOR_P:
        return None
    return LogFinding(
        kind=LogFindingKind.NOVEL_TEMPLATE,  # the pipeline raises it as LOG_ASSOCIATION
        template_id=template_id,
        template=template,
        at=now,
        severity=Severity.WARNING,
        score=p_fault,
        summary=(
            f"known precursor seen: P(fault | template) = {p_fault:.2f} (an incident within "
            f"{window:g}s): {template}"
        ),
        evidence={"precursor": True, "p_fault": p_fault},
        source=source,
    )
