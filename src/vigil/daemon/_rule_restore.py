"""Rule breaches across a controller restart: the incidents of metric rules still open from the
last run are taken up by the new rule engine, or resolved when their rule is gone.

Called once by :class:`vigil.daemon.Controller` at start, before samples flow.
"""

from __future__ import annotations

from vigil.detectors import RuleEngine
from vigil.model import ACTIVE_INCIDENT_STATES, FindingKind, Incident
from vigil.remediation import IncidentBook
from vigil.store import Store

PAGE = 500
"""Incidents read from the store per query."""


def restore_rule_breaches(
    store: Store, rules: RuleEngine, incidents: IncidentBook, now: float
) -> None:
    """Take up the rule breaches whose incidents are still open from before a restart, so
    their series' next value within bounds resolves them; resolve those of rules that are
    no longer configured (or no longer match the series), which nothing would resolve."""
    for incident in _open_rule_incidents(store):
        items = incident.evidence.get("findings") or [{}]
        rule, labels = items[-1].get("rule"), items[-1].get("labels")
        if (
            isinstance(rule, str)
            and isinstance(labels, dict)
            and rules.restore(rule, {str(k): str(v) for k, v in labels.items()})
        ):
            continue
        incidents.recovered(
            incident.subject,
            now,
            f"rule {rule} is no longer configured for these labels: not judged any more",
        )


def _open_rule_incidents(store: Store) -> list[Incident]:
    """Every active metric-rule incident, read page by page."""
    offset = 0
    found: list[Incident] = []
    while True:
        page = store.list_incidents(offset=offset, limit=PAGE, states=ACTIVE_INCIDENT_STATES)
        found += [i for i in page.items if i.kind is FindingKind.METRIC_RULE]
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return found
