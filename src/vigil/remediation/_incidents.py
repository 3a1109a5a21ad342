"""Incidents: findings grouped per subject; lifecycle open → remediating → resolved | escalated.

:class:`IncidentBook` is called synchronously by the supervisor and the heartbeat monitor (so an
action is always linked to the incident that caused it), persists through the Store and publishes
``FindingRaised`` / ``IncidentChanged`` on the bus for the persister and the live views.

Many findings at once (the Alertmanager receiver, :mod:`vigil.daemon._logs_incidents`) go
in an :meth:`IncidentBook.batch` block: one store transaction for all of them (and the audit
entries written alongside) instead of two per finding, with the same outcome as one call each;
the events are published once it is committed (none when it is rolled back).

Books on several threads share one store (the loop's, the heartbeat monitor's writer thread's,
the log pipeline's and the Alertmanager receiver's): each change is a read of the subject's
active incident, then a write, so the books of one store take one lock around it (a batch holds
it to its commit). Without it, a read made while another thread's batch was uncommitted saw no
incident and opened a second one for the subject.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from vigil.bus import EventBus
from vigil.model import (
    Event,
    Finding,
    FindingKind,
    FindingRaised,
    Incident,
    IncidentChanged,
    IncidentState,
    Severity,
)
from vigil.store import Store

ESCALATING_KINDS = frozenset(
    {FindingKind.CRASH_LOOP, FindingKind.START_FAILED, FindingKind.NEVER_LIVE}
)
EVIDENCE_KEEP = 20
"""Findings kept in an incident's evidence list: enough to read a crash loop, bounded in size."""

_STORE_LOCKS: weakref.WeakKeyDictionary[Store, threading.RLock] = weakref.WeakKeyDictionary()
_STORE_LOCKS_GUARD = threading.Lock()


def _lock_of(store: Store) -> threading.RLock:
    """The lock every book of ``store`` in this process changes incidents under."""
    with _STORE_LOCKS_GUARD:
        try:
            lock = _STORE_LOCKS.get(store)
            if lock is None:
                lock = _STORE_LOCKS[store] = threading.RLock()
        except TypeError:  # a store that cannot be weakly referenced: a lock of its book's own
            lock = threading.RLock()
        return lock


class IncidentBook:
    """One active incident per subject; later findings on the subject join it."""

    def __init__(self, store: Store, bus: EventBus, clock: Callable[[], float]) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._local = threading.local()  # .held: events of this thread's open batch, if any
        self._lock = _lock_of(store)  # shared by the store's books: read-then-write is atomic

    @contextmanager
    def batch(self, what: str = "writing incidents") -> Iterator[None]:
        """Everything the book (and the store) writes on this thread inside the block is one
        transaction; its events are published after the commit, in order, and dropped when it
        rolls back (the error propagates). Nested blocks join the outer one."""
        if getattr(self._local, "held", None) is not None:
            yield
            return
        held: list[Event] = []
        self._local.held = held
        try:
            with self._lock, self._store.batch(what):  # the lock first: the order everywhere
                yield
        finally:
            self._local.held = None
        for event in held:
            self._bus.publish(event)

    def raise_finding(self, finding: Finding) -> Incident:
        """Open an incident for the finding's subject, or add the finding to the active one."""
        with self._lock:
            return self._raise(finding)

    def _raise(self, finding: Finding) -> Incident:
        self._publish(FindingRaised(at=finding.at, finding=finding))
        now = self._clock()
        active = self._store.find_active_incident(finding.subject)
        item = {
            "at": finding.at,
            "kind": finding.kind.value,
            "summary": finding.summary,
            **dict(finding.evidence),
        }
        if active is None:
            incident = self._store.open_incident(finding, opened_at=now)
            incident = dataclasses.replace(incident, evidence={"findings": [item]})
        else:
            history = list(active.evidence.get("findings", []))[-(EVIDENCE_KEEP - 1) :]
            incident = dataclasses.replace(
                active,
                findings=active.findings + 1,
                updated_at=now,
                severity=_worst(active.severity, finding.severity),
                evidence={**active.evidence, "findings": [*history, item]},
            )
        if finding.kind in ESCALATING_KINDS:
            incident = dataclasses.replace(
                incident, state=IncidentState.ESCALATED, summary=finding.summary
            )
        return self._save(incident)

    def action_started(self, subject: str, at: float) -> Incident | None:
        """Mark the subject's active incident as being remediated; return it (or None)."""
        with self._lock:
            active = self._store.find_active_incident(subject)
            if active is None:
                return None
            opened = active.state == IncidentState.OPEN
            state = IncidentState.REMEDIATING if opened else active.state
            changed = dataclasses.replace(
                active, state=state, first_action_at=active.first_action_at or at, updated_at=at
            )
            return self._save(changed)

    def escalate(self, subject: str, reason: str, at: float) -> Incident | None:
        with self._lock:
            active = self._store.find_active_incident(subject)
            if active is None:
                return None
            return self._save(
                dataclasses.replace(
                    active,
                    state=IncidentState.ESCALATED,
                    summary=reason,
                    updated_at=at,
                    severity=Severity.CRITICAL,
                )
            )

    def recovered(self, subject: str, at: float, detail: str = "") -> Incident | None:
        """Resolve the subject's active incident (healthy again); no-op when there is none."""
        with self._lock:
            active = self._store.find_active_incident(subject)
            if active is None:
                return None
            evidence = {**active.evidence, "resolution": detail} if detail else active.evidence
            return self._save(
                dataclasses.replace(
                    active,
                    state=IncidentState.RESOLVED,
                    resolved_at=at,
                    updated_at=at,
                    evidence=evidence,
                )
            )

    def active(self, subject: str) -> Incident | None:
        return self._store.find_active_incident(subject)

    def _save(self, incident: Incident) -> Incident:
        self._store.update_incident(incident)
        self._publish(IncidentChanged(at=incident.updated_at, incident=incident))
        return incident

    def _publish(self, event: Event) -> None:
        held: list[Event] | None = getattr(self._local, "held", None)
        if held is None:
            self._bus.publish(event)
        else:
            held.append(event)


_ORDER = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def _worst(a: Severity, b: Severity) -> Severity:
    return a if _ORDER[a] >= _ORDER[b] else b
